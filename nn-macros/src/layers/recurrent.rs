//! `Rnn(HIDDEN)`, `Lstm(HIDDEN)` and `Gru(HIDDEN)` (or with the inputs per step first): recurrent layers over a
//! sequence, in PyTorch's layout; options `output`, `layers` (a stack) and, per cell, `activation` or
//! `forget_bias`.

use super::LayerKind;
use super::activation::{ActKind, activation_type};
use crate::codegen::{Field, Streaming};
use crate::embed::Expected;
use crate::model::{Layer, Sz};
use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};

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
    pub cell: CellKind,
    /// The steps of the sequence.
    pub steps: Sz,
    /// The features of one step in.
    pub input: Sz,
    /// The hidden units.
    pub hidden: Sz,
    /// Whether it returns only the last step's hidden state.
    pub last: bool,
    /// `forget_bias = B` of an LSTM: its forget gate's initial bias.
    pub forget_bias: Option<TokenStream>,
    /// The layer's index in a stack declared with `layers = N` (PyTorch's `num_layers`): its tensors are
    /// `weight_ih_l{index}`, ...
    pub index: usize,
    /// For layers after the first of such a stack: the name of the first, under which their tensors appear.
    pub module: Option<Ident>,
}

impl LayerKind for Recurrent {
    fn describe_short(&self, l: &Layer) -> String {
        format!(
            "{} {} {}{}",
            l.name,
            self.cell.name(),
            self.hidden.display(),
            if self.last { " (last step)" } else { " (every step)" }
        )
    }

    fn describe(&self, l: &Layer) -> String {
        let Recurrent { cell, steps, input, hidden, last, index, module, .. } = self;
        let g = Sz::Lit(cell.gates()).mul(hidden).display();
        let prefix = module.as_ref().map_or_else(|| l.name.to_string(), |m| format!("{m}"));
        format!(
            "Layer `{}`: {}, {} steps of {} inputs, {} hidden units, returns {} (`{prefix}.weight_ih_l{index}` \
             is {g} x {}, `weight_hh_l{index}` {g} x {}, biases `bias_ih_l{index}` and `bias_hh_l{index}`).",
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
        let Recurrent { cell, steps, input, hidden, index, .. } = self;
        let (i, h, g) = (input.tokens(), hidden.tokens(), Sz::Lit(cell.gates()).mul(hidden).tokens());
        let (s, k) = (steps.tokens(), steps.mul(&Sz::Lit(cell.keep())).mul(hidden).tokens());
        let l_index = lit(*index);
        let ty = match cell {
            CellKind::Rnn(a) => {
                let a = activation_type(t, *a);
                quote!(::nn_core::__private::Rnn<#t, #i, #h, #a, #l_index, #s, #k>)
            }
            CellKind::Lstm => quote!(::nn_core::__private::Lstm<#t, #i, #h, #g, #l_index, #s, #k>),
            CellKind::Gru => quote!(::nn_core::__private::Gru<#t, #i, #h, #g, #l_index, #s, #k>),
        };
        let f = &l.name;
        let init = match &self.forget_bias {
            Some(b) => quote_spanned!(l.span=> self.#f.init_remembering(#b, rng);),
            None => quote_spanned!(l.span=> self.#f.init(rng);),
        };
        // Layers after the first of a stack appear under the stack's name (`lstm.weight_ih_l1`).
        let scope = self.module.as_ref().unwrap_or(&l.name).to_string();
        Some(Field { init, scope, ..Field::new(l, ty) })
    }

    fn keeps(&self) -> bool {
        true
    }

    fn streaming(&self, l: &Layer) -> Streaming {
        let f = &l.name;
        Streaming::State(format!(
            "The state of `{f}` (its hidden vector{}).",
            if matches!(self.cell, CellKind::Lstm) { " and cell vector, as two columns" } else { "" }
        ))
    }

    fn tensors(&self, l: &Layer) -> Vec<Expected> {
        let Recurrent { cell, input, hidden, index, module, .. } = self;
        let (i, h) = (input.lit().unwrap_or(0), hidden.lit().unwrap_or(0));
        let g = cell.gates() * h;
        let key = |t: &str| format!("{}.{t}_l{index}", module.as_ref().unwrap_or(&l.name));
        vec![
            Expected { name: key("weight_ih"), shape: vec![g, i], matrix: true },
            Expected { name: key("weight_hh"), shape: vec![g, h], matrix: true },
            Expected { name: key("bias_ih"), shape: vec![g], matrix: false },
            Expected { name: key("bias_hh"), shape: vec![g], matrix: false },
        ]
    }
}
