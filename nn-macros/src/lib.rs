//! The `network!` procedural macro. Use it through `nn_core::network!`, which documents the grammar.
//!
//! Three phases with a wall between them: [`parse`] reads tokens into a syntax tree and nothing else;
//! [`model`] validates that tree into a model where every layer has resolved shapes and a span, collecting
//! every error of the declaration; [`codegen`] writes Rust from the model without looking at syn types again.

mod codegen;
mod errors;
mod model;
mod parse;

use proc_macro::TokenStream;

/// Declares a statically shaped network. See `nn_core::network!` for the grammar.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let def = syn::parse_macro_input!(input as parse::NetworkDef);
    model::Model::from_def(&def).map_or_else(|e| codegen::fallback(&def, e), |m| codegen::expand(&m)).into()
}
