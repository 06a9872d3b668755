//! The `network!` macro. Use it through `nn_core::network!`.
use proc_macro::TokenStream;

/// Declares a network.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
