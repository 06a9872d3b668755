//! `Dropout(P)`: zeroes each value with probability `P` in training (and scales the others by `1 / (1 - P)`).

use super::LayerKind;
use crate::codegen::{Contract, Streaming};
use crate::model::Layer;
use proc_macro2::TokenStream;
use quote::quote;

/// A dropout layer.
pub struct Dropout {
    /// The drop probability, as an expression of the scalar type.
    pub p: TokenStream,
}

impl LayerKind for Dropout {
    fn describe_short(&self, _: &Layer) -> String {
        format!("Dropout({})", self.p)
    }

    fn contract(&self, l: &Layer, t: &TokenStream) -> Contract {
        let p = &self.p;
        Contract::constant(
            l,
            quote!(::nn_core::__private::Dropout<#t>),
            quote!(::nn_core::__private::Dropout::<#t>(#p)),
        )
    }

    fn keeps(&self) -> bool {
        true
    }

    fn streaming(&self, _: &Layer) -> Streaming {
        Streaming::Stateless
    }

    fn relu_like(&self) -> Option<bool> {
        None
    }
}
