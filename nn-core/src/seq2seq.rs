//! Encoder-decoder (sequence to sequence) models with attention: an encoder reads the input sequence into one
//! state per step, and a [`Decoder`] writes the output sequence one token at a time, attending to every encoder
//! state at each step (Bahdanau, Cho and Bengio 2015).
//!
//! At output step `t` the decoder, a recurrent cell `C` whose state starts from the encoder's last state, does:
//!
//! ```text
//! (c_t, a_t) = attention(h_{t-1}, k_1..k_S)      query: the previous hidden state; a_t: a heat map's row
//! x_t = [embedding(y_{t-1}); c_t]                y_{-1}: the learned start vector
//! state_t = C(state_{t-1}, x_t)                  h_t: its first H values
//! logits_t = W_o [h_t; c_t] + b_o                V scores, one per token
//! ```
//!
//! Training uses teacher forcing: `y_{t-1}` is the true previous token, and the loss is the softmax cross-entropy
//! of each step's logits against its true token, averaged over the steps. Backward runs through every step (the
//! output projection, the cell by [`Recurrent::step_backward`], the attention, the embedding) into dL/d(encoder
//! states) and dL/d(initial state), which the encoder's ordinary backward takes from there. Inference decodes
//! greedily, feeding the decoder its own previous output, and returns each step's attention weights with the
//! tokens.
//!
//! [`Seq2Seq`] puts a `network!` encoder and a decoder together: the encoder's output is every step's state (a
//! recurrent layer with `output = sequence`, `S * E` values time-major), and the decoder's hidden state starts
//! from the last of them. Its gradients are a value of its own type, so any optimizer trains both at once.
//!
//! ```
//! use nn_core::layer::{DotAttention, Gru, Tokens};
//! use nn_core::prelude::*;
//! use nn_core::seq2seq::{Decoder, Seq2Seq};
//!
//! network! {
//!     /// Reads three one-hot tokens of four.
//!     struct Encoder<f64> { input: Seq(3, 4), gru: Gru(8) }
//! }
//! // Vocabulary 4, embeddings of 4, a GRU of 8 reading [embedding; context] = 4 + 8 values, output from 8 + 8.
//! type Reverser = Seq2Seq<Encoder, Decoder<f64, Gru<f64, 12, 8, 24>, DotAttention<true>, 4, 4, 8, 8, 16>>;
//!
//! let mut model: Box<Reverser> = nn_core::boxed_zeroed();
//! model.init(&mut seeded_rng(1));
//! let mut grads: Box<Reverser> = nn_core::boxed_zeroed();
//! let mut cache = Reverser::cache::<3, 3>();
//! let mut adam = Adam::new(0.02);
//! let data = [[0, 1, 2], [3, 3, 1], [2, 0, 3], [1, 2, 2]];
//! let one_hot = |s: &[usize; 3]| Vector::<f64, 12>::from_fn(|i, _| f64::from(u8::from(s[i / 4] == i % 4)));
//! let reversed = |s: &[usize; 3]| Tokens::<3, 4>::new([s[2], s[1], s[0]]).unwrap();
//! let mut rng = seeded_rng(2);
//! for _ in 0..150 {
//!     grads.fill(0.0);
//!     for s in &data {
//!         model.backprop(&one_hot(s), &reversed(s), &mut cache, &mut grads, &mut rng);
//!     }
//!     adam.step(&mut *model, &grads);
//! }
//! for s in &data {
//!     let out = model.translate::<3, 3>(&one_hot(s));
//!     assert_eq!(&out.tokens, reversed(s).ids());
//!     assert!((out.weights.column(0).sum() - 1.0).abs() < 1e-12); // step 0's weights over the 3 inputs
//! }
//! assert_eq!(model.tensor(5).unwrap().name.to_string(), "decoder.start");
//! ```

use crate::buffer::Buffer;
use crate::float::Float;
use crate::init::Init;
use crate::layer::{Accumulate, Attention, Dense, Embedding, Recurrent, Tokens};
use crate::loss::log_sum_exp;
use crate::network::Network;
use crate::params::{Composite, MAX_SCOPES, Parameters, PartsMut, PartsRef, Tensor, TensorMut};
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use nalgebra::{SMatrix, SVector};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};

/// The decoder of an encoder-decoder model: a recurrent cell `C` with attention `M` over the encoder's states and
/// a dense output layer over a vocabulary of `V` tokens.
///
/// Sizes: `D` values per token embedding, `H` hidden units in the cell (its output per step; the query of the
/// attention), `E` values per encoder state, and `HE = H + E` inputs of the output layer (given explicitly because
/// stable Rust cannot compute it in a type). The cell reads `D + E` values per step. Any other sizes fail to
/// compile.
///
/// Tensors: `embedding.weight` (`[V, D]`, PyTorch's `Embedding`), `start` (`[D]`, read in place of a previous
/// token at the first step), the cell's (`cell.weight_ih_l0`, ...), the attention's (`attention.query.weight`,
/// ...; none for dot-product attention) and `out.weight` (`[V, H + E]`, acting on `[h_t; c_t]`) and `out.bias`.
///
/// The initial state is the caller's: [`Seq2Seq`] takes the encoder's last state as the hidden vector (the
/// rest of a larger state, an LSTM's cell vector, zero).
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Decoder<T, C, M, const V: usize, const D: usize, const H: usize, const E: usize, const HE: usize>
where
    T: Float,
{
    /// The embeddings of the tokens, one row each: what the cell reads of the previous token.
    pub embedding: Embedding<T, V, D>,
    /// What the cell reads in place of a previous token at the first step (a start token's embedding).
    pub start: SVector<T, D>,
    /// The recurrent cell, reading `[embedding; context]` (`D + E` values) per step.
    pub cell: C,
    /// The attention of the previous hidden state over the encoder's states.
    pub attention: M,
    /// `[h_t; c_t]` to the logits over the vocabulary.
    pub out: Dense<T, HE, V>,
}

/// What greedy decoding gives: the tokens and, for each, the attention weights it was written with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decoded<T: Float, const S: usize, const L: usize> {
    /// The output tokens, one per step.
    pub tokens: [usize; L],
    /// Column `t`: output step `t`'s weights over the `S` encoder states (a heat map of `L` rows of `S` is its
    /// transpose).
    pub weights: SMatrix<T, S, L>,
}

/// What [`Decoder::forward_train`] keeps for [`Decoder::backward`] over `S` encoder states of `E` values and `L`
/// output steps; `K` and `P` are the attention's keys and per-step record. Built once by [`Decoder::cache`] (its
/// buffers are sized for that decoder) and reused: a training step allocates nothing.
#[derive(Clone, Debug)]
pub struct DecoderCache<T: Float, K, P, const E: usize, const S: usize, const L: usize> {
    states: SMatrix<T, E, S>,
    keys: K,
    attention: Vec<P>,
    weights: SMatrix<T, S, L>,
    targets: [usize; L],
    loss: T,
    /// The state before the first step.
    initial: Vec<T>,
    /// Each step's cell input `[embedding; context]`.
    inputs: Vec<T>,
    /// Each step's record of the cell's training forward, ending with its new state.
    cells: Vec<T>,
    /// Each step's `[h_t; c_t]`.
    outputs: Vec<T>,
    /// Each step's dL/d(logits).
    dlogits: Vec<T>,
    /// Room for one step's dL/dx.
    dx: Vec<T>,
}

impl<T: Float, K, P, const E: usize, const S: usize, const L: usize> DecoderCache<T, K, P, E, S, L> {
    /// The attention weights of the last training forward, one column per output step.
    pub fn weights(&self) -> &SMatrix<T, S, L> {
        &self.weights
    }

    /// The loss of the last training forward.
    pub fn loss(&self) -> T {
        self.loss
    }
}

impl<T: Float, C: Recurrent<T>, M, const V: usize, const D: usize, const H: usize, const E: usize, const HE: usize>
    Decoder<T, C, M, V, D, H, E, HE>
{
    const SHAPE: () = {
        assert!(C::INPUT == D + E, "the decoder's cell reads D + E values: a token's embedding and the context");
        assert!(C::HIDDEN == H, "the decoder's cell has H hidden units");
        assert!(HE == H + E, "the decoder's output layer reads H + E values: the hidden state and the context");
    };

    /// Room for the training forward over `S` encoder states and `L` output steps.
    pub fn cache<const S: usize, const L: usize>() -> DecoderCache<T, M::Keys, M::Keep, E, S, L>
    where
        M: Attention<T, H, E, S>,
    {
        let () = Self::SHAPE;
        DecoderCache {
            states: SMatrix::zeros(),
            keys: bytemuck::Zeroable::zeroed(),
            attention: vec![bytemuck::Zeroable::zeroed(); L],
            weights: SMatrix::zeros(),
            targets: [0; L],
            loss: T::zero(),
            initial: vec![T::zero(); C::STATE],
            inputs: vec![T::zero(); L * C::INPUT],
            cells: vec![T::zero(); L * C::KEEP],
            outputs: vec![T::zero(); L * HE],
            dlogits: vec![T::zero(); L * V],
            dx: vec![T::zero(); C::INPUT],
        }
    }

    /// Training forward with teacher forcing: the decoder starts from `initial`, attends to `states` (one column
    /// per encoder step), reads the true previous token of `targets` at each step and is scored against the
    /// current one. Returns the softmax cross-entropy averaged over the `L` steps; `cache` keeps what
    /// [`Decoder::backward`] needs.
    ///
    /// # Panics
    ///
    /// If `cache` was built for a decoder of other sizes.
    pub fn forward_train<const S: usize, const L: usize>(
        &self,
        states: &SMatrix<T, E, S>,
        initial: &C::State,
        targets: &Tokens<L, V>,
        cache: &mut DecoderCache<T, M::Keys, M::Keep, E, S, L>,
    ) -> T
    where
        M: Attention<T, H, E, S>,
    {
        let () = Self::SHAPE;
        let (i, k) = (C::INPUT, C::KEEP);
        let from = k - C::STATE;
        assert!(
            cache.cells.len() == L * k && cache.inputs.len() == L * i && cache.dlogits.len() == L * V,
            "a decoder cache is used with the decoder it was built for"
        );
        cache.states = *states;
        cache.keys = self.attention.keys(states);
        cache.targets = *targets.ids();
        cache.initial.copy_from_slice(initial.as_slice());
        let scale = T::one() / T::from_f64(L.max(1) as f64);
        let mut loss = T::zero();
        for t in 0..L {
            let (done, rest) = cache.cells.split_at_mut(t * k);
            let prev = if t == 0 { &cache.initial[..] } else { &done[(t - 1) * k + from..] };
            let query = SVector::<T, H>::from_column_slice(&prev[..H]);
            let att = self.attention.attend_train(&query, states, &cache.keys, &mut cache.attention[t]);
            cache.weights.set_column(t, &att.weights);
            let x = &mut cache.inputs[t * i..(t + 1) * i];
            self.embed(if t == 0 { None } else { Some(cache.targets[t - 1]) }, &mut x[..D]);
            x[D..].copy_from_slice(att.context.as_slice());
            let keep = &mut rest[..k];
            self.cell.step_train(Some(prev), x, keep);
            let o = &mut cache.outputs[t * HE..(t + 1) * HE];
            o[..H].copy_from_slice(&keep[from..from + H]);
            o[H..].copy_from_slice(att.context.as_slice());
            let logits = self.out.forward(&SVector::<T, HE>::from_column_slice(o));
            let lse = log_sum_exp(logits.as_slice());
            let target = cache.targets[t];
            loss += lse - logits[target];
            for (v, (g, &z)) in cache.dlogits[t * V..(t + 1) * V].iter_mut().zip(logits.iter()).enumerate() {
                let p = (z - lse).exp();
                *g = (if v == target { p - T::one() } else { p }) * scale;
            }
        }
        cache.loss = loss * scale;
        cache.loss
    }

    /// Backward of the last [`Decoder::forward_train`] into `cache`, through every step: **adds** the parameter
    /// gradients into `grads` and dL/d(encoder states) into `dstates`, and returns dL/d(initial state). Uses
    /// `cache` as scratch space, but leaves what the training forward kept, so backward may run again.
    pub fn backward<const S: usize, const L: usize>(
        &self,
        cache: &mut DecoderCache<T, M::Keys, M::Keep, E, S, L>,
        dstates: &mut SMatrix<T, E, S>,
        grads: &mut Self,
    ) -> C::State
    where
        M: Attention<T, H, E, S>,
    {
        let () = Self::SHAPE;
        let (i, k) = (C::INPUT, C::KEEP);
        let from = k - C::STATE;
        let mut dstate = C::State::zeros();
        let mut dkeys: M::Keys = bytemuck::Zeroable::zeroed();
        for t in (0..L).rev() {
            let o = SVector::<T, HE>::from_column_slice(&cache.outputs[t * HE..(t + 1) * HE]);
            let dlogits = SVector::<T, V>::from_column_slice(&cache.dlogits[t * V..(t + 1) * V]);
            let dout = self.out.backward(&o, &dlogits, &mut grads.out);
            add_into(&mut dstate.as_mut_slice()[..H], &dout.as_slice()[..H]);
            let prev = if t == 0 { &cache.initial[..] } else { &cache.cells[(t - 1) * k + from..t * k] };
            let x = &cache.inputs[t * i..(t + 1) * i];
            cache.dx.fill(T::zero());
            let keep = &cache.cells[t * k..(t + 1) * k];
            self.cell.step_backward(x, Some(prev), keep, dstate.as_mut_slice(), &mut cache.dx, &mut grads.cell);
            let mut dcontext = SVector::<T, E>::from_column_slice(&dout.as_slice()[H..]);
            add_into(dcontext.as_mut_slice(), &cache.dx[D..]);
            if t == 0 {
                add_into(grads.start.as_mut_slice(), &cache.dx[..D]);
            } else {
                let token = cache.targets[t - 1];
                for (j, &d) in cache.dx[..D].iter().enumerate() {
                    grads.embedding.weight[(token, j)] += d;
                }
            }
            let query = SVector::<T, H>::from_column_slice(&prev[..H]);
            let dquery = self.attention.attend_backward(
                &query,
                &cache.states,
                &cache.attention[t],
                &dcontext,
                dstates,
                &mut dkeys,
                &mut grads.attention,
            );
            add_into(&mut dstate.as_mut_slice()[..H], dquery.as_slice());
        }
        self.attention.keys_backward(&cache.states, &dkeys, dstates, &mut grads.attention);
        dstate
    }

    /// Greedy decoding of `L` tokens from `initial`, attending to `states`: each step reads the token the step
    /// before chose (the largest logit). Returns the tokens and every step's attention weights. Allocates the
    /// cell's input (`D + E` values) once per call.
    pub fn decode<const S: usize, const L: usize>(
        &self,
        states: &SMatrix<T, E, S>,
        initial: &C::State,
    ) -> Decoded<T, S, L>
    where
        M: Attention<T, H, E, S>,
    {
        let () = Self::SHAPE;
        let keys = self.attention.keys(states);
        let mut state = *initial;
        let mut x = vec![T::zero(); C::INPUT];
        let mut out = Decoded { tokens: [0; L], weights: SMatrix::zeros() };
        for t in 0..L {
            let query = SVector::<T, H>::from_column_slice(&state.as_slice()[..H]);
            let att = self.attention.attend(&query, states, &keys);
            out.weights.set_column(t, &att.weights);
            self.embed(if t == 0 { None } else { Some(out.tokens[t - 1]) }, &mut x[..D]);
            x[D..].copy_from_slice(att.context.as_slice());
            self.cell.step(&mut state, &x);
            let mut o = SVector::<T, HE>::zeros();
            o.as_mut_slice()[..H].copy_from_slice(&state.as_slice()[..H]);
            o.as_mut_slice()[H..].copy_from_slice(att.context.as_slice());
            out.tokens[t] = crate::argmax(self.out.forward(&o).as_slice());
        }
        out
    }

    /// Writes the embedding of `token` (the start vector for `None`) into `x`.
    #[inline]
    fn embed(&self, token: Option<usize>, x: &mut [T]) {
        match token {
            None => x.copy_from_slice(self.start.as_slice()),
            Some(id) => {
                for (j, v) in x.iter_mut().enumerate() {
                    *v = self.embedding.weight[(id, j)];
                }
            }
        }
    }
}

/// Adds `src` into `dst` elementwise.
#[inline]
fn add_into<T: Float>(dst: &mut [T], src: &[T]) {
    for (a, &b) in dst.iter_mut().zip(src) {
        *a += b;
    }
}

impl<T: Float, C: Recurrent<T>, M, const V: usize, const D: usize, const H: usize, const E: usize, const HE: usize>
    Parameters<T> for Decoder<T, C, M, V, D, H, E, HE>
where
    M: Parameters<T>,
{
    const TENSORS: usize = 2 + C::TENSORS + M::TENSORS + 2;
    /// The attention's tensors are named under `attention` (`attention.query.weight`).
    const DEPTH: usize = 1;

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        let (c, m) = (C::TENSORS, M::TENSORS);
        match index {
            0 => Some(Tensor::matrix("weight", &self.embedding.weight).in_layer("embedding")),
            1 => Some(Tensor::vector("start", &self.start)),
            i if i < 2 + c => self.cell.tensor(i - 2).map(|t| t.in_layer("cell")),
            i if i < 2 + c + m => self.attention.tensor(i - 2 - c).map(|t| t.in_scope("attention")),
            i => self.out.tensor(i - 2 - c - m).map(|t| t.in_layer("out")),
        }
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        let (c, m) = (C::TENSORS, M::TENSORS);
        match index {
            0 => Some(TensorMut::matrix("weight", &mut self.embedding.weight).in_layer("embedding")),
            1 => Some(TensorMut::vector("start", &mut self.start)),
            i if i < 2 + c => self.cell.tensor_mut(i - 2).map(|t| t.in_layer("cell")),
            i if i < 2 + c + m => self.attention.tensor_mut(i - 2 - c).map(|t| t.in_scope("attention")),
            i => self.out.tensor_mut(i - 2 - c - m).map(|t| t.in_layer("out")),
        }
    }
}

/// The embeddings and the start vector from the standard normal distribution (PyTorch's `Embedding`), every
/// tensor of the cell from `U(-1/sqrt(H), 1/sqrt(H))` (PyTorch's recurrent cells; call the cell's own `init`
/// afterwards for the remembering bias of [`crate::layer::RecurrentLayer::init`]), the attention by its own
/// [`crate::Initialize`], the output layer Glorot-uniform with zero biases.
impl<T: Float, C: Recurrent<T>, M, const V: usize, const D: usize, const H: usize, const E: usize, const HE: usize>
    crate::Initialize for Decoder<T, C, M, V, D, H, E, HE>
where
    M: crate::Initialize,
{
    fn init<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        self.embedding.init(rng);
        for v in self.start.iter_mut() {
            let draw: f64 = StandardNormal.sample(rng);
            *v = T::from_f64(draw);
        }
        let a = 1.0 / (H.max(1) as f64).sqrt();
        if let Ok(uniform) = Uniform::new_inclusive(-a, a) {
            self.cell.visit_mut(|t| t.data.iter_mut().for_each(|v| *v = T::from_f64(uniform.sample(rng))));
        }
        self.attention.init(rng);
        self.out.init(Init::XavierUniform, rng);
    }
}

/// An encoder network `N` and a decoder `Dec` (a [`Decoder`]) trained together; tensors named `encoder.*` and
/// `decoder.*`.
///
/// The encoder is any network whose output is one state of `E` values per input step, time-major (a recurrent
/// layer with `output = sequence` last). It runs and learns through its ordinary training forward and backward,
/// from the dL/d(states) the decoder hands back. The decoder's hidden state starts from the encoder's last state,
/// so the two have the same size (`H = E`); the rest of a larger decoder state (an LSTM's cell vector) starts at
/// zero.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Seq2Seq<N, Dec> {
    /// The encoder.
    pub encoder: N,
    /// The decoder.
    pub decoder: Dec,
}

/// What [`Seq2Seq::backprop`] keeps between its forward and backward: the encoder's cache `EC` (boxed, however
/// large the encoder) and the decoder's `DC` (a [`DecoderCache`]).
#[derive(Clone, Debug)]
pub struct Seq2SeqCache<EC, DC> {
    /// The encoder's training cache.
    pub encoder: Box<EC>,
    /// The decoder's.
    pub decoder: DC,
}

impl<N: Network, Dec: Parameters<N::Scalar>> Composite for Seq2Seq<N, Dec> {
    type Scalar = N::Scalar;
    type Parts = (N, (Dec, ()));
    const NAMES: &'static [(&'static str, bool)] = &[("encoder", true), ("decoder", true)];
    const DEPTH: usize = {
        let (n, d) = (<N as Parameters<N::Scalar>>::DEPTH, <Dec as Parameters<N::Scalar>>::DEPTH);
        let depth = 1 + if n > d { n } else { d };
        assert!(depth < MAX_SCOPES, "an encoder-decoder's tensor names nest too deep");
        depth
    };

    fn parts(&self) -> PartsRef<'_, Self> {
        (&self.encoder, (&self.decoder, ()))
    }

    fn parts_mut(&mut self) -> PartsMut<'_, Self> {
        (&mut self.encoder, (&mut self.decoder, ()))
    }
}

impl<N: crate::Initialize, Dec: crate::Initialize> crate::Initialize for Seq2Seq<N, Dec> {
    fn init<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        self.encoder.init(rng);
        self.decoder.init(rng);
    }
}

/// The [`DecoderCache`] of a decoder with attention `M` (a query of `H` values, states of `E`) over `S` input and
/// `L` output steps.
pub type DecoderCacheOf<T, M, const H: usize, const E: usize, const S: usize, const L: usize> =
    DecoderCache<T, <M as Attention<T, H, E, S>>::Keys, <M as Attention<T, H, E, S>>::Keep, E, S, L>;

impl<T, N, C, M, const V: usize, const D: usize, const H: usize, const E: usize, const HE: usize>
    Seq2Seq<N, Decoder<T, C, M, V, D, H, E, HE>>
where
    T: Float,
    N: Network<Scalar = T>,
    C: Recurrent<T>,
{
    /// A model from its two parts.
    pub const fn new(encoder: N, decoder: Decoder<T, C, M, V, D, H, E, HE>) -> Self {
        Self { encoder, decoder }
    }

    /// Room for [`Seq2Seq::backprop`] over `S` input and `L` output steps, allocated once.
    pub fn cache<const S: usize, const L: usize>() -> Seq2SeqCache<N::Cache, DecoderCacheOf<T, M, H, E, S, L>>
    where
        M: Attention<T, H, E, S>,
    {
        Seq2SeqCache { encoder: crate::boxed_zeroed(), decoder: Decoder::<T, C, M, V, D, H, E, HE>::cache::<S, L>() }
    }

    /// The encoder's output seen as `S` states, and the decoder's initial state from the last of them.
    fn states<const S: usize>(y: &N::Output) -> (SMatrix<T, E, S>, C::State) {
        const {
            assert!(
                <N::Output as Buffer<T>>::FEATURES == S * E && <N::Output as Buffer<T>>::SAMPLES == 1,
                "the encoder returns S states of E values (a recurrent layer's every step)"
            );
            assert!(S > 0 && H == E, "the decoder's hidden state starts from the encoder's last state: H = E");
        }
        let states = SMatrix::<T, E, S>::from_column_slice(y.as_slice());
        let mut initial = C::State::zeros();
        initial.as_mut_slice()[..H].copy_from_slice(&y.as_slice()[(S - 1) * E..]);
        (states, initial)
    }

    /// One sample of training: the encoder's training forward on `x`, the decoder's with teacher forcing on
    /// `targets`, and backward through both, **adding** every parameter's gradient into `grads`. Returns the loss
    /// (softmax cross-entropy averaged over the output steps). `rng` draws the encoder's dropout masks, if any.
    pub fn backprop<const S: usize, const L: usize, R: Rng + ?Sized>(
        &self,
        x: &N::Input,
        targets: &Tokens<L, V>,
        cache: &mut Seq2SeqCache<N::Cache, DecoderCacheOf<T, M, H, E, S, L>>,
        grads: &mut Self,
        rng: &mut R,
    ) -> T
    where
        M: Attention<T, H, E, S>,
    {
        let y = self.encoder.forward_train_in(x, &mut cache.encoder, rng);
        let (states, initial) = Self::states::<S>(&y);
        let loss = self.decoder.forward_train(&states, &initial, targets, &mut cache.decoder);
        let mut dstates = SMatrix::<T, E, S>::zeros();
        let dinitial = self.decoder.backward(&mut cache.decoder, &mut dstates, &mut grads.decoder);
        let mut dy = N::Output::zeros();
        dy.as_mut_slice().copy_from_slice(dstates.as_slice());
        add_into(&mut dy.as_mut_slice()[(S - 1) * E..], &dinitial.as_slice()[..H]);
        N::backward_in(Accumulate { layer: &self.encoder, grads: &mut grads.encoder }, &mut cache.encoder, &dy, None);
        loss
    }

    /// The teacher-forced loss of one sample without gradients (the training forward, its dropout included).
    pub fn loss<const S: usize, const L: usize, R: Rng + ?Sized>(
        &self,
        x: &N::Input,
        targets: &Tokens<L, V>,
        cache: &mut Seq2SeqCache<N::Cache, DecoderCacheOf<T, M, H, E, S, L>>,
        rng: &mut R,
    ) -> T
    where
        M: Attention<T, H, E, S>,
    {
        let y = self.encoder.forward_train_in(x, &mut cache.encoder, rng);
        let (states, initial) = Self::states::<S>(&y);
        self.decoder.forward_train(&states, &initial, targets, &mut cache.decoder)
    }

    /// Inference: encodes `x` and decodes `L` tokens greedily, with every step's attention weights over the `S`
    /// input steps.
    pub fn translate<const S: usize, const L: usize>(&self, x: &N::Input) -> Decoded<T, S, L>
    where
        M: Attention<T, H, E, S>,
    {
        let (states, initial) = Self::states::<S>(&self.encoder.forward(x));
        self.decoder.decode(&states, &initial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{STEP, relative_error};
    use crate::layer::{AdditiveAttention, DotAttention, Gru, Lstm};
    use alloc::string::{String, ToString};

    /// The next value in `[-1, 1)` of a linear congruential stream.
    fn next(s: &mut u64) -> f64 {
        *s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (*s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    /// A fixed pseudo-random matrix with entries in `[-scale, scale]`.
    fn filled<const R: usize, const C: usize>(seed: u64, scale: f64) -> SMatrix<f64, R, C> {
        let mut s = seed;
        SMatrix::from_fn(|_, _| next(&mut s) * scale)
    }

    /// Every parameter of `p` from a fixed stream with entries in `[-scale, scale]`.
    fn fill_params<P: Parameters<f64>>(p: &mut P, seed: u64, scale: f64) {
        let mut s = seed;
        p.visit_mut(|t| t.data.iter_mut().for_each(|v| *v = next(&mut s) * scale));
    }

    /// Vocabulary 5, embeddings of 3, 4 hidden units, encoder states of 4: the cell reads 7 values.
    type GruDecoder<M> = Decoder<f64, Gru<f64, 7, 4, 12>, M, 5, 3, 4, 4, 8>;
    type LstmDecoder<M> = Decoder<f64, Lstm<f64, 7, 4, 16>, M, 5, 3, 4, 4, 8>;

    /// The largest relative error of the decoder's gradients (every parameter, every encoder state, every value
    /// of the initial state) against central differences of its teacher-forced loss.
    fn check_decoder<C, M, const S: usize, const L: usize>(seed: u64, targets: [usize; L]) -> f64
    where
        C: Recurrent<f64> + bytemuck::Zeroable + Copy,
        M: Attention<f64, 4, 4, S> + bytemuck::Zeroable + Copy,
    {
        let mut dec: Decoder<f64, C, M, 5, 3, 4, 4, 8> = bytemuck::Zeroable::zeroed();
        let mut grads = dec;
        fill_params(&mut dec, seed, 0.7);
        let states = filled::<4, S>(seed + 1, 1.0);
        let mut initial = C::State::zeros();
        initial.as_mut_slice().copy_from_slice(&filled::<32, 1>(seed + 2, 0.8).as_slice()[..C::STATE]);
        let targets = Tokens::<L, 5>::new(targets).expect("ids below 5");
        let mut cache = Decoder::<f64, C, M, 5, 3, 4, 4, 8>::cache::<S, L>();
        dec.forward_train(&states, &initial, &targets, &mut cache);
        grads.fill(0.0);
        let mut dstates = SMatrix::<f64, 4, S>::zeros();
        let dinitial = dec.backward(&mut cache, &mut dstates, &mut grads);
        let mut loss = |d: &Decoder<f64, C, M, 5, 3, 4, 4, 8>, k: &SMatrix<f64, 4, S>, s: &C::State| {
            d.forward_train(k, s, &targets, &mut cache)
        };
        let mut worst: f64 = 0.0;
        for t in 0..Decoder::<f64, C, M, 5, 3, 4, 4, 8>::TENSORS {
            let len = dec.tensor(t).map_or(0, |p| p.data.len());
            for i in 0..len {
                let (mut plus, mut minus) = (dec, dec);
                plus.tensor_mut(t).expect("tensor").data[i] += STEP;
                minus.tensor_mut(t).expect("tensor").data[i] -= STEP;
                let numeric = (loss(&plus, &states, &initial) - loss(&minus, &states, &initial)) / (2.0 * STEP);
                worst = worst.max(relative_error(grads.tensor(t).expect("tensor").data[i], numeric));
            }
        }
        for i in 0..4 * S {
            let (mut plus, mut minus) = (states, states);
            plus.as_mut_slice()[i] += STEP;
            minus.as_mut_slice()[i] -= STEP;
            let numeric = (loss(&dec, &plus, &initial) - loss(&dec, &minus, &initial)) / (2.0 * STEP);
            worst = worst.max(relative_error(dstates.as_slice()[i], numeric));
        }
        for i in 0..C::STATE {
            let (mut plus, mut minus) = (initial, initial);
            plus.as_mut_slice()[i] += STEP;
            minus.as_mut_slice()[i] -= STEP;
            let numeric = (loss(&dec, &states, &plus) - loss(&dec, &states, &minus)) / (2.0 * STEP);
            worst = worst.max(relative_error(dinitial.as_slice()[i], numeric));
        }
        worst
    }

    #[test]
    fn decoder_gradients_match_central_differences() {
        let e = check_decoder::<Gru<f64, 7, 4, 12>, AdditiveAttention<f64, 4, 4, 6>, 3, 4>(1, [2, 0, 4, 2]);
        assert!(e < 1e-6, "GRU, additive: {e:e}");
        let e = check_decoder::<Gru<f64, 7, 4, 12>, DotAttention<true>, 5, 3>(2, [1, 1, 3]);
        assert!(e < 1e-6, "GRU, scaled dot: {e:e}");
        let e = check_decoder::<Gru<f64, 7, 4, 12>, DotAttention<false>, 1, 1>(3, [4]);
        assert!(e < 1e-6, "GRU, dot, one state, one step: {e:e}");
        // An LSTM's state is h and c: both get a gradient.
        let e = check_decoder::<Lstm<f64, 7, 4, 16>, AdditiveAttention<f64, 4, 4, 3>, 4, 3>(4, [3, 0, 0]);
        assert!(e < 1e-6, "LSTM, additive: {e:e}");
    }

    #[test]
    fn greedy_decoding_agrees_with_the_teacher_forced_pass_on_its_own_tokens() {
        let mut dec: GruDecoder<AdditiveAttention<f64, 4, 4, 6>> = bytemuck::Zeroable::zeroed();
        crate::Initialize::init(&mut dec, &mut crate::seeded_rng(5));
        let states = filled::<4, 6>(6, 1.0);
        let initial = filled::<4, 1>(7, 0.5);
        let out: Decoded<f64, 6, 5> = dec.decode(&states, &initial);
        let mut cache = GruDecoder::<AdditiveAttention<f64, 4, 4, 6>>::cache::<6, 5>();
        let loss = dec.forward_train(&states, &initial, &Tokens::new(out.tokens).expect("ids below 5"), &mut cache);
        assert!((cache.weights() - out.weights).abs().max() < 1e-12);
        assert_eq!(loss, cache.loss());
        for t in 0..5 {
            assert!((out.weights.column(t).sum() - 1.0).abs() < 1e-12);
            // Each chosen token is the largest logit, whose softmax is the largest: dlogits is most negative there.
            let d = &cache.dlogits[t * 5..(t + 1) * 5];
            assert_eq!(crate::argmax(&d.iter().map(|v| -v).collect::<Vec<_>>()), out.tokens[t]);
        }
    }

    #[test]
    fn tensor_names() {
        let dec: LstmDecoder<AdditiveAttention<f64, 4, 4, 2>> = bytemuck::Zeroable::zeroed();
        let names: Vec<_> = (0..11).map(|i| dec.tensor(i).expect("tensor").name.to_string()).collect();
        assert_eq!(
            names,
            [
                "embedding.weight",
                "start",
                "cell.weight_ih_l0",
                "cell.weight_hh_l0",
                "cell.bias_ih_l0",
                "cell.bias_hh_l0",
                "attention.query.weight",
                "attention.key.weight",
                "attention.score.weight",
                "out.weight",
                "out.bias",
            ]
        );
        assert!(dec.tensor(11).is_none());
        let dot: LstmDecoder<DotAttention> = bytemuck::Zeroable::zeroed();
        assert_eq!(dot.tensor(6).expect("out").name.to_string(), "out.weight");
        assert_eq!(dec.param_count(), 5 * 3 + 3 + 16 * 7 + 16 * 4 + 32 + 2 * 4 + 2 * 4 + 2 + 5 * 8 + 5);
    }

    crate::network! {
        /// Three steps of two values to three states of four.
        #[derive(Clone)]
        struct Encoder<f64> { input: Seq(3, 2), gru: Gru(4) }
    }

    type Model = Seq2Seq<Encoder, GruDecoder<AdditiveAttention<f64, 4, 4, 5>>>;

    #[test]
    fn encoder_and_decoder_gradients_match_central_differences() {
        let mut model: Box<Model> = crate::boxed_zeroed();
        fill_params(&mut *model, 8, 0.7);
        let mut grads: Box<Model> = crate::boxed_zeroed();
        let x = filled::<6, 1>(9, 1.0);
        let targets = Tokens::<4, 5>::new([3, 1, 1, 0]).expect("ids below 5");
        let mut cache = Model::cache::<3, 4>();
        let mut rng = crate::seeded_rng(0);
        let loss = model.backprop(&x, &targets, &mut cache, &mut grads, &mut rng);
        assert_eq!(loss, model.loss(&x, &targets, &mut cache, &mut rng));
        let mut worst: f64 = 0.0;
        let mut names = Vec::new();
        for t in 0..Model::TENSORS {
            names.push(model.tensor(t).expect("tensor").name.to_string());
            for i in 0..model.tensor(t).expect("tensor").data.len() {
                let mut at = |h: f64| {
                    let saved = model.tensor(t).expect("tensor").data[i];
                    model.tensor_mut(t).expect("tensor").data[i] = saved + h;
                    let l = model.loss(&x, &targets, &mut cache, &mut rng);
                    model.tensor_mut(t).expect("tensor").data[i] = saved;
                    l
                };
                let numeric = (at(STEP) - at(-STEP)) / (2.0 * STEP);
                worst = worst.max(relative_error(grads.tensor(t).expect("tensor").data[i], numeric));
            }
        }
        assert!(worst < 1e-6, "encoder and decoder: {worst:e}");
        assert_eq!(names[0], "encoder.gru.weight_ih_l0");
        assert_eq!(names[4], "decoder.embedding.weight");
        assert_eq!(names[10], "decoder.attention.query.weight");
        assert_eq!(names.last().map(String::as_str), Some("decoder.out.bias"));
        let out: Decoded<f64, 3, 4> = model.translate(&x);
        assert!(out.tokens.iter().all(|&t| t < 5));
    }
}
