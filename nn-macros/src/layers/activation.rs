//! The activations: `Sigmoid`, `Tanh`, `Relu`, `LeakyRelu(SLOPE)?`, `Elu(ALPHA)?`, ... elementwise (or, for
//! `Softmax`, over the vector or each step of a sequence), with an optional parameter for some.

use super::LayerKind;
use crate::codegen::{Contract, Streaming};
use crate::messages::part;
use crate::model::Layer;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// An activation function (its parameter, if it takes one, is the layer's).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ActKind {
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// The hyperbolic tangent.
    Tanh,
    /// `max(0, x)`.
    Relu,
    /// `x`, or `slope * x` below 0.
    LeakyRelu,
    /// `x`, or `alpha * (e^x - 1)` below 0.
    Elu,
    /// `ln(1 + e^x)`.
    Softplus,
    /// `x * sigmoid(x)` (SiLU).
    Swish,
    /// The Gaussian error linear unit.
    Gelu,
    /// `0.25 * x + 0.5` clamped to `[0, 1]`.
    HardSigmoid,
    /// `x` clamped to `[-1, 1]`.
    HardTanh,
    /// `x`.
    Identity,
    /// Exponentials normalised to sum to 1 (over the vector, or each step of a sequence).
    Softmax,
    /// The perceptron's unit step: 0 below zero, 1/2 at zero, 1 above.
    Step,
    /// The sign: -1 below zero, 0 at zero, 1 above.
    Sign,
    /// `x + 0.5` clamped to `[0, 1]`.
    PiecewiseLinear,
}

/// Every activation by name, in the order suggestions prefer.
pub const ACTIVATIONS: &[(&str, ActKind)] = &[
    ("Sigmoid", ActKind::Sigmoid),
    ("Tanh", ActKind::Tanh),
    ("Relu", ActKind::Relu),
    ("LeakyRelu", ActKind::LeakyRelu),
    ("Elu", ActKind::Elu),
    ("Softplus", ActKind::Softplus),
    ("Swish", ActKind::Swish),
    ("Gelu", ActKind::Gelu),
    ("HardSigmoid", ActKind::HardSigmoid),
    ("HardTanh", ActKind::HardTanh),
    ("Identity", ActKind::Identity),
    ("Softmax", ActKind::Softmax),
    ("Step", ActKind::Step),
    ("Sign", ActKind::Sign),
    ("PiecewiseLinear", ActKind::PiecewiseLinear),
];

impl ActKind {
    /// The name a declaration uses.
    pub fn name(self) -> &'static str {
        ACTIVATIONS.iter().find(|(_, k)| *k == self).map_or("?", |(n, _)| n)
    }

    /// The parameter an activation takes, with its meaning and default, if any.
    pub fn parameter(self) -> Option<(&'static str, f64)> {
        match self {
            ActKind::LeakyRelu => Some((part::NEGATIVE_SLOPE, 0.01)),
            ActKind::Elu => Some((part::ALPHA, 1.0)),
            _ => None,
        }
    }

    /// Layers after which He initialisation suits better than Xavier.
    fn relu_like(self) -> bool {
        matches!(self, ActKind::Relu | ActKind::LeakyRelu | ActKind::Elu | ActKind::Gelu | ActKind::Swish)
    }
}

/// An activation layer.
pub struct Activation {
    /// Which activation.
    pub kind: ActKind,
    /// Its parameter, if it takes one and the declaration gives it.
    pub param: Option<TokenStream>,
}

/// The type of an activation with its default parameter (a recurrent layer's).
pub fn activation_type(t: &TokenStream, kind: ActKind) -> TokenStream {
    let ident = format_ident!("{}", kind.name());
    match kind {
        ActKind::LeakyRelu | ActKind::Elu => quote!(::nn_core::__private::#ident<#t>),
        _ => quote!(::nn_core::__private::#ident),
    }
}

/// A layer's activation value; softmax on a sequence normalises each step.
fn layer_activation(t: &TokenStream, l: &Layer, kind: ActKind, param: Option<&TokenStream>) -> TokenStream {
    match (kind, &l.step) {
        (ActKind::Softmax, Some(s)) => {
            let f = s.inputs.tokens();
            quote_spanned!(l.span=> ::nn_core::__private::SoftmaxSteps::<#f>)
        }
        _ => activation(t, kind, param, l.span),
    }
}

/// The type of a layer's activation (see [`layer_activation`]).
fn layer_activation_type(t: &TokenStream, l: &Layer, kind: ActKind) -> TokenStream {
    match (kind, &l.step) {
        (ActKind::Softmax, Some(s)) => {
            let f = s.inputs.tokens();
            quote!(::nn_core::__private::SoftmaxSteps<#f>)
        }
        _ => activation_type(t, kind),
    }
}

/// An activation's value, with its parameter or its default one.
fn activation(t: &TokenStream, kind: ActKind, param: Option<&TokenStream>, span: Span) -> TokenStream {
    let ident = format_ident!("{}", kind.name(), span = span);
    match (kind, param) {
        (ActKind::LeakyRelu | ActKind::Elu, Some(p)) => quote_spanned!(span=> ::nn_core::__private::#ident::<#t>(#p)),
        (ActKind::LeakyRelu | ActKind::Elu, None) => {
            quote_spanned!(span=> <::nn_core::__private::#ident<#t> as ::core::default::Default>::default())
        }
        _ => quote_spanned!(span=> ::nn_core::__private::#ident),
    }
}

impl LayerKind for Activation {
    fn describe_short(&self, _: &Layer) -> String {
        self.kind.name().to_string()
    }

    fn contract(&self, l: &Layer, t: &TokenStream) -> Contract {
        let (ty, value) =
            (layer_activation_type(t, l, self.kind), layer_activation(t, l, self.kind, self.param.as_ref()));
        Contract::constant(l, ty, value)
    }

    fn streaming(&self, _: &Layer) -> Streaming {
        Streaming::Stateless
    }

    fn activation(&self, l: &Layer, t: &TokenStream) -> Option<TokenStream> {
        Some(layer_activation(t, l, self.kind, self.param.as_ref()))
    }

    fn relu_like(&self) -> Option<bool> {
        Some(self.kind.relu_like())
    }
}
