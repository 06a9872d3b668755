//! Expansion tests without compiling: expand, reparse the output as a Rust file, and look at it.

use crate::{codegen, model, parse};
use quote::{ToTokens, quote};

fn expand(input: proc_macro2::TokenStream) -> Result<syn::File, String> {
    let def: parse::NetworkDef = syn::parse2(input).map_err(|e| e.to_string())?;
    let model = model::Model::from_def(&def)
        .map_err(|e| e.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))?;
    Ok(syn::parse2(codegen::expand(&model, None)).expect("generated code parses"))
}

fn item_struct<'a>(file: &'a syn::File, name: &str) -> &'a syn::ItemStruct {
    file.items
        .iter()
        .find_map(|i| match i {
            syn::Item::Struct(s) if s.ident == name => Some(s),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no struct {name}"))
}

#[test]
fn fields_follow_the_dense_layers_with_resolved_shapes() {
    let file = expand(quote! {
        pub struct Net<f64> { input: 3, hidden: Dense(5), Relu, Dense(2, bias = false) }
    })
    .unwrap();
    let s = item_struct(&file, "Net");
    let fields: Vec<(String, String)> = s
        .fields
        .iter()
        .map(|f| (f.ident.as_ref().unwrap().to_string(), f.ty.to_token_stream().to_string().replace(' ', "")))
        .collect();
    assert_eq!(
        fields,
        [
            ("hidden".to_string(), "::nn_core::__private::Dense<f64,3,5>".to_string()),
            ("fc2".to_string(), "::nn_core::__private::DenseNoBias<f64,5,2>".to_string()),
        ]
    );
    // The cache keeps the input and every layer's output.
    assert_eq!(item_struct(&file, "NetCache").fields.len(), 4);
}

/// Flattens a token stream into identifiers and punctuation (literals and delimiters dropped).
fn flat(ts: proc_macro2::TokenStream, out: &mut Vec<String>) {
    for tt in ts {
        match tt {
            proc_macro2::TokenTree::Group(g) => {
                out.push("(".into());
                flat(g.stream(), out);
                out.push(")".into());
            }
            proc_macro2::TokenTree::Ident(i) => out.push(i.to_string()),
            proc_macro2::TokenTree::Punct(p) => {
                let joint = p.spacing() == proc_macro2::Spacing::Joint;
                out.push(format!("{}{}", p.as_char(), if joint { "j" } else { "" }));
            }
            proc_macro2::TokenTree::Literal(_) => out.push("lit".into()),
        }
    }
}

#[test]
fn generated_code_names_only_absolute_paths() {
    let file = expand(quote! { struct Net { input: 2, Dense(2), Sigmoid } }).unwrap();
    let mut t = Vec::new();
    flat(file.to_token_stream(), &mut t);
    let mut paths = 0;
    for i in 1..t.len().saturating_sub(2) {
        // `X ::` where X is not itself preceded by `::` starts a path: it must be `Self` or a generic.
        let keyword = ["impl", "for", "as", "mut", "dyn", "return", "where", "let", "in"].contains(&t[i].as_str());
        let ident = !keyword && t[i].chars().all(|c| c.is_alphanumeric() || c == '_');
        if ident && t[i + 1] == ":j" && t[i + 2] == ":" && !(i >= 2 && t[i - 2] == ":j" && t[i - 1] == ":") {
            assert_eq!(t[i], "Self", "relative path starting at `{}`", t[i]);
        }
        if t[i] == "nn_core" && t[i - 1] == ":" {
            paths += 1;
        }
    }
    assert!(paths > 10);
}

#[test]
fn relu_layers_get_he_and_others_xavier() {
    let text =
        expand(quote! { struct Net { input: 2, a: Dense(2), Relu, b: Dense(2), Tanh, c: Dense(1, init = zeros) } })
            .unwrap()
            .to_token_stream()
            .to_string();
    assert!(text.contains("self . a . init (:: nn_core :: __private :: Init :: HeNormal"), "{text}");
    assert!(text.contains("self . b . init (:: nn_core :: __private :: Init :: XavierUniform"));
    assert!(text.contains("self . c . init (:: nn_core :: __private :: Init :: Zeros"));
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let errors = expand(quote! {
        struct Net { input: 2, Dense(0), Sigmod, Dense(3, bais = true), fc3: Dense(1), fc3: Dense(1) }
    })
    .unwrap_err();
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(
        lines,
        [
            "the size of `fc1` is zero: a size must be at least 1",
            "unknown layer `Sigmod`, did you mean `Sigmoid`?",
            "`Dense` has no option `bais`, did you mean `bias`?",
            "duplicate layer name `fc3`",
            "`fc3` first used here",
        ]
    );
}

#[test]
fn const_sizes_become_const_assertions() {
    let text = expand(quote! { struct Net { input: N, Dense(M, 4) } }).unwrap().to_token_stream().to_string();
    assert!(text.contains("assert ! ({ M } == { N }"), "{text}");
    assert!(text.contains("\"`fc1` expects M inputs, found N from `input`\""), "{text}");
}

#[test]
fn malformed_syntax_is_a_syn_error() {
    assert!(expand(quote! { struct Net { input: 2, Dense(2) } trailing }).is_err());
    assert!(expand(quote! { enum Net { input: 2 } }).is_err());
}
