//! Local response normalisation across channels (Krizhevsky, Sutskever and Hinton 2012; PyTorch's
//! `LocalResponseNorm`), as AlexNet uses it after its first two convolutions: at every position, each channel's
//! value is divided by a power of the energy of the channels around it,
//!
//! ```text
//! s_c = k + alpha / n * sum_{c' = c - floor(n/2)}^{c + floor((n-1)/2)} a_{c'}^2      (channels outside count 0)
//! b_c = a_c / s_c^beta
//! ```
//!
//! and backward, with `g` = dL/db:
//!
//! ```text
//! dL/da_j = g_j / s_j^beta - (2 alpha beta / n) a_j sum_{c : j in window(c)} g_c a_c / s_c^(beta + 1)
//! ```
//!
//! It has no parameters. Activations are channel-major (`C` planes of `P` positions), so the channels of one
//! position are `P` values apart.

use crate::float::Float;
use crate::layer::contract::{Layer, Sink};
use nalgebra::SMatrix;

/// Local response normalisation over `C` channels: window `size` (PyTorch's `size`, AlexNet's 5), `alpha`,
/// `beta`, `k`. At every position, `b_c = a_c / (k + alpha / size * sum of a^2 over the window)^beta`, the window
/// running from `floor(size / 2)` channels before `c` to `floor((size - 1) / 2)` after (PyTorch's). No
/// parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LocalResponseNorm<T, const C: usize> {
    /// Channels in the window.
    pub size: usize,
    /// The scale of the energy (PyTorch's default 1e-4).
    pub alpha: T,
    /// The power (PyTorch's default 0.75).
    pub beta: T,
    /// The additive constant (PyTorch's default 1; AlexNet's 2).
    pub k: T,
}

impl<T: Float, const C: usize> LocalResponseNorm<T, C> {
    /// PyTorch's `LocalResponseNorm(size, alpha, beta, k)`.
    pub const fn new(size: usize, alpha: T, beta: T, k: T) -> Self {
        Self { size, alpha, beta, k }
    }

    /// The channels in channel `c`'s window: `c - floor(size / 2) ..= c + floor((size - 1) / 2)` within `0..C`.
    #[inline]
    fn window(&self, c: usize) -> core::ops::Range<usize> {
        let lo = c.saturating_sub(self.size / 2);
        let hi = (c + (self.size.max(1) - 1) / 2 + 1).min(C);
        lo..hi
    }

    /// `s_c` of every channel at one position, whose values are `p` apart in `x` from `at`.
    #[inline]
    fn energies(&self, x: &[T], at: usize, p: usize) -> [T; C] {
        let scale = self.alpha / T::from_f64(self.size.max(1) as f64);
        core::array::from_fn(|c| {
            let sum = self.window(c).fold(T::zero(), |acc, j| {
                let v = x[at + j * p];
                acc + v * v
            });
            self.k + scale * sum
        })
    }
}

/// `s^-beta` through `exp` and `ln` (the energy is positive for `k > 0`).
#[inline]
fn pow_neg<T: Float>(s: T, beta: T) -> T {
    (-(beta * s.ln())).exp()
}

/// Compile-time check that the input holds whole planes of the `C` channels.
struct Planes<const C: usize, const IN: usize>;

impl<const C: usize, const IN: usize> Planes<C, IN> {
    const CHECK: () = assert!(C > 0 && IN.is_multiple_of(C), "LocalResponseNorm: the input must be C planes");
}

impl<T: Float, const C: usize, const IN: usize> Layer<T, IN, IN> for LocalResponseNorm<T, C> {
    type Cache<const B: usize> = ();

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, IN, B>) -> SMatrix<T, IN, B> {
        let () = Planes::<C, IN>::CHECK;
        let p = IN / C;
        let mut y = SMatrix::<T, IN, B>::zeros();
        for (xb, yb) in x.as_slice().chunks_exact(IN).zip(y.as_mut_slice().chunks_exact_mut(IN)) {
            for at in 0..p {
                let s = self.energies(xb, at, p);
                for (c, &sc) in s.iter().enumerate() {
                    yb[at + c * p] = xb[at + c * p] * pow_neg(sc, self.beta);
                }
            }
        }
        y
    }

    #[inline]
    fn backward<const B: usize, S: Sink<T, Self>>(
        sink: S,
        x: &SMatrix<T, IN, B>,
        _y: &SMatrix<T, IN, B>,
        _cache: &mut (),
        dy: &SMatrix<T, IN, B>,
        dx: Option<&mut SMatrix<T, IN, B>>,
    ) {
        let () = Planes::<C, IN>::CHECK;
        let Some(dx) = dx else { return };
        let layer = sink.weights();
        let p = IN / C;
        let two_ab_n = T::from_f64(2.0) * layer.alpha * layer.beta / T::from_f64(layer.size.max(1) as f64);
        let columns = x.as_slice().chunks_exact(IN).zip(dy.as_slice().chunks_exact(IN));
        for ((xb, gb), db) in columns.zip(dx.as_mut_slice().chunks_exact_mut(IN)) {
            for at in 0..p {
                let s = layer.energies(xb, at, p);
                // t_c = g_c a_c s_c^-(beta + 1), gathered over the windows that hold each channel.
                let t: [T; C] =
                    core::array::from_fn(|c| gb[at + c * p] * xb[at + c * p] * pow_neg(s[c], layer.beta + T::one()));
                for j in 0..C {
                    let held = (0..C).filter(|&c| layer.window(c).contains(&j)).fold(T::zero(), |acc, c| acc + t[c]);
                    let i = at + j * p;
                    db[i] = gb[i] * pow_neg(s[j], layer.beta) - two_ab_n * xb[i] * held;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{STEP, relative_error};
    use crate::layer::Frozen;

    #[test]
    fn values_follow_the_formula_at_the_edges_and_inside() {
        // Four channels of two positions; window 3: channel 0 sees 0 and 1, channel 3 sees 2 and 3.
        let lrn = LocalResponseNorm::<f64, 4>::new(3, 0.3, 0.75, 2.0);
        let x = SMatrix::<f64, 8, 1>::from_column_slice(&[1.0, -2.0, 0.5, 3.0, -1.5, 0.25, 2.0, -0.5]);
        let y = Layer::<f64, 8, 8>::forward(&lrn, &x);
        let a = |c: usize, at: usize| x[c * 2 + at];
        for at in 0..2 {
            for c in 0..4_usize {
                let (lo, hi) = (c.saturating_sub(1), (c + 1).min(3));
                let sum: f64 = (lo..=hi).map(|j| a(j, at) * a(j, at)).sum();
                let want = a(c, at) / (2.0 + 0.3 / 3.0 * sum).powf(0.75);
                assert!((y[c * 2 + at] - want).abs() < 1e-15, "channel {c}, position {at}");
            }
        }
        // An even window: PyTorch's floor(n/2) before and floor((n-1)/2) after (channel 1 of window 4: 0..=2).
        let even = LocalResponseNorm::<f64, 4>::new(4, 0.3, 0.75, 2.0);
        let y = Layer::<f64, 8, 8>::forward(&even, &x);
        let sum: f64 = (0..=2).map(|j| a(j, 0) * a(j, 0)).sum();
        assert!((y[2] - a(1, 0) / (2.0 + 0.3 / 4.0 * sum).powf(0.75)).abs() < 1e-15);
    }

    #[test]
    fn gradient_matches_central_differences() {
        for (size, beta) in [(3, 0.75), (4, 0.5), (5, 1.3), (1, 0.75)] {
            let lrn = LocalResponseNorm::<f64, 5>::new(size, 0.8, beta, 1.5);
            let x = SMatrix::<f64, 15, 2>::from_fn(|i, b| ((i * 7 + b * 3) % 11) as f64 / 4.0 - 1.3);
            let w = SMatrix::<f64, 15, 2>::from_fn(|i, b| ((i * 5 + b) % 7) as f64 / 3.0 - 1.0);
            let f = |x: &SMatrix<f64, 15, 2>| Layer::<f64, 15, 15>::forward(&lrn, x).component_mul(&w).sum();
            let y = Layer::<f64, 15, 15>::forward(&lrn, &x);
            let mut dx = SMatrix::<f64, 15, 2>::zeros();
            <LocalResponseNorm<f64, 5> as Layer<f64, 15, 15>>::backward(
                Frozen(&lrn),
                &x,
                &y,
                &mut (),
                &w,
                Some(&mut dx),
            );
            let mut worst: f64 = 0.0;
            for i in 0..30 {
                let (mut xp, mut xm) = (x, x);
                xp.as_mut_slice()[i] += STEP;
                xm.as_mut_slice()[i] -= STEP;
                worst = worst.max(relative_error(dx.as_slice()[i], (f(&xp) - f(&xm)) / (2.0 * STEP)));
            }
            assert!(worst < 1e-6, "size {size}, beta {beta}: max relative error {worst:e}");
        }
    }
}
