//! `Flatten` and `Reshape(..)`: the same values seen as another shape (a vector, or planes); nothing moves, as
//! activations are channel-major columns whatever their shape.

use super::LayerKind;
use crate::codegen::Contract;
use crate::model::Layer;
use proc_macro2::TokenStream;
use quote::quote;

/// Planes to a vector, or any shape to another of as many values: moves no data. Both read `Flatten` in
/// descriptions.
pub struct Flatten;

impl LayerKind for Flatten {
    fn describe_short(&self, _: &Layer) -> String {
        "Flatten".to_string()
    }

    fn contract(&self, l: &Layer, _: &TokenStream) -> Contract {
        Contract::constant(l, quote!(::nn_core::__private::Reshape), quote!(::nn_core::__private::Reshape))
    }

    fn relu_like(&self) -> Option<bool> {
        None
    }
}
