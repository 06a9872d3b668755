//! Merging parallel branches: concatenation along features (or channels: a plane's channels are contiguous
//! blocks of its column) and the gradient's split back into the branches. A sum of branches needs nothing here:
//! its backward hands every branch the same gradient.

use crate::float::Float;
use nalgebra::SMatrix;

/// Compile-time check that `R = RA + RB` (the macro checks it with a message first).
struct Stack<const RA: usize, const RB: usize, const R: usize>;

impl<const RA: usize, const RB: usize, const R: usize> Stack<RA, RB, R> {
    const CHECK: () = assert!(R == RA + RB, "concat: the output size must be the sum of the two input sizes");
}

/// `[a; b]` per column: `a`'s `RA` values, then `b`'s `RB`.
#[inline]
pub fn concat<T: Float, const RA: usize, const RB: usize, const R: usize, const B: usize>(
    a: &SMatrix<T, RA, B>,
    b: &SMatrix<T, RB, B>,
) -> SMatrix<T, R, B> {
    let () = Stack::<RA, RB, R>::CHECK;
    let mut y = SMatrix::<T, R, B>::zeros();
    for c in 0..B {
        y.as_mut_slice()[c * R..c * R + RA].copy_from_slice(&a.as_slice()[c * RA..(c + 1) * RA]);
        y.as_mut_slice()[c * R + RA..(c + 1) * R].copy_from_slice(&b.as_slice()[c * RB..(c + 1) * RB]);
    }
    y
}

/// The inverse of [`concat()`]: each column's first `RA` values, and the other `RB`.
#[inline]
pub fn split<T: Float, const RA: usize, const RB: usize, const R: usize, const B: usize>(
    y: &SMatrix<T, R, B>,
) -> (SMatrix<T, RA, B>, SMatrix<T, RB, B>) {
    let () = Stack::<RA, RB, R>::CHECK;
    let (mut a, mut b) = (SMatrix::<T, RA, B>::zeros(), SMatrix::<T, RB, B>::zeros());
    for c in 0..B {
        a.as_mut_slice()[c * RA..(c + 1) * RA].copy_from_slice(&y.as_slice()[c * R..c * R + RA]);
        b.as_mut_slice()[c * RB..(c + 1) * RB].copy_from_slice(&y.as_slice()[c * R + RA..(c + 1) * R]);
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::matrix;

    #[test]
    fn concat_stacks_each_column_and_split_undoes_it() {
        let a = matrix![1.0, 2.0; 3.0, 4.0];
        let b = matrix![5.0, 6.0];
        let y: SMatrix<f64, 3, 2> = concat(&a, &b);
        assert_eq!(y, matrix![1.0, 2.0; 3.0, 4.0; 5.0, 6.0]);
        let (a2, b2) = split::<f64, 2, 1, 3, 2>(&y);
        assert_eq!((a2, b2), (a, b));
        // Channel-major planes: two 1x2x2 maps and one 2x2x2 map give a 3x2x2 map, channels in order.
        let p = SMatrix::<f64, 4, 1>::from_column_slice(&[1.0, 2.0, 3.0, 4.0]);
        let q = SMatrix::<f64, 8, 1>::from_fn(|r, _| 10.0 + r as f64);
        let pq: SMatrix<f64, 12, 1> = concat(&p, &q);
        assert_eq!(pq.as_slice(), &[1.0, 2.0, 3.0, 4.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0]);
        // An empty side is allowed (a branch of zero features contributes nothing).
        let e: SMatrix<f64, 0, 2> = SMatrix::zeros();
        assert_eq!(concat::<f64, 2, 0, 2, 2>(&a, &e), a);
    }
}
