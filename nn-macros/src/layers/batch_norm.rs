//! `BatchNorm` and `BatchNorm(N)`: batch normalisation, of every feature of a vector or of every channel of
//! planes (PyTorch's `BatchNorm1d` and `BatchNorm2d`).

use super::{Kind, LayerKind, dense};
use crate::codegen::{Field, Streaming};
use crate::embed::{Expected, lit};
use crate::int8::Int8;
use crate::messages::{self, part};
use crate::model::{
    Builder, Built, ConstCheck, Decl, Geometry, InitKind, Layer, NameUse, Planes, Sz, check_inputs, no_options, size,
};
use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["BatchNorm"], build };

/// A batch normalisation layer; on planes, its geometry holds the channels.
pub struct BatchNorm;

/// `BatchNorm` or `BatchNorm(N)`: refused on a sequence; on planes, `N` counts channels.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span, planes) = (d.name, d.call, d.span, d.planes);
    let prev_name = dense::prev_name(d.before);
    let prev_name = prev_name.as_str();
    let n = b.number("bn");
    let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("bn{n}"), span));
    b.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: true, span });
    no_options(call, b.errors);
    let declared = match call.positional.as_slice() {
        [] => None,
        [n] => size(n, &part::size_of(&name.to_string()), b.errors).map(|d| (d, *n)),
        [_, extra, ..] => {
            b.errors.at(extra, messages::BATCH_NORM_TOO_MANY_SIZES);
            None
        }
    };
    let Some(dim) = d.current.cloned() else { return Built::Skipped };
    if let Planes::Seq { .. } = planes {
        b.errors.at(call.head, messages::batch_norm_over_sequence(&name.to_string(), &planes.describe()));
        return Built::Unknown;
    }
    // On planes, one mean and variance per channel (PyTorch's `BatchNorm2d`/`BatchNorm1d` on [C, L]).
    let geometry = match planes {
        Planes::Spatial { c, h, w, .. } => Some(Geometry {
            channels: c.clone(),
            h: h.clone(),
            w: w.clone(),
            kh: 1,
            kw: 1,
            sh: 1,
            sw: 1,
            ph: 0,
            pw: 0,
            dh: 1,
            dw: 1,
            uneven: (0, 0),
        }),
        Planes::Flat | Planes::Seq { .. } => None,
    };
    if let Some((d, tokens_in)) = declared {
        match &geometry {
            Some(g) => {
                let declared = Sz::from_dim(&d);
                let msg = messages::expects_channels(
                    &name.to_string(),
                    &d.display(),
                    &g.channels.display(),
                    &planes.describe(),
                );
                match (declared.lit(), g.channels.lit()) {
                    (Some(x), Some(y)) if x != y => b.errors.at(tokens_in, msg),
                    (Some(_), Some(_)) => {}
                    _ => {
                        let (x, y) = (declared.tokens(), g.channels.tokens());
                        b.checks.push(ConstCheck {
                            values: Vec::new(),
                            condition: quote!(#x == #y),
                            message: msg,
                            span: tokens_in.span(),
                        });
                    }
                }
            }
            None => check_inputs(&name, &d, tokens_in, &dim, prev_name, b.errors, &mut b.checks),
        }
    }
    let layer = Layer {
        name,
        span,
        kind: Box::new(BatchNorm),
        inputs: dim.clone(),
        outputs: dim.clone(),
        init: InitKind::Zeros,
        geometry,
        step: None,
        shape: String::new(),
    };
    Built::Layers(vec![layer], dim, planes.clone())
}

impl LayerKind for BatchNorm {
    fn int8(&self, _: &Layer) -> Result<Int8, String> {
        Ok(Int8::FoldedNorm)
    }

    fn describe_short(&self, l: &Layer) -> String {
        format!("{} BatchNorm", l.name)
    }

    fn describe(&self, l: &Layer) -> String {
        format!(
            "Layer `{}`: batch normalisation of {} features (`weight` is gamma, `bias` is beta; running statistics \
             for inference).",
            l.name,
            l.outputs.display()
        )
    }

    fn field(&self, l: &Layer, t: &TokenStream) -> Option<Field> {
        let ty = match &l.geometry {
            Some(g) => {
                let c = g.channels.tokens();
                quote!(::nn_core::__private::BatchNorm<#t, #c>)
            }
            None => {
                let o = l.outputs.tokens();
                quote!(::nn_core::__private::BatchNorm<#t, #o>)
            }
        };
        let f = &l.name;
        Some(Field { init: quote_spanned!(l.span=> self.#f.reset();), ..Field::new(l, ty) })
    }

    fn keeps(&self) -> bool {
        true
    }

    /// On a vector only: the statistics of planes or of a sequence's steps are not one step's.
    fn streaming(&self, l: &Layer) -> Streaming {
        if l.step.is_none() && l.geometry.is_none() { Streaming::Stateless } else { Streaming::No }
    }

    fn tensors(&self, l: &Layer) -> Vec<Expected> {
        // Batch norm on planes has one value per channel.
        let o = match &l.geometry {
            Some(g) => g.channels.lit().unwrap_or(0),
            None => lit(&l.outputs),
        };
        nn_shapes::BATCH_NORM_TENSORS.into_iter().map(|t| Expected::vector(l, t, o)).collect()
    }

    fn relu_like(&self) -> Option<bool> {
        None
    }
}
