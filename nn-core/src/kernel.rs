//! Matrix kernels on fixed-size column-major storage, written so the compiler vectorises them along contiguous
//! columns: the products a dense layer needs for a batch whose columns are samples.
//!
//! Each kernel works on four samples at a time so that a column of the weight matrix is loaded once for four
//! products (a register-blocked matrix-matrix product rather than a loop of matrix-vector ones).

use crate::float::Float;
use nalgebra::SMatrix;

/// `y = w x + y` for `w: O x I`, `x: I x B`, `y: O x B`.
#[inline]
pub fn gemm_acc<T: Float, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    x: &SMatrix<T, I, B>,
    y: &mut SMatrix<T, O, B>,
) {
    gemm_acc_columns(w, x.as_slice(), y.as_mut_slice());
}

/// [`gemm_acc`] on column-major slices: `x` holds `n` columns of `I` values, `y` `n` columns of `O` (a batch of
/// sequences seen as one column per step and sample).
#[inline]
pub fn gemm_acc_columns<T: Float, const O: usize, const I: usize>(w: &SMatrix<T, O, I>, x: &[T], y: &mut [T]) {
    if O == 0 || I == 0 {
        return;
    }
    let n = (x.len() / I).min(y.len() / O);
    if n < 4 && O * I >= DISPATCH_WORK {
        // One sample at a time (inference, per-sample training): a matrix-vector product, register-blocked and
        // dispatched to the widest FMA units the machine has.
        for b in 0..n {
            gemv_wide::<T, O, I>(w.as_slice(), &x[b * I..(b + 1) * I], &mut y[b * O..(b + 1) * O]);
        }
        return;
    }
    let w = w.as_slice();
    let mut b = 0;
    while b + 4 <= n {
        let (y01, y23) = y[b * O..(b + 4) * O].split_at_mut(2 * O);
        let (y0, y1) = y01.split_at_mut(O);
        let (y2, y3) = y23.split_at_mut(O);
        for (i, wc) in w.chunks_exact(O).enumerate() {
            let (x0, x1, x2, x3) = (x[b * I + i], x[(b + 1) * I + i], x[(b + 2) * I + i], x[(b + 3) * I + i]);
            for r in 0..O {
                let wr = wc[r];
                y0[r] += wr * x0;
                y1[r] += wr * x1;
                y2[r] += wr * x2;
                y3[r] += wr * x3;
            }
        }
        b += 4;
    }
    while b < n {
        let yb = &mut y[b * O..(b + 1) * O];
        for (i, wc) in w.chunks_exact(O).enumerate() {
            let xi = x[b * I + i];
            for (yr, &wr) in yb.iter_mut().zip(wc) {
                *yr += wr * xi;
            }
        }
        b += 1;
    }
}

/// Matrix-vector products of at least this many multiply-adds go through runtime CPU-feature dispatch (with
/// `std`): on a build for the default x86-64 target, a machine with AVX2 and FMA, or AVX-512, still gets them.
/// Smaller ones stay inline, where the dispatch would cost more than it saves.
pub const DISPATCH_WORK: usize = 4096;

/// Rows of `y` kept in registers across all the inputs of a matrix-vector product.
const ROWS: usize = 32;

/// `y += w x` for one sample (`w` column-major `O x I`), `ROWS` rows at a time so that every accumulator stays in
/// a register while the columns stream past: the latency of the fused multiply-adds is hidden by the
/// independent rows.
#[inline(always)]
fn gemv_body<T: Float, const O: usize, const I: usize, const FMA: bool>(w: &[T], x: &[T], y: &mut [T]) {
    let mut r0 = 0;
    while r0 < O {
        let rows = (O - r0).min(ROWS);
        let mut acc = [T::zero(); ROWS];
        acc[..rows].copy_from_slice(&y[r0..r0 + rows]);
        for (i, &xi) in x[..I].iter().enumerate() {
            for (a, &wk) in acc[..rows].iter_mut().zip(&w[i * O + r0..i * O + r0 + rows]) {
                *a = if FMA { wk.mul_add(xi, *a) } else { wk * xi + *a };
            }
        }
        y[r0..r0 + rows].copy_from_slice(&acc[..rows]);
        r0 += rows;
    }
}

#[cfg(feature = "std")]
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn gemv_wide<T: Float, const O: usize, const I: usize>(w: &[T], x: &[T], y: &mut [T]) {
    // Decided at compile time for each clone.
    const FMA: bool = multiversion::target::selected_target!().supports_feature_str("fma");
    gemv_body::<T, O, I, FMA>(w, x, y);
}

#[cfg(not(feature = "std"))]
#[inline(always)]
fn gemv_wide<T: Float, const O: usize, const I: usize>(w: &[T], x: &[T], y: &mut [T]) {
    gemv_body::<T, O, I, false>(w, x, y);
}

/// `g = g + dy x^T` for `dy: O x B`, `x: I x B`, `g: O x I` (the weight gradient summed over the batch).
#[inline]
pub fn ger_acc<T: Float, const O: usize, const I: usize, const B: usize>(
    dy: &SMatrix<T, O, B>,
    x: &SMatrix<T, I, B>,
    g: &mut SMatrix<T, O, I>,
) {
    ger_acc_columns(dy.as_slice(), x.as_slice(), g);
}

/// [`ger_acc`] on column-major slices of `n` columns each.
#[inline]
pub fn ger_acc_columns<T: Float, const O: usize, const I: usize>(dy: &[T], x: &[T], g: &mut SMatrix<T, O, I>) {
    if O == 0 || I == 0 {
        return;
    }
    let n = (x.len() / I).min(dy.len() / O);
    for (i, gc) in g.as_mut_slice().chunks_exact_mut(O).enumerate() {
        let mut b = 0;
        while b + 4 <= n {
            let (x0, x1, x2, x3) = (x[b * I + i], x[(b + 1) * I + i], x[(b + 2) * I + i], x[(b + 3) * I + i]);
            let d = &dy[b * O..(b + 4) * O];
            for r in 0..O {
                gc[r] += d[r] * x0 + d[O + r] * x1 + d[2 * O + r] * x2 + d[3 * O + r] * x3;
            }
            b += 4;
        }
        while b < n {
            let xi = x[b * I + i];
            for (gr, &dr) in gc.iter_mut().zip(&dy[b * O..(b + 1) * O]) {
                *gr += dr * xi;
            }
            b += 1;
        }
    }
}

/// `dx = w^T dy` for `w: O x I`, `dy: O x B`, `dx: I x B`: one dot product per (column of `w`, sample), each with
/// eight partial sums so it vectorises.
#[inline]
pub fn gemm_tn<T: Float, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    dy: &SMatrix<T, O, B>,
) -> SMatrix<T, I, B> {
    let mut dx = SMatrix::<T, I, B>::zeros();
    gemm_tn_columns(w, dy.as_slice(), dx.as_mut_slice());
    dx
}

/// [`gemm_tn`] on column-major slices of `n` columns each, writing (not adding) `dx`.
#[inline]
pub fn gemm_tn_columns<T: Float, const O: usize, const I: usize>(w: &SMatrix<T, O, I>, dy: &[T], dx: &mut [T]) {
    if O == 0 || I == 0 {
        return;
    }
    let w = w.as_slice();
    for (dxb, d) in dx.chunks_exact_mut(I).zip(dy.chunks_exact(O)) {
        for (v, wc) in dxb.iter_mut().zip(w.chunks_exact(O)) {
            *v = dot(wc, d);
        }
    }
}

/// `y += w x` for one sample: `w: R x C`, `x` the first `C` values of a slice, `y` the first `R` (a column axpy
/// per input, contiguous along `R`, so it vectorises).
#[inline]
pub fn gemv_acc<T: Float, const R: usize, const C: usize>(w: &SMatrix<T, R, C>, x: &[T], y: &mut [T]) {
    if R == 0 || C == 0 {
        return;
    }
    let y = &mut y[..R];
    for (wc, &xi) in w.as_slice().chunks_exact(R).zip(&x[..C]) {
        for (yr, &wr) in y.iter_mut().zip(wc) {
            *yr += wr * xi;
        }
    }
}

/// `out += w^T d` for one sample: `w: R x C`, `d` the first `R` values, `out` the first `C` (a dot product per
/// column of `w`).
#[inline]
pub fn gemv_t_acc<T: Float, const R: usize, const C: usize>(w: &SMatrix<T, R, C>, d: &[T], out: &mut [T]) {
    if R == 0 || C == 0 {
        return;
    }
    let d = &d[..R];
    for (o, wc) in out[..C].iter_mut().zip(w.as_slice().chunks_exact(R)) {
        *o += dot(wc, d);
    }
}

/// `g += d x^T` for one sample: `d` the first `R` values, `x` the first `C`, `g: R x C`.
#[inline]
pub fn ger_vec_acc<T: Float, const R: usize, const C: usize>(d: &[T], x: &[T], g: &mut SMatrix<T, R, C>) {
    if R == 0 || C == 0 {
        return;
    }
    let d = &d[..R];
    for (gc, &xi) in g.as_mut_slice().chunks_exact_mut(R).zip(&x[..C]) {
        for (gr, &dr) in gc.iter_mut().zip(d) {
            *gr += dr * xi;
        }
    }
}

/// A dot product with eight partial sums (a single running sum cannot be reordered, so would not vectorise).
#[inline]
pub fn dot<T: Float>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (a8, b8) in ac.zip(bc) {
        for k in 0..8 {
            acc[k] += a8[k] * b8[k];
        }
    }
    let mut tail = T::zero();
    for (&x, &y) in ar.iter().zip(br) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m<const R: usize, const C: usize>(seed: usize) -> SMatrix<f64, R, C> {
        SMatrix::from_fn(|r, c| (((r * 31 + c * 17 + seed * 7) % 23) as f64 - 11.0) * 0.125)
    }

    fn agree<const O: usize, const I: usize, const B: usize>() {
        let (w, x, dy) = (m::<O, I>(1), m::<I, B>(2), m::<O, B>(3));
        let mut y = m::<O, B>(4);
        let expected = y + w * x;
        gemm_acc(&w, &x, &mut y);
        assert!((y - expected).abs().max() < 1e-12, "gemm {O}x{I}x{B}");
        let mut g = m::<O, I>(5);
        let expected = g + dy * x.transpose();
        ger_acc(&dy, &x, &mut g);
        assert!((g - expected).abs().max() < 1e-12, "ger {O}x{I}x{B}");
        assert!((gemm_tn(&w, &dy) - w.transpose() * dy).abs().max() < 1e-12, "gemm_tn {O}x{I}x{B}");
        // The one-sample slice forms against the same products, column by column.
        for b in 0..B {
            let (xb, db) = (x.column(b).into_owned(), dy.column(b).into_owned());
            let mut yb = m::<O, 1>(6);
            let expected = yb + w * xb;
            gemv_acc(&w, xb.as_slice(), yb.as_mut_slice());
            assert!((yb - expected).abs().max() < 1e-12, "gemv {O}x{I}");
            let mut ob = m::<I, 1>(7);
            let expected = ob + w.transpose() * db;
            gemv_t_acc(&w, db.as_slice(), ob.as_mut_slice());
            assert!((ob - expected).abs().max() < 1e-12, "gemv_t {O}x{I}");
            let mut gb = m::<O, I>(8);
            let expected = gb + db * xb.transpose();
            ger_vec_acc(db.as_slice(), xb.as_slice(), &mut gb);
            assert!((gb - expected).abs().max() < 1e-12, "ger_vec {O}x{I}");
        }
    }

    #[test]
    fn kernels_agree_with_nalgebra_for_odd_and_blocked_sizes() {
        agree::<1, 1, 1>();
        agree::<3, 2, 1>();
        agree::<5, 7, 4>();
        agree::<19, 9, 7>();
        agree::<16, 32, 32>();
        agree::<10, 33, 13>();
        // Large enough for the dispatched matrix-vector product (tail rows, one to three samples).
        agree::<64, 70, 1>();
        agree::<75, 64, 3>();
    }
}
