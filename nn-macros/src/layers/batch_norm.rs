//! `BatchNorm` and `BatchNorm(N)`: batch normalisation, of every feature of a vector or of every channel of
//! planes (PyTorch's `BatchNorm1d` and `BatchNorm2d`).

use super::LayerKind;
use crate::codegen::{Field, Streaming};
use crate::embed::{Expected, lit};
use crate::model::Layer;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// A batch normalisation layer; on planes, its geometry holds the channels.
pub struct BatchNorm;

impl LayerKind for BatchNorm {
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
        ["weight", "bias", "running_mean", "running_var"].into_iter().map(|t| Expected::vector(l, t, o)).collect()
    }

    fn relu_like(&self) -> Option<bool> {
        None
    }
}
