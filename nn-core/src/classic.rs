//! The learning rules the course starts from, before backpropagation: Rosenblatt's perceptron rule, Hebb's rule,
//! and the restricted Boltzmann machine whose greedy layer-wise training pre-trained the first deep networks
//! ([`Rbm`]). The first two train one dense layer of threshold units ([`Step`](crate::activation::Step) or
//! [`Sign`](crate::activation::Sign)) directly from each sample, without gradients: a step unit's derivative is
//! zero wherever it exists, so gradient descent could not move it.
//!
//! A layer declared with `network!` (`input: 2, unit: Dense(1), Step`) is a public field of the generated struct,
//! so these rules train it in place (`Perceptron::new(1.0, 100).fit(&mut net.unit, Step, &data)`) and the network
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
//! let report = Perceptron::new(1.0, 100).fit(&mut unit, Step, &and);
//! assert!(report.converged);
//! assert!(and.iter().all(|(x, t)| Perceptron::<f64>::output(&unit, Step, x) == *t));
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
        data.iter().all(|(x, t)| Perceptron::output(unit, Step, x) == *t)
    }

    #[test]
    fn perceptron_learns_and_and_or_in_a_finite_number_of_updates() {
        let rule = Perceptron::new(1.0, 100);
        let and = table(|a, b| a && b);
        let mut unit = zero_unit();
        let report = rule.fit(&mut unit, Step, &and);
        assert!(report.converged && classifies(&unit, &and), "{report:?}");
        // From zero weights, samples in table order (the step's 1/2 at zero makes half-size corrections): the
        // sixth pass is the first without a change, after 11 updates, at w = (2, 1), b = -2.5.
        assert_eq!((report.epochs, report.updates), (6, 11));
        assert_eq!((unit.weight[0], unit.weight[1], unit.bias[0]), (2.0, 1.0, -2.5));

        let or = table(|a, b| a || b);
        let mut unit = zero_unit();
        let report = rule.fit(&mut unit, Step, &or);
        assert!(report.converged && classifies(&unit, &or), "{report:?}");
        assert_eq!((report.epochs, report.updates), (4, 5));
        assert_eq!((unit.weight[0], unit.weight[1], unit.bias[0]), (1.0, 1.0, -0.5));
    }

    #[test]
    fn perceptron_never_settles_on_xor() {
        let xor = table(|a, b| a != b);
        let mut unit = zero_unit();
        let report = Perceptron::new(1.0, 1000).fit(&mut unit, Step, &xor);
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
        assert!(data.iter().all(|(x, t)| Perceptron::output(&unit, Sign, x) == *t));
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
        let a = Hebb::new(0.1).unsupervised(&mut unit, Sign, &vector![1.0, 1.0]);
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
}
