//! `Dense(OUT)` and `Dense(IN, OUT)`: a fully connected layer (PyTorch's `Linear`), on a vector or on every step
//! of a sequence; options `bias`, `init` and `per_step`.

use super::LayerKind;
use crate::codegen::{Contract, Field, Streaming};
use crate::embed::{Expected, lit};
use crate::model::{InitKind, Layer};
use proc_macro2::TokenStream;
use quote::quote;

/// A dense layer.
pub struct Dense {
    /// Whether it adds a bias.
    pub bias: bool,
    /// Its `init` option, if given.
    pub init: Option<InitKind>,
}

impl LayerKind for Dense {
    fn describe_short(&self, l: &Layer) -> String {
        format!("{} Dense {}", l.name, l.outputs.display())
    }

    fn describe(&self, l: &Layer) -> String {
        format!(
            "Layer `{}`: dense, {} inputs to {} outputs (`weight` is {} x {}{}).",
            l.name,
            l.inputs.display(),
            l.outputs.display(),
            l.outputs.display(),
            l.inputs.display(),
            if self.bias { format!(", `bias` has {}", l.outputs.display()) } else { ", no bias".to_string() }
        )
    }

    fn field(&self, l: &Layer, t: &TokenStream) -> Option<Field> {
        // A dense layer on a sequence is sized by one step.
        let (i, o) = match &l.step {
            Some(s) => (s.inputs.tokens(), s.outputs.tokens()),
            None => (l.inputs.tokens(), l.outputs.tokens()),
        };
        Some(if self.bias {
            Field::new(l, quote!(::nn_core::__private::Dense<#t, #i, #o>))
        } else {
            Field {
                constructor: "without_bias",
                ..Field::new(l, quote!(::nn_core::__private::DenseNoBias<#t, #i, #o>))
            }
        })
    }

    /// Inference fuses the activation right after it into its forward, unless it runs per step.
    fn contract(&self, l: &Layer, t: &TokenStream) -> Contract {
        let field = self.field(l, t).expect("a dense layer has a field");
        Contract { fuses: l.step.is_none(), ..Contract::field(l, field.ty) }
    }

    fn streaming(&self, _: &Layer) -> Streaming {
        Streaming::Stateless
    }

    fn tensors(&self, l: &Layer) -> Vec<Expected> {
        // A dense layer on a sequence is sized by one step.
        let (i, o) = match &l.step {
            Some(s) => (lit(&s.inputs), lit(&s.outputs)),
            None => (lit(&l.inputs), lit(&l.outputs)),
        };
        let mut v = vec![Expected::matrix(l, "weight", vec![o, i])];
        if self.bias {
            v.push(Expected::vector(l, "bias", o));
        }
        v
    }

    /// He initialisation before ReLU-like activations, Xavier otherwise, unless the layer says.
    fn initialisation(&self, after: &[Layer]) -> Option<InitKind> {
        // The next activation, looking through batch norm, dropout, pooling and reshaping.
        let next_relu = after.iter().find_map(|n| n.kind.relu_like()).unwrap_or(false);
        Some(self.init.unwrap_or(if next_relu { InitKind::HeNormal } else { InitKind::XavierUniform }))
    }
}
