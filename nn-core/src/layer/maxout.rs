//! Maxout (Goodfellow et al., 2013): each output is the largest of `K` consecutive inputs, so a dense layer of
//! `O * K` units followed by `Maxout(K)` gives `O` units, each the maximum of `K` affine pieces: a learned convex
//! piecewise-linear activation.

use crate::float::Float;
use crate::layer::contract::{Layer, Sink};
use nalgebra::SMatrix;

/// Maxout over groups of `K` consecutive features (`K >= 1`). Has no parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Maxout<const K: usize>;

/// Compile-time check that `IN = OUT * K` (the macro checks it with a message first).
struct Groups<const K: usize, const IN: usize, const OUT: usize>;

impl<const K: usize, const IN: usize, const OUT: usize> Groups<K, IN, OUT> {
    const CHECK: () = assert!(K > 0 && IN == OUT * K, "Maxout: the input size must be K times the output size");
}

impl<const K: usize> Maxout<K> {
    /// Forward on a batch (columns are samples): `y_j = max(x_{jK}, ..., x_{jK + K - 1})`.
    #[inline]
    pub fn forward<T: Float, const IN: usize, const OUT: usize, const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
    ) -> SMatrix<T, OUT, B> {
        let () = Groups::<K, IN, OUT>::CHECK;
        let mut y = SMatrix::<T, OUT, B>::zeros();
        for (yc, xc) in y.as_mut_slice().chunks_exact_mut(OUT.max(1)).zip(x.as_slice().chunks_exact(IN.max(1))) {
            for (v, group) in yc.iter_mut().zip(xc.chunks_exact(K)) {
                *v = group[argmax(group)];
            }
        }
        y
    }

    /// Backward from the forward's input `x`: each output's gradient goes to the piece that won (the first of
    /// equal maxima), the other pieces get zero.
    #[inline]
    pub fn backward<T: Float, const IN: usize, const OUT: usize, const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        dy: &SMatrix<T, OUT, B>,
    ) -> SMatrix<T, IN, B> {
        let () = Groups::<K, IN, OUT>::CHECK;
        let mut dx = SMatrix::<T, IN, B>::zeros();
        for ((dxc, xc), dyc) in dx
            .as_mut_slice()
            .chunks_exact_mut(IN.max(1))
            .zip(x.as_slice().chunks_exact(IN.max(1)))
            .zip(dy.as_slice().chunks_exact(OUT.max(1)))
        {
            for ((dg, group), &d) in dxc.chunks_exact_mut(K).zip(xc.chunks_exact(K)).zip(dyc) {
                dg[argmax(group)] = d;
            }
        }
        dx
    }
}

impl<T: Float, const K: usize, const IN: usize, const OUT: usize> Layer<T, IN, OUT> for Maxout<K> {
    type Cache<const B: usize> = ();

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, IN, B>) -> SMatrix<T, OUT, B> {
        Maxout::forward(self, x)
    }

    #[inline]
    fn backward<const B: usize, S: Sink<T, Self>>(
        _sink: S,
        x: &SMatrix<T, IN, B>,
        _y: &SMatrix<T, OUT, B>,
        _cache: &mut (),
        dy: &SMatrix<T, OUT, B>,
        dx: Option<&mut SMatrix<T, IN, B>>,
    ) {
        if let Some(dx) = dx {
            *dx = Maxout::<K>.backward(x, dy);
        }
    }
}

/// The index of the first largest value of a non-empty group.
#[inline]
fn argmax<T: Float>(group: &[T]) -> usize {
    let mut best = 0;
    for (i, &v) in group.iter().enumerate().skip(1) {
        if v > group[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{FLOOR, STEP, relative_error};
    use nalgebra::{matrix, vector};

    #[test]
    fn takes_the_largest_of_each_group() {
        let x = matrix![1.0, -4.0; 3.0, -2.0; -1.0, -3.0; 0.5, 0.25; 2.0, 0.0; 2.0, 7.0];
        let y = Maxout::<3>.forward::<f64, 6, 2, 2>(&x);
        assert_eq!(y, matrix![3.0, -2.0; 2.0, 7.0]);
        let dx = Maxout::<3>.backward::<f64, 6, 2, 2>(&x, &matrix![10.0, 20.0; 30.0, 40.0]);
        // Ties go to the first piece (rows 4 and 5 of the first sample are both 2).
        assert_eq!(dx, matrix![0.0, 0.0; 10.0, 20.0; 0.0, 0.0; 0.0, 0.0; 30.0, 0.0; 0.0, 40.0]);
        assert_eq!(Maxout::<1>.forward::<f64, 3, 3, 1>(&vector![1.0, -2.0, 3.0]), vector![1.0, -2.0, 3.0]);
    }

    #[test]
    fn gradient_matches_central_differences() {
        // Distinct values, at least 0.1 apart within each group, so no step crosses a tie.
        let x = vector![0.3, -1.2, 0.8, 2.1, -0.4, 1.5, -2.0, -0.9, 0.05, 1.1, 0.7, -0.3];
        let w = vector![1.0, -2.0, 0.5, 3.0];
        let dx = Maxout::<3>.backward::<f64, 12, 4, 1>(&x, &w);
        let mut worst: f64 = 0.0;
        for i in 0..12 {
            let (mut xp, mut xm) = (x, x);
            xp[i] += STEP;
            xm[i] -= STEP;
            let f = |x| Maxout::<3>.forward::<f64, 12, 4, 1>(&x).dot(&w);
            let numeric = (f(xp) - f(xm)) / (2.0 * STEP);
            worst = worst.max(relative_error(dx[i], numeric));
        }
        assert!(worst < 1e-6, "max relative error {worst:e} (floor {FLOOR})");
        assert_eq!(dx.iter().filter(|v| **v != 0.0).count(), 4);
    }
}
