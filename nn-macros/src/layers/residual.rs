//! `Residual(LAYER, ..., project = LAYER)`: a branch of layers whose output is added to its input (or to the
//! input's projection). Code generation wires the branch; this file has its rule and its descriptions.

use super::{Kind, LayerKind};
use crate::messages;
use crate::model::{Builder, Built, Call, ConstCheck, Decl, Dim, InitKind, Layer, Planes};
use proc_macro2::{Ident, Span};
use quote::quote;
use syn::Expr;
use syn::spanned::Spanned;

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["Residual"], build };

/// A residual block.
pub struct Residual {
    /// The branch's layers.
    pub branch: Vec<Layer>,
    /// The layer the input goes through before it is added, if any.
    pub projection: Option<Box<Layer>>,
}

/// `Residual(..)`: a default name (`residual1`, ...), then the block's rule.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span) = (d.name, d.call, d.span);
    let Some(start) = d.current.cloned() else { return Built::Skipped };
    let count = b.number("residual");
    let default = format!("{}{}", call.head.to_string().to_lowercase(), count);
    let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&default, span));
    let Some((layer, out_planes)) = residual(b, call, name, span, start, d.planes.clone()) else {
        return Built::Unknown;
    };
    let outputs = layer.outputs.clone();
    Built::Layers(vec![layer], outputs, out_planes)
}

/// `Residual(layers..., project = layer)`: the branch's output must have the shape of its input, or of the
/// projection's output when there is one.
fn residual(
    builder: &mut Builder<'_>,
    call: &Call,
    name: Ident,
    span: Span,
    start: Dim,
    planes: Planes,
) -> Option<(Layer, Planes)> {
    let mut projection = None;
    for (opt, value) in &call.options {
        if *opt == "project" && projection.is_none() {
            projection = Some(*value);
        } else {
            builder.errors.at(opt, messages::unknown_residual_option(&opt.to_string()));
        }
    }
    if call.positional.is_empty() {
        builder.errors.at(call.head, messages::RESIDUAL_NEEDS_BRANCH);
        return None;
    }
    let entries: Vec<(Option<&Ident>, &Expr, Span)> = call.positional.iter().map(|e| (None, *e, e.span())).collect();
    let (branch, out, out_planes) = builder.sequence(&entries, Some(start.clone()), planes.clone());
    let out = out?;
    let (projection, skip, skip_planes) = match projection {
        Some(p) => {
            let (mut layers, d, pl) = builder.sequence(&[(None, p, p.span())], Some(start.clone()), planes);
            if layers.len() != 1 {
                builder.errors.at(p, messages::PROJECTION_IS_ONE_LAYER);
                return None;
            }
            (Some(Box::new(layers.remove(0))), d?, pl)
        }
        None => (None, start.clone(), planes),
    };
    let shape = |d: &Dim, p: &Planes| match p {
        Planes::Flat => d.display(),
        p => p.describe(),
    };
    let literal = |p: &Planes, d: &Dim| match p {
        Planes::Flat => matches!(d, Dim::Lit(_)),
        Planes::Spatial { c, h, w, .. } => c.lit().is_some() && h.lit().is_some() && w.lit().is_some(),
        Planes::Seq { t, f } => t.lit().is_some() && f.lit().is_some(),
    };
    let (b, s) = (shape(&out, &out_planes), shape(&skip, &skip_planes));
    let msg = if projection.is_some() {
        messages::residual_differs_from_projection(&name.to_string(), &b, &s)
    } else {
        messages::residual_differs_from_input(&name.to_string(), &b, &s)
    };
    if literal(&out_planes, &out) && literal(&skip_planes, &skip) {
        if out.display() != skip.display() || out_planes != skip_planes {
            builder.errors.at(call.head, msg);
            return None;
        }
    } else {
        // Sizes given by `const` items: the compiler compares them.
        let dims = |p: &Planes, d: &Dim| match p {
            Planes::Flat => vec![d.tokens()],
            Planes::Spatial { c, h, w, .. } => vec![c.tokens(), h.tokens(), w.tokens()],
            Planes::Seq { t, f } => vec![t.tokens(), f.tokens()],
        };
        let (x, y) = (dims(&out_planes, &out), dims(&skip_planes, &skip));
        if x.len() != y.len() {
            builder.errors.at(call.head, msg);
            return None;
        }
        builder.checks.push(ConstCheck {
            values: Vec::new(),
            condition: quote!(true #(&& #x == #y)*),
            message: msg,
            span: call.head.span(),
        });
    }
    let layer = Layer {
        name,
        span,
        kind: Box::new(Residual { branch, projection }),
        inputs: start,
        outputs: out,
        init: InitKind::Zeros,
        geometry: None,
        step: None,
        shape: String::new(),
    };
    Some((layer, out_planes))
}

impl LayerKind for Residual {
    fn describe_short(&self, l: &Layer) -> String {
        format!(
            "{} Residual({}{})",
            l.name,
            self.branch.iter().map(|b| b.kind.describe_short(b)).collect::<Vec<_>>().join(" -> "),
            self.projection.as_ref().map_or(String::new(), |p| format!(", project = {}", p.kind.describe_short(p)))
        )
    }

    fn describe(&self, l: &Layer) -> String {
        format!("`{}`: residual block", l.name)
    }

    fn sublayers(&self) -> Vec<&Layer> {
        self.branch.iter().chain(self.projection.as_deref()).collect()
    }
}
