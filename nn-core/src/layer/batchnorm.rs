//! Batch normalisation: each of `N` channels is normalised over the batch (columns) and, for convolution outputs,
//! over the positions of its plane, then scaled and shifted by learnable `gamma` and `beta`.
//!
//! A column holds `F = N * P` values, channel-major (`P` positions per channel; `P = 1` for dense features), so
//! the same layer is PyTorch's `BatchNorm1d` on vectors and `BatchNorm2d` on channel-major planes.
//!
//! Training uses the batch's mean and (biased) variance and keeps running averages of the mean and the unbiased
//! variance with momentum 0.1; inference uses the running averages. Names and defaults follow PyTorch's
//! `BatchNorm1d`: `weight` (gamma), `bias` (beta), `running_mean`, `running_var`, `eps = 1e-5`.

use crate::float::{Float, lit};
use crate::layer::contract::{Layer, Sink, Stream};
use crate::params::{Parameters, Tensor, TensorMut};
use nalgebra::{SMatrix, SVector};
use nn_shapes::BATCH_NORM_TENSORS;
use rand::Rng;

/// The variance floor added before the square root.
pub const EPS: f64 = 1e-5;

/// The weight of a new batch in the running statistics.
pub const MOMENTUM: f64 = 0.1;

/// Batch normalisation over `N` features.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct BatchNorm<T, const N: usize>
where
    T: Float,
{
    /// Scale `gamma`, one per feature (PyTorch's `weight`).
    pub weight: SVector<T, N>,
    /// Shift `beta`, one per feature (PyTorch's `bias`).
    pub bias: SVector<T, N>,
    /// Running mean used at inference.
    pub running_mean: SVector<T, N>,
    /// Running (unbiased) variance used at inference.
    pub running_var: SVector<T, N>,
}

/// What the training forward keeps: the normalised input and `1 / sqrt(var + eps)` per channel, and the batch
/// statistics for the running averages.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct BatchNormCache<T, const N: usize, const F: usize, const B: usize>
where
    T: Float,
{
    /// `(x - mean) / sqrt(var + eps)`.
    pub normalised: SMatrix<T, F, B>,
    /// `1 / sqrt(var + eps)` per feature.
    pub inv_std: SVector<T, N>,
    /// The batch mean per feature.
    pub mean: SVector<T, N>,
    /// The batch's biased variance per feature.
    pub var: SVector<T, N>,
}

impl<T: Float, const N: usize> BatchNorm<T, N> {
    /// A layer built from its parameters and running statistics (a `const fn`, for weights compiled in).
    pub const fn new(
        weight: SVector<T, N>,
        bias: SVector<T, N>,
        running_mean: SVector<T, N>,
        running_var: SVector<T, N>,
    ) -> Self {
        Self { weight, bias, running_mean, running_var }
    }

    /// The initial state: `gamma = 1`, `beta = 0`, running mean 0, running variance 1.
    pub fn reset(&mut self) {
        self.weight.fill(T::one());
        self.bias.fill(T::zero());
        self.running_mean.fill(T::zero());
        self.running_var.fill(T::one());
    }

    /// Inference: normalise with the running statistics. `F = N * P` values per sample.
    #[inline]
    pub fn forward<const F: usize, const B: usize>(&self, x: &SMatrix<T, F, B>) -> SMatrix<T, F, B> {
        let p = (F / N.max(1)).max(1);
        let mut y = *x;
        for c in 0..N {
            let scale = self.weight[c] / (self.running_var[c] + lit(EPS)).sqrt();
            let shift = self.bias[c] - self.running_mean[c] * scale;
            for b in 0..B {
                for r in c * p..(c + 1) * p {
                    y[(r, b)] = x[(r, b)] * scale + shift;
                }
            }
        }
        y
    }

    /// Training forward: normalise with the batch's own statistics (over samples and positions).
    #[inline]
    pub fn forward_train<const F: usize, const B: usize>(
        &self,
        x: &SMatrix<T, F, B>,
    ) -> (SMatrix<T, F, B>, BatchNormCache<T, N, F, B>) {
        let p = (F / N.max(1)).max(1);
        let inv_n = lit::<T>(1.0 / (B * p).max(1) as f64);
        let mut cache =
            BatchNormCache { normalised: *x, inv_std: SVector::zeros(), mean: SVector::zeros(), var: SVector::zeros() };
        let mut y = *x;
        for c in 0..N {
            let rows = c * p..(c + 1) * p;
            let mut sum = T::zero();
            for b in 0..B {
                for r in rows.clone() {
                    sum += x[(r, b)];
                }
            }
            let mean = sum * inv_n;
            let mut sq = T::zero();
            for b in 0..B {
                for r in rows.clone() {
                    sq += (x[(r, b)] - mean) * (x[(r, b)] - mean);
                }
            }
            let var = sq * inv_n;
            let inv_std = T::one() / (var + lit(EPS)).sqrt();
            for b in 0..B {
                for r in rows.clone() {
                    let n = (x[(r, b)] - mean) * inv_std;
                    cache.normalised[(r, b)] = n;
                    y[(r, b)] = self.weight[c] * n + self.bias[c];
                }
            }
            cache.inv_std[c] = inv_std;
            cache.mean[c] = mean;
            cache.var[c] = var;
        }
        (y, cache)
    }

    /// Backward through the batch statistics: adds dL/dgamma and dL/dbeta into `grads`, returns dL/dx.
    ///
    /// `dx = gamma / sqrt(var + eps) * (dy - mean(dy) - x_hat * mean(dy * x_hat))`, means over the samples and
    /// positions of each channel.
    #[inline]
    pub fn backward<const F: usize, const B: usize>(
        &self,
        cache: &BatchNormCache<T, N, F, B>,
        dy: &SMatrix<T, F, B>,
        grads: &mut Self,
    ) -> SMatrix<T, F, B> {
        let p = (F / N.max(1)).max(1);
        let inv_n = lit::<T>(1.0 / (B * p).max(1) as f64);
        let mut dx = *dy;
        for c in 0..N {
            let rows = c * p..(c + 1) * p;
            let (mut sum_dy, mut sum_dy_xhat) = (T::zero(), T::zero());
            for b in 0..B {
                for r in rows.clone() {
                    sum_dy += dy[(r, b)];
                    sum_dy_xhat += dy[(r, b)] * cache.normalised[(r, b)];
                }
            }
            grads.weight[c] += sum_dy_xhat;
            grads.bias[c] += sum_dy;
            let k = self.weight[c] * cache.inv_std[c];
            for b in 0..B {
                for r in rows.clone() {
                    dx[(r, b)] = k * (dy[(r, b)] - sum_dy * inv_n - cache.normalised[(r, b)] * sum_dy_xhat * inv_n);
                }
            }
        }
        dx
    }

    /// Folds a batch's statistics into the running averages (unbiased variance over the `B * P` values of each
    /// channel, as PyTorch).
    pub fn update_statistics<const F: usize, const B: usize>(&mut self, cache: &BatchNormCache<T, N, F, B>) {
        let n = B * (F / N.max(1)).max(1);
        let m = lit::<T>(MOMENTUM);
        let unbias = if n > 1 { lit::<T>(n as f64 / (n - 1) as f64) } else { T::one() };
        for c in 0..N {
            self.running_mean[c] = (T::one() - m) * self.running_mean[c] + m * cache.mean[c];
            self.running_var[c] = (T::one() - m) * self.running_var[c] + m * cache.var[c] * unbias;
        }
    }
}

/// Batch normalisation of `F = N * P` values per sample (`P` positions per channel).
impl<T: Float, const N: usize, const F: usize> Layer<T, F, F> for BatchNorm<T, N> {
    type Cache<const B: usize> = BatchNormCache<T, N, F, B>;

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, F, B>) -> SMatrix<T, F, B> {
        BatchNorm::forward(self, x)
    }

    #[inline]
    fn forward_train<const B: usize, R: Rng + ?Sized>(
        &self,
        x: &SMatrix<T, F, B>,
        y: &mut SMatrix<T, F, B>,
        cache: &mut BatchNormCache<T, N, F, B>,
        _rng: &mut R,
    ) {
        (*y, *cache) = BatchNorm::forward_train(self, x);
    }

    #[inline]
    fn backward<const B: usize, S: Sink<T, Self>>(
        mut sink: S,
        _x: &SMatrix<T, F, B>,
        _y: &SMatrix<T, F, B>,
        cache: &mut BatchNormCache<T, N, F, B>,
        dy: &SMatrix<T, F, B>,
        dx: Option<&mut SMatrix<T, F, B>>,
    ) {
        let d = sink.fused(|layer, grads| match grads {
            Some(g) => layer.backward(cache, dy, g),
            None => layer.backward(cache, dy, &mut bytemuck::Zeroable::zeroed()),
        });
        if let Some(dx) = dx {
            *dx = d;
        }
    }

    #[inline]
    fn update_statistics<const B: usize>(&mut self, cache: &BatchNormCache<T, N, F, B>) {
        BatchNorm::update_statistics(self, cache);
    }
}

impl<T: Float, const N: usize> Stream<T, N, N> for BatchNorm<T, N> {
    type State = ();

    #[inline]
    fn step(&self, _state: &mut (), x: &SVector<T, N>) -> SVector<T, N> {
        BatchNorm::forward(self, x)
    }
}

impl<T: Float, const N: usize> Parameters<T> for BatchNorm<T, N> {
    const TENSORS: usize = 2;

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        match index {
            0 => Some(Tensor::vector(BATCH_NORM_TENSORS[0], &self.weight)),
            1 => Some(Tensor::vector(BATCH_NORM_TENSORS[1], &self.bias)),
            _ => None,
        }
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        match index {
            0 => Some(TensorMut::vector(BATCH_NORM_TENSORS[0], &mut self.weight)),
            1 => Some(TensorMut::vector(BATCH_NORM_TENSORS[1], &mut self.bias)),
            _ => None,
        }
    }

    const BUFFERS: usize = 2;

    fn buffer(&self, index: usize) -> Option<Tensor<'_, T>> {
        match index {
            0 => Some(Tensor::vector(BATCH_NORM_TENSORS[2], &self.running_mean)),
            1 => Some(Tensor::vector(BATCH_NORM_TENSORS[3], &self.running_var)),
            _ => None,
        }
    }

    fn buffer_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        match index {
            0 => Some(TensorMut::vector(BATCH_NORM_TENSORS[2], &mut self.running_mean)),
            1 => Some(TensorMut::vector(BATCH_NORM_TENSORS[3], &mut self.running_var)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::matrix;

    fn bn() -> BatchNorm<f64, 2> {
        let mut l: BatchNorm<f64, 2> = bytemuck::Zeroable::zeroed();
        l.reset();
        l.weight = SVector::from([2.0, 0.5]);
        l.bias = SVector::from([1.0, -1.0]);
        l
    }

    #[test]
    fn training_normalises_each_feature_over_the_batch() {
        let x = matrix![1.0, 2.0, 3.0, 6.0; 0.0, 0.0, 4.0, 4.0];
        let (y, c) = bn().forward_train(&x);
        assert_eq!(c.mean, SVector::from([3.0, 2.0]));
        assert_eq!(c.var, SVector::from([3.5, 4.0]));
        let s = 1.0 / (3.5f64 + EPS).sqrt();
        assert!((y[(0, 0)] - (2.0 * (1.0 - 3.0) * s + 1.0)).abs() < 1e-12);
        assert!((y[(1, 3)] - (0.5 * 2.0 / (4.0f64 + EPS).sqrt() - 1.0)).abs() < 1e-12);
        // Each normalised row has mean 0 and variance ~1.
        for r in 0..2 {
            let row = c.normalised.row(r);
            assert!(row.mean().abs() < 1e-12);
            assert!((row.map(|v| v * v).mean() - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn running_statistics_and_inference() {
        let mut l = bn();
        let x = matrix![1.0, 2.0, 3.0, 6.0; 0.0, 0.0, 4.0, 4.0];
        let (_, c) = l.forward_train(&x);
        l.update_statistics(&c);
        assert!((l.running_mean - SVector::from([0.3, 0.2])).abs().max() < 1e-12);
        // Unbiased variance 3.5 * 4/3 and 4 * 4/3.
        assert!((l.running_var - SVector::from([0.9 + 0.1 * 14.0 / 3.0, 0.9 + 0.1 * 16.0 / 3.0])).abs().max() < 1e-12);
        let y = l.forward(&SVector::from([0.3, 0.2]));
        assert!((y - l.bias).abs().max() < 1e-12, "the running mean maps to beta");
        assert_eq!(
            (l.buffer(1).unwrap().name.tensor, <BatchNorm<f64, 2> as Parameters<f64>>::BUFFERS),
            ("running_var", 2)
        );
    }
}
