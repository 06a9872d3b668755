//! `Maxout(K)`: the largest of every `K` consecutive inputs, one output each.

use super::LayerKind;
use crate::codegen::Contract;
use crate::model::{Layer, Sz};
use proc_macro2::TokenStream;
use quote::quote;

/// A maxout layer.
pub struct Maxout {
    /// The inputs per output.
    pub pieces: Sz,
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
