//! The activations: `Sigmoid`, `Tanh`, `Relu`, `LeakyRelu(SLOPE)?`, `Elu(ALPHA)?`, ... elementwise (or, for
//! `Softmax`, over the vector or each step of a sequence), with an optional parameter for some.

use super::{Kind, LayerKind};
use crate::codegen::{Contract, Streaming};
use crate::errors::Errors;
use crate::int8::{Clamp, Int8};
use crate::messages::{self, part};
use crate::model::{Builder, Built, Call, Decl, Layer, NameUse, no_options, number};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &NAMES, build };

/// The activations' names, in the order of [`ACTIVATIONS`].
const NAMES: [&str; ACTIVATIONS.len()] = {
    let mut names = [""; ACTIVATIONS.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = ACTIVATIONS[i].0;
        i += 1;
    }
    names
};

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
    /// `x * sigmoid(beta x)` (SiLU for beta 1, the default).
    Swish,
    /// The Gaussian error linear unit.
    Gelu,
    /// `slope * x + 0.5` clamped to `[0, 1]` (slope 0.25 by default).
    HardSigmoid,
    /// `x` clamped to `[-1, 1]`.
    HardTanh,
    /// `x` clamped to `[0, 6]`.
    Relu6,
    /// `x`.
    Identity,
    /// Exponentials normalised to sum to 1 (over the vector, or each step of a sequence).
    Softmax,
    /// The perceptron's unit step: 0 below zero, 1 above, its parameter (1/2 by default) at zero.
    Step,
    /// The sign: -1 below zero, 1 above, its parameter (0 by default) at zero.
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
    ("Relu6", ActKind::Relu6),
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

    /// The parameter an activation takes, with its meaning and default, if any: the one place that says which
    /// activations take one (their `nn-core` type is then generic over the scalar, `LeakyRelu<T>(slope)`, with
    /// the default as its `Default`).
    fn parameter(self) -> Option<(&'static str, f64)> {
        match self {
            ActKind::LeakyRelu => Some((part::NEGATIVE_SLOPE, 0.01)),
            ActKind::Elu => Some((part::ALPHA, 1.0)),
            ActKind::HardSigmoid => Some((part::SLOPE, 0.25)),
            ActKind::Swish => Some((part::BETA, 1.0)),
            ActKind::Step => Some((part::VALUE_AT_ZERO, 0.5)),
            ActKind::Sign => Some((part::VALUE_AT_ZERO, 0.0)),
            _ => None,
        }
    }

    /// Layers after which He initialisation suits better than Xavier.
    fn relu_like(self) -> bool {
        matches!(
            self,
            ActKind::Relu | ActKind::LeakyRelu | ActKind::Elu | ActKind::Gelu | ActKind::Swish | ActKind::Relu6
        )
    }
}

/// An activation layer.
pub struct Activation {
    /// Which activation.
    kind: ActKind,
    /// Its parameter, if it takes one and the declaration gives it.
    param: Option<TokenStream>,
}

/// An activation: keeps the shape; its default name is its own with the layer's position (`relu2`).
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span) = (d.name, d.call, d.span);
    let (_, kind) = ACTIVATIONS.iter().find(|(n, _)| call.head == n).expect("the registry gives activations only");
    let param = activation_param(*kind, call, b.errors);
    let name = entry_name
        .cloned()
        .unwrap_or_else(|| Ident::new(&format!("{}{}", kind.name().to_lowercase(), d.before.len()), span));
    b.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: false, span });
    let Some(dim) = d.current.cloned() else { return Built::Skipped };
    let layer = Layer::same_shape(name, span, Activation { kind: *kind, param }, dim.clone());
    Built::Layers(vec![layer], dim, d.planes.clone())
}

/// An activation's parameter, when it takes one and the declaration gives it.
fn activation_param(kind: ActKind, call: &Call, errors: &mut Errors) -> Option<TokenStream> {
    let name = kind.name();
    no_options(call, errors);
    match (kind.parameter(), call.positional.as_slice()) {
        (_, []) => None,
        (None, [first, ..]) => {
            errors.at(first, messages::takes_no_arguments(name));
            None
        }
        (Some((what, _)), [p]) => number(p, errors, &part::parameter_of(what, name)),
        (Some((what, default)), [_, extra, ..]) => {
            errors.at(extra, messages::one_optional_argument(name, what, default));
            None
        }
    }
}

/// The type of an activation with its default parameter (a recurrent layer's).
pub fn activation_type(t: &TokenStream, kind: ActKind) -> TokenStream {
    let ident = format_ident!("{}", kind.name());
    if kind.parameter().is_some() {
        quote!(::nn_core::__private::#ident<#t>)
    } else {
        quote!(::nn_core::__private::#ident)
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
    match (kind.parameter(), param) {
        (Some(_), Some(p)) => quote_spanned!(span=> ::nn_core::__private::#ident::<#t>(#p)),
        (Some(_), None) => {
            quote_spanned!(span=> <::nn_core::__private::#ident<#t> as ::core::default::Default>::default())
        }
        (None, _) => quote_spanned!(span=> ::nn_core::__private::#ident),
    }
}

impl LayerKind for Activation {
    fn int8(&self, l: &Layer) -> Result<Int8, String> {
        match self.kind {
            ActKind::Relu => Ok(Int8::Clamp(Clamp::Relu)),
            ActKind::Relu6 => Ok(Int8::Clamp(Clamp::Relu6)),
            ActKind::HardTanh => Ok(Int8::Clamp(Clamp::ReluN1To1)),
            ActKind::Identity => Ok(Int8::Identity),
            ActKind::Softmax if l.step.is_none() => Ok(Int8::Softmax),
            ActKind::Softmax => Err(" on a sequence".into()),
            _ => Err(" (int8 networks take `Relu`, `Relu6`, `HardTanh`, `Identity` and `Softmax`)".into()),
        }
    }

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
