//! `Dropout(P)`: zeroes each value with probability `P` in training (and scales the others by `1 / (1 - P)`).

use super::{Kind, LayerKind};
use crate::codegen::{Contract, Streaming};
use crate::errors::Errors;
use crate::int8::Int8;
use crate::messages::{self, part};
use crate::model::{Builder, Built, ConstCheck, Decl, Layer, NameUse, no_options, number, tokens};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use syn::Expr;
use syn::spanned::Spanned;

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["Dropout"], build };

/// A dropout layer.
pub struct Dropout {
    /// The drop probability, as an expression of the scalar type.
    p: TokenStream,
}

/// `Dropout(P)`: keeps the shape.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span) = (d.name, d.call, d.span);
    let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("dropout{}", d.before.len()), span));
    b.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: false, span });
    no_options(call, b.errors);
    let p = match call.positional.as_slice() {
        [p] => dropout_probability(p, &name, b.errors, &mut b.checks),
        [] => {
            b.errors.at(call.head, messages::DROPOUT_NEEDS_PROBABILITY);
            None
        }
        [_, extra, ..] => {
            b.errors.at(extra, messages::DROPOUT_TOO_MANY_ARGUMENTS);
            None
        }
    };
    let (Some(p), Some(dim)) = (p, d.current.cloned()) else { return Built::Skipped };
    Built::Layers(vec![Layer::same_shape(name, span, Dropout { p }, dim.clone())], dim, d.planes.clone())
}

/// A drop probability: a literal in `[0, 1)`, or a `const` checked by a `const` assertion.
fn dropout_probability(
    e: &Expr,
    name: &Ident,
    errors: &mut Errors,
    checks: &mut Vec<ConstCheck>,
) -> Option<TokenStream> {
    let p = number(e, errors, &part::drop_probability_of(&name.to_string()))?;
    match p.to_string().parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Some(p),
        Ok(v) => {
            errors.at(e, messages::drop_probability_out_of_range(&name.to_string(), v));
            None
        }
        Err(_) => {
            checks.push(ConstCheck {
                values: Vec::new(),
                condition: quote!(#p >= 0.0 && #p < 1.0),
                message: messages::const_drop_probability_out_of_range(&name.to_string(), &tokens(e)),
                span: e.span(),
            });
            Some(p)
        }
    }
}

impl LayerKind for Dropout {
    fn int8(&self, _: &Layer) -> Result<Int8, String> {
        Ok(Int8::Identity)
    }

    fn describe_short(&self, _: &Layer) -> String {
        format!("Dropout({})", self.p)
    }

    fn contract(&self, l: &Layer, t: &TokenStream) -> Contract {
        let p = &self.p;
        Contract::constant(
            l,
            quote!(::nn_core::__private::Dropout<#t>),
            quote!(::nn_core::__private::Dropout::<#t>(#p)),
        )
    }

    fn keeps(&self) -> bool {
        true
    }

    fn streaming(&self, _: &Layer) -> Streaming {
        Streaming::Stateless
    }

    fn relu_like(&self) -> Option<bool> {
        None
    }
}
