//! The expansion on hostile input: declarations mutated at random (sizes near `usize::MAX`, tokens deleted,
//! repeated, swapped and replaced, blocks nested thousands deep) must each expand to code or to compile errors,
//! never panic or exhaust the stack. Seeded, so a failure repeats; the failing declaration is printed.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Declarations covering every layer kind, option and input shape.
const SEEDS: &[&str] = &[
    "pub struct Net<f32> { input: 4, hidden: Dense(8, init = he_normal), Relu, Dense(8, 3, bias = false), Softmax }",
    "struct Net<f64> { input: 8, BatchNorm, Dropout(0.5), Dense(4), LeakyRelu(0.1), Elu(1.0), Maxout(2), Sigmoid }",
    "struct Net { input: [1, 28, 28], Conv2d(4, 5), Relu, MaxPool2d(2), Conv2d(8, kernel = (3, 3), stride = 2, \
     padding = 1, dilation = 1, groups = 4), AvgPool2d(2, stride = 1), Flatten, Dense(10) }",
    "struct Net { input: [3, 16], Conv1d(6, 3, padding = 1, groups = 3), Tanh, MaxPool1d(2), AvgPool1d(2), \
     GlobalAvgPool1d, Dense(2) }",
    "struct Net { input: [2, 8, 8], ConvTranspose2d(2, kernel = 3, stride = 2, output_padding = 1), Swish, \
     GlobalAvgPool2d, Dense(1) }",
    "struct Net { input: [2, 8], ConvTranspose1d(4, 3, stride = 2, padding = 1), Gelu, Flatten, Reshape([2, 2, 8]), \
     Flatten, Dense(3) }",
    "struct Net { input: Seq(20, 2), lstm: Lstm(16, layers = 2, forget_bias = 1.0), Dense(3, per_step = true), \
     Softmax }",
    "struct Net<f64> { input: Seq(10, 3), Gru(3, 8, output = last), Dense(2), HardSigmoid }",
    "struct Net { input: Seq(5, 4), Rnn(6, activation = Relu), Dropout(0.1), Rnn(2, output = last), Softplus }",
    "struct Net { input: 16, Residual(Dense(16), Relu, Dense(16)), Residual(Dense(8), project = Dense(8)), \
     HardTanh }",
    "struct Net { input: 8, Concat([Dense(4), Relu], [], [Dense(2)]), Sum([Dense(3)], [Dense(3), Tanh]), Identity }",
    "struct Net { input: [4, 8, 8], Residual(Conv2d(4, 3, padding = 1), BatchNorm, Relu), Concat([Conv2d(2, 1)], []), \
     Flatten, Dense(2) }",
    "#[weights = \"missing.safetensors\"] #[derive(Clone)] struct Net { input: 2, Dense(2), Step, Sign, \
     PiecewiseLinear }",
    "struct Net { input: HIDDEN, Dense(HIDDEN, { 2 * HIDDEN }), NoisyRelu, Dense(OUT), BatchNorm(OUT) }",
    "struct Net { input: [C, H, W], Conv2d(C, 3), Flatten, Dense(2) }",
    "struct Net { input: 784, encoder: Network(Encoder), Dense(10) }",
    "struct Net { input: [1, 4, 4611686018427387904], Flatten, Dense(2) }",
    "struct Net { input: Seq(4611686018427387904, 4), Dense(2) }",
    "struct Net { input: Seq(3, 4), Lstm(4611686018427387904) }",
    "struct Net { input: [1, 8, 8], Conv2d(2, kernel = 3, padding = 4611686018427387904), Flatten, Dense(1) }",
    "struct Net { input: [4, 8], Conv1d(2, kernel = 3, padding = 9223372036854775807), Flatten, Dense(1) }",
    "struct Net { input: [1, 8, 8], ConvTranspose2d(2, kernel = 3, stride = 4611686018427387904), Flatten, \
     Dense(1) }",
    "struct Net { input: [] }",
];

/// Sizes a hostile user tries: the edges of every integer type, and what is not a size at all.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "255",
    "65536",
    "4294967296",
    "4611686018427387904",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551614",
    "340282366920938463463374607431768211455",
    "1e308",
    "1.5",
    "-1",
    "0x10",
    "1_000",
    "2usize",
    "3u8",
    "\"4\"",
    "'a'",
    "true",
];

/// Names and punctuation a mutation inserts.
const WORDS: &[&str] = &[
    "input",
    "Seq",
    "Dense",
    "Conv2d",
    "Conv1d",
    "ConvTranspose2d",
    "ConvTranspose1d",
    "MaxPool2d",
    "AvgPool1d",
    "GlobalAvgPool2d",
    "Flatten",
    "Reshape",
    "Residual",
    "Concat",
    "Sum",
    "Network",
    "Lstm",
    "Gru",
    "Rnn",
    "BatchNorm",
    "Dropout",
    "Maxout",
    "Relu",
    "Softmax",
    "LeakyRelu",
    "kernel",
    "stride",
    "padding",
    "dilation",
    "groups",
    "output_padding",
    "bias",
    "init",
    "project",
    "output",
    "last",
    "layers",
    "per_step",
    "activation",
    "forget_bias",
    "input",
    "weights",
    "f32",
    "f64",
    "u8",
    ",",
    ":",
    "=",
    "::",
    "-",
    "+",
    "*",
    "#",
    "!",
    ";",
    "struct",
    "pub",
    "self",
    "Self",
    "_",
    "[]",
    "()",
    "{}",
];

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// The tokens of `ts` as text, delimiters as tokens of their own, so a mutation can move them.
fn flatten(ts: TokenStream, out: &mut Vec<String>) {
    for t in ts {
        match t {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                out.push(open.to_string());
                flatten(g.stream(), out);
                out.push(close.to_string());
            }
            other => out.push(other.to_string()),
        }
    }
}

/// One to three random edits of `tokens`, half of them to numbers.
fn mutate(rng: &mut Rng, tokens: &mut Vec<String>) {
    for _ in 0..1 + rng.below(3) {
        let n = tokens.len().max(1);
        let i = rng.below(n).min(tokens.len().saturating_sub(1));
        match rng.below(12) {
            // A number becomes another, often an extreme one.
            0..=5 => {
                let numbers: Vec<usize> =
                    (0..tokens.len()).filter(|&j| tokens[j].starts_with(|c: char| c.is_ascii_digit())).collect();
                if let Some(&j) = numbers.get(rng.below(numbers.len().max(1))) {
                    tokens[j] = rng.pick(NUMBERS).to_string();
                }
            }
            6 => {
                if !tokens.is_empty() {
                    tokens.remove(i);
                }
            }
            7 => {
                let t = tokens.get(i).cloned().unwrap_or_default();
                tokens.insert(i, t);
            }
            8 => {
                let j = rng.below(n).min(tokens.len().saturating_sub(1));
                if !tokens.is_empty() {
                    tokens.swap(i, j);
                }
            }
            9 => tokens.insert(i, rng.pick(WORDS).to_string()),
            10 => {
                if let Some(t) = tokens.get_mut(i) {
                    *t = rng.pick(WORDS).to_string();
                }
            }
            // A copy of a stretch of the declaration somewhere else: layers repeated, blocks inside blocks.
            _ => {
                let (a, b) = (rng.below(n), rng.below(n));
                let (a, b) = (a.min(b).min(tokens.len()), a.max(b).min(tokens.len()));
                let stretch: Vec<String> = tokens[a..b].to_vec();
                let at = rng.below(tokens.len() + 1);
                tokens.splice(at..at, stretch);
            }
        }
    }
}

/// Expands `text` and fails with the declaration when the expansion panics or writes something that is not a
/// Rust file; `Ok(true)` when it is code, `Ok(false)` when it is compile errors.
fn expands_cleanly(text: &str) -> Result<bool, String> {
    let input: TokenStream = text.parse().map_err(|e| format!("`{text}` does not lex: {e}"))?;
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    match catch_unwind(AssertUnwindSafe(|| crate::expand(input, base))) {
        Ok(out) => match syn::parse2::<syn::File>(out) {
            Ok(file) => Ok(!file.items.iter().any(|i| matches!(i, syn::Item::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "compile_error")))),
            Err(e) => Err(format!("the expansion of `{text}` is not Rust: {e}")),
        },
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let at = PANICKED_AT.with(|p| p.borrow().clone());
            Err(format!("`{text}` panics at {at}: {message}"))
        }
    }
}

thread_local! {
    /// Where the last panic of this thread happened.
    static PANICKED_AT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Runs `check` with the panic message printer replaced by a note of where it panicked (added to the failure), so
/// thousands of caught panics do not flood the output.
fn quietly<T>(check: impl FnOnce() -> T) -> T {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(ToString::to_string).unwrap_or_default();
        PANICKED_AT.with(|p| *p.borrow_mut() = at);
    }));
    let out = check();
    std::panic::set_hook(hook);
    out
}

#[test]
fn twenty_thousand_mutated_declarations_expand_without_panicking() {
    // `NN_HOSTILE_ROUNDS` and `NN_HOSTILE_SEED` run a longer or another search.
    let var = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let rounds = usize::try_from(var("NN_HOSTILE_ROUNDS", 20_000)).unwrap_or(usize::MAX);
    let mut rng = Rng(var("NN_HOSTILE_SEED", 0x9e37_79b9_7f4a_7c15) | 1);
    let seeds: Vec<Vec<String>> = SEEDS
        .iter()
        .map(|s| {
            let mut tokens = Vec::new();
            flatten(s.parse().expect("a seed lexes"), &mut tokens);
            tokens
        })
        .collect();
    let (mut expanded, mut code, mut failures) = (0, 0, Vec::new());
    let mut tally = |outcome: Result<bool, String>| match outcome {
        Ok(is_code) => code += usize::from(is_code),
        Err(e) => failures.push(e),
    };
    quietly(|| {
        // Every seed as written, then mutants.
        for s in SEEDS {
            expanded += 1;
            tally(expands_cleanly(s));
        }
        while expanded < rounds {
            let mut tokens = seeds[rng.below(seeds.len())].clone();
            mutate(&mut rng, &mut tokens);
            // Mutants whose delimiters no longer balance never reach a macro: the compiler's lexer rejects them.
            let text = tokens.join(" ");
            if text.parse::<TokenStream>().is_err() {
                continue;
            }
            expanded += 1;
            tally(expands_cleanly(&text));
        }
    });
    assert!(failures.is_empty(), "{} of {expanded} declarations fail:\n{}", failures.len(), failures.join("\n"));
    // The mutants reach both sides: code generation as well as the errors.
    eprintln!("{expanded} declarations: {code} expand to code, the others to compile errors");
    assert!(code > expanded / 10 && code < expanded * 9 / 10, "{code} of {expanded} expand to code");
}

#[test]
fn blocks_nested_thousands_deep_are_an_error_not_a_crash() {
    for depth in [1, 8, 30, 64, 65, 512, 1024, 4096] {
        let residual = format!("{}Dense(4){}", "Residual(".repeat(depth), ")".repeat(depth));
        let concat = format!("{}Dense(4){}", "Concat([".repeat(depth), "], [])".repeat(depth));
        for layer in [residual, concat] {
            let text = format!("struct Net {{ input: 4, {layer} }}");
            let out = quietly(|| expands_cleanly(&text));
            // Within the limit the network is generated; beyond it, one error.
            let deepest = text
                .chars()
                .scan(0i32, |depth, c| {
                    *depth += match c {
                        '(' | '[' | '{' => 1,
                        ')' | ']' | '}' => -1,
                        _ => 0,
                    };
                    Some(*depth)
                })
                .max();
            let within = deepest.unwrap_or(0) <= crate::limits::MAX_NESTING as i32;
            assert_eq!(out, Ok(within), "depth {depth}");
        }
    }
}
