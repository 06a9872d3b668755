//! `MaxPool2d`, `AvgPool2d`, `MaxPool1d` and `AvgPool1d`: the largest or the mean value of each window of each
//! channel; option `stride` (default: the window).

use super::LayerKind;
use crate::codegen::Contract;
use crate::model::Layer;
use proc_macro2::TokenStream;
use quote::quote;

/// Max or average pooling; its geometry is in the layer.
pub struct Pool {
    /// Max pooling (else average).
    pub max: bool,
}

/// `&Geometry { .. }` of a pooling layer, as a constant.
fn geometry(l: &Layer) -> TokenStream {
    let Some(g) = &l.geometry else { return quote!(::nn_core::__private::Geometry::new1d(0, 0, 0, 0, 0, 0)) };
    let (channels, h, w) = (g.channels.tokens(), g.h.tokens(), g.w.tokens());
    let [kh, kw, sh, sw, ph, pw, dh, dw] =
        [g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw].map(proc_macro2::Literal::usize_unsuffixed);
    quote!(::nn_core::__private::Geometry { channels: #channels, h: #h, w: #w, kh: #kh, kw: #kw, sh: #sh, sw: #sw, ph: #ph, pw: #pw, dh: #dh, dw: #dw })
}

impl LayerKind for Pool {
    fn describe_short(&self, l: &Layer) -> String {
        format!("{}Pool ({})", if self.max { "Max" } else { "Avg" }, l.outputs.display())
    }

    fn describe(&self, _: &Layer) -> String {
        format!("`{}Pool`", if self.max { "Max" } else { "Avg" })
    }

    fn contract(&self, l: &Layer, _: &TokenStream) -> Contract {
        let p =
            if self.max { quote!(::nn_core::__private::Pool::Max) } else { quote!(::nn_core::__private::Pool::Avg) };
        let g = geometry(l);
        Contract::constant(
            l,
            quote!(::nn_core::__private::Pooling),
            quote!(::nn_core::__private::Pooling { pool: #p, geometry: #g }),
        )
    }

    fn relu_like(&self) -> Option<bool> {
        None
    }
}
