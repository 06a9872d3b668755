//! `NAME: Network(TYPE)`: another network declared with `network!`, used as a layer on a vector; its parameters
//! are this field's, named under it (`encoder.fc1.weight`).

use super::{Kind, LayerKind};
use crate::codegen::{Contract, Field};
use crate::messages::{self, part};
use crate::model::{
    Builder, Built, ConstCheck, Decl, InitKind, Layer, NameUse, Planes, Sz, VALUE, no_options, tokens, with_value,
};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Expr;
use syn::spanned::Spanned;

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["Network"], build };

/// A nested network.
pub struct Nested {
    /// Its type.
    ty: syn::Path,
}

/// `NAME: Network(TYPE)`: the name is required; the compiler checks `TYPE::INPUTS`.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span, planes) = (d.name, d.call, d.span, d.planes);
    let Some(name) = entry_name.cloned() else {
        b.errors.at(call.head, messages::NESTED_NEEDS_NAME);
        return Built::Unknown;
    };
    b.uses.push(NameUse { name: name.clone(), named: true, is_param: true, span });
    no_options(call, b.errors);
    let ty = match call.positional.as_slice() {
        [Expr::Path(p)] if p.qself.is_none() => Some(p.path.clone()),
        [other] => {
            b.errors.at(other, messages::not_a_network_type(&tokens(other)));
            None
        }
        [] => {
            b.errors.at(call.head, messages::NETWORK_NEEDS_TYPE);
            None
        }
        [_, extra, ..] => {
            b.errors.at(extra, messages::NETWORK_TOO_MANY_ARGUMENTS);
            None
        }
    };
    let (Some(ty), Some(dim)) = (ty, d.current.cloned()) else { return Built::Unknown };
    if !matches!(planes, Planes::Flat) {
        b.errors.at(call.head, messages::nested_needs_vector(&name.to_string(), &planes.describe()));
        return Built::Unknown;
    }
    let shown = tokens(&ty);
    let n = Sz::from_dim(&dim);
    let inputs = n.operand();
    // The values the check shows: this network's `INPUTS`, then the size before it where that is no literal.
    let mut values = vec![quote!(<#ty>::INPUTS)];
    let from = match d.before.last() {
        Some(l) => match l.kind_as::<Nested>() {
            Some(Nested { ty: before }) => {
                values.push(quote!(<#before>::OUTPUTS));
                part::nested_outputs(&tokens(before), &format!("{VALUE}1{VALUE}"), &l.name.to_string())
            }
            None => part::layer_outputs(&with_value(&dim, &mut values), &producer(d.before)),
        },
        None => part::network_inputs(&with_value(&dim, &mut values)),
    };
    b.checks.push(ConstCheck {
        values,
        condition: quote!(<#ty>::INPUTS == #inputs),
        message: messages::nested_inputs_differ(&name.to_string(), &shown, &format!("{VALUE}0{VALUE}"), &from),
        span: ty.span(),
    });
    let outputs = Sz::Expr(quote!(<#ty>::OUTPUTS), format!("{shown}::OUTPUTS")).to_dim();
    let layer = Layer {
        name,
        span,
        kind: Box::new(Nested { ty }),
        inputs: dim,
        outputs: outputs.clone(),
        init: InitKind::Zeros,
        geometry: None,
        step: None,
        shape: String::new(),
    };
    Built::Layers(vec![layer], outputs, planes.clone())
}

/// The layer whose outputs reach the next one, as a message names it: the last layer of `before` when it has
/// parameters (its name is in the parameters' names), else that layer's kind after the last one that has
/// (`Relu` after `fc1`): an activation's generated name (`relu1`) is written nowhere the user sees.
fn producer(before: &[Layer]) -> String {
    let t = quote!(f32);
    let Some(last) = before.last() else { return String::new() };
    if last.kind.field(last, &t).is_some() {
        return last.name.to_string();
    }
    match before.iter().rev().find(|l| l.kind.field(l, &t).is_some()) {
        Some(p) => format!("{}` after `{}", last.kind.describe_short(last), p.name),
        None => last.kind.describe_short(last),
    }
}

impl Nested {
    /// The type the field holds in a network computing in `t`: the nested network when it computes in `t` too,
    /// else `nn_core::__private::Mismatched`, a stand-in of its sizes, so that the one error of the scalar check
    /// (`codegen`) is all the compiler reports.
    fn field_type(&self, t: &TokenStream) -> TokenStream {
        let ty = &self.ty;
        quote! {
            <<#ty as ::nn_core::__private::Network>::Scalar as ::nn_core::__private::ScalarMatch<#t>>::Pick<
                #ty,
                ::nn_core::__private::Mismatched<#t, { <#ty>::INPUTS }, { <#ty>::OUTPUTS }>,
            >
        }
    }
}

impl LayerKind for Nested {
    fn describe_short(&self, l: &Layer) -> String {
        format!("{} {}", l.name, quote::ToTokens::to_token_stream(&self.ty).to_string().replace(' ', ""))
    }

    fn describe(&self, l: &Layer) -> String {
        let ty = quote::ToTokens::to_token_stream(&self.ty).to_string().replace(' ', "");
        format!(
            "Network `{}`: a [`{ty}`] used as a layer ({} inputs to {} outputs); its parameters are named \
             `{}.<layer>.<tensor>`.",
            l.name,
            l.inputs.display(),
            l.outputs.display(),
            l.name
        )
    }

    fn field(&self, l: &Layer, t: &TokenStream) -> Option<Field> {
        let (ty, f) = (self.field_type(t), &l.name);
        let init = quote_spanned!(l.span=> ::nn_core::__private::Initialize::init(&mut self.#f, rng););
        Some(Field { init, ..Field::new(l, quote!(#ty)) })
    }

    /// Called through `nn_core::layer::Nested`, a transparent wrapper of its field.
    fn contract(&self, l: &Layer, t: &TokenStream) -> Contract {
        let (ty, f) = (self.field_type(t), &l.name);
        let wrap =
            quote!(<::nn_core::__private::Nested<#ty> as ::nn_core::__private::bytemuck::TransparentWrapper<#ty>>);
        Contract {
            ty: quote!(::nn_core::__private::Nested<#ty>),
            value: quote_spanned!(l.span=> #wrap::wrap_ref(&self.#f)),
            value_mut: Some(
                quote_spanned!(l.span=> <::nn_core::__private::Nested<#ty> as ::nn_core::__private::bytemuck::TransparentWrapper<#ty>>::wrap_mut(&mut self.#f)),
            ),
            sink: Some(quote_spanned!(l.span=> sink.part(|n| #wrap::wrap_ref(&n.#f), |n| #wrap::wrap_mut(&mut n.#f)))),
            fuses: false,
        }
    }

    fn keeps(&self) -> bool {
        true
    }

    fn network(&self) -> Option<&syn::Path> {
        Some(&self.ty)
    }
}
