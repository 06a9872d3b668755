//! `NoisyRelu`: ReLU with Gaussian noise of variance `sigmoid(x)` in training (Nair and Hinton).

use super::LayerKind;
use crate::codegen::{Contract, Streaming};
use crate::model::Layer;
use proc_macro2::TokenStream;
use quote::quote;

/// A noisy ReLU layer.
pub struct NoisyRelu;

impl LayerKind for NoisyRelu {
    fn describe_short(&self, _: &Layer) -> String {
        "NoisyRelu".to_string()
    }

    fn contract(&self, l: &Layer, _: &TokenStream) -> Contract {
        Contract::constant(l, quote!(::nn_core::__private::NoisyRelu), quote!(::nn_core::__private::NoisyRelu))
    }

    fn keeps(&self) -> bool {
        true
    }

    fn streaming(&self, _: &Layer) -> Streaming {
        Streaming::Stateless
    }

    fn relu_like(&self) -> Option<bool> {
        Some(true)
    }
}
