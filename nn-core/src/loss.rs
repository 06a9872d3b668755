//! Loss functions: a value and its gradient with respect to the network's output.
//!
//! Prediction and target are the same [`Buffer`] type, so a target of the wrong shape is a compile error at the
//! call site. Every loss is finite for any finite input (no `NaN` or infinity from logits of magnitude 1000).

use crate::activation::sigmoid;
use crate::float::{Float, lit};
use crate::network::Buffer;

/// A loss `L(y, t)` of a prediction `y` against a target `t`, with its gradient dL/dy.
pub trait Loss<T: Float> {
    /// The loss value.
    fn value<B: Buffer<T>>(&self, y: &B, target: &B) -> T;

    /// The gradient dL/dy.
    fn gradient<B: Buffer<T>>(&self, y: &B, target: &B) -> B;

    /// Both at once (a loss may share work between them).
    fn value_and_gradient<B: Buffer<T>>(&self, y: &B, target: &B) -> (T, B) {
        (self.value(y, target), self.gradient(y, target))
    }
}

/// Half the sum of squared errors, `1/2 sum (t - y)^2`, as the lectures write `E_total`; gradient `y - t`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HalfSquaredError;

impl<T: Float> Loss<T> for HalfSquaredError {
    fn value<B: Buffer<T>>(&self, y: &B, target: &B) -> T {
        let half = lit::<T>(0.5);
        y.as_slice().iter().zip(target.as_slice()).fold(T::zero(), |acc, (&y, &t)| acc + half * (t - y) * (t - y))
    }

    fn gradient<B: Buffer<T>>(&self, y: &B, target: &B) -> B {
        let mut g = y.clone();
        for (g, &t) in g.as_mut_slice().iter_mut().zip(target.as_slice()) {
            *g -= t;
        }
        g
    }
}

/// Mean squared error, `1/n sum (y - t)^2` (PyTorch's `MSELoss` with `reduction="mean"`); gradient
/// `2 (y - t) / n`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeanSquaredError;

impl<T: Float> Loss<T> for MeanSquaredError {
    fn value<B: Buffer<T>>(&self, y: &B, target: &B) -> T {
        let n = y.as_slice().len();
        if n == 0 {
            return T::zero();
        }
        let sum = y.as_slice().iter().zip(target.as_slice()).fold(T::zero(), |acc, (&y, &t)| acc + (y - t) * (y - t));
        sum / lit(n as f64)
    }

    fn gradient<B: Buffer<T>>(&self, y: &B, target: &B) -> B {
        let scale = lit::<T>(2.0 / y.as_slice().len().max(1) as f64);
        let mut g = y.clone();
        for (g, &t) in g.as_mut_slice().iter_mut().zip(target.as_slice()) {
            *g = (*g - t) * scale;
        }
        g
    }
}

/// Softmax followed by cross-entropy, fused: the prediction is a vector of logits `z`, the target a
/// probability vector `t` (usually one-hot).
///
/// `L = sum_i t_i (logsumexp(z) - z_i)` with the maximum subtracted inside the log-sum-exp, so no logit
/// overflows; gradient `softmax(z) * sum(t) - t` (that is `softmax(z) - t` for a distribution). Equals
/// PyTorch's `CrossEntropyLoss` on one sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SoftmaxCrossEntropy;

/// `ln sum_i e^(z_i)`, computed stably; `-inf` for an empty slice.
pub fn log_sum_exp<T: Float>(z: &[T]) -> T {
    let Some(max) = z.iter().copied().reduce(Float::max) else {
        return -T::one() / T::zero();
    };
    let sum = z.iter().fold(T::zero(), |acc, &v| acc + (v - max).exp());
    max + sum.ln()
}

impl<T: Float> Loss<T> for SoftmaxCrossEntropy {
    fn value<B: Buffer<T>>(&self, y: &B, target: &B) -> T {
        let lse = log_sum_exp(y.as_slice());
        y.as_slice().iter().zip(target.as_slice()).fold(T::zero(), |acc, (&z, &t)| acc + t * (lse - z))
    }

    fn gradient<B: Buffer<T>>(&self, y: &B, target: &B) -> B {
        let lse = log_sum_exp(y.as_slice());
        let total = target.as_slice().iter().fold(T::zero(), |acc, &t| acc + t);
        let mut g = y.clone();
        for (g, &t) in g.as_mut_slice().iter_mut().zip(target.as_slice()) {
            *g = (*g - lse).exp() * total - t;
        }
        g
    }
}

/// Binary cross-entropy on logits, averaged over the outputs (PyTorch's `BCEWithLogitsLoss`).
///
/// Per output: `max(z, 0) - z t + ln(1 + e^-|z|)`, which equals `-t ln sigmoid(z) - (1 - t) ln(1 - sigmoid(z))`
/// without ever taking the log of zero; gradient `(sigmoid(z) - t) / n`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BinaryCrossEntropyWithLogits;

impl<T: Float> Loss<T> for BinaryCrossEntropyWithLogits {
    fn value<B: Buffer<T>>(&self, y: &B, target: &B) -> T {
        let n = y.as_slice().len();
        if n == 0 {
            return T::zero();
        }
        let sum = y
            .as_slice()
            .iter()
            .zip(target.as_slice())
            .fold(T::zero(), |acc, (&z, &t)| acc + z.max(T::zero()) - z * t + (-z.abs()).exp().ln_1p());
        sum / lit(n as f64)
    }

    fn gradient<B: Buffer<T>>(&self, y: &B, target: &B) -> B {
        let scale = lit::<T>(1.0 / y.as_slice().len().max(1) as f64);
        let mut g = y.clone();
        for (g, &t) in g.as_mut_slice().iter_mut().zip(target.as_slice()) {
            *g = (sigmoid(*g) - t) * scale;
        }
        g
    }
}
