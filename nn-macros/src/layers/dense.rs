//! `Dense(OUT)` and `Dense(IN, OUT)`: a fully connected layer (PyTorch's `Linear`), on a vector or on every step
//! of a sequence; options `bias`, `init` and `per_step`.

use super::{Kind, LayerKind, recurrent};
use crate::codegen::{Contract, Field, Streaming};
use crate::embed::{Expected, lit};
use crate::errors::{Errors, did_you_mean};
use crate::int8::Int8;
use crate::messages::{self, part};
use crate::model::{
    Builder, Built, Call, ConstCheck, Decl, Dim, InitKind, Layer, NameUse, Planes, StepIo, Sz, bool_option,
    check_inputs, product, size, tokens,
};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use syn::Expr;
use syn::spanned::Spanned;

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["Dense"], build };

/// A dense layer.
pub struct Dense {
    /// Whether it adds a bias.
    bias: bool,
    /// Its `init` option, if given.
    init: Option<InitKind>,
}

/// The values of the `init` option.
const INIT_NAMES: &[(&str, InitKind)] = &[
    ("xavier_uniform", InitKind::XavierUniform),
    ("xavier_normal", InitKind::XavierNormal),
    ("he_normal", InitKind::HeNormal),
    ("he_uniform", InitKind::HeUniform),
    ("zeros", InitKind::Zeros),
];

/// The name of the latest dense layer of `layers`, or `input`: where an explicit input size is said to come
/// from.
pub fn prev_name(layers: &[Layer]) -> String {
    layers
        .iter()
        .rev()
        .find(|l| l.kind_as::<Dense>().is_some())
        .map_or_else(|| "input".to_string(), |l| l.name.to_string())
}

/// `Dense(..)`: refused straight after planes; on a sequence, applied to every step.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span) = (d.name, d.call, d.span);
    if d.current.is_some() && matches!(d.planes, Planes::Spatial { .. }) {
        b.errors.at(call.head, messages::dense_after_planes(&call.head.to_string(), &d.planes.describe()));
        return Built::Unknown;
    }
    let prev_name = prev_name(d.before);
    let n = b.number("fc");
    let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("fc{n}"), span));
    let named = entry_name.is_some();
    b.uses.push(NameUse { name: name.clone(), named, is_param: true, span });
    // On a sequence, a dense layer applies to every step (PyTorch's `Linear` on `[steps, features]`).
    let seq = match d.planes {
        Planes::Seq { t, f } => Some((t.clone(), f.clone())),
        _ => None,
    };
    let per_step_in = seq.as_ref().map(|(_, f)| f.to_dim()).or_else(|| d.current.cloned());
    let context = DenseContext { sequence: seq.is_some(), last_step: recurrent::last_step_layer(d.before) };
    let Some(mut layer) = dense(call, name, span, per_step_in.as_ref(), &prev_name, &context, b.errors, &mut b.checks)
    else {
        return Built::Unknown;
    };
    let mut planes = d.planes.clone();
    if let Some((t, f)) = seq {
        let o = Sz::from_dim(&layer.outputs);
        layer.step = Some(StepIo { steps: t.clone(), inputs: layer.inputs.clone(), outputs: layer.outputs.clone() });
        let label = layer.name.to_string();
        let Some(inputs) = product(&[&t, &f], call.head, &label, part::ITS_VALUES, b.errors) else {
            return Built::Unknown;
        };
        let Some(outputs) = product(&[&t, &o], call.head, &label, part::ITS_VALUES, b.errors) else {
            return Built::Unknown;
        };
        layer.inputs = inputs.to_dim();
        layer.outputs = outputs.to_dim();
        planes = Planes::Seq { t, f: o };
    }
    let outputs = layer.outputs.clone();
    Built::Layers(vec![layer], outputs, planes)
}

/// Where a dense layer sits: on a sequence or not, and the recurrent layer that returned only its last step.
struct DenseContext {
    /// Whether the input is a sequence.
    sequence: bool,
    /// The recurrent layer that returned only its last step, if that is why the input is no sequence.
    last_step: Option<String>,
}

#[allow(clippy::too_many_arguments)]
/// A dense layer's options and sizes, on `current` inputs (one step's, on a sequence).
fn dense(
    call: &Call,
    name: Ident,
    span: Span,
    current: Option<&Dim>,
    prev_name: &str,
    context: &DenseContext,
    errors: &mut Errors,
    checks: &mut Vec<ConstCheck>,
) -> Option<Layer> {
    let mut bias = true;
    let mut init = None;
    let mut seen: Vec<String> = Vec::new();
    for (opt, value) in &call.options {
        let key = opt.to_string();
        if seen.contains(&key) {
            errors.at(opt, messages::option_twice(&key));
            continue;
        }
        seen.push(key.clone());
        match key.as_str() {
            "bias" => bias = bool_option(opt, value, errors).unwrap_or(true),
            "init" => init = init_option(value, errors),
            "per_step" => {
                if bool_option(opt, value, errors) == Some(true) && !context.sequence {
                    let why = context.last_step.as_deref();
                    errors.at(opt, messages::per_step_without_sequence(&name.to_string(), why));
                }
            }
            _ => {
                let msg = match did_you_mean(&key, &["bias", "init", "per_step"]) {
                    s if s.is_empty() => messages::unknown_dense_option(&key),
                    s => messages::unknown_option("Dense", &key, &s),
                };
                errors.at(opt, msg);
            }
        }
    }
    let what = part::size_of(&name.to_string());
    let (explicit_in, outputs) = match call.positional.as_slice() {
        [] => {
            errors.at(call.head, messages::dense_needs_outputs(&name.to_string()));
            return None;
        }
        [out] => (None, size(out, &what, errors)?),
        [inp, out] => {
            let i = size(inp, &part::input_size_of(&name.to_string()), errors);
            let o = size(out, &what, errors)?;
            (Some((i?, *inp)), o)
        }
        [_, _, extra, ..] => {
            errors.at(extra, messages::DENSE_TOO_MANY_SIZES);
            return None;
        }
    };
    let out_span = call.positional.last().map_or(span, |e| e.span());
    // After an earlier mistake left the input unknown, a declared input size is taken as meant, and the layers
    // after are still checked against this one's outputs.
    // Without either, the layer's outputs are still what the checks after it go on with, and the stand-in of the
    // rejected declaration has; its inputs are then never used (the declaration already has an error).
    let inputs = match (current, &explicit_in) {
        (Some(current), _) => current.clone(),
        (None, Some((declared, _))) => declared.clone(),
        (None, None) if errors.is_empty() => return None,
        (None, None) => Dim::Lit(0),
    };
    if let (Some(current), Some((declared, tokens_in))) = (current, explicit_in) {
        check_inputs(&name, &declared, tokens_in, current, prev_name, errors, checks);
    }
    if let Dim::Const(_) = &outputs {
        let o = outputs.tokens();
        checks.push(ConstCheck {
            values: Vec::new(),
            condition: quote!(#o > 0),
            message: messages::zero_const_size(&what, &outputs.display()),
            span: out_span,
        });
    }
    Some(Layer {
        name,
        span,
        kind: Box::new(Dense { bias, init }),
        inputs,
        outputs,
        init: InitKind::XavierUniform,
        geometry: None,
        step: None,
        shape: String::new(),
    })
}

/// Reads `init = ..`.
fn init_option(value: &Expr, errors: &mut Errors) -> Option<InitKind> {
    let names: Vec<&str> = INIT_NAMES.iter().map(|(n, _)| *n).collect();
    let word = match value {
        Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        _ => None,
    };
    match word.as_deref().and_then(|w| INIT_NAMES.iter().find(|(n, _)| *n == w)) {
        Some((_, k)) => Some(*k),
        None => {
            let found = tokens(value);
            errors.at(value, messages::unknown_init(&found, &did_you_mean(&found, &names), &names));
            None
        }
    }
}

impl LayerKind for Dense {
    fn int8(&self, l: &Layer) -> Result<Int8, String> {
        match (&l.step, self.bias) {
            (Some(_), _) => Err(" on a sequence".into()),
            (None, false) => Err(" without a bias (TFLite's fully connected layers have one)".into()),
            (None, true) => Ok(Int8::Dense),
        }
    }

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
