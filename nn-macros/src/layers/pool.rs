//! `MaxPool2d`, `AvgPool2d`, `MaxPool1d` and `AvgPool1d`: the largest or the mean value of each window of each
//! channel; option `stride` (default: the window).

use super::conv::windowed;
use super::{Kind, LayerKind};
use crate::codegen::Contract;
use crate::int8::Int8;
use crate::model::{Builder, Built, Decl, Layer};
use proc_macro2::TokenStream;
use quote::quote;

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d"], build };

/// Max or average pooling; its geometry is in the layer.
pub struct Pool {
    /// Max pooling (else average).
    max: bool,
}

/// A pooling layer: max or average by its name.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let max = d.call.head.to_string().starts_with("Max");
    windowed(b, d, |_| Box::new(Pool { max }))
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
    fn int8(&self, _: &Layer) -> Result<Int8, String> {
        Ok(Int8::Pool { max: self.max })
    }

    fn describe_short(&self, l: &Layer) -> String {
        format!("{}Pool {}", if self.max { "Max" } else { "Avg" }, l.shape)
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
