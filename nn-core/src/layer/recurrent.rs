//! What the recurrent layers ([`Rnn`](super::Rnn), [`Lstm`](super::Lstm), [`Gru`](super::Gru)) share: one
//! time step written once per cell, and the sequence forms (inference, training forward, backpropagation
//! through time) written once for all cells on top of it.
//!
//! # Layout
//!
//! A sequence of `S` steps of `I` features is one column of `S * I` values, **time-major**: step `t` is the
//! contiguous run `t * I .. (t + 1) * I` (PyTorch's `batch_first` layout for one sample, `[S, I]` row-major).
//! A batch is `B` such columns. A layer returns every step's hidden state (`S * H` values, same layout) or only
//! the last step's (`H` values); which one is chosen by the output size it is asked for.
//!
//! Every sequence starts from a zero state, as PyTorch's default `h0 = c0 = 0`. The streaming form
//! ([`Recurrent::step`]) carries the state from call to call instead.

use crate::buffer::Buffer;
use crate::float::Float;
use crate::kernel;
use crate::layer::contract::{Layer, Sink, Stream};
use crate::params::{Parameters, Tensor, TensorMut};
use core::marker::PhantomData;
use nalgebra::{SMatrix, SVector};
use nn_shapes::RECURRENT_TENSORS;
use rand::Rng;

/// What distinguishes the kinds of recurrent layer at the type level: their number of gate blocks and which
/// gate's input-side bias starts at 1.
pub trait Cell {
    /// Gate blocks of `H` rows in the weights (1 for an RNN, 4 for an LSTM, 3 for a GRU).
    const GATES: usize;
    /// The gate block whose input-side bias starts at 1 rather than near 0, if any: the LSTM's forget gate and
    /// the GRU's update gate, so that the state starts out remembering.
    const REMEMBER: Option<usize>;
}

/// The LSTM cell ([`super::Lstm`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct LstmCell;

/// The GRU cell ([`super::Gru`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct GruCell;

/// The vanilla RNN cell with activation `A` ([`super::Rnn`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct RnnCell<A>(PhantomData<A>);

impl Cell for LstmCell {
    const GATES: usize = 4;
    const REMEMBER: Option<usize> = Some(1);
}

impl Cell for GruCell {
    const GATES: usize = 3;
    const REMEMBER: Option<usize> = Some(1);
}

impl<A> Cell for RnnCell<A> {
    const GATES: usize = 1;
    const REMEMBER: Option<usize> = None;
}

/// A recurrent layer's parameters, in PyTorch's layout and names, for a cell of kind `C`: `I` inputs per step,
/// `H` hidden units and `G = GATES * H` gate rows (given explicitly because stable Rust cannot compute it in a
/// type; any other `G` fails to compile). `L` is the layer's index in a PyTorch module with `num_layers > 1`:
/// its tensors are named `weight_ih_l{L}` and so on (0 to 7). Used through the aliases [`super::Rnn`],
/// [`super::Lstm`] and [`super::Gru`].
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct RecurrentLayer<
    T,
    const I: usize,
    const H: usize,
    const G: usize,
    C,
    const L: usize = 0,
    const S: usize = 0,
    const K: usize = 0,
> where
    T: Float,
{
    /// Input-to-gates weights, `G x I` (`weight_ih_l0`, PyTorch's `[G, I]`), gate blocks stacked.
    pub weight_ih: SMatrix<T, G, I>,
    /// Hidden-to-gates weights, `G x H` (`weight_hh_l0`).
    pub weight_hh: SMatrix<T, G, H>,
    /// Input-side biases (`bias_ih_l0`).
    pub bias_ih: SVector<T, G>,
    /// Hidden-side biases (`bias_hh_l0`).
    pub bias_hh: SVector<T, G>,
    /// The cell kind, a type only.
    pub cell: PhantomData<C>,
}

impl<T: Float, const I: usize, const H: usize, const G: usize, C: Cell, const L: usize, const S: usize, const K: usize>
    RecurrentLayer<T, I, H, G, C, L, S, K>
{
    const SHAPE: () = assert!(G == C::GATES * H, "a recurrent layer has GATES * H gate rows");

    /// A layer from its weights and biases.
    pub const fn new(
        weight_ih: SMatrix<T, G, I>,
        weight_hh: SMatrix<T, G, H>,
        bias_ih: SVector<T, G>,
        bias_hh: SVector<T, G>,
    ) -> Self {
        Self { weight_ih, weight_hh, bias_ih, bias_hh, cell: PhantomData }
    }

    /// Every weight and bias from `U(-1/sqrt(H), 1/sqrt(H))` (PyTorch's initialisation), then the input-side
    /// bias of the LSTM's forget gate or the GRU's update gate set to 1 (Gers, Schmidhuber and Cummins 2000;
    /// Jozefowicz et al. 2015; Keras's `unit_forget_bias`): the cell starts out keeping about 0.73 of its state
    /// per step rather than 0.5, so gradients reach further back from the first update.
    pub fn init<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        self.init_remembering(T::one(), rng);
    }

    /// [`RecurrentLayer::init`] with the forget (LSTM) or update (GRU) gate's input-side bias at `bias` instead
    /// of 1, as TensorFlow's `forget_bias`: about `ln T` suits dependencies `T` steps long (the "chrono"
    /// initialisation of Tallec and Ollivier 2018). An RNN has no such gate and ignores `bias`.
    pub fn init_remembering<R: Rng + ?Sized>(&mut self, bias: T, rng: &mut R) {
        self.visit_mut(|t| init_uniform(t.data, H, rng));
        if let Some(gate) = C::REMEMBER {
            self.bias_ih.as_mut_slice()[gate * H..(gate + 1) * H].fill(bias);
        }
    }

    /// The input side `W_ih x + b_ih` of the gates' pre-activations.
    #[inline]
    pub(crate) fn input_side(&self, x: &[T]) -> SVector<T, G> {
        let () = Self::SHAPE;
        let mut a = self.bias_ih;
        kernel::gemv_acc(&self.weight_ih, x, a.as_mut_slice());
        a
    }

    /// The hidden side `W_hh h + b_hh` (just `b_hh` when `h` is the zero state).
    #[inline]
    pub(crate) fn hidden_side(&self, h: Option<&[T]>) -> SVector<T, G> {
        let mut a = self.bias_hh;
        if let Some(h) = h {
            kernel::gemv_acc(&self.weight_hh, h, a.as_mut_slice());
        }
        a
    }

    /// Both sides summed: every gate's pre-activation (RNN, LSTM).
    #[inline]
    pub(crate) fn preactivation(&self, x: &[T], h: Option<&[T]>) -> SVector<T, G> {
        let mut a = self.input_side(x) + self.bias_hh;
        if let Some(h) = h {
            kernel::gemv_acc(&self.weight_hh, h, a.as_mut_slice());
        }
        a
    }

    /// The parameter gradients and input gradients of one step from the gradients of the pre-activations: `gi`
    /// on the input side, `gh` on the hidden side (the same for RNN and LSTM). Adds `W_ih^T gi` into `dx` and
    /// `W_hh^T gh` into `dh_prev`, and nothing to `dh_prev` for the zero state (`h_prev` is `None`).
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn backward_sides(
        &self,
        gi: &[T],
        gh: &[T],
        x: &[T],
        h_prev: Option<&[T]>,
        dx: &mut [T],
        dh_prev: &mut [T],
        grads: &mut Self,
    ) {
        kernel::ger_vec_acc(gi, x, &mut grads.weight_ih);
        add_into(grads.bias_ih.as_mut_slice(), gi);
        add_into(grads.bias_hh.as_mut_slice(), gh);
        kernel::gemv_t_acc(&self.weight_ih, gi, dx);
        if let Some(h) = h_prev {
            kernel::ger_vec_acc(gh, h, &mut grads.weight_hh);
            kernel::gemv_t_acc(&self.weight_hh, gh, dh_prev);
        }
    }
}

/// The names of layer `L`, which must be below 8.
const fn names<const L: usize>() -> [&'static str; 4] {
    assert!(L < RECURRENT_TENSORS.len(), "a recurrent module has at most 8 layers");
    RECURRENT_TENSORS[L]
}

impl<T: Float, const I: usize, const H: usize, const G: usize, C, const L: usize, const S: usize, const K: usize>
    Parameters<T> for RecurrentLayer<T, I, H, G, C, L, S, K>
{
    const TENSORS: usize = 4;

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        let n = const { names::<L>() };
        match index {
            0 => Some(Tensor::matrix(n[0], &self.weight_ih)),
            1 => Some(Tensor::matrix(n[1], &self.weight_hh)),
            2 => Some(Tensor::vector(n[2], &self.bias_ih)),
            3 => Some(Tensor::vector(n[3], &self.bias_hh)),
            _ => None,
        }
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        let n = const { names::<L>() };
        match index {
            0 => Some(TensorMut::matrix(n[0], &mut self.weight_ih)),
            1 => Some(TensorMut::matrix(n[1], &mut self.weight_hh)),
            2 => Some(TensorMut::vector(n[2], &mut self.bias_ih)),
            3 => Some(TensorMut::vector(n[3], &mut self.bias_hh)),
            _ => None,
        }
    }
}

/// A recurrent cell: one time step, forward and backward, from which the sequence forms are derived.
///
/// The cell's state is the hidden vector `h` (and for an LSTM the cell vector `c` after it). The training
/// forward keeps [`Recurrent::KEEP`] values per step, ending with the step's new state, so the backward pass
/// finds every step's input state in the previous step's record.
pub trait Recurrent<T: Float>: Parameters<T> + Sized {
    /// Features per input step.
    const INPUT: usize;
    /// Hidden units: the size of the output per step.
    const HIDDEN: usize;
    /// Values the training forward keeps per step; the last [`Recurrent::STATE`] of them are the new state.
    const KEEP: usize;
    /// Values of state: `HIDDEN` (the hidden vector first), or `2 * HIDDEN` for an LSTM (`h` then `c`).
    const STATE: usize;
    /// The state carried between steps (`h`, or `h` and `c` as two columns), zero at the start of a sequence.
    type State: Buffer<T> + Copy;

    /// Inference: one step from `state` on the input step `x` (`INPUT` values); `state` becomes the new state,
    /// whose first `HIDDEN` values are the step's output. Allocates nothing.
    fn step(&self, state: &mut Self::State, x: &[T]);

    /// Training forward of one step: from the previous state (`None` for the zero state at `t = 0`) and `x`,
    /// writes the `KEEP` values backward needs into `keep`, ending with the new state.
    fn step_train(&self, prev: Option<&[T]>, x: &[T], keep: &mut [T]);

    /// Backward of one step. `dstate` holds dL/d(new state) and is replaced by dL/d(previous state); dL/dx is
    /// **added** into `dx` and the parameter gradients into `grads`. `prev` and `keep` are what
    /// [`Recurrent::step_train`] saw and wrote.
    fn step_backward(&self, x: &[T], prev: Option<&[T]>, keep: &[T], dstate: &mut [T], dx: &mut [T], grads: &mut Self);

    /// Inference over a batch of sequences of `S` steps: `x` holds `S * INPUT` values per sample, the result
    /// `S * HIDDEN` (every step) or `HIDDEN` (the last step) per sample.
    #[inline]
    fn forward_sequence<const S: usize, const IN: usize, const OUT: usize, const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
    ) -> SMatrix<T, OUT, B> {
        let (i, h, every) = Self::shapes::<S, IN, OUT>();
        let mut y = SMatrix::<T, OUT, B>::zeros();
        for (xb, yb) in x.as_slice().chunks_exact(IN.max(1)).zip(y.as_mut_slice().chunks_exact_mut(OUT.max(1))) {
            let mut state = Self::State::zeros();
            for t in 0..S {
                self.step(&mut state, &xb[t * i..(t + 1) * i]);
                if every {
                    yb[t * h..(t + 1) * h].copy_from_slice(&state.as_slice()[..h]);
                }
            }
            if !every && S > 0 {
                yb.copy_from_slice(&state.as_slice()[..h]);
            }
        }
        y
    }

    /// Training forward over a batch of sequences: the output (as [`Recurrent::forward_sequence`]) and, in
    /// `keep` (`S * KEEP` values per sample), everything backpropagation through time needs.
    #[inline]
    fn forward_sequence_train<const S: usize, const IN: usize, const OUT: usize, const K: usize, const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        keep: &mut SMatrix<T, K, B>,
    ) -> SMatrix<T, OUT, B> {
        let (i, h, every) = Self::shapes::<S, IN, OUT>();
        let k = Self::keep_per_step::<S, K>();
        let from = k - Self::STATE;
        let mut y = SMatrix::<T, OUT, B>::zeros();
        let columns = x.as_slice().chunks_exact(IN.max(1)).zip(y.as_mut_slice().chunks_exact_mut(OUT.max(1)));
        for ((xb, yb), kb) in columns.zip(keep.as_mut_slice().chunks_exact_mut(K.max(1))) {
            for t in 0..S {
                let (done, rest) = kb.split_at_mut(t * k);
                let prev = (t > 0).then(|| &done[(t - 1) * k + from..]);
                let now = &mut rest[..k];
                self.step_train(prev, &xb[t * i..(t + 1) * i], now);
                if every {
                    yb[t * h..(t + 1) * h].copy_from_slice(&now[from..from + h]);
                }
            }
            if !every && S > 0 {
                yb.copy_from_slice(&kb[(S - 1) * k + from..(S - 1) * k + from + h]);
            }
        }
        y
    }

    /// Backpropagation through time over a batch: from the input `x`, the `keep` of the training forward and
    /// `dy` = dL/d(output), **adds** the parameter gradients (summed over steps and samples) into `grads` and
    /// returns dL/dx.
    #[inline]
    fn backward_sequence<const S: usize, const IN: usize, const OUT: usize, const K: usize, const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        keep: &SMatrix<T, K, B>,
        dy: &SMatrix<T, OUT, B>,
        grads: &mut Self,
    ) -> SMatrix<T, IN, B> {
        let (i, h, every) = Self::shapes::<S, IN, OUT>();
        let k = Self::keep_per_step::<S, K>();
        let from = k - Self::STATE;
        let mut dx = SMatrix::<T, IN, B>::zeros();
        let columns = x.as_slice().chunks_exact(IN.max(1)).zip(keep.as_slice().chunks_exact(K.max(1)));
        let columns = columns.zip(dy.as_slice().chunks_exact(OUT.max(1)));
        for (((xb, kb), db), dxb) in columns.zip(dx.as_mut_slice().chunks_exact_mut(IN.max(1))) {
            let mut dstate = Self::State::zeros();
            for t in (0..S).rev() {
                let d = if every { Some(&db[t * h..(t + 1) * h]) } else { (t + 1 == S).then_some(db) };
                if let Some(d) = d {
                    for (a, &b) in dstate.as_mut_slice()[..h].iter_mut().zip(d) {
                        *a += b;
                    }
                }
                let prev = (t > 0).then(|| &kb[(t - 1) * k + from..t * k]);
                let now = &kb[t * k..(t + 1) * k];
                let xt = &xb[t * i..(t + 1) * i];
                self.step_backward(xt, prev, now, dstate.as_mut_slice(), &mut dxb[t * i..(t + 1) * i], grads);
            }
        }
        dx
    }

    /// `(INPUT, HIDDEN, every step?)` for a sequence of `S` steps of `IN` values in and `OUT` out. Sizes that do
    /// not fit the cell fail to compile.
    #[doc(hidden)]
    #[inline]
    fn shapes<const S: usize, const IN: usize, const OUT: usize>() -> (usize, usize, bool) {
        const {
            assert!(IN == S * Self::INPUT, "a recurrent layer's input must be steps x inputs per step");
            assert!(
                OUT == S * Self::HIDDEN || OUT == Self::HIDDEN,
                "a recurrent layer's output must be steps x hidden, or hidden"
            );
        }
        (Self::INPUT, Self::HIDDEN, OUT == S * Self::HIDDEN)
    }

    /// Values kept per step; `K` other than `S * KEEP` fails to compile.
    #[doc(hidden)]
    #[inline]
    fn keep_per_step<const S: usize, const K: usize>() -> usize {
        const { assert!(K == S * Self::KEEP, "a recurrent layer keeps KEEP values per step") };
        Self::KEEP
    }
}

/// A recurrent layer over sequences of `S` steps (`IN = S * I` values per sample) returning every step's hidden
/// state (`OUT = S * H`) or the last one (`OUT = H`); the training forward keeps `K = S * KEEP` values per
/// sample for backpropagation through time.
impl<
    T: Float,
    const I: usize,
    const H: usize,
    const G: usize,
    C: Cell,
    const L: usize,
    const S: usize,
    const K: usize,
    const IN: usize,
    const OUT: usize,
> Layer<T, IN, OUT> for RecurrentLayer<T, I, H, G, C, L, S, K>
where
    Self: Recurrent<T> + bytemuck::Zeroable,
{
    type Cache<const B: usize> = SMatrix<T, K, B>;

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, IN, B>) -> SMatrix<T, OUT, B> {
        self.forward_sequence::<S, IN, OUT, B>(x)
    }

    #[inline]
    fn forward_train<const B: usize, R: Rng + ?Sized>(
        &self,
        x: &SMatrix<T, IN, B>,
        y: &mut SMatrix<T, OUT, B>,
        keep: &mut SMatrix<T, K, B>,
        _rng: &mut R,
    ) {
        *y = self.forward_sequence_train::<S, IN, OUT, K, B>(x, keep);
    }

    #[inline]
    fn backward<const B: usize, Q: Sink<T, Self>>(
        mut sink: Q,
        x: &SMatrix<T, IN, B>,
        _y: &SMatrix<T, OUT, B>,
        keep: &mut SMatrix<T, K, B>,
        dy: &SMatrix<T, OUT, B>,
        dx: Option<&mut SMatrix<T, IN, B>>,
    ) {
        let d = sink.fused(|layer, grads| match grads {
            Some(g) => layer.backward_sequence::<S, IN, OUT, K, B>(x, keep, dy, g),
            None => crate::scratch::with_scratch(|g| layer.backward_sequence::<S, IN, OUT, K, B>(x, keep, dy, g)),
        });
        if let Some(dx) = dx {
            *dx = d;
        }
    }
}

impl<T: Float, const I: usize, const H: usize, const G: usize, C: Cell, const L: usize, const S: usize, const K: usize>
    Stream<T, I, H> for RecurrentLayer<T, I, H, G, C, L, S, K>
where
    Self: Recurrent<T>,
    <Self as Recurrent<T>>::State: core::fmt::Debug + PartialEq + bytemuck::Zeroable,
{
    type State = <Self as Recurrent<T>>::State;

    #[inline]
    fn step(&self, state: &mut Self::State, x: &SVector<T, I>) -> SVector<T, H> {
        Recurrent::step(self, state, x.as_slice());
        hidden::<T, H>(state.as_slice())
    }
}

/// The hidden vector of a state: its first `H` values.
#[inline]
pub fn hidden<T: Float, const H: usize>(state: &[T]) -> SVector<T, H> {
    SVector::from_column_slice(&state[..H])
}

/// Adds `src` into `dst` elementwise (biases' gradients).
#[inline]
fn add_into<T: Float>(dst: &mut [T], src: &[T]) {
    for (a, &b) in dst.iter_mut().zip(src) {
        *a += b;
    }
}

/// PyTorch's initialisation of recurrent layers: every weight and bias from `U(-1/sqrt(H), 1/sqrt(H))`.
fn init_uniform<T: Float, R: Rng + ?Sized>(data: &mut [T], hidden: usize, rng: &mut R) {
    use rand::distr::{Distribution, Uniform};
    let a = 1.0 / (hidden.max(1) as f64).sqrt();
    if let Ok(d) = Uniform::new_inclusive(-a, a) {
        for v in data {
            *v = T::from_f64(d.sample(rng));
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A gradient check of backpropagation through time for any cell, sequence and batch size.

    use super::Recurrent;
    use crate::gradcheck::{STEP, relative_error};
    use crate::params::Parameters;
    use nalgebra::SMatrix;

    /// A fixed pseudo-random matrix with entries in about `[-scale, scale]`.
    pub fn filled<const R: usize, const C: usize>(seed: u64, scale: f64) -> SMatrix<f64, R, C> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(1);
        SMatrix::from_fn(|_, _| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale
        })
    }

    /// Sets every parameter of `cell` from a fixed stream with entries in `[-scale, scale]`.
    pub fn fill_params<C: Parameters<f64>>(cell: &mut C, seed: u64, scale: f64) {
        let mut n = seed;
        cell.visit_mut(|t| {
            for v in t.data.iter_mut() {
                n += 1;
                *v = filled::<1, 1>(n, scale)[0];
            }
        });
    }

    /// The loss `sum_j w_j y_j` with fixed weights, as a function of the cell's parameters and input.
    fn objective<C, const S: usize, const IN: usize, const OUT: usize, const B: usize>(
        cell: &C,
        x: &SMatrix<f64, IN, B>,
        w: &SMatrix<f64, OUT, B>,
    ) -> f64
    where
        C: Recurrent<f64>,
    {
        cell.forward_sequence::<S, IN, OUT, B>(x).component_mul(w).sum()
    }

    /// The largest relative error of BPTT's gradients (every parameter and every input value) against central
    /// differences, for a batch of `B` sequences of `S` steps. Also checks that the training forward's output
    /// equals inference's.
    pub fn check_bptt<C, const S: usize, const IN: usize, const OUT: usize, const K: usize, const B: usize>(
        cell: &mut C,
        grads: &mut C,
        seed: u64,
    ) -> f64
    where
        C: Recurrent<f64>,
    {
        let x = filled::<IN, B>(seed, 1.0);
        let w = filled::<OUT, B>(seed + 1, 1.0);
        let mut keep = SMatrix::<f64, K, B>::zeros();
        let y = cell.forward_sequence_train::<S, IN, OUT, K, B>(&x, &mut keep);
        assert!((y - cell.forward_sequence::<S, IN, OUT, B>(&x)).abs().max() < 1e-14, "train and inference differ");
        grads.fill(0.0);
        let dx = cell.backward_sequence::<S, IN, OUT, K, B>(&x, &keep, &w, grads);
        let mut worst: f64 = 0.0;
        for t in 0..C::TENSORS {
            let len = cell.tensor(t).map_or(0, |p| p.data.len());
            for i in 0..len {
                let mut at = |h: f64| {
                    let p = cell.tensor_mut(t).expect("tensor");
                    let saved = p.data[i];
                    p.data[i] = saved + h;
                    let l = objective::<C, S, IN, OUT, B>(cell, &x, &w);
                    cell.tensor_mut(t).expect("tensor").data[i] = saved;
                    l
                };
                let numeric = (at(STEP) - at(-STEP)) / (2.0 * STEP);
                let analytic = grads.tensor(t).expect("tensor").data[i];
                worst = worst.max(relative_error(analytic, numeric));
            }
        }
        for i in 0..IN * B {
            let at = |h: f64| {
                let mut xp = x;
                xp.as_mut_slice()[i] += h;
                objective::<C, S, IN, OUT, B>(cell, &xp, &w)
            };
            let numeric = (at(STEP) - at(-STEP)) / (2.0 * STEP);
            worst = worst.max(relative_error(dx.as_slice()[i], numeric));
        }
        worst
    }
}

/// Forward values checked against the independent numpy reference in `tests/fixtures/recurrent/`.
#[cfg(test)]
#[path = "recurrent_reference.rs"]
mod reference;
