//! Bidirectional recurrent layers (PyTorch's `bidirectional=True`): two layers of the same kind read the same
//! sequence, one from the first step to the last, the other from the last to the first, each from a zero state.
//!
//! # Layout
//!
//! The output at step `t` is `[h_fwd(t), h_rev(t)]`, `2 * H` values with the forward direction's first, where
//! `h_rev(t)` is the reverse direction's state once it has read steps `S - 1` down to `t` (PyTorch's `output`).
//! Asked for the last step only (`2 * H` values), the layer returns both directions' final states: the forward
//! direction's after step `S - 1` and the reverse direction's after step 0 (PyTorch's `h_n[-2]` and `h_n[-1]`,
//! not `output[-1]`, whose reverse half has read one step only). The reverse direction's tensors are
//! `weight_ih_l0_reverse` and so on, after the forward direction's.
//!
//! A bidirectional layer has no streaming form: its first output needs the sequence's last input.

use crate::buffer::Buffer;
use crate::float::Float;
use crate::layer::contract::{Layer, Sink};
use crate::layer::recurrent::{Cell, Recurrent, RecurrentLayer};
use crate::params::{Parameters, Tensor, TensorMut};
use nalgebra::{SMatrix, SVector};
use nn_shapes::{RECURRENT_REVERSE_TENSORS, RECURRENT_TENSORS};
use rand::Rng;

/// Two recurrent layers `R` over one sequence, one in each direction (PyTorch's `bidirectional=True`), each from a
/// zero state.
///
/// The output at step `t` is `[h_fwd(t), h_rev(t)]`, `2 * H` values with the forward direction's first, where
/// `h_rev(t)` is the reverse direction's state once it has read steps `S - 1` down to `t` (PyTorch's `output`).
/// Asked for the last step only (`2 * H` values), the layer returns both directions' final states: the forward
/// direction's after step `S - 1` and the reverse direction's after step 0 (PyTorch's `h_n[-2]` and `h_n[-1]`).
/// The reverse direction's tensors are `weight_ih_l0_reverse` and so on, after the forward direction's. There is
/// no streaming form: the first output needs the sequence's last input.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Bidirectional<R> {
    /// The layer reading the sequence from its first step.
    pub forward: R,
    /// The layer reading it from its last step (tensors `..._reverse`).
    pub reverse: R,
}

impl<T: Float, const I: usize, const H: usize, const G: usize, C: Cell, const L: usize, const S: usize, const K: usize>
    Bidirectional<RecurrentLayer<T, I, H, G, C, L, S, K>>
{
    /// The layer from its two directions.
    pub const fn new(
        forward: RecurrentLayer<T, I, H, G, C, L, S, K>,
        reverse: RecurrentLayer<T, I, H, G, C, L, S, K>,
    ) -> Self {
        Self { forward, reverse }
    }

    /// The layer from its eight tensors, the forward direction's then the reverse direction's, each in the order
    /// of [`RecurrentLayer::new`] (what compiled-in weights are built with).
    #[allow(clippy::too_many_arguments)]
    pub const fn from_parts(
        weight_ih: SMatrix<T, G, I>,
        weight_hh: SMatrix<T, G, H>,
        bias_ih: SVector<T, G>,
        bias_hh: SVector<T, G>,
        weight_ih_reverse: SMatrix<T, G, I>,
        weight_hh_reverse: SMatrix<T, G, H>,
        bias_ih_reverse: SVector<T, G>,
        bias_hh_reverse: SVector<T, G>,
    ) -> Self {
        Self {
            forward: RecurrentLayer::new(weight_ih, weight_hh, bias_ih, bias_hh),
            reverse: RecurrentLayer::new(weight_ih_reverse, weight_hh_reverse, bias_ih_reverse, bias_hh_reverse),
        }
    }

    /// Both directions initialised as [`RecurrentLayer::init`] does, the forward direction first.
    pub fn init<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        self.forward.init(rng);
        self.reverse.init(rng);
    }

    /// Both directions initialised as [`RecurrentLayer::init_remembering`] does.
    pub fn init_remembering<R: Rng + ?Sized>(&mut self, bias: T, rng: &mut R) {
        self.forward.init_remembering(bias, rng);
        self.reverse.init_remembering(bias, rng);
    }
}

/// The reverse direction's name of a recurrent tensor name (`weight_ih_l1` -> `weight_ih_l1_reverse`).
fn reverse_name(name: &'static str) -> &'static str {
    for (layer, reverse) in RECURRENT_TENSORS.iter().zip(&RECURRENT_REVERSE_TENSORS) {
        if let Some(k) = layer.iter().position(|&n| n == name) {
            return reverse[k];
        }
    }
    name
}

/// The forward direction's tensors, then the reverse direction's under their `_reverse` names.
impl<T: Float, R: Parameters<T>> Parameters<T> for Bidirectional<R> {
    const TENSORS: usize = 2 * R::TENSORS;

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        if index < R::TENSORS {
            return self.forward.tensor(index);
        }
        let mut t = self.reverse.tensor(index - R::TENSORS)?;
        t.name.tensor = reverse_name(t.name.tensor);
        Some(t)
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        if index < R::TENSORS {
            return self.forward.tensor_mut(index);
        }
        let mut t = self.reverse.tensor_mut(index - R::TENSORS)?;
        t.name.tensor = reverse_name(t.name.tensor);
        Some(t)
    }
}

/// `(INPUT, HIDDEN, every step?)` of a bidirectional layer of `R` over `S` steps, `IN` values in and `OUT` out;
/// sizes that do not fit fail to compile.
#[inline]
fn shapes<T: Float, R: Recurrent<T>, const S: usize, const IN: usize, const OUT: usize>() -> (usize, usize, bool) {
    const {
        assert!(IN == S * R::INPUT, "a bidirectional layer's input must be steps x inputs per step");
        assert!(
            OUT == S * 2 * R::HIDDEN || OUT == 2 * R::HIDDEN,
            "a bidirectional layer's output must be steps x 2 hidden, or 2 hidden"
        );
    }
    (R::INPUT, R::HIDDEN, OUT == S * 2 * R::HIDDEN)
}

/// Where the reverse direction's output of step `t` goes in a sample's output, if anywhere: its half of step
/// `t`, or, for the last-step output, the second half once it has read step 0.
#[inline]
fn reverse_slot(t: usize, h: usize, every: bool) -> Option<core::ops::Range<usize>> {
    if every { Some(t * 2 * h + h..(t + 1) * 2 * h) } else { (t == 0).then_some(h..2 * h) }
}

/// Where the forward direction's output of step `t` goes, if anywhere.
#[inline]
fn forward_slot(t: usize, s: usize, h: usize, every: bool) -> Option<core::ops::Range<usize>> {
    if every { Some(t * 2 * h..t * 2 * h + h) } else { (t + 1 == s).then_some(0..h) }
}

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
> Layer<T, IN, OUT> for Bidirectional<RecurrentLayer<T, I, H, G, C, L, S, K>>
where
    RecurrentLayer<T, I, H, G, C, L, S, K>: Recurrent<T> + bytemuck::Zeroable,
{
    /// Each direction's record of the sequence, the reverse direction's in the order it read the steps.
    type Cache<const B: usize> = (SMatrix<T, K, B>, SMatrix<T, K, B>);

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, IN, B>) -> SMatrix<T, OUT, B> {
        type R<T, const I: usize, const H: usize, const G: usize, C, const L: usize, const S: usize, const K: usize> =
            RecurrentLayer<T, I, H, G, C, L, S, K>;
        let (i, h, every) = shapes::<T, R<T, I, H, G, C, L, S, K>, S, IN, OUT>();
        let mut y = SMatrix::<T, OUT, B>::zeros();
        for (xb, yb) in x.as_slice().chunks_exact(IN.max(1)).zip(y.as_mut_slice().chunks_exact_mut(OUT.max(1))) {
            let mut state = <R<T, I, H, G, C, L, S, K> as Recurrent<T>>::State::zeros();
            for t in 0..S {
                self.forward.step(&mut state, &xb[t * i..(t + 1) * i]);
                if let Some(slot) = forward_slot(t, S, h, every) {
                    yb[slot].copy_from_slice(&state.as_slice()[..h]);
                }
            }
            let mut state = <R<T, I, H, G, C, L, S, K> as Recurrent<T>>::State::zeros();
            for t in (0..S).rev() {
                self.reverse.step(&mut state, &xb[t * i..(t + 1) * i]);
                if let Some(slot) = reverse_slot(t, h, every) {
                    yb[slot].copy_from_slice(&state.as_slice()[..h]);
                }
            }
        }
        y
    }

    #[inline]
    fn forward_train<const B: usize, Q: Rng + ?Sized>(
        &self,
        x: &SMatrix<T, IN, B>,
        y: &mut SMatrix<T, OUT, B>,
        (keep_f, keep_r): &mut (SMatrix<T, K, B>, SMatrix<T, K, B>),
        _rng: &mut Q,
    ) {
        let (i, h, every) = shapes::<T, RecurrentLayer<T, I, H, G, C, L, S, K>, S, IN, OUT>();
        let k = RecurrentLayer::<T, I, H, G, C, L, S, K>::keep_per_step::<S, K>();
        let from = k - <RecurrentLayer<T, I, H, G, C, L, S, K> as Recurrent<T>>::STATE;
        let columns = x.as_slice().chunks_exact(IN.max(1)).zip(y.as_mut_slice().chunks_exact_mut(OUT.max(1)));
        let keeps =
            keep_f.as_mut_slice().chunks_exact_mut(K.max(1)).zip(keep_r.as_mut_slice().chunks_exact_mut(K.max(1)));
        for ((xb, yb), (kf, kr)) in columns.zip(keeps) {
            for t in 0..S {
                let (done, rest) = kf.split_at_mut(t * k);
                let prev = (t > 0).then(|| &done[(t - 1) * k + from..]);
                let now = &mut rest[..k];
                self.forward.step_train(prev, &xb[t * i..(t + 1) * i], now);
                if let Some(slot) = forward_slot(t, S, h, every) {
                    yb[slot].copy_from_slice(&now[from..from + h]);
                }
            }
            // The reverse direction's p-th step reads step S - 1 - p.
            for p in 0..S {
                let t = S - 1 - p;
                let (done, rest) = kr.split_at_mut(p * k);
                let prev = (p > 0).then(|| &done[(p - 1) * k + from..]);
                let now = &mut rest[..k];
                self.reverse.step_train(prev, &xb[t * i..(t + 1) * i], now);
                if let Some(slot) = reverse_slot(t, h, every) {
                    yb[slot].copy_from_slice(&now[from..from + h]);
                }
            }
        }
    }

    #[inline]
    fn backward<const B: usize, Q: Sink<T, Self>>(
        mut sink: Q,
        x: &SMatrix<T, IN, B>,
        _y: &SMatrix<T, OUT, B>,
        keep: &mut (SMatrix<T, K, B>, SMatrix<T, K, B>),
        dy: &SMatrix<T, OUT, B>,
        dx: Option<&mut SMatrix<T, IN, B>>,
    ) {
        let d = sink.fused(|layer, grads| match grads {
            Some(g) => layer.backward_sequence::<B, IN, OUT>(x, keep, dy, g),
            None => crate::scratch::with_scratch(|g| layer.backward_sequence::<B, IN, OUT>(x, keep, dy, g)),
        });
        if let Some(dx) = dx {
            *dx = d;
        }
    }
}

impl<T: Float, const I: usize, const H: usize, const G: usize, C: Cell, const L: usize, const S: usize, const K: usize>
    Bidirectional<RecurrentLayer<T, I, H, G, C, L, S, K>>
where
    RecurrentLayer<T, I, H, G, C, L, S, K>: Recurrent<T>,
{
    /// Backpropagation through time in both directions over a batch: **adds** the parameter gradients into
    /// `grads` and returns dL/dx (both directions' contributions summed).
    #[inline]
    fn backward_sequence<const B: usize, const IN: usize, const OUT: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        (keep_f, keep_r): &(SMatrix<T, K, B>, SMatrix<T, K, B>),
        dy: &SMatrix<T, OUT, B>,
        grads: &mut Self,
    ) -> SMatrix<T, IN, B> {
        type R<T, const I: usize, const H: usize, const G: usize, C, const L: usize, const S: usize, const K: usize> =
            RecurrentLayer<T, I, H, G, C, L, S, K>;
        let (i, h, every) = shapes::<T, R<T, I, H, G, C, L, S, K>, S, IN, OUT>();
        let k = R::<T, I, H, G, C, L, S, K>::keep_per_step::<S, K>();
        let from = k - <R<T, I, H, G, C, L, S, K> as Recurrent<T>>::STATE;
        let mut dx = SMatrix::<T, IN, B>::zeros();
        let columns = x.as_slice().chunks_exact(IN.max(1)).zip(dy.as_slice().chunks_exact(OUT.max(1)));
        let keeps = keep_f.as_slice().chunks_exact(K.max(1)).zip(keep_r.as_slice().chunks_exact(K.max(1)));
        for (((xb, db), (kf, kr)), dxb) in columns.zip(keeps).zip(dx.as_mut_slice().chunks_exact_mut(IN.max(1))) {
            let mut dstate = <R<T, I, H, G, C, L, S, K> as Recurrent<T>>::State::zeros();
            for t in (0..S).rev() {
                if let Some(slot) = forward_slot(t, S, h, every) {
                    add_into(&mut dstate.as_mut_slice()[..h], &db[slot]);
                }
                let prev = (t > 0).then(|| &kf[(t - 1) * k + from..t * k]);
                let xt = &xb[t * i..(t + 1) * i];
                let dxt = &mut dxb[t * i..(t + 1) * i];
                self.forward.step_backward(
                    xt,
                    prev,
                    &kf[t * k..(t + 1) * k],
                    dstate.as_mut_slice(),
                    dxt,
                    &mut grads.forward,
                );
            }
            let mut dstate = <R<T, I, H, G, C, L, S, K> as Recurrent<T>>::State::zeros();
            for p in (0..S).rev() {
                let t = S - 1 - p;
                if let Some(slot) = reverse_slot(t, h, every) {
                    add_into(&mut dstate.as_mut_slice()[..h], &db[slot]);
                }
                let prev = (p > 0).then(|| &kr[(p - 1) * k + from..p * k]);
                let xt = &xb[t * i..(t + 1) * i];
                let dxt = &mut dxb[t * i..(t + 1) * i];
                self.reverse.step_backward(
                    xt,
                    prev,
                    &kr[p * k..(p + 1) * k],
                    dstate.as_mut_slice(),
                    dxt,
                    &mut grads.reverse,
                );
            }
        }
        dx
    }
}

/// Adds `src` into `dst` elementwise.
#[inline]
fn add_into<T: Float>(dst: &mut [T], src: &[T]) {
    for (a, &b) in dst.iter_mut().zip(src) {
        *a += b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Tanh;
    use crate::gradcheck::{STEP, relative_error};
    use crate::layer::recurrent::testing::{fill_params, filled};
    use crate::layer::{Accumulate, Gru, Lstm, Rnn};

    /// Every parameter's and input's gradient against central differences, for a batch of two sequences of
    /// `S` steps, through the layer contract (`Accumulate`).
    fn check<R, const S: usize, const IN: usize, const OUT: usize, const K: usize>(seed: u64) -> f64
    where
        Bidirectional<R>: Layer<f64, IN, OUT, Cache<2> = (SMatrix<f64, K, 2>, SMatrix<f64, K, 2>)>
            + Parameters<f64>
            + Copy
            + bytemuck::Zeroable,
    {
        let mut layer: Bidirectional<R> = bytemuck::Zeroable::zeroed();
        fill_params(&mut layer, seed, 0.8);
        let x = filled::<IN, 2>(seed + 1, 1.0);
        let w = filled::<OUT, 2>(seed + 2, 1.0);
        let mut y = SMatrix::<f64, OUT, 2>::zeros();
        let mut keep = (SMatrix::<f64, K, 2>::zeros(), SMatrix::<f64, K, 2>::zeros());
        let mut rng = <rand::rngs::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
        layer.forward_train(&x, &mut y, &mut keep, &mut rng);
        assert!((y - layer.forward(&x)).abs().max() < 1e-14, "train and inference differ");
        let mut grads: Bidirectional<R> = bytemuck::Zeroable::zeroed();
        let mut dx = SMatrix::<f64, IN, 2>::zeros();
        <Bidirectional<R> as Layer<f64, IN, OUT>>::backward(
            Accumulate { layer: &layer, grads: &mut grads },
            &x,
            &y,
            &mut keep,
            &w,
            Some(&mut dx),
        );
        let objective = |l: &Bidirectional<R>, x: &SMatrix<f64, IN, 2>| l.forward(x).component_mul(&w).sum();
        let mut worst: f64 = 0.0;
        for t in 0..Bidirectional::<R>::TENSORS {
            let len = layer.tensor(t).map_or(0, |p| p.data.len());
            for i in 0..len {
                let at = |h: f64| {
                    let mut l = layer;
                    l.tensor_mut(t).expect("tensor").data[i] += h;
                    objective(&l, &x)
                };
                let numeric = (at(STEP) - at(-STEP)) / (2.0 * STEP);
                worst = worst.max(relative_error(grads.tensor(t).expect("tensor").data[i], numeric));
            }
        }
        for i in 0..IN * 2 {
            let at = |h: f64| {
                let mut xp = x;
                xp.as_mut_slice()[i] += h;
                objective(&layer, &xp)
            };
            let numeric = (at(STEP) - at(-STEP)) / (2.0 * STEP);
            worst = worst.max(relative_error(dx.as_slice()[i], numeric));
        }
        worst
    }

    #[test]
    fn gradients_of_both_directions_match_central_differences() {
        // Every step's output and the last step's, for each cell; 5 steps of 3 inputs, 4 hidden units.
        let cases = [
            ("rnn, every step", check::<Rnn<f64, 3, 4, Tanh, 0, 5, 40>, 5, 15, 40, 40>(1)),
            ("rnn, last step", check::<Rnn<f64, 3, 4, Tanh, 0, 5, 40>, 5, 15, 8, 40>(2)),
            ("lstm, every step", check::<Lstm<f64, 3, 4, 16, 0, 5, 120>, 5, 15, 40, 120>(3)),
            ("lstm, last step", check::<Lstm<f64, 3, 4, 16, 0, 5, 120>, 5, 15, 8, 120>(4)),
            ("gru, every step", check::<Gru<f64, 3, 4, 12, 0, 5, 100>, 5, 15, 40, 100>(5)),
            ("gru, last step", check::<Gru<f64, 3, 4, 12, 0, 5, 100>, 5, 15, 8, 100>(6)),
        ];
        for (what, worst) in cases {
            assert!(worst < 1e-6, "{what}: max relative error {worst:e}");
        }
    }

    #[test]
    fn the_reverse_direction_reads_the_sequence_backwards_under_its_own_names() {
        // Forward and reverse with the same weights: on a palindrome, step t's two halves are the forward
        // direction's outputs at t and at S - 1 - t.
        let mut one: Rnn<f64, 1, 2, Tanh, 1, 5, 20> = bytemuck::Zeroable::zeroed();
        fill_params(&mut one, 9, 0.9);
        let layer = Bidirectional::new(one, one);
        let x = SMatrix::<f64, 5, 1>::from_column_slice(&[0.3, -0.8, 0.5, -0.8, 0.3]);
        let y: SMatrix<f64, 20, 1> = layer.forward(&x);
        for t in 0..5 {
            let back = 4 - t;
            assert!((y[4 * t + 2] - y[4 * back]).abs() < 1e-15 && (y[4 * t + 3] - y[4 * back + 1]).abs() < 1e-15);
        }
        let names: std::vec::Vec<_> = (0..8).map(|i| layer.tensor(i).expect("tensor").name.tensor).collect();
        assert_eq!(
            names,
            [
                "weight_ih_l1",
                "weight_hh_l1",
                "bias_ih_l1",
                "bias_hh_l1",
                "weight_ih_l1_reverse",
                "weight_hh_l1_reverse",
                "bias_ih_l1_reverse",
                "bias_hh_l1_reverse"
            ]
        );
    }
}
