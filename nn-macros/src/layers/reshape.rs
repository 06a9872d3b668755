//! `Flatten` and `Reshape(..)`: the same values seen as another shape (a vector, or planes); nothing moves, as
//! activations are channel-major columns whatever their shape.

use super::{Kind, LayerKind};
use crate::codegen::Contract;
use crate::errors::Errors;
use crate::int8::Int8;
use crate::messages::{self, part};
use crate::model::{Builder, Built, Call, Decl, Dim, InitKind, Layer, NameUse, Planes, Sz, no_options, size, tokens};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use syn::Expr;

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["Flatten", "Reshape"], build };

/// Planes to a vector, or any shape to another of as many values: moves no data. Descriptions read `Flatten`
/// for a vector out and `Reshape [4, 4]` for planes.
pub struct Flatten;

/// `Flatten` or `Reshape(..)`.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    if d.call.head == "Reshape" { reshape_layer(b, d) } else { flatten_layer(b, d) }
}

/// `Flatten`: planes, or a sequence, to a vector.
fn flatten_layer(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span) = (d.name, d.call, d.span);
    let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("flatten{}", d.before.len()), span));
    b.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: false, span });
    let Some(inputs) = d.current.cloned() else { return Built::Skipped };
    if let Planes::Flat = d.planes {
        b.errors.at(call.head, messages::FLATTEN_AFTER_VECTOR);
        return Built::Unknown;
    }
    let layer = Layer {
        name,
        span,
        kind: Box::new(Flatten),
        inputs: inputs.clone(),
        outputs: inputs.clone(),
        init: InitKind::HeNormal,
        geometry: None,
        step: None,
        shape: String::new(),
    };
    Built::Layers(vec![layer], inputs, Planes::Flat)
}

/// `Reshape(..)`.
fn reshape_layer(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span) = (d.name, d.call, d.span);
    if let Some(n) = entry_name {
        b.uses.push(NameUse { name: n.clone(), named: true, is_param: false, span });
    }
    let Some(inputs) = d.current.cloned() else { return Built::Skipped };
    let Some(new_planes) = reshape(call, &inputs, d.planes, b.errors) else { return Built::Unknown };
    let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("reshape{}", d.before.len()), span));
    let layer = Layer {
        name,
        span,
        kind: Box::new(Flatten),
        inputs: inputs.clone(),
        outputs: inputs.clone(),
        init: InitKind::Zeros,
        geometry: None,
        step: None,
        shape: String::new(),
    };
    Built::Layers(vec![layer], inputs, new_planes)
}

/// `Reshape(N)`, `Reshape([C, L])` or `Reshape([C, H, W])`: the same values seen as another shape (nothing
/// moves); the element count must not change.
fn reshape(call: &Call, inputs: &Dim, planes: &Planes, errors: &mut Errors) -> Option<Planes> {
    let [target] = call.positional.as_slice() else {
        errors.at(call.head, messages::RESHAPE_ONE_SHAPE);
        return None;
    };
    no_options(call, errors);
    let elems: Vec<&Expr> = match target {
        Expr::Array(a) => a.elems.iter().collect(),
        other => vec![other],
    };
    let mut dims = Vec::new();
    for e in &elems {
        match size(e, part::RESHAPE_DIMENSION, errors)? {
            Dim::Lit(n) => dims.push(n),
            Dim::Const(_) => {
                errors.at(e, messages::RESHAPE_NEEDS_LITERALS);
                return None;
            }
        }
    }
    let Some(count) = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) else {
        let shown: Vec<String> = dims.iter().map(ToString::to_string).collect();
        errors.at(target, messages::size_overflows("Reshape", part::ITS_VALUES, &shown.join(" x ")));
        return None;
    };
    let Dim::Lit(have) = inputs else {
        errors.at(target, messages::RESHAPE_INPUT_NOT_LITERAL);
        return None;
    };
    if count != *have {
        let from = match planes {
            Planes::Flat => have.to_string(),
            p => p.describe(),
        };
        errors.at(target, messages::reshape_count_differs(&tokens(target), count, &from, *have));
        return None;
    }
    match dims.as_slice() {
        [_] => Some(Planes::Flat),
        [c, l] => Some(Planes::Spatial { c: Sz::Lit(*c), h: Sz::Lit(1), w: Sz::Lit(*l), two_d: false }),
        [c, h, w] => Some(Planes::Spatial { c: Sz::Lit(*c), h: Sz::Lit(*h), w: Sz::Lit(*w), two_d: true }),
        _ => {
            errors.at(target, messages::RESHAPE_RANK);
            None
        }
    }
}

impl LayerKind for Flatten {
    fn int8(&self, _: &Layer) -> Result<Int8, String> {
        Ok(Int8::Reshape)
    }

    fn describe_short(&self, l: &Layer) -> String {
        if l.shape.starts_with('[') { format!("Reshape {}", l.shape) } else { "Flatten".to_string() }
    }

    fn contract(&self, l: &Layer, _: &TokenStream) -> Contract {
        Contract::constant(l, quote!(::nn_core::__private::Reshape), quote!(::nn_core::__private::Reshape))
    }

    fn relu_like(&self) -> Option<bool> {
        None
    }
}
