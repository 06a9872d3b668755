//! Every kind of layer the macro knows, one file each: the names it answers to, its options and shape rule
//! (how an entry naming it becomes layers), and what code generation needs to know of it. A new kind is a new
//! file here and one line in [`KINDS`].

mod activation;
mod batch_norm;
mod conv;
mod dense;
mod dropout;
mod embedding;
mod global_pool;
mod lrn;
mod maxout;
pub mod merge;
mod nested;
mod noisy_relu;
mod pool;
mod recurrent;
mod reshape;
pub mod residual;

use crate::codegen::{Contract, Field, Streaming};
use crate::embed::Expected;
use crate::int8::Int8;
use crate::model::{Builder, Built, Decl, InitKind, Layer};
use proc_macro2::{Ident, TokenStream};
use std::any::Any;

/// What a validated layer of one kind tells the rest of the macro: how generated code holds, calls,
/// initialises and describes it. The layer's name, span, sizes, geometry and per-step sizes are in its
/// [`Layer`], which every method is given; the kind holds what only it has (a dense layer's bias, a
/// convolution's channels).
pub trait LayerKind: Any {
    /// The layer in a few words, for `SUMMARY` (`fc1 Dense 8`, `Relu`, `MaxPool (32)`).
    fn describe_short(&self, l: &Layer) -> String;

    /// The layer in a sentence, for the documentation of its field (layers with parameters); by default the
    /// short description in backticks.
    fn describe(&self, l: &Layer) -> String {
        format!("`{}`", self.describe_short(l))
    }

    /// Its field in the network struct (type, initialisation, the scope of its tensors), for layers with
    /// parameters; `None` for the others.
    fn field(&self, l: &Layer, t: &TokenStream) -> Option<Field> {
        let _ = (l, t);
        None
    }

    /// How generated code calls it through `nn_core::layer::Layer`; by default through its field.
    fn contract(&self, l: &Layer, t: &TokenStream) -> Contract {
        let field = self.field(l, t).expect("a layer without parameters says how it is called");
        Contract::field(l, field.ty)
    }

    /// Whether its contract's `Cache` is not `()`: it keeps something for backward beyond its input and output.
    fn keeps(&self) -> bool {
        false
    }

    /// Whether it can run one step of a sequence at a time (the generated `step`), and with what state.
    fn streaming(&self, l: &Layer) -> Streaming {
        let _ = l;
        Streaming::No
    }

    /// The tensors a `#[weights]` file holds for it, in the order of its constructor's arguments.
    fn tensors(&self, l: &Layer) -> Vec<Expected> {
        let _ = l;
        Vec::new()
    }

    /// For an activation: its value, which a dense layer right before it can apply in place.
    fn activation(&self, l: &Layer, t: &TokenStream) -> Option<TokenStream> {
        let _ = (l, t);
        None
    }

    /// What it says about the initialisation of a dense layer before it: `None` when the choice looks through
    /// it (batch norm, dropout, pooling, reshaping), else whether it is ReLU-like (He initialisation suits
    /// better than Xavier).
    fn relu_like(&self) -> Option<bool> {
        Some(false)
    }

    /// Its initialisation once the layers `after` it are known, for a layer that chooses by them.
    fn initialisation(&self, after: &[Layer]) -> Option<InitKind> {
        let _ = after;
        None
    }

    /// For a network declared elsewhere used as a layer: its type.
    fn network(&self) -> Option<&syn::Path> {
        None
    }

    /// For a first layer that takes only some inputs (an embedding's token ids): the expression, over the
    /// network's input `x`, that is `Ok(())` for an input it takes and else the `TokenError` saying why.
    fn input_check(&self, t: &TokenStream) -> Option<TokenStream> {
        let _ = t;
        None
    }

    /// The layers inside it (a block's branches), in order.
    fn sublayers(&self) -> Vec<&Layer> {
        Vec::new()
    }

    /// What it is in an int8 network (`#[int8]`), or why it has none (a clause such as `" (no int8 kernel for
    /// recurrent layers)"`, or empty).
    fn int8(&self, l: &Layer) -> Result<Int8, String> {
        let _ = l;
        Err(String::new())
    }
}

/// A kind of layer as declarations name it: the names it answers to and how an entry naming one of them
/// becomes layers (its options and shape rule, every error reported through the [`Builder`]).
pub struct Kind {
    /// The layer names, in the order suggestions prefer.
    pub names: &'static [&'static str],
    /// Builds the layers of an entry.
    pub build: fn(&mut Builder<'_>, &Decl<'_>) -> Built,
}

/// The registry: every kind of layer, in the order suggestions prefer (the activations last).
pub const KINDS: &[Kind] = &[
    dense::KIND,
    batch_norm::KIND,
    dropout::KIND,
    conv::KIND,
    pool::KIND,
    global_pool::KIND,
    lrn::KIND,
    reshape::KIND,
    residual::KIND,
    merge::KIND,
    maxout::KIND,
    noisy_relu::KIND,
    nested::KIND,
    recurrent::KIND,
    embedding::KIND,
    activation::KIND,
];

/// Every layer name of the registry, in its order.
pub const NAMES: &[&str] = &{
    let mut names = [""; {
        let (mut n, mut k) = (0, 0);
        while k < KINDS.len() {
            n += KINDS[k].names.len();
            k += 1;
        }
        n
    }];
    let (mut i, mut k) = (0, 0);
    while k < KINDS.len() {
        let mut j = 0;
        while j < KINDS[k].names.len() {
            names[i] = KINDS[k].names[j];
            (i, j) = (i + 1, j + 1);
        }
        k += 1;
    }
    names
};

/// The activations' names (a part of [`NAMES`]), which messages list apart.
pub const ACTIVATION_NAMES: &[&str] = activation::KIND.names;

/// The kind a layer name belongs to.
pub fn find(name: &Ident) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.names.iter().any(|n| name == n))
}
