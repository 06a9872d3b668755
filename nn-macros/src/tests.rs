//! Expansion tests without compiling: expand, reparse the output as a Rust file, and look at it.

use crate::{codegen, messages, model, parse};
use quote::{ToTokens, quote};

fn expand(input: proc_macro2::TokenStream) -> Result<syn::File, String> {
    let def: parse::NetworkDef = syn::parse2(input).map_err(|e| e.to_string())?;
    let model = model::Model::from_def(&def)
        .map_err(|r| r.errors.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))?;
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

#[test]
fn a_convolution_without_bias_is_typed_so_and_its_option_is_checked() {
    let file = expand(quote! {
        pub struct Net<f64> { input: [1, 6, 6], a: Conv2d(2, kernel = 3, bias = false), b: Conv2d(3, 2, bias = true) }
    })
    .unwrap();
    let types: Vec<String> =
        item_struct(&file, "Net").fields.iter().map(|f| f.ty.to_token_stream().to_string().replace(' ', "")).collect();
    assert_eq!(
        types,
        [
            "::nn_core::__private::Conv2d<f64,2,9,3,3,6,6,1,1,0,0,1,1,1,false>",
            "::nn_core::__private::Conv2d<f64,3,8,2,2,4,4,1,1,0,0,1,1,1,true>",
        ]
    );
    let errors = expand(quote! {
        struct Net { input: [1, 6, 6], Conv2d(2, kernel = 3, bias = maybe), ConvTranspose2d(1, kernel = 2, bias = false) }
    })
    .unwrap_err();
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(
        lines,
        [
            "option `bias` expects `true` or `false`, found `maybe`",
            "`ConvTranspose2d` has no option `bias`; its options are `kernel`, `stride`, `padding`, `output_padding`, \
             `dilation`",
        ]
    );
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

/// Generated code names what it uses by absolute paths (`::nn_core::__private::…`, `::core::…`), or by `__nn`,
/// which the anonymous constant holding the implementations binds to `::nn_core::__private` itself.
#[test]
fn generated_code_names_only_absolute_paths() {
    let file = expand(quote! { struct Net { input: 2, Dense(2), Sigmoid } }).unwrap();
    let mut t = Vec::new();
    flat(file.to_token_stream(), &mut t);
    let (mut paths, mut aliased) = (0, 0);
    for i in 1..t.len().saturating_sub(2) {
        // `X ::` where X is not itself preceded by `::` starts a path: it must be `Self`, a generic or the alias.
        let keyword =
            ["impl", "for", "as", "mut", "dyn", "return", "where", "let", "in", "use"].contains(&t[i].as_str());
        let ident = !keyword && t[i].chars().all(|c| c.is_alphanumeric() || c == '_');
        if ident && t[i + 1] == ":j" && t[i + 2] == ":" && !(i >= 2 && t[i - 2] == ":j" && t[i - 1] == ":") {
            assert!(t[i] == "Self" || t[i] == "__nn", "relative path starting at `{}`", t[i]);
            aliased += usize::from(t[i] == "__nn");
        }
        if t[i] == "nn_core" && t[i - 1] == ":" {
            paths += 1;
        }
    }
    assert!(paths > 5 && aliased > 10, "{paths} absolute paths, {aliased} through the alias");
    let text = file.to_token_stream().to_string();
    assert_eq!(text.matches("as __nn").count(), 1, "one binding of the alias");
    assert!(text.contains("const _ : () = { use :: nn_core :: __private :: { self as __nn ,"), "{text}");
}

#[test]
fn relu_layers_get_he_and_others_xavier() {
    let text =
        expand(quote! { struct Net { input: 2, a: Dense(2), Relu, b: Dense(2), Tanh, c: Dense(1, init = zeros) } })
            .unwrap()
            .to_token_stream()
            .to_string();
    assert!(text.contains("self . a . init (__nn :: Init :: HeNormal"), "{text}");
    assert!(text.contains("self . b . init (__nn :: Init :: XavierUniform"));
    assert!(text.contains("self . c . init (__nn :: Init :: Zeros"));
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
    // The message shows each size's value beside its name, computed with the assertion.
    let message = ". text (\"`fc1` expects M = \") . num ({ M }) . text (\" inputs, found N = \") . num ({ N }) . \
                   text (\" from `input`\")";
    assert!(text.contains(message), "{text}");
}

#[test]
fn malformed_syntax_is_a_syn_error() {
    assert!(expand(quote! { struct Net { input: 2, Dense(2) } trailing }).is_err());
    assert!(expand(quote! { enum Net { input: 2 } }).is_err());
}

/// The layer names the `# Grammar` block of `network!`'s documentation lists: the alternatives of its `LAYER`
/// production (after `:=` and every `|` outside backticks), each the first name of the alternative, after a
/// `LAYER_NAME:` prefix when there is one.
fn documented_layer_names(lib_rs: &str) -> std::collections::BTreeSet<String> {
    let grammar = lib_rs.split_once("/// # Grammar\n").expect("a `# Grammar` section").1;
    let block = grammar.split_once("/// ```text\n").expect("a ```text block after `# Grammar`").1;
    let block = block.split_once("/// ```\n").expect("the ```text block closed").0;
    let mut production = String::new();
    let mut in_layer = false;
    for line in block.lines() {
        let line = line.trim_start().strip_prefix("///").expect("a doc comment line");
        in_layer |= line.trim_start().starts_with("LAYER :=");
        if !in_layer {
            continue;
        }
        assert!(line.matches('`').count() % 2 == 0, "unbalanced backticks in the grammar: {line}");
        // Code in backticks (`bias = true|false`) is explanation, not alternatives.
        production.extend(line.split('`').step_by(2));
        production.push('\n');
    }
    let production = production.split_once(":=").expect("a `LAYER :=` production").1;
    let ident =
        |s: &str| -> String { s.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect() };
    production
        .split('|')
        .map(|alternative| {
            let first = ident(alternative);
            let rest = alternative.trim_start()[first.len()..].trim_start();
            let name = match rest.strip_prefix(':') {
                Some(after) if !after.starts_with(':') => ident(after),
                _ => first,
            };
            assert!(!name.is_empty(), "an alternative of `LAYER` that starts with no name: `{}`", alternative.trim());
            name
        })
        .collect()
}

#[test]
fn the_grammar_documents_exactly_the_accepted_layer_names() {
    let documented = documented_layer_names(include_str!("lib.rs"));
    let accepted: std::collections::BTreeSet<String> = model::LAYER_NAMES.iter().map(ToString::to_string).collect();
    assert_eq!(accepted.len(), model::LAYER_NAMES.len(), "a layer name is listed twice");
    let undocumented: Vec<&String> = accepted.difference(&documented).collect();
    let unknown: Vec<&String> = documented.difference(&accepted).collect();
    assert!(undocumented.is_empty(), "accepted but missing from the `# Grammar` of `network!`: {undocumented:?}");
    assert!(unknown.is_empty(), "in the `# Grammar` of `network!` but not accepted: {unknown:?}");
}

#[test]
fn the_grammar_reader_sees_every_alternative() {
    let doc = "/// # Grammar\n///\n/// ```text\n/// SIZE := a | b\n/// LAYER := Dense(OUT) | Relu  options `x = a|b`\n\
               ///        | NAME: Network(T) | Flatten   more text\n/// ```\n";
    let names: Vec<String> = documented_layer_names(doc).into_iter().collect();
    assert_eq!(names, ["Dense", "Flatten", "Network", "Relu"]);
}

#[test]
fn every_accepted_layer_name_is_known_to_the_model() {
    let unknown = |name: &str| {
        let layer = syn::Ident::new(name, proc_macro2::Span::call_site());
        let def: parse::NetworkDef = syn::parse2(quote! { struct Net { input: 4, #layer } }).unwrap();
        model::Model::from_def(&def).err().is_some_and(|r| {
            r.errors.into_iter().any(|e| e.to_string().starts_with(&messages::unknown_layer(name, "")))
        })
    };
    for name in model::LAYER_NAMES {
        assert!(!unknown(name), "`{name}` is in `LAYER_NAMES` but the model does not know it");
    }
    assert!(unknown("Conv3d"));
}

/// The generated code of a three-layer network (input, hidden and output layers, as the lectures count them),
/// formatted by `rustfmt`: what `cargo expand` shows a user.
fn formatted_three_layer_network() -> String {
    let file = expand(quote! {
        pub struct Xor<f32> { input: 2, hidden: Dense(4), Tanh, out: Dense(1), Sigmoid }
    })
    .unwrap();
    let mut child = std::process::Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into()))
        .args(["--edition", "2024", "--emit", "stdout", "--config", "max_width=120"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("rustfmt runs");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), file.to_token_stream().to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().expect("rustfmt finishes");
    assert!(out.status.success(), "rustfmt failed");
    String::from_utf8(out.stdout).unwrap()
}

/// A ratchet on the size of what the macro writes: 240 lines before the layer contract, 118 with it (inference
/// into a workspace included).
#[test]
fn a_three_layer_network_expands_to_under_120_formatted_lines() {
    let code = formatted_three_layer_network();
    let lines = code.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(lines < 120, "{lines} lines:\n{code}");
}

/// The gradients between layers of a small network are locals of the backward pass (registers, once inlined);
/// a larger network's live in the workspace, so that its backward pass stays off the stack.
#[test]
fn small_networks_keep_their_backward_gradients_in_locals() {
    let text = |net| expand(net).unwrap().to_token_stream().to_string();
    let small = text(quote! { struct Net { input: 2, Dense(4), Tanh, Dense(1), Sigmoid } });
    assert!(small.contains("Workspace { cache : c , .. } = cache ;"), "{small}");
    assert!(!small.contains("deltas : d"));
    let large = text(quote! { struct Net { input: 2, Dense(64), Tanh, Dense(1), Sigmoid } });
    assert!(large.contains("Workspace { cache : c , deltas : d } = cache ;"), "{large}");
    let symbolic = text(quote! { struct Net { input: 2, Dense(WIDTH), Tanh, Dense(1) } });
    assert!(symbolic.contains("deltas : d"), "sizes unknown to the macro use the workspace");
}

#[test]
fn the_documentation_of_network_shows_every_layer_kind_and_block_form() {
    let source = include_str!("lib.rs");
    let doc: String = source[..source.find("pub fn network").expect("the macro")]
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("///"))
        .collect::<Vec<_>>()
        .join("\n");
    // As a word: `Relu` inside `LeakyRelu` does not count.
    let word = |n: &str| {
        doc.match_indices(n).any(|(i, _)| {
            let before = doc[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
            let after = doc[i + n.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
            before && after
        })
    };
    let missing: Vec<&&str> = model::LAYER_NAMES.iter().filter(|n| !word(n)).collect();
    assert!(missing.is_empty(), "not in `network!`'s documentation: {missing:?}");
    // Every block form and input form with an example in a doctest.
    for example in ["Residual(", "Concat(", "Sum(", "Network(", "Reshape(", "Seq(", "#[weights", "#[int8]"] {
        assert!(doc.contains(example), "{example}");
    }
}
