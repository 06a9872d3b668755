//! `Rnn(HIDDEN)`, `Lstm(HIDDEN)` and `Gru(HIDDEN)` (or with the inputs per step first): recurrent layers over a
//! sequence, in PyTorch's layout; options `output`, `layers` (a stack), `bidirectional` and, per cell,
//! `activation` or `forget_bias`.

use super::activation::{ACTIVATIONS, ActKind, activation_type};
use super::{Kind, LayerKind};
use crate::codegen::{Field, Streaming};
use crate::embed::Expected;
use crate::errors::did_you_mean;
use crate::messages::{self, part};
use crate::model::{
    Builder, Built, Call, ConstCheck, Decl, Dim, InitKind, Layer, NameUse, Planes, StepIo, Sz, bool_option, number,
    product, size, tokens, ungroup,
};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit};

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["Rnn", "Lstm", "Gru"], build };

/// A recurrent cell.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// A vanilla RNN with its activation.
    Rnn(ActKind),
    /// A long short-term memory cell.
    Lstm,
    /// A gated recurrent unit.
    Gru,
}

impl CellKind {
    /// Gate blocks of `H` rows in the weights.
    pub fn gates(self) -> usize {
        match self {
            CellKind::Rnn(_) => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }

    /// Values the training forward keeps per step, in units of `H` (`Recurrent::KEEP` in `nn-core`, which
    /// checks the two agree at compile time).
    pub fn keep(self) -> usize {
        match self {
            CellKind::Rnn(_) => 2,
            CellKind::Lstm => 6,
            CellKind::Gru => 5,
        }
    }

    /// The name a declaration uses.
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Rnn(_) => "Rnn",
            CellKind::Lstm => "Lstm",
            CellKind::Gru => "Gru",
        }
    }
}
/// A recurrent layer over a sequence of `steps` steps of `input` features, with `hidden` units; returns every
/// step's hidden state, or the last one's when `last`.
pub struct Recurrent {
    /// Its cell.
    cell: CellKind,
    /// The steps of the sequence.
    steps: Sz,
    /// The features of one step in.
    input: Sz,
    /// The hidden units.
    hidden: Sz,
    /// The rows of its weights and biases: its cell's gates times the hidden units.
    gate_rows: Sz,
    /// The values the training forward keeps of the sequence: steps times the cell's `KEEP` times the hidden units.
    kept: Sz,
    /// Whether it returns only the last step's hidden state.
    last: bool,
    /// `forget_bias = B` of an LSTM: its forget gate's initial bias.
    forget_bias: Option<TokenStream>,
    /// The layer's index in a stack declared with `layers = N` (PyTorch's `num_layers`): its tensors are
    /// `weight_ih_l{index}`, ...
    index: usize,
    /// For layers after the first of such a stack: the name of the first, under which their tensors appear.
    module: Option<Ident>,
    /// Whether it reads the sequence in both directions (PyTorch's `bidirectional=True`): twice the hidden
    /// units out per step, the reverse direction's tensors named `..._reverse`.
    bidirectional: bool,
}

/// The latest recurrent layer, when it returns only its last step.
pub fn last_step_layer(layers: &[Layer]) -> Option<String> {
    let latest = layers.iter().rev().find_map(|l| l.kind_as::<Recurrent>().map(|r| (l, r)));
    match latest {
        Some((l, Recurrent { last: true, .. })) => Some(l.name.to_string()),
        _ => None,
    }
}

/// A recurrent layer, or a stack of them (`layers = N`): their default name (`lstm1`, ...), then the rule.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span) = (d.name, d.call, d.span);
    let h = KIND.names.iter().copied().find(|h| call.head == h).expect("the registry gives recurrent layers only");
    let n = b.number(h);
    let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("{}{n}", h.to_lowercase()), span));
    b.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: true, span });
    let inputs = d.current.cloned();
    let Some((stack, out_planes)) = recurrent(b, call, h, name, span, inputs, d.planes, d.before) else {
        return Built::Unknown;
    };
    for l in &stack[1..] {
        b.uses.push(NameUse { name: l.name.clone(), named: false, is_param: true, span });
    }
    let outputs = stack.last().expect("a stack has a layer").outputs.clone();
    Built::Layers(stack, outputs, out_planes)
}

/// `Rnn(hidden)`, `Lstm(hidden)`, `Gru(hidden)`, or with the input size per step first (`Lstm(8, 32)`);
/// options `output = sequence | last` and, for `Rnn`, `activation = Tanh | Relu | ...`.
#[allow(clippy::too_many_arguments)]
fn recurrent(
    builder: &mut Builder<'_>,
    call: &Call,
    head: &str,
    name: Ident,
    span: Span,
    inputs: Option<Dim>,
    planes: &Planes,
    layers: &[Layer],
) -> Option<(Vec<Layer>, Planes)> {
    let mut last = false;
    let mut activation = ActKind::Tanh;
    let mut forget_bias = None;
    let mut count = 1;
    let mut bidirectional = false;
    let allowed: &[&str] = match head {
        "Rnn" => &["output", "layers", "bidirectional", "activation"],
        "Lstm" => &["output", "layers", "bidirectional", "forget_bias"],
        _ => &["output", "layers", "bidirectional"],
    };
    let mut seen: Vec<String> = Vec::new();
    for (opt, value) in &call.options {
        let key = opt.to_string();
        if seen.contains(&key) {
            builder.errors.at(opt, messages::option_twice(&key));
            continue;
        }
        seen.push(key.clone());
        let word = match value {
            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        match key.as_str() {
            "output" => match word.as_deref() {
                Some("last") => last = true,
                Some("sequence") => last = false,
                _ => builder.errors.at(value, messages::not_an_output_mode(&name.to_string(), &tokens(value))),
            },
            "layers" => match ungroup(value) {
                Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) if matches!(i.base10_parse::<usize>(), Ok(1..=8)) => {
                    count = i.base10_parse::<usize>().unwrap_or(1);
                }
                other => builder.errors.at(other, messages::not_a_layer_count(&name.to_string(), &tokens(other))),
            },
            "bidirectional" => bidirectional = bool_option(opt, value, builder.errors).unwrap_or(false),
            "forget_bias" if head == "Lstm" => {
                forget_bias = number(value, builder.errors, &part::forget_bias_of(&name.to_string()));
            }
            "activation" if head == "Rnn" => match ACTIVATIONS.iter().find(|(n, _)| word.as_deref() == Some(*n)) {
                Some((_, ActKind::Softmax)) => {
                    builder.errors.at(value, messages::activation_not_elementwise(&name.to_string()))
                }
                Some((_, kind)) => activation = *kind,
                None => {
                    let found = tokens(value);
                    let names: Vec<&str> = ACTIVATIONS.iter().map(|(n, _)| *n).collect();
                    let msg = match value {
                        Expr::Call(c) => messages::activation_with_arguments(&name.to_string(), &tokens(&c.func)),
                        _ => messages::unknown_activation(&found, &name.to_string(), &did_you_mean(&found, &names)),
                    };
                    builder.errors.at(value, msg);
                }
            },
            _ => {
                let msg = match did_you_mean(&key, allowed) {
                    hint if !hint.is_empty() => messages::unknown_option(head, &key, &hint),
                    _ if head == "Rnn" || head == "Lstm" => messages::unknown_recurrent_option(head, &key),
                    _ if !did_you_mean(&key, &["activation"]).is_empty() => {
                        messages::gates_have_fixed_activations(head, &key)
                    }
                    _ => messages::unknown_recurrent_option(head, &key),
                };
                builder.errors.at(opt, msg);
            }
        }
    }
    let what = part::hidden_size_of(&name.to_string());
    let (explicit, hidden) = match call.positional.as_slice() {
        [] => {
            builder.errors.at(call.head, messages::recurrent_needs_hidden(head, &name.to_string()));
            return None;
        }
        [h] => (None, size(h, &what, builder.errors)?),
        [i, h] => {
            let i = size(i, &part::input_size_of(&name.to_string()), builder.errors).map(|d| (d, *i));
            let h = size(h, &what, builder.errors)?;
            (Some(i?), h)
        }
        [_, _, extra, ..] => {
            builder.errors.at(extra, messages::recurrent_too_many_sizes(head));
            return None;
        }
    };
    let inputs = inputs?;
    let (t, f) = match planes {
        Planes::Seq { t, f } => (t.clone(), f.clone()),
        other => {
            let found = match other {
                Planes::Flat => part::vector_of(&inputs.display()),
                p => p.describe(),
            };
            let last_step = last_step_layer(layers);
            builder.errors.at(call.head, messages::needs_sequence(&name.to_string(), &found, last_step.as_deref()));
            return None;
        }
    };
    let prev = layers.last().map_or_else(|| part::THE_INPUT.to_string(), |l| part::layer(&l.name.to_string()));
    if let Some((declared, tokens_in)) = explicit {
        let msg = messages::expects_inputs_per_step(&name.to_string(), &declared.display(), &f.display(), &prev);
        match (&declared, f.lit()) {
            (Dim::Lit(d), Some(have)) if *d != have => builder.errors.at(tokens_in, msg),
            (Dim::Lit(_), Some(_)) => {}
            _ => {
                let (a, b) = (declared.tokens(), f.tokens());
                builder.checks.push(ConstCheck {
                    values: Vec::new(),
                    condition: quote!(#a == #b),
                    message: msg,
                    span: tokens_in.span(),
                });
            }
        }
    }
    if let Dim::Const(_) = &hidden {
        let h = hidden.tokens();
        builder.checks.push(ConstCheck {
            values: Vec::new(),
            condition: quote!(#h > 0),
            message: messages::zero_const_size(&what, &hidden.display()),
            span: call.head.span(),
        });
    }
    let cell = match head {
        "Lstm" => CellKind::Lstm,
        "Gru" => CellKind::Gru,
        _ => CellKind::Rnn(activation),
    };
    let h = Sz::from_dim(&hidden);
    let label = name.to_string();
    let errors = &mut *builder.errors;
    // Per step out: the hidden units, or both directions' (forward first).
    let width = if bidirectional {
        product(&[&Sz::Lit(2), &h], call.head, &label, part::ITS_VALUES, errors)?
    } else {
        h.clone()
    };
    let every = product(&[&t, &width], call.head, &label, part::ITS_VALUES, errors)?.to_dim();
    let gate_rows = product(&[&Sz::Lit(cell.gates()), &h], call.head, &label, part::ITS_GATE_ROWS, errors)?;
    let kept = product(&[&t, &Sz::Lit(cell.keep()), &h], call.head, &label, part::WHAT_IT_KEEPS, errors)?;
    // A stack of `count` layers (PyTorch's `num_layers`): the first reads the sequence, the others the
    // hidden states of the one before; only the last may return just its last step.
    let mut stack = Vec::new();
    for index in 0..count {
        let top = index + 1 == count;
        let layer_name = if index == 0 { name.clone() } else { Ident::new(&format!("{name}_l{index}"), span) };
        let (input, layer_inputs) =
            if index == 0 { (f.clone(), inputs.clone()) } else { (width.clone(), every.clone()) };
        stack.push(Layer {
            name: layer_name,
            span,
            kind: Box::new(Recurrent {
                cell,
                steps: t.clone(),
                input: input.clone(),
                hidden: h.clone(),
                gate_rows: gate_rows.clone(),
                kept: kept.clone(),
                last: last && top,
                forget_bias: forget_bias.clone(),
                index,
                module: (index > 0).then(|| name.clone()),
                bidirectional,
            }),
            inputs: layer_inputs,
            outputs: if last && top { width.to_dim() } else { every.clone() },
            init: InitKind::Zeros,
            geometry: None,
            step: Some(StepIo { steps: t.clone(), inputs: input.to_dim(), outputs: width.to_dim() }),
            shape: String::new(),
        });
    }
    let out_planes = if last { Planes::Flat } else { Planes::Seq { t, f: width } };
    Some((stack, out_planes))
}

impl LayerKind for Recurrent {
    fn describe_short(&self, l: &Layer) -> String {
        format!(
            "{} {} {}{}{}",
            l.name,
            self.cell.name(),
            self.hidden.display(),
            if self.bidirectional { " bidirectional" } else { "" },
            if self.last { " (last step)" } else { " (every step)" }
        )
    }

    fn describe(&self, l: &Layer) -> String {
        let Recurrent { cell, steps, input, hidden, gate_rows, last, index, module, bidirectional, .. } = self;
        let g = gate_rows.display();
        let prefix = module.as_ref().map_or_else(|| l.name.to_string(), |m| format!("{m}"));
        let both = if *bidirectional {
            format!(
                "; bidirectional: each step's output is both directions' hidden vectors, forward first, and the \
                 reverse direction's tensors are `weight_ih_l{index}_reverse` and so on"
            )
        } else {
            String::new()
        };
        format!(
            "Layer `{}`: {}, {} steps of {} inputs, {} hidden units, returns {} (`{prefix}.weight_ih_l{index}` \
             is {g} x {}, `weight_hh_l{index}` {g} x {}, biases `bias_ih_l{index}` and `bias_hh_l{index}`{both}).",
            l.name,
            match cell {
                CellKind::Rnn(a) => format!("RNN ({})", a.name()),
                CellKind::Lstm => "LSTM".to_string(),
                CellKind::Gru => "GRU".to_string(),
            },
            steps.display(),
            input.display(),
            hidden.display(),
            if *last { "the last step" } else { "every step" },
            input.display(),
            hidden.display(),
        )
    }

    fn field(&self, l: &Layer, t: &TokenStream) -> Option<Field> {
        let lit = proc_macro2::Literal::usize_unsuffixed;
        let Recurrent { cell, steps, input, hidden, gate_rows, kept, index, bidirectional, .. } = self;
        let (i, h, g) = (input.tokens(), hidden.tokens(), gate_rows.tokens());
        let (s, k) = (steps.tokens(), kept.tokens());
        let l_index = lit(*index);
        let ty = match cell {
            CellKind::Rnn(a) => {
                let a = activation_type(t, *a);
                quote!(::nn_core::__private::Rnn<#t, #i, #h, #a, #l_index, #s, #k>)
            }
            CellKind::Lstm => quote!(::nn_core::__private::Lstm<#t, #i, #h, #g, #l_index, #s, #k>),
            CellKind::Gru => quote!(::nn_core::__private::Gru<#t, #i, #h, #g, #l_index, #s, #k>),
        };
        let ty = if *bidirectional { quote!(::nn_core::__private::Bidirectional<#ty>) } else { ty };
        let f = &l.name;
        let init = match &self.forget_bias {
            Some(b) => quote_spanned!(l.span=> self.#f.init_remembering(#b, rng);),
            None => quote_spanned!(l.span=> self.#f.init(rng);),
        };
        // Layers after the first of a stack appear under the stack's name (`lstm.weight_ih_l1`).
        let scope = self.module.as_ref().unwrap_or(&l.name).to_string();
        let constructor = if *bidirectional { "from_parts" } else { "new" };
        Some(Field { init, scope, constructor, ..Field::new(l, ty) })
    }

    fn keeps(&self) -> bool {
        true
    }

    fn streaming(&self, l: &Layer) -> Streaming {
        if self.bidirectional {
            return Streaming::Never;
        }
        let f = &l.name;
        Streaming::State(format!(
            "The state of `{f}` (its hidden vector{}).",
            if matches!(self.cell, CellKind::Lstm) { " and cell vector, as two columns" } else { "" }
        ))
    }

    fn tensors(&self, l: &Layer) -> Vec<Expected> {
        let Recurrent { input, hidden, gate_rows, index, module, bidirectional, .. } = self;
        let (i, h, g) = (input.lit().unwrap_or(0), hidden.lit().unwrap_or(0), gate_rows.lit().unwrap_or(0));
        let mut tables = vec![nn_shapes::RECURRENT_TENSORS.get(*index).copied().unwrap_or_default()];
        if *bidirectional {
            tables.push(nn_shapes::RECURRENT_REVERSE_TENSORS.get(*index).copied().unwrap_or_default());
        }
        let scope = module.as_ref().unwrap_or(&l.name);
        tables
            .into_iter()
            .flat_map(|names| {
                let key = move |k: usize| format!("{scope}.{}", names[k]);
                [
                    Expected { name: key(0), shape: vec![g, i], matrix: true },
                    Expected { name: key(1), shape: vec![g, h], matrix: true },
                    Expected { name: key(2), shape: vec![g], matrix: false },
                    Expected { name: key(3), shape: vec![g], matrix: false },
                ]
            })
            .collect()
    }
}
