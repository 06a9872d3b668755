//! Noisy ReLU (Nair and Hinton, 2010), the lecture's `max(0, x + N(0, delta(x)))`: in training, Gaussian noise
//! whose variance is the logistic sigmoid of the input is added before rectifying; inference is the plain ReLU.

use crate::activation::sigmoid;
use crate::float::Float;
use crate::layer::contract::{Layer, Sink, Stream};
use nalgebra::{SMatrix, SVector};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// Noisy ReLU: `y = max(0, x + sqrt(s(x)) z)`, `z ~ N(0, 1)` drawn per element in training, `s` the logistic
/// sigmoid; `y = max(0, x)` at inference. Has no parameters.
///
/// Training keeps the standard normal draws `z`, and the backward pass differentiates the sampled function
/// exactly (the noise's scale depends on `x` too): `dy/dx = [y > 0] (1 + z sqrt(s) (1 - s) / 2)`, so a gradient
/// check with the draws held fixed (a seeded generator) agrees with central differences.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NoisyRelu;

impl NoisyRelu {
    /// Inference: `max(0, x)`.
    #[inline]
    pub fn forward<T: Float, const R: usize, const C: usize>(&self, x: &SMatrix<T, R, C>) -> SMatrix<T, R, C> {
        x.map(|v| v.max(T::zero()))
    }

    /// Training forward: the output and the standard normal draws `z` (one per element, from `rng`) that the
    /// backward pass needs.
    #[inline]
    pub fn forward_train<T: Float, const R: usize, const C: usize, G: Rng + ?Sized>(
        &self,
        x: &SMatrix<T, R, C>,
        rng: &mut G,
    ) -> (SMatrix<T, R, C>, SMatrix<T, R, C>) {
        let mut z = SMatrix::<T, R, C>::zeros();
        for v in z.as_mut_slice() {
            let draw: f64 = StandardNormal.sample(rng);
            *v = T::from_f64(draw);
        }
        (x.zip_map(&z, |x, z| (x + sigmoid(x).sqrt() * z).max(T::zero())), z)
    }

    /// Backward from the forward's input `x`, its draws `z` and dL/dy.
    #[inline]
    pub fn backward<T: Float, const R: usize, const C: usize>(
        &self,
        x: &SMatrix<T, R, C>,
        z: &SMatrix<T, R, C>,
        dy: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C> {
        let half = T::from_f64(0.5);
        let mut dx = *dy;
        for ((d, &x), &z) in dx.as_mut_slice().iter_mut().zip(x.as_slice()).zip(z.as_slice()) {
            let s = sigmoid(x);
            let root = s.sqrt();
            *d = if x + root * z > T::zero() { *d * (T::one() + z * root * (T::one() - s) * half) } else { T::zero() };
        }
        dx
    }
}

impl<T: Float, const N: usize> Layer<T, N, N> for NoisyRelu {
    /// The standard normal draws.
    type Cache<const B: usize> = SMatrix<T, N, B>;

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, N, B>) -> SMatrix<T, N, B> {
        NoisyRelu::forward(self, x)
    }

    #[inline]
    fn forward_train<const B: usize, R: Rng + ?Sized>(
        &self,
        x: &SMatrix<T, N, B>,
        y: &mut SMatrix<T, N, B>,
        z: &mut SMatrix<T, N, B>,
        rng: &mut R,
    ) {
        (*y, *z) = NoisyRelu::forward_train(self, x, rng);
    }

    #[inline]
    fn backward<const B: usize, S: Sink<T, Self>>(
        _sink: S,
        x: &SMatrix<T, N, B>,
        _y: &SMatrix<T, N, B>,
        z: &mut SMatrix<T, N, B>,
        dy: &SMatrix<T, N, B>,
        dx: Option<&mut SMatrix<T, N, B>>,
    ) {
        if let Some(dx) = dx {
            *dx = NoisyRelu::backward(&NoisyRelu, x, z, dy);
        }
    }
}

impl<T: Float, const N: usize> Stream<T, N, N> for NoisyRelu {
    type State = ();

    #[inline]
    fn step(&self, _state: &mut (), x: &SVector<T, N>) -> SVector<T, N> {
        NoisyRelu::forward(self, x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{STEP, relative_error};
    use nalgebra::SVector;
    use rand::SeedableRng;
    use rand::rngs::ChaCha8Rng;

    #[test]
    fn inference_is_relu_and_training_adds_noise_of_variance_sigmoid_x() {
        let x = SVector::<f64, 4>::from([-1.0, 0.0, 0.5, 3.0]);
        assert_eq!(NoisyRelu.forward(&x), SVector::from([0.0, 0.0, 0.5, 3.0]));
        // The noise before rectifying, over many draws at x = 2: mean 0, variance sigmoid(2).
        let x = SMatrix::<f64, 1, 1>::new(2.0);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = 100_000;
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..n {
            let (_, z) = NoisyRelu.forward_train(&x, &mut rng);
            let e = sigmoid(2.0f64).sqrt() * z[0];
            sum += e;
            sq += e * e;
        }
        let (mean, var) = (sum / n as f64, sq / n as f64 - (sum / n as f64).powi(2));
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - sigmoid(2.0f64)).abs() < 0.01, "variance {var}, want {}", sigmoid(2.0f64));
    }

    #[test]
    fn gradient_with_the_draws_fixed_matches_central_differences() {
        let x = SVector::<f64, 8>::from([-2.0, -0.6, -0.1, 0.2, 0.7, 1.3, 2.5, 4.0]);
        let w = SVector::<f64, 8>::from_fn(|i, _| 1.0 + i as f64 / 8.0);
        let draws = |x: &SVector<f64, 8>| NoisyRelu.forward_train(x, &mut ChaCha8Rng::seed_from_u64(5));
        let (_, z) = draws(&x);
        let dx = NoisyRelu.backward(&x, &z, &w);
        let mut worst: f64 = 0.0;
        for i in 0..8 {
            let (mut xp, mut xm) = (x, x);
            xp[i] += STEP;
            xm[i] -= STEP;
            let numeric = (draws(&xp).0 - draws(&xm).0).dot(&w) / (2.0 * STEP);
            worst = worst.max(relative_error(dx[i], numeric));
        }
        assert!(worst < 1e-6, "max relative error {worst:e}");
        // Some units were rectified to zero and some passed, so both branches were checked.
        let (y, _) = draws(&x);
        assert!(y.iter().any(|v| *v == 0.0) && y.iter().any(|v| *v > 0.0));
    }
}
