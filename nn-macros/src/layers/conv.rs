//! `Conv2d`, `Conv1d`, `ConvTranspose2d` and `ConvTranspose1d`: convolutions over channels of planes, with their
//! geometry (kernel, stride, padding, dilation, output padding).

use super::LayerKind;
use crate::codegen::Field;
use crate::embed::Expected;
use crate::model::{Layer, Sz};
use proc_macro2::TokenStream;
use quote::quote;

/// A convolution (or transposed convolution) with `out` channels; its geometry is in the layer.
pub struct Conv {
    /// A transposed convolution.
    pub transposed: bool,
    /// Over 2-D planes.
    pub two_d: bool,
    /// The channels in.
    pub in_channels: Sz,
    /// The channels out.
    pub out: Sz,
}

impl LayerKind for Conv {
    fn describe_short(&self, l: &Layer) -> String {
        format!(
            "{} {}Conv {}ch ({})",
            l.name,
            if self.transposed { "Transposed" } else { "" },
            self.out.display(),
            l.outputs.display()
        )
    }

    fn describe(&self, l: &Layer) -> String {
        let g = l.geometry.as_ref().map_or((0, 0), |g| (g.kh, g.kw));
        format!(
            "Layer `{}`: {}convolution, {} to {} channels, kernel {}x{} ({} inputs to {} outputs).",
            l.name,
            if self.transposed { "transposed " } else { "" },
            self.in_channels.display(),
            self.out.display(),
            g.0,
            g.1,
            l.inputs.display(),
            l.outputs.display()
        )
    }

    fn field(&self, l: &Layer, t: &TokenStream) -> Option<Field> {
        let lit = proc_macro2::Literal::usize_unsuffixed;
        let Conv { transposed, two_d, in_channels, out } = self;
        let g = l.geometry.as_ref()?;
        let (ci, co, kh, kw) = (in_channels.tokens(), out.tokens(), lit(g.kh), lit(g.kw));
        let (h, w) = (g.h.tokens(), g.w.tokens());
        let [sh, sw, ph, pw, dh, dw] = [g.sh, g.sw, g.ph, g.pw, g.dh, g.dw].map(lit);
        let per = Sz::Lit(g.kh * g.kw);
        let ty = match (*transposed, *two_d) {
            (false, true) => {
                let k = in_channels.mul(&per).tokens();
                quote!(::nn_core::__private::Conv2d<#t, #co, #k, #kh, #kw, #h, #w, #sh, #sw, #ph, #pw, #dh, #dw>)
            }
            (false, false) => {
                let k = in_channels.mul(&per).tokens();
                quote!(::nn_core::__private::Conv1d<#t, #co, #k, #kw, #w, #sw, #pw, #dw>)
            }
            (true, true) => {
                let k = out.mul(&per).tokens();
                quote!(::nn_core::__private::ConvTranspose2d<#t, #ci, #k, #co, #kh, #kw, #h, #w, #sh, #sw, #ph, #pw, #dh, #dw>)
            }
            (true, false) => {
                let k = out.mul(&per).tokens();
                quote!(::nn_core::__private::ConvTranspose1d<#t, #ci, #k, #co, #kw, #w, #sw, #pw, #dw>)
            }
        };
        Some(Field::new(l, ty))
    }

    fn tensors(&self, l: &Layer) -> Vec<Expected> {
        let (kh, kw) = l.geometry.as_ref().map_or((1, 1), |g| (g.kh, g.kw));
        let (ci, co) = (self.in_channels.lit().unwrap_or(0), self.out.lit().unwrap_or(0));
        let (a, b) = if self.transposed { (ci, co) } else { (co, ci) };
        let shape = if self.two_d { vec![a, b, kh, kw] } else { vec![a, b, kw] };
        vec![Expected::matrix(l, "weight", shape), Expected::vector(l, "bias", co)]
    }
}
