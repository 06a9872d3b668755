//! `Maxout(K)`: the largest of every `K` consecutive inputs, one output each.

use super::{Kind, LayerKind};
use crate::codegen::Contract;
use crate::messages::{self, part};
use crate::model::{Builder, Built, ConstCheck, Decl, InitKind, Layer, NameUse, Planes, Sz, no_options, size};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use syn::spanned::Spanned;

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["Maxout"], build };

/// A maxout layer.
pub struct Maxout {
    /// The inputs per output.
    pieces: Sz,
}

/// `Maxout(K)` on a vector whose size is a multiple of `K`.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span, planes) = (d.name, d.call, d.span, d.planes);
    let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("maxout{}", d.before.len()), span));
    b.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: false, span });
    no_options(call, b.errors);
    let pieces = match call.positional.as_slice() {
        [k] => size(k, part::MAXOUT_PIECES, b.errors).map(|d| (Sz::from_dim(&d), *k)),
        [] => {
            b.errors.at(call.head, messages::MAXOUT_NEEDS_PIECES);
            None
        }
        [_, extra, ..] => {
            b.errors.at(extra, messages::MAXOUT_TOO_MANY_ARGUMENTS);
            None
        }
    };
    let (Some((k, k_tokens)), Some(dim)) = (pieces, d.current.cloned()) else { return Built::Unknown };
    if !matches!(planes, Planes::Flat) {
        b.errors.at(call.head, messages::maxout_over_planes(&planes.describe()));
        return Built::Unknown;
    }
    let n = Sz::from_dim(&dim);
    let from = d.before.last().map_or_else(|| part::THE_INPUT.to_string(), |l| part::layer(&l.name.to_string()));
    let msg = messages::maxout_not_a_multiple(&k.display(), &from, &n.display());
    let outputs = match (n.lit(), k.lit()) {
        (Some(x), Some(y)) if x % y != 0 => {
            b.errors.at(k_tokens, msg);
            return Built::Unknown;
        }
        (Some(x), Some(y)) => Sz::Lit(x / y),
        _ => {
            let (x, y) = (n.operand(), k.operand());
            b.checks.push(ConstCheck {
                values: Vec::new(),
                condition: quote!(#x % #y == 0),
                message: msg,
                span: k_tokens.span(),
            });
            Sz::Expr(quote!(#x / #y), format!("{} / {}", n.display(), k.display()))
        }
    };
    let outputs = outputs.to_dim();
    let layer = Layer {
        name,
        span,
        kind: Box::new(Maxout { pieces: k }),
        inputs: dim,
        outputs: outputs.clone(),
        init: InitKind::Zeros,
        geometry: None,
        step: None,
        shape: String::new(),
    };
    Built::Layers(vec![layer], outputs, planes.clone())
}

impl LayerKind for Maxout {
    fn describe_short(&self, l: &Layer) -> String {
        format!("Maxout({}) ({})", self.pieces.display(), l.outputs.display())
    }

    fn describe(&self, _: &Layer) -> String {
        format!("`Maxout({})`", self.pieces.display())
    }

    fn contract(&self, l: &Layer, _: &TokenStream) -> Contract {
        let k = self.pieces.tokens();
        Contract::constant(l, quote!(::nn_core::__private::Maxout<#k>), quote!(::nn_core::__private::Maxout::<#k>))
    }
}
