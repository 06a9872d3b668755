//! `NAME: Network(TYPE)`: another network declared with `network!`, used as a layer on a vector; its parameters
//! are this field's, named under it (`encoder.fc1.weight`).

use super::LayerKind;
use crate::codegen::{Contract, Field};
use crate::model::Layer;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// A nested network.
pub struct Nested {
    /// Its type.
    pub ty: syn::Path,
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

    fn field(&self, l: &Layer, _: &TokenStream) -> Option<Field> {
        let (ty, f) = (&self.ty, &l.name);
        let init = quote_spanned!(l.span=> ::nn_core::__private::Initialize::init(&mut self.#f, rng););
        Some(Field { init, ..Field::new(l, quote!(#ty)) })
    }

    /// Called through `nn_core::layer::Nested`, a transparent wrapper of its field.
    fn contract(&self, l: &Layer, _: &TokenStream) -> Contract {
        let (ty, f) = (&self.ty, &l.name);
        let wrap =
            quote!(<::nn_core::__private::Nested<#ty> as ::nn_core::__private::bytemuck::TransparentWrapper<#ty>>);
        Contract {
            ty: quote!(::nn_core::__private::Nested<#ty>),
            value: quote_spanned!(l.span=> #wrap::wrap_ref(&self.#f)),
            value_mut: Some(
                quote_spanned!(l.span=> <::nn_core::__private::Nested<#ty> as ::nn_core::__private::bytemuck::TransparentWrapper<#ty>>::wrap_mut(&mut self.#f)),
            ),
            sink: quote_spanned!(l.span=> ::nn_core::__private::Sink::part(&mut sink, |n| #wrap::wrap_ref(&n.#f), |n| #wrap::wrap_mut(&mut n.#f))),
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
