//! The learning rules the course starts from, before backpropagation: Rosenblatt's perceptron rule, Hebb's rule,
//! and the restricted Boltzmann machine whose greedy layer-wise training pre-trained the first deep networks
//! ([`Rbm`]); and the associative memories that Hebb's rule builds, Hopfield's network ([`Hopfield`]) and Kosko's
//! bidirectional associative memory ([`Bam`]), which recall stored bipolar patterns from corrupted copies by
//! descending an energy. The first two train one dense layer of threshold units ([`Step`](crate::activation::Step) or
//! [`Sign`](crate::activation::Sign)) directly from each sample, without gradients: a step unit's derivative is
//! zero wherever it exists, so gradient descent could not move it.
//!
//! A layer declared with `network!` (`input: 2, unit: Dense(1), Step`) is a public field of the generated struct,
//! so these rules train it in place (`Perceptron::new(1.0, 100).fit(&mut net.unit, Step::default(), &data)`) and the network
//! then runs it as usual.
//!
//! ```
//! use nn_core::activation::Step;
//! use nn_core::classic::Perceptron;
//! use nn_core::layer::Dense;
//! use nn_core::{Vector, nalgebra::SMatrix};
//!
//! // Logical AND on {0, 1}: linearly separable, so the rule stops after finitely many updates.
//! let and = [([0.0, 0.0], 0.0), ([0.0, 1.0], 0.0), ([1.0, 0.0], 0.0), ([1.0, 1.0], 1.0)]
//!     .map(|(x, t)| (Vector::from(x), Vector::from([t])));
//! let mut unit = Dense::<f64, 2, 1>::new(SMatrix::zeros(), Vector::zeros());
//! let report = Perceptron::new(1.0, 100).fit(&mut unit, Step::default(), &and);
//! assert!(report.converged);
//! assert!(and.iter().all(|(x, t)| Perceptron::<f64>::output(&unit, Step::default(), x) == *t));
//! ```

use crate::activation::{Activation, sigmoid};
use crate::float::Float;
use crate::kernel;
use crate::layer::Dense;
use crate::params::{Parameters, Tensor, TensorMut};
use nalgebra::{SMatrix, SVector};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Normal};

/// Rosenblatt's perceptron learning rule: for each sample `(x, t)`, with the unit's output
/// `y = f(W x + b)`, `W <- W + lr (t - y) x^T` and `b <- b + lr (t - y)`.
///
/// Nothing changes when the output is already right. On linearly separable data (AND, OR) the rule stops
/// changing after finitely many updates (the perceptron convergence theorem); on XOR it never does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Perceptron<T> {
    /// The learning rate (`1` is the classic choice; with zero initial weights any positive rate gives the same
    /// decisions, scaled).
    pub lr: T,
    /// Passes over the data after which [`Perceptron::fit`] gives up.
    pub max_epochs: usize,
}

/// How a run of [`Perceptron::fit`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerceptronReport {
    /// Passes over the data, including the last one (the clean pass when converged).
    pub epochs: usize,
    /// Samples that changed the weights, over all passes.
    pub updates: usize,
    /// Samples the last pass got wrong (zero when converged).
    pub errors: usize,
    /// Whether a whole pass went by without a change.
    pub converged: bool,
}

impl<T: Float> Perceptron<T> {
    /// The rule with learning rate `lr`, stopping after at most `max_epochs` passes.
    pub const fn new(lr: T, max_epochs: usize) -> Self {
        Self { lr, max_epochs }
    }

    /// The unit's output `f(W x + b)` for one sample.
    #[inline]
    pub fn output<A: Activation<T>, const I: usize, const O: usize>(
        layer: &Dense<T, I, O>,
        unit: A,
        x: &SVector<T, I>,
    ) -> SVector<T, O> {
        layer.forward(x).map(|z| unit.f(z))
    }

    /// Presents one sample: applies the rule and returns whether the weights changed.
    pub fn update<A: Activation<T>, const I: usize, const O: usize>(
        &self,
        layer: &mut Dense<T, I, O>,
        unit: A,
        x: &SVector<T, I>,
        t: &SVector<T, O>,
    ) -> bool {
        let error = t - Self::output(layer, unit, x);
        if error.iter().all(|e| *e == T::zero()) {
            return false;
        }
        layer.weight.ger(self.lr, &error, x, T::one());
        layer.bias.axpy(self.lr, &error, T::one());
        true
    }

    /// Passes over `data` in order until one changes nothing, or `max_epochs` passes.
    pub fn fit<A: Activation<T>, const I: usize, const O: usize>(
        &self,
        layer: &mut Dense<T, I, O>,
        unit: A,
        data: &[(SVector<T, I>, SVector<T, O>)],
    ) -> PerceptronReport {
        let mut report = PerceptronReport { epochs: 0, updates: 0, errors: 0, converged: false };
        while report.epochs < self.max_epochs {
            report.epochs += 1;
            report.errors = data.iter().filter(|(x, t)| self.update(layer, unit, x, t)).count();
            report.updates += report.errors;
            if report.errors == 0 {
                report.converged = true;
                break;
            }
        }
        report
    }
}

/// Hebb's rule, "cells that fire together wire together": a weight grows with the product of the activity on
/// its two ends. The lecture's forms, for input pattern `p` and bias as the weight of a constant input 1:
///
/// - supervised, [`Hebb::supervised`]: `W <- W + lr t p^T`, `b <- b + lr t` (the target drives the output);
/// - simplified (unsupervised), [`Hebb::unsupervised`]: `W <- W + lr a p^T`, `b <- b + lr a`, with the layer's
///   own output `a = f(W p + b)`.
///
/// One supervised pass over orthonormal patterns makes the layer a perfect linear associator (`W p_q = t_q`);
/// with bipolar patterns and [`Sign`](crate::activation::Sign) units it learns AND from one pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hebb<T> {
    /// The learning rate `alpha` (the supervised form in the notes uses 1).
    pub lr: T,
}

impl<T: Float> Hebb<T> {
    /// The rule with learning rate `lr`.
    pub const fn new(lr: T) -> Self {
        Self { lr }
    }

    /// One supervised step on pattern `p` with target `t`.
    pub fn supervised<const I: usize, const O: usize>(
        &self,
        layer: &mut Dense<T, I, O>,
        p: &SVector<T, I>,
        t: &SVector<T, O>,
    ) {
        layer.weight.ger(self.lr, t, p, T::one());
        layer.bias.axpy(self.lr, t, T::one());
    }

    /// One unsupervised step on pattern `p`: the layer's output `a = f(W p + b)` takes the target's place.
    /// Returns that output.
    pub fn unsupervised<A: Activation<T>, const I: usize, const O: usize>(
        &self,
        layer: &mut Dense<T, I, O>,
        unit: A,
        p: &SVector<T, I>,
    ) -> SVector<T, O> {
        let a = Perceptron::output(layer, unit, p);
        self.supervised(layer, p, &a);
        a
    }

    /// One supervised pass over `data`, in order.
    pub fn fit<const I: usize, const O: usize>(
        &self,
        layer: &mut Dense<T, I, O>,
        data: &[(SVector<T, I>, SVector<T, O>)],
    ) {
        for (p, t) in data {
            self.supervised(layer, p, t);
        }
    }
}

/// A restricted Boltzmann machine with `V` binary visible units and `H` binary hidden units: the energy
/// `E(v, h) = -b^T v - c^T h - h^T W v` and `p(v, h) = e^(-E(v, h)) / Z`, so that, units of one layer being
/// independent given the other, `p(h_j = 1 | v) = sigmoid(c_j + W_j v)` and `p(v_i = 1 | h) = sigmoid(b_i + W^T_i h)`.
///
/// Trained by contrastive divergence ([`Rbm::contrastive_divergence`], CD-k): the weights move by the
/// correlations of the data minus those of the model after `k` Gibbs steps. `W` is `H x V`, the layout of a
/// `Dense` layer from `V` inputs to `H` outputs, so a trained machine initialises a network's layer directly
/// ([`Rbm::to_dense`]); stacking machines, each trained on the hidden probabilities of the one below, is the
/// greedy pre-training of a deep belief net.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Rbm<T, const V: usize, const H: usize>
where
    T: Float,
{
    /// `W`, `H x V`.
    pub weight: SMatrix<T, H, V>,
    /// `b`, the visible units' biases.
    pub visible_bias: SVector<T, V>,
    /// `c`, the hidden units' biases.
    pub hidden_bias: SVector<T, H>,
}

impl<T: Float, const V: usize, const H: usize> Rbm<T, V, H> {
    /// Weights from `N(0, 0.01^2)`, biases zero (Hinton's practical guide).
    pub fn init<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let normal = Normal::new(0.0, 0.01).expect("a valid standard deviation");
        for w in self.weight.as_mut_slice() {
            *w = T::from_f64(normal.sample(rng));
        }
        self.visible_bias.fill(T::zero());
        self.hidden_bias.fill(T::zero());
    }

    /// `p(h = 1 | v)` for a batch of visible vectors (columns).
    pub fn hidden_probabilities<const B: usize>(&self, v: &SMatrix<T, V, B>) -> SMatrix<T, H, B> {
        let mut h = SMatrix::<T, H, B>::from_fn(|r, _| self.hidden_bias[r]);
        kernel::gemm_acc(&self.weight, v, &mut h);
        h.map(sigmoid)
    }

    /// `p(v = 1 | h)` for a batch of hidden vectors (columns).
    pub fn visible_probabilities<const B: usize>(&self, h: &SMatrix<T, H, B>) -> SMatrix<T, V, B> {
        let mut v = kernel::gemm_tn(&self.weight, h);
        for col in v.column_iter_mut() {
            for (x, &b) in col.into_iter().zip(self.visible_bias.iter()) {
                *x = sigmoid(*x + b);
            }
        }
        v
    }

    /// The energy `E(v, h)` of one joint state.
    pub fn energy(&self, v: &SVector<T, V>, h: &SVector<T, H>) -> T {
        -(self.visible_bias.dot(v) + self.hidden_bias.dot(h) + h.dot(&(self.weight * v)))
    }

    /// One step of CD-k on a batch of visible vectors `v0` (columns, values in `[0, 1]`), with learning rate `lr`:
    /// `h0 ~ p(h | v0)`, then `k` Gibbs steps (`v_t = p(v | h_(t-1))` as probabilities, hidden states sampled
    /// except at the last step), and
    ///
    /// `W += lr / B (p(h | v0) v0^T - p(h | v_k) v_k^T)`, `b += lr / B sum(v0 - v_k)`,
    /// `c += lr / B sum(p(h | v0) - p(h | v_k))`.
    ///
    /// Returns the reconstruction error, the mean squared difference per visible unit between `v0` and the first
    /// reconstruction `p(v | h0)`, `h0` the sampled hidden states (the quantity that falls as the machine learns
    /// the data).
    pub fn contrastive_divergence<R: Rng + ?Sized, const B: usize>(
        &mut self,
        v0: &SMatrix<T, V, B>,
        k: usize,
        lr: T,
        rng: &mut R,
    ) -> T {
        let h0 = self.hidden_probabilities(v0);
        let sample = |p: &SMatrix<T, H, B>, rng: &mut R| {
            p.map(|q| if rng.random::<f64>() < q.to_f64() { T::one() } else { T::zero() })
        };
        let mut h = sample(&h0, rng);
        let mut vk = self.visible_probabilities(&h);
        let error = (vk - v0).map(|d| d * d).sum() / T::from_f64((V * B).max(1) as f64);
        let mut hk = self.hidden_probabilities(&vk);
        for _ in 1..k.max(1) {
            h = sample(&hk, rng);
            vk = self.visible_probabilities(&h);
            hk = self.hidden_probabilities(&vk);
        }
        let scale = lr / T::from_f64(B.max(1) as f64);
        kernel::ger_acc(&(h0 * scale), v0, &mut self.weight);
        kernel::ger_acc(&(hk * -scale), &vk, &mut self.weight);
        for (b, row) in self.visible_bias.iter_mut().zip((v0 - vk).row_iter()) {
            *b += scale * row.sum();
        }
        for (c, row) in self.hidden_bias.iter_mut().zip((h0 - hk).row_iter()) {
            *c += scale * row.sum();
        }
        error
    }

    /// The layer `V -> H` with the machine's weights and hidden biases, to initialise a network (followed by
    /// `Sigmoid`, it computes `p(h = 1 | v)`).
    pub fn to_dense(&self) -> Dense<T, V, H> {
        Dense::new(self.weight, self.hidden_bias)
    }
}

impl<T: Float, const V: usize, const H: usize> Parameters<T> for Rbm<T, V, H> {
    const TENSORS: usize = 3;

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        match index {
            0 => Some(Tensor::matrix("weight", &self.weight)),
            1 => Some(Tensor::vector("visible_bias", &self.visible_bias)),
            2 => Some(Tensor::vector("hidden_bias", &self.hidden_bias)),
            _ => None,
        }
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        match index {
            0 => Some(TensorMut::matrix("weight", &mut self.weight)),
            1 => Some(TensorMut::vector("visible_bias", &mut self.visible_bias)),
            2 => Some(TensorMut::vector("hidden_bias", &mut self.hidden_bias)),
            _ => None,
        }
    }
}

/// How a run of associative recall ended ([`Hopfield::recall_async`], [`Hopfield::recall_sync`], [`Bam::recall`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// A state that no update changes: a stored pattern, or a spurious attractor.
    FixedPoint,
    /// Synchronous updates only: the state alternates between two states, each the other's image.
    TwoCycle,
    /// The step limit came first.
    Unsettled,
}

/// What a run of associative recall did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecallReport {
    /// Sweeps over all units (asynchronous), synchronous updates, or forward-backward rounds (BAM), including
    /// the last one, which changed nothing at a fixed point.
    pub steps: usize,
    /// Units that changed sign, over all steps.
    pub flips: usize,
    /// How the run ended.
    pub settled: Settled,
}

/// The sign of a bipolar unit's input `h`, keeping `current` on a tie: `+1` if `h > 0`, `-1` if `h < 0`.
#[inline]
fn sign_or_keep(h: f64, current: f64) -> f64 {
    if h > 0.0 {
        1.0
    } else if h < 0.0 {
        -1.0
    } else {
        current
    }
}

/// A random bipolar pattern, each component `+1` or `-1` with probability 1/2.
pub fn random_bipolar<R: Rng + ?Sized, const N: usize>(rng: &mut R) -> SVector<f64, N> {
    SVector::from_fn(|_, _| if rng.random::<bool>() { 1.0 } else { -1.0 })
}

/// A copy of `pattern` with exactly `count` distinct components, chosen at random, changed in sign (all of them
/// when `count >= N`).
pub fn flip_random<R: Rng + ?Sized, const N: usize>(
    pattern: &SVector<f64, N>,
    count: usize,
    rng: &mut R,
) -> SVector<f64, N> {
    let mut order: [usize; N] = core::array::from_fn(|i| i);
    let mut noisy = *pattern;
    for k in 0..count.min(N) {
        order.swap(k, rng.random_range(k..N));
        noisy[order[k]] = -noisy[order[k]];
    }
    noisy
}

/// A Hopfield network of `N` bipolar threshold units, every unit connected to every other: a content-addressable
/// memory that recalls a stored pattern from a corrupted copy by descending its energy.
///
/// States are `SVector<f64, N>` whose components are `+1` or `-1`. Patterns `p_1 .. p_Q` are stored by Hebb's
/// rule in Hopfield's (1982) form, `W = sum_q p_q p_q^T - Q I`: the outer products with the diagonal set to zero
/// (no self-connections), and no thresholds. The entries are integers, exact in `f64`, so a unit's input is
/// exactly zero when its terms cancel; the `1/N` that some texts put in front scales `W` and the energy but
/// changes no update. The matrix is boxed, so `N` in the hundreds does not weigh on the stack.
///
/// A unit's update is `s_i <- sign(h_i)` with input `h_i = sum_j W_ij s_j`; on a tie (`h_i = 0`) the unit keeps
/// its state. The energy `E(s) = -1/2 s^T W s` ([`Hopfield::energy`]) strictly falls at every update that changes
/// a unit (by `2 |h_i|`, `W` being symmetric with zero diagonal), so asynchronous recall, one unit at a time,
/// always ends at a fixed point ([`Hopfield::recall_async`]); synchronous recall, all units at once, ends at a
/// fixed point or a 2-cycle ([`Hopfield::recall_sync`]).
///
/// Random patterns are recalled reliably up to about `0.14 N` of them (Amit, Gutfreund and Sompolinsky's
/// `0.138 N`); beyond that the crosstalk between patterns swamps the signal and recall collapses.
///
/// ```
/// use nn_core::classic::{Hopfield, Settled};
/// use nn_core::{Vector, seeded_rng};
///
/// let a = Vector::from([1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0]);
/// let b = Vector::from([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0]);
/// let net = Hopfield::from_patterns(&[a, b]);
/// let mut s = a;
/// s[0] = -1.0; // one unit wrong
/// let start = net.energy(&s);
/// let report = net.recall_async(&mut s, &mut seeded_rng(1), 100);
/// assert_eq!((s, report.settled), (a, Settled::FixedPoint));
/// assert!(net.energy(&s) < start);
/// ```
#[cfg(feature = "alloc")]
#[derive(Clone, Debug, PartialEq)]
pub struct Hopfield<const N: usize> {
    weight: alloc::boxed::Box<SMatrix<f64, N, N>>,
    patterns: usize,
}

#[cfg(feature = "alloc")]
impl<const N: usize> Default for Hopfield<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "alloc")]
impl<const N: usize> Hopfield<N> {
    /// A network that stores nothing (all weights zero).
    pub fn new() -> Self {
        Self { weight: crate::boxed_zeroed(), patterns: 0 }
    }

    /// A network storing `patterns` (bipolar).
    pub fn from_patterns(patterns: &[SVector<f64, N>]) -> Self {
        let mut net = Self::new();
        for p in patterns {
            net.store(p);
        }
        net
    }

    /// Stores one more bipolar pattern: `W <- W + p p^T`, the diagonal kept at zero.
    pub fn store(&mut self, pattern: &SVector<f64, N>) {
        debug_assert!(pattern.iter().all(|x| x.abs() == 1.0), "a Hopfield pattern is bipolar (+1 or -1)");
        self.weight.ger(1.0, pattern, pattern, 1.0);
        self.weight.fill_diagonal(0.0);
        self.patterns += 1;
    }

    /// The weights `W`: symmetric, zero diagonal.
    pub fn weight(&self) -> &SMatrix<f64, N, N> {
        &self.weight
    }

    /// How many patterns have been stored.
    pub const fn patterns(&self) -> usize {
        self.patterns
    }

    /// The energy `E(s) = -1/2 s^T W s` of a state.
    #[inline]
    pub fn energy(&self, state: &SVector<f64, N>) -> f64 {
        -0.5 * state.dot(&(*self.weight * state))
    }

    /// The input `h_i = sum_j W_ij s_j` of unit `i`.
    #[inline]
    pub fn input(&self, state: &SVector<f64, N>, unit: usize) -> f64 {
        // W is symmetric: column i, contiguous in memory, is row i.
        let column = &self.weight.as_slice()[unit * N..(unit + 1) * N];
        column.iter().zip(state.as_slice()).map(|(w, s)| w * s).sum()
    }

    /// Updates unit `i` alone, `s_i <- sign(h_i)` (unchanged on a tie), and returns whether it changed.
    #[inline]
    pub fn update_unit(&self, state: &mut SVector<f64, N>, unit: usize) -> bool {
        let next = sign_or_keep(self.input(state, unit), state[unit]);
        let changed = next != state[unit];
        state[unit] = next;
        changed
    }

    /// Asynchronous recall: sweeps over the units, each sweep in a fresh random order drawn from `rng`,
    /// updating one unit at a time ([`Hopfield::update_unit`]), until a whole sweep changes nothing
    /// ([`Settled::FixedPoint`]) or after `max_sweeps` sweeps ([`Settled::Unsettled`]; with a symmetric `W` and zero
    /// diagonal this only happens when `max_sweeps` is too small). `state` ends as the recalled pattern.
    pub fn recall_async<R: Rng + ?Sized>(
        &self,
        state: &mut SVector<f64, N>,
        rng: &mut R,
        max_sweeps: usize,
    ) -> RecallReport {
        self.recall_async_observed(state, rng, max_sweeps, |_, _| {})
    }

    /// [`Hopfield::recall_async`], calling `observe(changed, state)` after every single-unit update.
    fn recall_async_observed<R: Rng + ?Sized>(
        &self,
        state: &mut SVector<f64, N>,
        rng: &mut R,
        max_sweeps: usize,
        mut observe: impl FnMut(bool, &SVector<f64, N>),
    ) -> RecallReport {
        let mut report = RecallReport { steps: 0, flips: 0, settled: Settled::Unsettled };
        let mut order: [usize; N] = core::array::from_fn(|i| i);
        while report.steps < max_sweeps {
            report.steps += 1;
            for k in (1..N).rev() {
                order.swap(k, rng.random_range(0..=k));
            }
            let mut flips = 0;
            for &unit in &order {
                let changed = self.update_unit(state, unit);
                flips += usize::from(changed);
                observe(changed, state);
            }
            report.flips += flips;
            if flips == 0 {
                report.settled = Settled::FixedPoint;
                break;
            }
        }
        report
    }

    /// Synchronous recall: every unit at once, `s <- sign(W s)` (a unit with zero input keeps its state), until
    /// the state stops changing ([`Settled::FixedPoint`]), comes back to the state of two steps before
    /// ([`Settled::TwoCycle`], `state` then holds the later of the two), or after `max_steps` updates
    /// ([`Settled::Unsettled`]; the energy argument allows no longer cycles, so only a too-small limit ends here).
    pub fn recall_sync(&self, state: &mut SVector<f64, N>, max_steps: usize) -> RecallReport {
        let mut report = RecallReport { steps: 0, flips: 0, settled: Settled::Unsettled };
        let mut before = *state;
        while report.steps < max_steps {
            report.steps += 1;
            let input = *self.weight * *state;
            let next = input.zip_map(state, sign_or_keep);
            let flips = next.iter().zip(state.iter()).filter(|(a, b)| a != b).count();
            report.flips += flips;
            if flips == 0 {
                report.settled = Settled::FixedPoint;
                break;
            }
            let cycle = report.steps > 1 && next == before;
            before = *state;
            *state = next;
            if cycle {
                report.settled = Settled::TwoCycle;
                break;
            }
        }
        report
    }
}

/// Kosko's bidirectional associative memory: two layers of bipolar units, `A` and `B` of them, joined by one
/// weight matrix used both ways, that stores pattern pairs `(x, y)` and recalls either member from the other, or
/// from a corrupted copy of it.
///
/// Pairs are stored by Hebb's rule, `W = sum_q x_q y_q^T` (`A x B`, integers, exact in `f64`; boxed). Recall
/// alternates a forward pass `y <- sign(W^T x)` and a backward pass `x <- sign(W y)` (a unit with zero input
/// keeps its state) until neither changes anything. The energy `E(x, y) = -x^T W y` ([`Bam::energy`]) strictly
/// falls with every pass that changes a unit, so recall always settles on a fixed point: a stored pair, or a
/// spurious one when too many pairs are stored.
#[cfg(feature = "alloc")]
#[derive(Clone, Debug, PartialEq)]
pub struct Bam<const A: usize, const B: usize> {
    weight: alloc::boxed::Box<SMatrix<f64, A, B>>,
    pairs: usize,
}

#[cfg(feature = "alloc")]
impl<const A: usize, const B: usize> Default for Bam<A, B> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "alloc")]
impl<const A: usize, const B: usize> Bam<A, B> {
    /// A memory that stores nothing (all weights zero).
    pub fn new() -> Self {
        Self { weight: crate::boxed_zeroed(), pairs: 0 }
    }

    /// A memory storing `pairs` (bipolar).
    pub fn from_pairs(pairs: &[(SVector<f64, A>, SVector<f64, B>)]) -> Self {
        let mut bam = Self::new();
        for (x, y) in pairs {
            bam.store(x, y);
        }
        bam
    }

    /// Stores one more bipolar pair: `W <- W + x y^T`.
    pub fn store(&mut self, x: &SVector<f64, A>, y: &SVector<f64, B>) {
        debug_assert!(x.iter().chain(y.iter()).all(|v| v.abs() == 1.0), "a BAM pair is bipolar (+1 or -1)");
        self.weight.ger(1.0, x, y, 1.0);
        self.pairs += 1;
    }

    /// The weights `W`, `A x B`.
    pub fn weight(&self) -> &SMatrix<f64, A, B> {
        &self.weight
    }

    /// How many pairs have been stored.
    pub const fn pairs(&self) -> usize {
        self.pairs
    }

    /// The energy `E(x, y) = -x^T W y` of a joint state.
    #[inline]
    pub fn energy(&self, x: &SVector<f64, A>, y: &SVector<f64, B>) -> f64 {
        -x.dot(&(*self.weight * y))
    }

    /// The forward pass `y <- sign(W^T x)`, ties keeping `y`'s value; returns how many units of `y` changed.
    pub fn forward(&self, x: &SVector<f64, A>, y: &mut SVector<f64, B>) -> usize {
        let next = self.weight.tr_mul(x).zip_map(y, sign_or_keep);
        let flips = next.iter().zip(y.iter()).filter(|(a, b)| a != b).count();
        *y = next;
        flips
    }

    /// The backward pass `x <- sign(W y)`, ties keeping `x`'s value; returns how many units of `x` changed.
    pub fn backward(&self, y: &SVector<f64, B>, x: &mut SVector<f64, A>) -> usize {
        let next = (*self.weight * y).zip_map(x, sign_or_keep);
        let flips = next.iter().zip(x.iter()).filter(|(a, b)| a != b).count();
        *x = next;
        flips
    }

    /// Recall from the joint state `(x, y)`: rounds of a forward then a backward pass until a round changes
    /// nothing ([`Settled::FixedPoint`]) or after `max_rounds` rounds ([`Settled::Unsettled`]).
    pub fn recall(&self, x: &mut SVector<f64, A>, y: &mut SVector<f64, B>, max_rounds: usize) -> RecallReport {
        let mut report = RecallReport { steps: 0, flips: 0, settled: Settled::Unsettled };
        while report.steps < max_rounds {
            report.steps += 1;
            let flips = self.forward(x, y) + self.backward(y, x);
            report.flips += flips;
            if flips == 0 {
                report.settled = Settled::FixedPoint;
                break;
            }
        }
        report
    }

    /// Recall of a pair from `x` alone (possibly noisy): `y` starts at all `+1` (so a unit of `y` with zero
    /// input comes out `+1`), then [`Bam::recall`]. Returns the recalled pair and the report.
    pub fn recall_from_x(
        &self,
        x: &SVector<f64, A>,
        max_rounds: usize,
    ) -> (SVector<f64, A>, SVector<f64, B>, RecallReport) {
        let (mut x, mut y) = (*x, SVector::repeat(1.0));
        let report = self.recall(&mut x, &mut y, max_rounds);
        (x, y, report)
    }

    /// Recall of a pair from `y` alone (possibly noisy): `x` starts at `sign(W y)`, a unit with zero input at
    /// `+1`, then [`Bam::recall`]. Returns the recalled pair and the report.
    pub fn recall_from_y(
        &self,
        y: &SVector<f64, B>,
        max_rounds: usize,
    ) -> (SVector<f64, A>, SVector<f64, B>, RecallReport) {
        let (mut x, mut y) = (SVector::repeat(1.0), *y);
        self.backward(&y, &mut x);
        let report = self.recall(&mut x, &mut y, max_rounds);
        (x, y, report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Sign, Step};
    use nalgebra::{SMatrix, vector};

    type Data = [(SVector<f64, 2>, SVector<f64, 1>); 4];

    /// A truth table on {0, 1}.
    fn table(f: impl Fn(bool, bool) -> bool) -> Data {
        [(0, 0), (0, 1), (1, 0), (1, 1)].map(|(a, b)| {
            let t = if f(a == 1, b == 1) { 1.0 } else { 0.0 };
            (vector![f64::from(a), f64::from(b)], vector![t])
        })
    }

    fn zero_unit() -> Dense<f64, 2, 1> {
        Dense::new(SMatrix::zeros(), SVector::zeros())
    }

    fn classifies(unit: &Dense<f64, 2, 1>, data: &Data) -> bool {
        data.iter().all(|(x, t)| Perceptron::output(unit, Step::default(), x) == *t)
    }

    #[test]
    fn perceptron_learns_and_and_or_in_a_finite_number_of_updates() {
        let rule = Perceptron::new(1.0, 100);
        let and = table(|a, b| a && b);
        let mut unit = zero_unit();
        let report = rule.fit(&mut unit, Step::default(), &and);
        assert!(report.converged && classifies(&unit, &and), "{report:?}");
        // From zero weights, samples in table order (the step's 1/2 at zero makes half-size corrections): the
        // sixth pass is the first without a change, after 11 updates, at w = (2, 1), b = -2.5.
        assert_eq!((report.epochs, report.updates), (6, 11));
        assert_eq!((unit.weight[0], unit.weight[1], unit.bias[0]), (2.0, 1.0, -2.5));

        let or = table(|a, b| a || b);
        let mut unit = zero_unit();
        let report = rule.fit(&mut unit, Step::default(), &or);
        assert!(report.converged && classifies(&unit, &or), "{report:?}");
        assert_eq!((report.epochs, report.updates), (4, 5));
        assert_eq!((unit.weight[0], unit.weight[1], unit.bias[0]), (1.0, 1.0, -0.5));
    }

    #[test]
    fn perceptron_never_settles_on_xor() {
        let xor = table(|a, b| a != b);
        let mut unit = zero_unit();
        let report = Perceptron::new(1.0, 1000).fit(&mut unit, Step::default(), &xor);
        assert!(!report.converged);
        assert_eq!(report.epochs, 1000);
        assert!(report.errors > 0 && !classifies(&unit, &xor));
        // Every pass changes the weights: no line separates the two classes.
        assert!(report.updates >= 1000, "{report:?}");
    }

    #[test]
    fn hebb_learns_bipolar_and_in_one_pass() {
        // The bipolar AND of the textbook Hebb net: one pass gives w = (2, 2), b = -2.
        let data = [(-1.0, -1.0, -1.0), (-1.0, 1.0, -1.0), (1.0, -1.0, -1.0), (1.0, 1.0, 1.0)]
            .map(|(a, b, t)| (vector![a, b], vector![t]));
        let mut unit = zero_unit();
        Hebb::new(1.0).fit(&mut unit, &data);
        assert_eq!((unit.weight[0], unit.weight[1], unit.bias[0]), (2.0, 2.0, -2.0));
        assert!(data.iter().all(|(x, t)| Perceptron::output(&unit, Sign::default(), x) == *t));
    }

    #[test]
    fn hebb_on_orthonormal_patterns_is_a_perfect_linear_associator() {
        let s = core::f64::consts::FRAC_1_SQRT_2;
        let patterns = [vector![s, s, 0.0, 0.0], vector![s, -s, 0.0, 0.0], vector![0.0, 0.0, 1.0, 0.0]];
        let targets = [vector![1.0, -2.0], vector![0.5, 3.0], vector![-1.0, 0.25]];
        let data: [(SVector<f64, 4>, SVector<f64, 2>); 3] = core::array::from_fn(|q| (patterns[q], targets[q]));
        // The matrix form W = sum_q t_q p_q^T, bias unused (a linear associator has none).
        let mut layer = Dense::<f64, 4, 2>::new(SMatrix::zeros(), SVector::zeros());
        Hebb::new(1.0).fit(&mut layer, &data);
        for (p, t) in &data {
            assert!((layer.weight * p - t).abs().max() < 1e-15, "{p} -> {}", layer.weight * p);
        }
    }

    #[test]
    fn unsupervised_hebb_reinforces_what_the_unit_already_does() {
        let mut unit = Dense::<f64, 2, 1>::new(SMatrix::from_row_slice(&[0.5, -0.25]), vector![0.0]);
        let a = Hebb::new(0.1).unsupervised(&mut unit, Sign::default(), &vector![1.0, 1.0]);
        assert_eq!(a, vector![1.0]);
        assert_eq!((unit.weight[0], unit.weight[1], unit.bias[0]), (0.6, -0.15, 0.1));
    }

    /// Every state of a 3-visible, 2-hidden machine, by brute force from the energy.
    #[test]
    fn rbm_conditionals_follow_from_the_energy() {
        let rbm = Rbm::<f64, 3, 2> {
            weight: SMatrix::from_row_slice(&[0.5, -1.0, 0.25, 1.5, 0.75, -0.5]),
            visible_bias: vector![0.1, -0.2, 0.3],
            hidden_bias: vector![-0.4, 0.6],
        };
        let bits = |n: usize, len: usize| (0..len).map(move |i| f64::from(((n >> i) & 1) as u8));
        for vn in 0..8 {
            let v = SVector::<f64, 3>::from_iterator(bits(vn, 3));
            // p(h_j = 1 | v) = sum over h with h_j = 1 of e^-E, over the sum over all h.
            let weights: std::vec::Vec<(SVector<f64, 2>, f64)> = (0..4)
                .map(|hn| {
                    let h = SVector::<f64, 2>::from_iterator(bits(hn, 2));
                    (h, (-rbm.energy(&v, &h)).exp())
                })
                .collect();
            let z: f64 = weights.iter().map(|(_, w)| w).sum();
            let p = rbm.hidden_probabilities::<1>(&v);
            for j in 0..2 {
                let exact = weights.iter().filter(|(h, _)| h[j] == 1.0).map(|(_, w)| w).sum::<f64>() / z;
                assert!((p[j] - exact).abs() < 1e-12, "p(h{j} | v = {vn}) = {} vs {exact}", p[j]);
            }
        }
        let h = vector![1.0, 0.0];
        let pv = rbm.visible_probabilities::<1>(&h);
        assert!((pv[1] - sigmoid(-0.2 - 1.0)).abs() < 1e-15);
    }

    #[test]
    fn contrastive_divergence_learns_bars_and_stripes() {
        // 3x3 images that are all vertical bars or all horizontal stripes: 14 patterns (both blank and full
        // count once in each family).
        let mut patterns: std::vec::Vec<SVector<f64, 9>> = std::vec::Vec::new();
        for n in 0..8usize {
            let on = |i: usize| (n >> i) & 1 == 1;
            patterns.push(SVector::from_fn(|p, _| f64::from(u8::from(on(p % 3)))));
            patterns.push(SVector::from_fn(|p, _| f64::from(u8::from(on(p / 3)))));
        }
        patterns.dedup();
        let batch = SMatrix::<f64, 9, 16>::from_fn(|r, c| patterns[c % patterns.len()][r]);
        let mut rng = <rand::rngs::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(3);
        let mut rbm: Rbm<f64, 9, 12> = bytemuck::Zeroable::zeroed();
        rbm.init(&mut rng);
        let errors: std::vec::Vec<f64> =
            (0..3000).map(|_| rbm.contrastive_divergence(&batch, 1, 0.1, &mut rng)).collect();
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        let (first, last) = (mean(&errors[..100]), mean(&errors[2900..]));
        assert!(first > 0.2 && last < 0.25 * first, "reconstruction error {first} -> {last}");
        // Deterministic reconstructions through the hidden probabilities come back to the pattern.
        let recon = rbm.visible_probabilities(&rbm.hidden_probabilities(&batch));
        let wrong = recon.iter().zip(batch.iter()).filter(|(r, v)| (*r - *v).abs() > 0.5).count();
        assert!(wrong <= 4, "{wrong} of {} pixels reconstructed on the wrong side of 1/2", 9 * 16);
        assert_eq!(rbm.to_dense().weight, rbm.weight);
        let names: std::vec::Vec<_> = (0..3).filter_map(|i| rbm.tensor(i)).map(|t| t.name.tensor).collect();
        assert_eq!(names, ["weight", "visible_bias", "hidden_bias"]);
    }

    fn rng(seed: u64) -> rand::rngs::ChaCha8Rng {
        <rand::rngs::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed)
    }

    #[test]
    fn hopfield_energy_never_rises_over_a_thousand_asynchronous_runs() {
        const N: usize = 50;
        let mut rng = rng(11);
        let (mut updates, mut flips) = (0usize, 0usize);
        let mut net = Hopfield::<N>::new();
        for run in 0..1000 {
            // Four runs from random states on each network of 1 to N / 5 random patterns.
            if run % 4 == 0 {
                let stored: std::vec::Vec<SVector<f64, N>> =
                    (0..rng.random_range(1..=N / 5)).map(|_| random_bipolar(&mut rng)).collect();
                net = Hopfield::from_patterns(&stored);
            }
            let mut state = random_bipolar::<_, N>(&mut rng);
            // The inputs h = W s, kept up to date by the test (a flip of unit i adds 2 s_i W_:i) so that the
            // energy -1/2 s^T h costs N operations after each update, not N^2; the entries are integers, so all
            // of this is exact and checked against `energy` at both ends of the run.
            let mut h = *net.weight() * state;
            let mut energy = -0.5 * state.dot(&h);
            assert_eq!(energy, net.energy(&state));
            let mut previous = state;
            let w = net.weight().as_slice();
            let report = net.recall_async_observed(&mut state, &mut rng, 100, |changed, s| {
                updates += 1;
                let (s, h, before) = (s.as_slice(), h.as_mut_slice(), previous.as_mut_slice());
                for i in 0..N {
                    if s[i] != before[i] {
                        let step = s[i] - before[i];
                        for (h, w) in h.iter_mut().zip(&w[i * N..(i + 1) * N]) {
                            *h += step * w;
                        }
                    }
                }
                let e = -0.5 * s.iter().zip(h.iter()).map(|(s, h)| s * h).sum::<f64>();
                if changed {
                    // A changed unit lowers the energy strictly.
                    assert!(e < energy, "run {run}: energy {energy} -> {e}");
                    flips += 1;
                } else {
                    assert!(e == energy && s == before, "run {run}: energy {energy} -> {e}");
                }
                energy = e;
                before.copy_from_slice(s);
            });
            assert_eq!(report.settled, Settled::FixedPoint, "run {run}: {report:?}");
            assert_eq!(net.energy(&state), energy);
            // A fixed point: no unit's input disagrees with its state.
            assert!((0..N).all(|i| net.input(&state, i) * state[i] >= 0.0));
        }
        assert!(flips > 10_000 && updates > 100_000, "{flips} flips in {updates} updates");
    }

    /// The fraction of stored patterns recalled exactly, asynchronously, from copies with 20% of their bits
    /// flipped, over `trials` networks of `stored` random patterns each.
    fn recall_rate(stored: usize, trials: usize, seed: u64) -> f64 {
        const N: usize = 100;
        let mut rng = rng(seed);
        let mut recalled = 0;
        for _ in 0..trials {
            let patterns: std::vec::Vec<SVector<f64, N>> = (0..stored).map(|_| random_bipolar(&mut rng)).collect();
            let net = Hopfield::from_patterns(&patterns);
            for p in &patterns {
                let mut s = flip_random(p, N / 5, &mut rng);
                net.recall_async(&mut s, &mut rng, 50);
                recalled += usize::from(s == *p);
            }
        }
        recalled as f64 / (stored * trials) as f64
    }

    #[test]
    fn hopfield_recalls_below_capacity_and_fails_past_it() {
        let (low, high) = (recall_rate(5, 30, 1), recall_rate(25, 5, 2));
        assert!(low > 0.95, "recall at 0.05 N: {low}");
        assert!(high < 0.5, "recall at 0.25 N: {high}");
    }

    #[test]
    fn synchronous_recall_reaches_a_fixed_point_or_a_two_cycle() {
        // One stored pattern (1, -1): W = [[0, -1], [-1, 0]]. From (1, 1) both units flip together, forever.
        let net = Hopfield::<2>::from_patterns(&[vector![1.0, -1.0]]);
        assert_eq!(*net.weight(), SMatrix::<f64, 2, 2>::from_row_slice(&[0.0, -1.0, -1.0, 0.0]));
        let mut s = vector![1.0, 1.0];
        let report = net.recall_sync(&mut s, 10);
        assert_eq!(report, RecallReport { steps: 2, flips: 4, settled: Settled::TwoCycle });
        assert_eq!(s, vector![1.0, 1.0]);
        // One unit at a time, the same start falls into a stored state (the pattern or its mirror image).
        let mut s = vector![1.0, 1.0];
        let report = net.recall_async(&mut s, &mut rng(0), 10);
        assert_eq!((report.settled, report.flips), (Settled::FixedPoint, 1));
        assert!(s == vector![1.0, -1.0] || s == vector![-1.0, 1.0]);
        // Ties keep the state: with nothing stored every state is a fixed point.
        let mut s = vector![-1.0, 1.0];
        assert_eq!(Hopfield::<2>::new().recall_sync(&mut s, 10).settled, Settled::FixedPoint);
        assert_eq!(s, vector![-1.0, 1.0]);

        // At low load synchronous recall cleans up noisy patterns too.
        const N: usize = 100;
        let mut rng = rng(5);
        let patterns: std::vec::Vec<SVector<f64, N>> = (0..4).map(|_| random_bipolar(&mut rng)).collect();
        let net = Hopfield::from_patterns(&patterns);
        assert_eq!(net.patterns(), 4);
        for p in &patterns {
            let mut s = flip_random(p, 10, &mut rng);
            assert_eq!(net.recall_sync(&mut s, 20).settled, Settled::FixedPoint);
            assert_eq!(s, *p);
        }
    }

    #[test]
    fn flip_random_flips_exactly_that_many_bits() {
        let mut rng = rng(4);
        let p = random_bipolar::<_, 64>(&mut rng);
        for count in [0, 1, 13, 64, 100] {
            let q = flip_random(&p, count, &mut rng);
            assert_eq!(p.iter().zip(q.iter()).filter(|(a, b)| a != b).count(), count.min(64));
        }
    }

    #[test]
    fn bam_recalls_stored_pairs_from_a_noisy_x() {
        const A: usize = 80;
        const B: usize = 40;
        let mut rng = rng(8);
        let pairs: std::vec::Vec<(SVector<f64, A>, SVector<f64, B>)> =
            (0..4).map(|_| (random_bipolar(&mut rng), random_bipolar(&mut rng))).collect();
        let bam = Bam::from_pairs(&pairs);
        assert_eq!(bam.pairs(), 4);
        assert_eq!(bam.weight()[(3, 5)], pairs.iter().map(|(x, y)| x[3] * y[5]).sum::<f64>());
        for (x, y) in &pairs {
            let noisy = flip_random(x, A / 10, &mut rng);
            let (rx, ry, report) = bam.recall_from_x(&noisy, 20);
            assert_eq!(report.settled, Settled::FixedPoint);
            assert_eq!((&rx, &ry), (x, y));
            // The stored pair sits lower in energy than where recall started.
            assert!(bam.energy(&rx, &ry) < bam.energy(&noisy, &bam.weight().tr_mul(&noisy).map(|h| h.signum())));
            let (rx, ry, _) = bam.recall_from_y(&flip_random(y, B / 10, &mut rng), 20);
            assert_eq!((&rx, &ry), (x, y));
        }
        // Each pass that changes a unit lowers the energy.
        let (mut x, mut y) = (random_bipolar::<_, A>(&mut rng), random_bipolar::<_, B>(&mut rng));
        let mut energy = bam.energy(&x, &y);
        for _ in 0..10 {
            for half in 0..2 {
                let flips = if half == 0 { bam.forward(&x, &mut y) } else { bam.backward(&y, &mut x) };
                let e = bam.energy(&x, &y);
                assert!(if flips > 0 { e < energy } else { e == energy }, "{energy} -> {e}");
                energy = e;
            }
        }
    }
}
