//! The learning rules the course starts from, before backpropagation: Rosenblatt's perceptron rule and Hebb's
//! rule. Both train one dense layer of threshold units ([`Step`](crate::activation::Step) or
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

use crate::activation::Activation;
use crate::float::Float;
use crate::layer::Dense;
use nalgebra::SVector;

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
}
