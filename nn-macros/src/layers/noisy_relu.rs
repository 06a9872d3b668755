//! `NoisyRelu`: ReLU with Gaussian noise of variance `sigmoid(x)` in training (Nair and Hinton).

use super::{Kind, LayerKind};
use crate::codegen::{Contract, Streaming};
use crate::messages;
use crate::model::{Builder, Built, Decl, Layer, NameUse, no_options};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["NoisyRelu"], build };

/// A noisy ReLU layer.
pub struct NoisyRelu;

/// `NoisyRelu`: takes no argument and keeps the shape.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span) = (d.name, d.call, d.span);
    let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("noisyrelu{}", d.before.len()), span));
    b.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: false, span });
    no_options(call, b.errors);
    if let Some(extra) = call.positional.first() {
        b.errors.at(extra, messages::NOISY_RELU_TAKES_NO_ARGUMENT);
    }
    let Some(dim) = d.current.cloned() else { return Built::Skipped };
    Built::Layers(vec![Layer::same_shape(name, span, NoisyRelu, dim.clone())], dim, d.planes.clone())
}

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
