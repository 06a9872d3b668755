//! `Embedding(VOCAB, DIM)`: a table of learned token vectors (PyTorch's `nn.Embedding`), the first layer of a
//! text model. Its input is one token id per step (the network's `input: S`), its output the `S` vectors as a
//! sequence (`output = sequence`, the default: what recurrent layers read) or as `DIM` planes of `S` values
//! (`output = channels`: what `Conv1d` reads). The generated network checks its inputs are ids
//! (`check_input`), and streams one id per step when the layers after it can.

use super::{Kind, LayerKind};
use crate::codegen::{Field, Streaming};
use crate::embed::Expected;
use crate::messages::{self, part};
use crate::model::{Builder, Built, Decl, Dim, InitKind, Layer, NameUse, Planes, StepIo, Sz, product, size, tokens};
use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};
use syn::Expr;

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["Embedding"], build };

/// An embedding table.
pub struct Embedding {
    /// The vocabulary size: ids run from 0 to `vocab - 1`.
    vocab: Sz,
    /// The values of one token's vector.
    dim: Sz,
    /// The steps: ids per input.
    steps: Sz,
    /// Channel-major output (`[DIM, S]`) rather than a sequence (`Seq(S, DIM)`).
    channels: bool,
}

/// `Embedding(vocab, dim)`, option `output = sequence | channels`; only straight after the input, which is a
/// number of ids (`input: 8`, or `input: Seq(8, 1)`).
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span) = (d.name, d.call, d.span);
    let n = b.number("embedding");
    let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("embedding{n}"), span));
    b.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: true, span });
    let label = name.to_string();
    let mut channels = false;
    let mut seen = false;
    for (opt, value) in &call.options {
        if *opt != "output" {
            b.errors.at(opt, messages::unknown_option("Embedding", &opt.to_string(), &part::did_you_mean("output")));
            continue;
        }
        if seen {
            b.errors.at(opt, messages::option_twice("output"));
            continue;
        }
        seen = true;
        let word = match value {
            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        match word.as_deref() {
            Some("sequence") => channels = false,
            Some("channels") => channels = true,
            _ => b.errors.at(value, messages::not_an_embedding_layout(&label, &tokens(value))),
        }
    }
    let [v, e] = call.positional.as_slice() else {
        b.errors.at(call.head, messages::embedding_needs_sizes(&label));
        return Built::Unknown;
    };
    let vocab = size(v, &part::vocabulary_of(&label), b.errors);
    let dim = size(e, &part::embedding_size_of(&label), b.errors);
    if let Some(last) = d.before.last() {
        b.errors.at(call.head, messages::embedding_not_first(&label, &part::layer(&last.name.to_string())));
        return Built::Unknown;
    }
    if b.depth > 1 {
        b.errors.at(call.head, messages::embedding_not_first(&label, "the start of a block"));
        return Built::Unknown;
    }
    let Some(inputs) = d.current.cloned() else { return Built::Unknown };
    let steps = match d.planes {
        Planes::Flat => Sz::from_dim(&inputs),
        Planes::Seq { t, f } if f.lit() == Some(1) => t.clone(),
        other => {
            b.errors.at(call.head, messages::embedding_needs_ids(&label, &other.describe()));
            return Built::Unknown;
        }
    };
    let (Some(vocab), Some(dim)) = (vocab, dim) else { return Built::Unknown };
    let dim = Sz::from_dim(&dim);
    let Some(outputs) = product(&[&steps, &dim], call.head, &label, part::ITS_VALUES, b.errors) else {
        return Built::Unknown;
    };
    let outputs = outputs.to_dim();
    let planes = if channels {
        Planes::Spatial { c: dim.clone(), h: Sz::Lit(1), w: steps.clone(), two_d: false }
    } else {
        Planes::Seq { t: steps.clone(), f: dim.clone() }
    };
    let step = (!channels).then(|| StepIo { steps: steps.clone(), inputs: Dim::Lit(1), outputs: dim.to_dim() });
    let layer = Layer {
        name,
        span,
        kind: Box::new(Embedding { vocab: Sz::from_dim(&vocab), dim, steps, channels }),
        inputs,
        outputs: outputs.clone(),
        init: InitKind::Zeros,
        geometry: None,
        step,
        shape: String::new(),
    };
    Built::Layers(vec![layer], outputs, planes)
}

impl LayerKind for Embedding {
    fn describe_short(&self, l: &Layer) -> String {
        format!("{} Embedding {} x {}", l.name, self.vocab.display(), self.dim.display())
    }

    fn describe(&self, l: &Layer) -> String {
        format!(
            "Layer `{}`: embedding of {} token ids from a vocabulary of {}, {} values each, {} (`weight` is {} x {}, \
             one row per token).",
            l.name,
            self.steps.display(),
            self.vocab.display(),
            self.dim.display(),
            if self.channels { "as channels" } else { "as a sequence" },
            self.vocab.display(),
            self.dim.display(),
        )
    }

    fn field(&self, l: &Layer, t: &TokenStream) -> Option<Field> {
        let (v, e, c) = (self.vocab.tokens(), self.dim.tokens(), self.channels);
        let f = &l.name;
        let init = quote_spanned!(l.span=> self.#f.init(rng););
        Some(Field { init, ..Field::new(l, quote!(::nn_core::__private::Embedding<#t, #v, #e, #c>)) })
    }

    fn streaming(&self, _: &Layer) -> Streaming {
        if self.channels { Streaming::No } else { Streaming::Stateless }
    }

    fn tensors(&self, l: &Layer) -> Vec<Expected> {
        vec![Expected::matrix(l, "weight", vec![self.vocab.lit().unwrap_or(0), self.dim.lit().unwrap_or(0)])]
    }

    fn input_check(&self, t: &TokenStream) -> Option<TokenStream> {
        let (s, v) = (self.steps.tokens(), self.vocab.tokens());
        Some(quote!(::nn_core::__private::Tokens::<#s, #v>::from_values::<#t>(x).map(|_| ())))
    }
}
