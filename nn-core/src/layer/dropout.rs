//! Inverted dropout: in training each value is kept with probability `1 - p` and scaled by `1 / (1 - p)`, so
//! inference is the identity and the expected activation is the same in both.

use crate::float::{Float, lit};
use crate::layer::contract::{Layer, Sink, Stream};
use nalgebra::{SMatrix, SVector};
use rand::{Rng, RngExt};

/// Dropout with drop probability `p` in `[0, 1)`. Has no parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout<T>(pub T);

impl<T: Float> Dropout<T> {
    /// Inference: the identity.
    #[inline]
    pub fn forward<const R: usize, const C: usize>(&self, x: &SMatrix<T, R, C>) -> SMatrix<T, R, C> {
        *x
    }

    /// Training forward: the output and the scaled mask (each entry `0` or `1 / (1 - p)`) that backward needs.
    /// Draws one uniform number per element from `rng`.
    #[inline]
    pub fn forward_train<const R: usize, const C: usize, G: Rng + ?Sized>(
        &self,
        x: &SMatrix<T, R, C>,
        rng: &mut G,
    ) -> (SMatrix<T, R, C>, SMatrix<T, R, C>) {
        let p = self.0.to_f64();
        let scale = lit::<T>(1.0 / (1.0 - p));
        let mut mask = SMatrix::<T, R, C>::zeros();
        if p <= 0.0 {
            mask.fill(T::one());
        } else {
            for m in mask.as_mut_slice() {
                if rng.random::<f64>() >= p {
                    *m = scale;
                }
            }
        }
        (x.component_mul(&mask), mask)
    }

    /// Backward: dL/dx = dL/dy times the mask.
    #[inline]
    pub fn backward<const R: usize, const C: usize>(
        &self,
        mask: &SMatrix<T, R, C>,
        dy: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C> {
        dy.component_mul(mask)
    }
}

impl<T: Float, const N: usize> Layer<T, N, N> for Dropout<T> {
    /// The scaled mask.
    type Cache<const B: usize> = SMatrix<T, N, B>;

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, N, B>) -> SMatrix<T, N, B> {
        *x
    }

    #[inline]
    fn forward_train<const B: usize, R: Rng + ?Sized>(
        &self,
        x: &SMatrix<T, N, B>,
        y: &mut SMatrix<T, N, B>,
        mask: &mut SMatrix<T, N, B>,
        rng: &mut R,
    ) {
        (*y, *mask) = Dropout::forward_train(self, x, rng);
    }

    #[inline]
    fn backward<const B: usize, S: Sink<T, Self>>(
        _sink: S,
        _x: &SMatrix<T, N, B>,
        _y: &SMatrix<T, N, B>,
        mask: &mut SMatrix<T, N, B>,
        dy: &SMatrix<T, N, B>,
        dx: Option<&mut SMatrix<T, N, B>>,
    ) {
        if let Some(dx) = dx {
            *dx = dy.component_mul(mask);
        }
    }
}

impl<T: Float, const N: usize> Stream<T, N, N> for Dropout<T> {
    type State = ();

    #[inline]
    fn step(&self, _state: &mut (), x: &SVector<T, N>) -> SVector<T, N> {
        *x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::ChaCha8Rng;

    #[test]
    fn keeps_about_one_minus_p_and_preserves_the_mean() {
        let d = Dropout(0.25f64);
        let x = SMatrix::<f64, 100, 40>::repeat(2.0);
        let (y, mask) = d.forward_train(&x, &mut ChaCha8Rng::seed_from_u64(3));
        let kept = mask.iter().filter(|&&m| m != 0.0).count() as f64 / 4000.0;
        assert!((kept - 0.75).abs() < 0.03, "kept {kept}");
        assert!(mask.iter().all(|&m| m == 0.0 || (m - 4.0 / 3.0).abs() < 1e-15));
        assert!((y.mean() - 2.0).abs() < 0.1, "mean {}", y.mean());
        assert_eq!(d.forward(&x), x);
        let dy = SMatrix::<f64, 100, 40>::repeat(1.0);
        assert_eq!(d.backward(&mask, &dy), mask);
    }

    #[test]
    fn same_seed_same_mask_and_zero_p_keeps_everything() {
        let x = SMatrix::<f32, 8, 4>::repeat(1.0);
        let a = Dropout(0.5f32).forward_train(&x, &mut ChaCha8Rng::seed_from_u64(9)).1;
        let b = Dropout(0.5f32).forward_train(&x, &mut ChaCha8Rng::seed_from_u64(9)).1;
        assert_eq!(a, b);
        assert_eq!(Dropout(0.0f32).forward_train(&x, &mut ChaCha8Rng::seed_from_u64(9)).0, x);
    }
}
