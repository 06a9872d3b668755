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
    /// The entries between the braces.
    pub entries: Punctuated<Entry, Token![,]>,
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
        let entries = content.parse_terminated(Entry::parse, Token![,])?;
        Ok(Self { attrs, vis, name, scalar, entries })
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
