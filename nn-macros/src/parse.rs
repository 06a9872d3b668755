//! Syntax only: the declaration as written.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, Token, Type, Visibility, braced};

/// The whole declaration.
///
/// ```text
/// network! {
///     #[attributes and doc comments]
///     VIS struct NAME <SCALAR>? {
///         input: SIZE,
///         (NAME:)? LAYER,
///         ...
///     }
/// }
/// ```
/// `LAYER` is any Rust expression here (`Dense(64, bias = false)`, `Relu`); its meaning is decided by the model.
pub struct NetworkDef {
    /// The attributes and doc comments (and `#[weights]`).
    pub attrs: Vec<Attribute>,
    /// The struct's visibility.
    pub vis: Visibility,
    /// The struct's name.
    pub name: Ident,
    /// The scalar type, if given.
    pub scalar: Option<Type>,
    /// The entries between the braces that parse.
    pub entries: Punctuated<Entry, Token![,]>,
    /// The syntax errors of the entries that do not (each skipped to the next comma, so that the rest is still
    /// read and checked).
    pub syntax_errors: Option<syn::Error>,
}

/// One comma-separated entry: an optional `name:` and an expression.
pub struct Entry {
    /// The name before `:`, if any.
    pub name: Option<Ident>,
    /// The layer (or, for `input`, the shape).
    pub value: Expr,
}

impl Parse for NetworkDef {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        input.parse::<Token![struct]>()?;
        let name = input.parse()?;
        let scalar = if input.peek(Token![<]) {
            input.parse::<Token![<]>()?;
            let ty = input.parse()?;
            input.parse::<Token![>]>()?;
            Some(ty)
        } else {
            None
        };
        let content;
        braced!(content in input);
        let mut entries = Punctuated::new();
        let mut syntax_errors: Option<syn::Error> = None;
        while !content.is_empty() {
            match content.parse::<Entry>() {
                Ok(entry) if content.is_empty() || content.peek(Token![,]) => entries.push(entry),
                Ok(_) => record(&mut syntax_errors, content.error(crate::messages::EXPECTED_COMMA)),
                Err(e) => record(&mut syntax_errors, e),
            }
            // After an error, the rest of the entry is skipped: the next entry starts after a comma.
            while !content.is_empty() && !content.peek(Token![,]) {
                content.parse::<proc_macro2::TokenTree>()?;
            }
            if !content.is_empty() {
                content.parse::<Token![,]>()?;
            }
        }
        Ok(Self { attrs, vis, name, scalar, entries, syntax_errors })
    }
}

/// Adds `e` to the errors in `all`.
fn record(all: &mut Option<syn::Error>, e: syn::Error) {
    match all {
        Some(all) => all.combine(e),
        None => *all = Some(e),
    }
}

impl Parse for Entry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name = if input.peek(Ident) && input.peek2(Token![:]) && !input.peek2(Token![::]) {
            let name = input.parse()?;
            input.parse::<Token![:]>()?;
            Some(name)
        } else {
            None
        };
        Ok(Self { name, value: input.parse()? })
    }
}
