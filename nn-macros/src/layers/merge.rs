//! `Concat([LAYER, ...], [LAYER, ...], ...)` and `Sum([...], [...], ...)`: two or more branches over the same
//! input, joined (vectors end to end, planes along their channels) or added. Code generation wires the
//! branches; this file has their rule and their descriptions.

use super::{Kind, LayerKind};
use crate::messages;
use crate::model::{
    self, Builder, Built, Call, ConstCheck, Decl, Dim, InitKind, Layer, Planes, Sz, no_options, ungroup,
};
use proc_macro2::{Ident, Span};
use quote::quote;
use syn::Expr;
use syn::spanned::Spanned;

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["Concat", "Sum"], build };

/// Parallel branches over the same input, merged by concatenation (features, or channels of planes) or by sum.
pub struct Merge {
    /// The branches' layers (none for a branch that passes the input on).
    pub branches: Vec<Vec<Layer>>,
    /// A sum (else a concatenation).
    pub sum: bool,
    /// The branches' output sizes.
    pub sizes: Vec<Sz>,
}

/// `Concat(..)` or `Sum(..)`: a default name (`concat1`, `sum1`, ...), then the merge's rule.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span) = (d.name, d.call, d.span);
    let Some(start) = d.current.cloned() else { return Built::Skipped };
    let count = b.number("merge");
    let default = format!("{}{}", call.head.to_string().to_lowercase(), count);
    let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&default, span));
    let Some((layer, out_planes)) = merge(b, call, name, span, start, d.planes.clone()) else {
        return Built::Unknown;
    };
    let outputs = layer.outputs.clone();
    Built::Layers(vec![layer], outputs, out_planes)
}

/// `Concat([layers...], [layers...], ...)` or `Sum([...], [...], ...)`: two or more branches over the same
/// input (an empty branch `[]` passes the input through, a skip connection). `Concat` joins vectors, or planes
/// of the same size along channels; `Sum` adds outputs of the same shape.
fn merge(
    builder: &mut Builder<'_>,
    call: &Call,
    name: Ident,
    span: Span,
    start: Dim,
    planes: Planes,
) -> Option<(Layer, Planes)> {
    let head = call.head.to_string();
    let sum = head == "Sum";
    no_options(call, builder.errors);
    if call.positional.len() < 2 {
        builder.errors.at(call.head, messages::merge_needs_branches(&head));
        return None;
    }
    let mut branches = Vec::new();
    let mut outs: Vec<(Dim, Planes)> = Vec::new();
    let mut ok = true;
    for e in &call.positional {
        let syn::Expr::Array(list) = ungroup(e) else {
            builder.errors.at(e, messages::branch_not_a_list(&head));
            ok = false;
            continue;
        };
        let entries: Vec<(Option<&Ident>, &Expr, Span)> = list.elems.iter().map(|e| (None, e, e.span())).collect();
        let (layers, out, out_planes) = builder.sequence(&entries, Some(start.clone()), planes.clone());
        match out {
            Some(out) => {
                branches.push(layers);
                outs.push((out, out_planes));
            }
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    let shape = |d: &Dim, p: &Planes| match p {
        Planes::Flat => d.display(),
        p => p.describe(),
    };
    let (first, first_planes) = &outs[0];
    let sizes: Vec<Sz> = outs.iter().map(|(d, _)| Sz::from_dim(d)).collect();
    // What must agree between branches: every size for a sum; for a concatenation the plane's length (and
    // height), the channels being what is joined.
    let agreeing = |p: &Planes, d: &Dim| -> Option<Vec<Sz>> {
        match (p, sum) {
            (Planes::Flat, true) => Some(vec![Sz::from_dim(d)]),
            (Planes::Flat, false) => Some(vec![]),
            (Planes::Spatial { c, h, w, .. }, true) => Some(vec![c.clone(), h.clone(), w.clone()]),
            (Planes::Spatial { h, w, .. }, false) => Some(vec![h.clone(), w.clone()]),
            (Planes::Seq { .. }, _) => None,
        }
    };
    for (j, (d, p)) in outs.iter().enumerate().skip(1) {
        let same_kind = match (first_planes, p) {
            (Planes::Flat, Planes::Flat) => true,
            (Planes::Spatial { two_d: a, .. }, Planes::Spatial { two_d: b, .. }) => a == b,
            _ => false,
        };
        let msg = messages::branches_differ(&name.to_string(), &shape(first, first_planes), j + 1, &shape(d, p), sum);
        let (Some(a), Some(b), true) = (agreeing(first_planes, first), agreeing(p, d), same_kind) else {
            builder.errors.at(call.head, msg);
            return None;
        };
        if a.iter().all(|s| s.lit().is_some()) && b.iter().all(|s| s.lit().is_some()) {
            if a != b {
                builder.errors.at(call.head, msg);
                return None;
            }
        } else {
            let (x, y) = (a.iter().map(Sz::tokens), b.iter().map(Sz::tokens));
            builder.checks.push(ConstCheck {
                values: Vec::new(),
                condition: quote!(true #(&& #x == #y)*),
                message: msg,
                span: call.head.span(),
            });
        }
    }
    let (outputs, out_planes) = if sum {
        (first.clone(), first_planes.clone())
    } else {
        let label = name.to_string();
        let total = model::sum(&sizes, call.head, &label, messages::part::ITS_VALUES, builder.errors)?;
        // Planes of one size (checked above) joined along their channels.
        // Within the total: the planes have one size.
        let channels = outs
            .iter()
            .filter_map(|(_, p)| match p {
                Planes::Spatial { c, .. } => Some(c.clone()),
                _ => None,
            })
            .reduce(|a, b| a.add_within(&b));
        let out_planes = match (first_planes, channels) {
            (Planes::Spatial { h, w, two_d, .. }, Some(c)) => {
                Planes::Spatial { c, h: h.clone(), w: w.clone(), two_d: *two_d }
            }
            _ => Planes::Flat,
        };
        (total.to_dim(), out_planes)
    };
    let layer = Layer {
        name,
        span,
        kind: Box::new(Merge { branches, sum, sizes }),
        inputs: start,
        outputs,
        init: InitKind::Zeros,
        geometry: None,
        step: None,
        shape: String::new(),
    };
    Some((layer, out_planes))
}

impl LayerKind for Merge {
    fn describe_short(&self, l: &Layer) -> String {
        format!(
            "{} {}({})",
            l.name,
            if self.sum { "Sum" } else { "Concat" },
            self.branches
                .iter()
                .map(|b| format!("[{}]", b.iter().map(|l| l.kind.describe_short(l)).collect::<Vec<_>>().join(" -> ")))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    fn describe(&self, l: &Layer) -> String {
        format!("`{}`: {} of {} branches", l.name, if self.sum { "sum" } else { "concatenation" }, self.branches.len())
    }

    fn sublayers(&self) -> Vec<&Layer> {
        self.branches.iter().flatten().collect()
    }
}
