//! Matrix kernels on fixed-size column-major storage, written so the compiler vectorises them along contiguous
//! columns: the products a dense layer needs for a batch whose columns are samples.
//!
//! Each kernel works on four samples at a time so that a column of the weight matrix is loaded once for four
//! products (a register-blocked matrix-matrix product rather than a loop of matrix-vector ones). With `std`,
//! products of at least [`BLOCKED_COLUMNS`] samples and [`BLOCKED_WORK`] multiply-adds go to the `matrixmultiply`
//! crate instead: a cache-blocked GEMM over packed panels whose FMA microkernels are chosen at run time, on the
//! fixed-size storage's slices (nalgebra keeps that path for dynamic sizes only).

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
    if O <= ROWS / 2 && O * I >= SMALL_OUTPUT_WORK {
        // Few outputs: every sample's rows fit in registers, so a matrix-vector product per sample streams the
        // weights once per sample with no packing (the blocked GEMM pads 10 rows to 16).
        for b in 0..n {
            gemv_wide::<T, O, I>(w.as_slice(), &x[b * I..(b + 1) * I], &mut y[b * O..(b + 1) * O]);
        }
        return;
    }
    if blocked(O, I, n) {
        // y (O x n) += w (O x I) x (I x n), all column-major.
        if blocked_gemm(O, I, n, w.as_slice(), (1, O), x, (1, I), (T::one(), T::one()), y, O) {
            return;
        }
    }
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

/// Products over at least this many samples (columns) may go to the blocked GEMM (with `std`): below it, packing
/// the panels costs more than the register-blocked loops here.
pub const BLOCKED_COLUMNS: usize = 16;

/// Products of at least this many multiply-adds over [`BLOCKED_COLUMNS`] samples or more go to the blocked GEMM
/// (with `std`). Measured with `f32` at the default target and `target-cpu=native`: 32x16 by 32 samples ran 2.0x
/// faster there, 4x2 by 32 2.6x slower.
pub const BLOCKED_WORK: usize = 16 * 1024;

/// Weights (multiply-adds per sample) from which a product with at most `ROWS / 2` outputs runs as one
/// dispatched matrix-vector product per sample, whatever the batch.
const SMALL_OUTPUT_WORK: usize = 1024;

/// Whether an `m x k` by `k x n` product (in some order) goes to [`blocked_gemm`].
#[inline(always)]
fn blocked(o: usize, i: usize, n: usize) -> bool {
    cfg!(feature = "std") && n >= BLOCKED_COLUMNS && o * i * n >= BLOCKED_WORK
}

/// `c = alpha a b + beta c` for `a: m x k`, `b: k x n`, `c: m x n` column-major with leading dimension `ldc`; `a` and
/// `b` are read through `(row stride, column stride)` pairs, so a transposed operand costs nothing. `f32` and
/// `f64` go to `matrixmultiply`'s `sgemm`/`dgemm`; returns `false` (having done nothing) for any other scalar.
#[cfg(feature = "std")]
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub(crate) fn blocked_gemm<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    (rsa, csa): (usize, usize),
    b: &[T],
    (rsb, csb): (usize, usize),
    (alpha, beta): (T, T),
    c: &mut [T],
    ldc: usize,
) -> bool {
    use core::any::TypeId;
    if m == 0 || n == 0 {
        return true;
    }
    // The extent of every operand, checked here so that the pointer arithmetic below stays inside the slices.
    let extent = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs + 1;
    assert!(k == 0 || a.len() >= extent(m, k, rsa, csa), "blocked_gemm: a too short");
    assert!(k == 0 || b.len() >= extent(k, n, rsb, csb), "blocked_gemm: b too short");
    assert!(ldc >= m && c.len() >= extent(m, n, 1, ldc), "blocked_gemm: c too short");
    let s = |v: usize| v as isize;
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        let (a, b): (&[f32], &[f32]) = (bytemuck::cast_slice(a), bytemuck::cast_slice(b));
        let (alpha, beta) = (alpha.to_f64() as f32, beta.to_f64() as f32);
        let c: &mut [f32] = bytemuck::cast_slice_mut(c);
        // SAFETY: the asserts above keep every element `sgemm` reads (a, b) or writes (c) inside its slice, and
        // `c` is borrowed mutably, so it aliases neither `a` nor `b`.
        #[allow(unsafe_code)]
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                alpha,
                a.as_ptr(),
                s(rsa),
                s(csa),
                b.as_ptr(),
                s(rsb),
                s(csb),
                beta,
                c.as_mut_ptr(),
                1,
                s(ldc),
            );
        }
    } else if TypeId::of::<T>() == TypeId::of::<f64>() {
        let (a, b): (&[f64], &[f64]) = (bytemuck::cast_slice(a), bytemuck::cast_slice(b));
        let (alpha, beta) = (alpha.to_f64(), beta.to_f64());
        let c: &mut [f64] = bytemuck::cast_slice_mut(c);
        // SAFETY: as for `sgemm` above.
        #[allow(unsafe_code)]
        unsafe {
            matrixmultiply::dgemm(
                m,
                k,
                n,
                alpha,
                a.as_ptr(),
                s(rsa),
                s(csa),
                b.as_ptr(),
                s(rsb),
                s(csb),
                beta,
                c.as_mut_ptr(),
                1,
                s(ldc),
            );
        }
    } else {
        return false;
    }
    true
}

/// Without `std` the blocked path is never taken ([`blocked`] is false).
#[cfg(not(feature = "std"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn blocked_gemm<T: Float>(
    _: usize,
    _: usize,
    _: usize,
    _: &[T],
    _: (usize, usize),
    _: &[T],
    _: (usize, usize),
    _: (T, T),
    _: &mut [T],
    _: usize,
) -> bool {
    false
}

/// Matrix-vector products of at least this many multiply-adds go through runtime CPU-feature dispatch (with
/// `std`): on a build for the default x86-64 target, a machine with AVX2 and FMA, or AVX-512, still gets them.
/// Smaller ones stay inline, where the dispatch would cost more than it saves.
pub const DISPATCH_WORK: usize = 4096;

/// Rows of `y` kept in registers across all the inputs of a matrix-vector product.
const ROWS: usize = 32;

/// Outputs up to which a matrix-vector product runs in row strips held in registers ([`gemv_strips`]); taller
/// matrices stream their columns instead ([`gemv_columns`]), because a strip reads every column at a stride of
/// `4 O` bytes. Measured with `f32`, both kernels with compile-time slice lengths, at the default target
/// (AVX-512 clone) and at `target-cpu=native`: 32x256 0.21 us in one strip, 0.26-0.31 us streamed; 64x256
/// 0.61 us streamed, 0.90 in strips; 128x784 3.9 us streamed, 5.8-6.4 in strips.
const STRIP_ROWS_MAX: usize = ROWS;

/// Below this many rows, the outer-product and transposed kernels built for AVX-512 hide the row count from the
/// optimiser (see [`ger_acc_columns`]); measured no slower for 128 rows, and 6x faster for 32.
const SMALL_ROWS: usize = 256;

/// Whether a kernel over `rows` rows hides the count (only where it measured faster: AVX-512 builds).
#[inline(always)]
const fn hide_rows(rows: usize) -> bool {
    rows < SMALL_ROWS && cfg!(target_feature = "avx512f")
}

/// Columns of `w` combined per pass over `y` in [`gemv_columns`].
const COLUMNS: usize = 8;

/// `y += w x` for one sample (`w` column-major `O x I`).
#[inline(always)]
fn gemv_body<T: Float, const O: usize, const I: usize, const FMA: bool>(w: &[T], x: &[T], y: &mut [T]) {
    if O <= STRIP_ROWS_MAX {
        gemv_strips::<T, O, I, FMA>(w, x, y);
    } else {
        gemv_columns::<T, O, I, FMA>(w, x, y);
    }
}

/// `a * b + c`, fused when the clone being compiled has FMA.
#[inline(always)]
fn madd<T: Float, const FMA: bool>(a: T, b: T, c: T) -> T {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// [`gemv_body`] in strips of `ROWS` rows, each strip's accumulators in registers while the columns stream
/// past; two or four interleaved sets of them hide the latency of the multiply-adds.
#[inline(always)]
fn gemv_strips<T: Float, const O: usize, const I: usize, const FMA: bool>(w: &[T], x: &[T], y: &mut [T]) {
    let (w, x, y) = (&w[..O * I], &x[..I], &mut y[..O]);
    // Whole strips, then the rest: each call sees its row count as a constant. A count computed in the loop
    // (`min(O - r0, ROWS)`) left the compiler runtime-length loops with scalar epilogues, and 784-128-10's
    // first layer took 6-14 us or 4 us depending on what the caller had inlined.
    let mut r0 = 0;
    while r0 + ROWS <= O {
        gemv_strip::<T, O, I, FMA>(w, x, &mut y[r0..r0 + ROWS], r0, ROWS);
        r0 += ROWS;
    }
    if !O.is_multiple_of(ROWS) {
        gemv_strip::<T, O, I, FMA>(w, x, &mut y[r0..], r0, O % ROWS);
    }
}

/// Rows `r0..r0 + rows` of [`gemv_strips`] (`rows <= ROWS`, a constant at every call).
#[inline(always)]
fn gemv_strip<T: Float, const O: usize, const I: usize, const FMA: bool>(
    w: &[T],
    x: &[T],
    y: &mut [T],
    r0: usize,
    rows: usize,
) {
    // Independent partial sums over interleaved columns: with few rows, one accumulator per row would be a
    // single chain of `I` dependent multiply-adds (10x128 took 110 ns that way, latency-bound).
    let chains = if O <= ROWS / 2 { 4 } else { 2 };
    let full = I / chains * chains;
    let mut acc = [[T::zero(); ROWS]; 4];
    let mut i = 0;
    while i < full {
        for (k, a) in acc.iter_mut().enumerate().take(chains) {
            let xi = x[i + k];
            let wc = &w[(i + k) * O + r0..][..rows];
            for (a, &wr) in a[..rows].iter_mut().zip(wc) {
                *a = madd::<T, FMA>(wr, xi, *a);
            }
        }
        i += chains;
    }
    for i in full..I {
        let (xi, wc) = (x[i], &w[i * O + r0..][..rows]);
        for (a, &wr) in acc[0][..rows].iter_mut().zip(wc) {
            *a = madd::<T, FMA>(wr, xi, *a);
        }
    }
    for (r, yr) in y[..rows].iter_mut().enumerate() {
        *yr += (acc[0][r] + acc[1][r]) + (acc[2][r] + acc[3][r]);
    }
}

/// [`gemv_body`] for tall matrices: [`COLUMNS`] columns per pass over `y` (which stays in the first-level
/// cache), each column read contiguously.
#[inline(always)]
fn gemv_columns<T: Float, const O: usize, const I: usize, const FMA: bool>(w: &[T], x: &[T], y: &mut [T]) {
    // Every slice below has a length the compiler can see (`O`, `COLUMNS * O`): with lengths it had to carry at
    // run time, it kept a scalar epilogue of 16 rows on every pass (half the time of 784-128-10's first layer).
    let (y, x) = (&mut y[..O], &x[..I]);
    let blocks = w[..O * I].chunks_exact(COLUMNS * O);
    let rest = blocks.remainder();
    for (block, xs) in blocks.zip(x.chunks_exact(COLUMNS)) {
        for r in 0..O {
            let mut a = y[r];
            for k in 0..COLUMNS {
                a = madd::<T, FMA>(block[k * O + r], xs[k], a);
            }
            y[r] = a;
        }
    }
    for (wc, &xi) in rest.chunks_exact(O).zip(&x[I / COLUMNS * COLUMNS..]) {
        for (yr, &wr) in y.iter_mut().zip(wc) {
            *yr = madd::<T, FMA>(wr, xi, *yr);
        }
    }
}

#[cfg(feature = "std")]
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn gemv_wide<T: Float, const O: usize, const I: usize>(w: &[T], x: &[T], y: &mut [T]) {
    // Decided at compile time for each clone.
    const FMA: bool = multiversion::target::selected_target!().supports_feature_str("fma");
    const AVX512: bool = multiversion::target::selected_target!().supports_feature_str("avx512f");
    #[cfg(target_arch = "x86_64")]
    if FMA && O > STRIP_ROWS_MAX && core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>() {
        let (w, x, y): (&[f32], &[f32], &mut [f32]) =
            (bytemuck::cast_slice(&w[..O * I]), bytemuck::cast_slice(&x[..I]), bytemuck::cast_slice_mut(&mut y[..O]));
        // SAFETY: this clone is compiled for (and only run on) a CPU with FMA and AVX2, and with AVX-512 when
        // `AVX512` says so; the slices hold `O x I`, `I` and `O` values.
        #[allow(unsafe_code)]
        unsafe {
            if AVX512 {
                x86_gemv::avx512(O, w, x, y);
            } else {
                x86_gemv::avx2(O, w, x, y);
            }
        }
        return;
    }
    gemv_body::<T, O, I, FMA>(w, x, y);
}

/// Tall `f32` matrix-vector products (`y += w x`, more than [`STRIP_ROWS_MAX`] rows) with AVX-512 and AVX2
/// intrinsics: blocks of up to 256 rows held in registers, each column's piece of a block one multiply-add per
/// vector against the broadcast input. Left to itself, LLVM vectorised [`gemv_columns`]'s AVX-512 clone across
/// the columns, with gathers, for heights that are not a multiple of sixteen: 120x256 (the MNIST CNN's first
/// dense layer) took 10.5 us and 84x120 3.5 us, 1.1 and 0.37 us with these; 128x784, 256x256 and 128x64 take
/// what LLVM's code took (3.8, 2.3 and 0.2 us), bound by the second-level cache's bandwidth.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[allow(unsafe_code)]
mod x86_gemv {
    use core::arch::x86_64::*;

    /// `y += w x` for `w` (`rows x x.len()`, column-major) with AVX-512: blocks of up to sixteen vectors (256
    /// rows, so the weights are read in long contiguous runs), the last vector of a block under a mask.
    ///
    /// # Safety
    /// The CPU must have AVX-512F; `w.len() == rows * x.len()` and `y.len() == rows`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512(rows: usize, w: &[f32], x: &[f32], y: &mut [f32]) {
        assert!(w.len() == rows * x.len() && y.len() == rows);
        let mut r = 0;
        while r < rows {
            let n = (rows - r).min(256);
            let last = match n % 16 {
                0 => 0xffff,
                lanes => (1u16 << lanes) - 1,
            };
            // SAFETY: the block reads and writes rows r..r + n only (its last vector masked).
            unsafe {
                match (n.div_ceil(16), last != 0xffff) {
                    (1, false) => block512::<1, 4, false>(rows, w, x, y, r, last),
                    (1, true) => block512::<1, 4, true>(rows, w, x, y, r, last),
                    (2, false) => block512::<2, 2, false>(rows, w, x, y, r, last),
                    (2, true) => block512::<2, 2, true>(rows, w, x, y, r, last),
                    (3, false) => block512::<3, 2, false>(rows, w, x, y, r, last),
                    (3, true) => block512::<3, 2, true>(rows, w, x, y, r, last),
                    (4, false) => block512::<4, 2, false>(rows, w, x, y, r, last),
                    (4, true) => block512::<4, 2, true>(rows, w, x, y, r, last),
                    (5, false) => block512::<5, 2, false>(rows, w, x, y, r, last),
                    (5, true) => block512::<5, 2, true>(rows, w, x, y, r, last),
                    (6, false) => block512::<6, 2, false>(rows, w, x, y, r, last),
                    (6, true) => block512::<6, 2, true>(rows, w, x, y, r, last),
                    (7, false) => block512::<7, 2, false>(rows, w, x, y, r, last),
                    (7, true) => block512::<7, 2, true>(rows, w, x, y, r, last),
                    (8, false) => block512::<8, 2, false>(rows, w, x, y, r, last),
                    (8, true) => block512::<8, 2, true>(rows, w, x, y, r, last),
                    (9, false) => block512::<9, 1, false>(rows, w, x, y, r, last),
                    (9, true) => block512::<9, 1, true>(rows, w, x, y, r, last),
                    (10, false) => block512::<10, 1, false>(rows, w, x, y, r, last),
                    (10, true) => block512::<10, 1, true>(rows, w, x, y, r, last),
                    (11, false) => block512::<11, 1, false>(rows, w, x, y, r, last),
                    (11, true) => block512::<11, 1, true>(rows, w, x, y, r, last),
                    (12, false) => block512::<12, 1, false>(rows, w, x, y, r, last),
                    (12, true) => block512::<12, 1, true>(rows, w, x, y, r, last),
                    (13, false) => block512::<13, 1, false>(rows, w, x, y, r, last),
                    (13, true) => block512::<13, 1, true>(rows, w, x, y, r, last),
                    (14, false) => block512::<14, 1, false>(rows, w, x, y, r, last),
                    (14, true) => block512::<14, 1, true>(rows, w, x, y, r, last),
                    (15, false) => block512::<15, 1, false>(rows, w, x, y, r, last),
                    (15, true) => block512::<15, 1, true>(rows, w, x, y, r, last),
                    (_, false) => block512::<16, 1, false>(rows, w, x, y, r, last),
                    (_, true) => block512::<16, 1, true>(rows, w, x, y, r, last),
                }
            }
            r += n;
        }
    }

    /// `NV` vectors of rows from `r`, the last one under `last` (a mask of its lanes), with `SETS` columns in
    /// flight (enough independent sums to cover the multiply-add's latency).
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn block512<const NV: usize, const SETS: usize, const MASKED: bool>(
        rows: usize,
        w: &[f32],
        x: &[f32],
        y: &mut [f32],
        r: usize,
        last: u16,
    ) {
        // The last vector under its mask, every other one (and the last, when it is whole) plainly.
        let load = |v: usize, p: *const f32| {
            // SAFETY: the caller's bounds: a whole vector at `p`, or the lanes of `last` when masked.
            unsafe { if MASKED && v + 1 == NV { _mm512_maskz_loadu_ps(last, p) } else { _mm512_loadu_ps(p) } }
        };
        // SAFETY: every access is inside rows r..r + 16 NV (masked at the end) of y and of a column of w.
        unsafe {
            let wp = w.as_ptr().add(r);
            let mut acc = [[_mm512_setzero_ps(); NV]; SETS];
            let whole = x.len() / SETS * SETS;
            for k in (0..whole).step_by(SETS) {
                for (s, set) in acc.iter_mut().enumerate() {
                    let (xk, c) = (_mm512_set1_ps(x[k + s]), wp.add((k + s) * rows));
                    for (v, a) in set.iter_mut().enumerate() {
                        *a = _mm512_fmadd_ps(load(v, c.add(16 * v)), xk, *a);
                    }
                }
            }
            for k in whole..x.len() {
                let (xk, c) = (_mm512_set1_ps(x[k]), wp.add(k * rows));
                for (v, a) in acc[0].iter_mut().enumerate() {
                    *a = _mm512_fmadd_ps(load(v, c.add(16 * v)), xk, *a);
                }
            }
            let yp = y.as_mut_ptr().add(r);
            for v in 0..NV {
                let mut sum = load(v, yp.add(16 * v));
                for set in &acc {
                    sum = _mm512_add_ps(sum, set[v]);
                }
                if MASKED && v + 1 == NV {
                    _mm512_mask_storeu_ps(yp.add(16 * v), last, sum);
                } else {
                    _mm512_storeu_ps(yp.add(16 * v), sum);
                }
            }
        }
    }

    /// [`avx512`] with AVX2 and FMA: blocks of twelve, four and one vectors of eight rows, the last few rows in
    /// scalar fused multiply-adds.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA; `w.len() == rows * x.len()` and `y.len() == rows`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2(rows: usize, w: &[f32], x: &[f32], y: &mut [f32]) {
        assert!(w.len() == rows * x.len() && y.len() == rows);
        let mut r = 0;
        while r + 96 <= rows {
            // SAFETY: rows r..r + 96 exist in y and in every column of w.
            unsafe { block_tall::<12>(rows, w, x, y, r) };
            r += 96;
        }
        while r + 32 <= rows {
            // SAFETY: rows r..r + 32 exist in y and in every column of w.
            unsafe { block256::<4>(rows, w, x, y, r) };
            r += 32;
        }
        while r + 8 <= rows {
            // SAFETY: rows r..r + 8 exist in y and in every column of w.
            unsafe { block256::<1>(rows, w, x, y, r) };
            r += 8;
        }
        for (row, yr) in y.iter_mut().enumerate().skip(r) {
            let mut a = *yr;
            for (k, &xk) in x.iter().enumerate() {
                a = w[k * rows + row].mul_add(xk, a);
            }
            *yr = a;
        }
    }

    /// `NV` vectors of eight rows from `r`, one set of sums (`NV` independent chains cover the multiply-add's
    /// latency): each column's piece of the block is `32 NV` contiguous bytes. Measured on a Zen 1 core (AVX2,
    /// `target-cpu=native`, three alternating runs): 784-128-10 took 12.4-13.0 us per sample in blocks of four
    /// vectors with two sets of sums (128 bytes of every column per pass), 9.5-9.9 us with a block of twelve and
    /// one of four, 10.6-10.9 in two blocks of eight; 256-256-256 14.4-14.6, 12.7-13.9 and 12.9-14.3 us.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block_tall<const NV: usize>(rows: usize, w: &[f32], x: &[f32], y: &mut [f32], r: usize) {
        // SAFETY: every access is inside rows r..r + 8 NV of y and of a column of w.
        unsafe {
            let (wp, yp) = (w.as_ptr().add(r), y.as_mut_ptr().add(r));
            let mut acc = [_mm256_setzero_ps(); NV];
            for (k, &xk) in x.iter().enumerate() {
                let (xk, c) = (_mm256_set1_ps(xk), wp.add(k * rows));
                for (v, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(_mm256_loadu_ps(c.add(8 * v)), xk, *a);
                }
            }
            for (v, a) in acc.iter().enumerate() {
                _mm256_storeu_ps(yp.add(8 * v), _mm256_add_ps(_mm256_loadu_ps(yp.add(8 * v)), *a));
            }
        }
    }

    /// `NV` vectors of eight rows from `r`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block256<const NV: usize>(rows: usize, w: &[f32], x: &[f32], y: &mut [f32], r: usize) {
        // SAFETY: every access is inside rows r..r + 8 NV of y and of a column of w.
        unsafe {
            let (wp, yp) = (w.as_ptr().add(r), y.as_mut_ptr().add(r));
            let mut even = [_mm256_setzero_ps(); NV];
            let mut odd = [_mm256_setzero_ps(); NV];
            let pairs = x.len() / 2;
            for k in 0..pairs {
                let (x0, x1) = (_mm256_set1_ps(x[2 * k]), _mm256_set1_ps(x[2 * k + 1]));
                let (c0, c1) = (wp.add(2 * k * rows), wp.add((2 * k + 1) * rows));
                for v in 0..NV {
                    even[v] = _mm256_fmadd_ps(_mm256_loadu_ps(c0.add(8 * v)), x0, even[v]);
                    odd[v] = _mm256_fmadd_ps(_mm256_loadu_ps(c1.add(8 * v)), x1, odd[v]);
                }
            }
            if x.len() % 2 == 1 {
                let k = x.len() - 1;
                let (xk, c) = (_mm256_set1_ps(x[k]), wp.add(k * rows));
                for v in 0..NV {
                    even[v] = _mm256_fmadd_ps(_mm256_loadu_ps(c.add(8 * v)), xk, even[v]);
                }
            }
            for v in 0..NV {
                let sum = _mm256_add_ps(_mm256_loadu_ps(yp.add(8 * v)), _mm256_add_ps(even[v], odd[v]));
                _mm256_storeu_ps(yp.add(8 * v), sum);
            }
        }
    }
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
    if blocked(O, I, n) {
        // g (O x I) += dy (O x n) x^T (n x I), where x^T is x read with its strides swapped.
        if blocked_gemm(O, n, I, dy, (1, O), x, (I, 1), (T::one(), T::one()), g.as_mut_slice(), O) {
            return;
        }
    }
    // With up to a few hundred rows and AVX-512, LLVM vectorises across the columns instead, with gathers and
    // scatters (seen at `target-cpu=znver4`: 10x128 took 1.0 us, 0.18 us with this, 0.08 us built for AVX2;
    // the 16-32-32-4 backward 2.66 us, 0.45 with this); a row count it cannot see keeps the vectors along the
    // contiguous rows.
    let rows = if hide_rows(O) { core::hint::black_box(O) } else { O };
    for (i, gc) in g.as_mut_slice().chunks_exact_mut(rows).enumerate() {
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
    let n = (dx.len() / I).min(dy.len() / O);
    if blocked(O, I, n) {
        // dx (I x n) = w^T (I x O) dy (O x n).
        if blocked_gemm(I, O, n, w.as_slice(), (O, 1), dy, (1, O), (T::one(), T::zero()), dx, I) {
            return;
        }
    }
    let w = w.as_slice();
    // As in `ger_acc_columns`: keep short dot products from being vectorised across columns with gathers.
    let rows = if hide_rows(O) { core::hint::black_box(O) } else { O };
    for (dxb, d) in dx.chunks_exact_mut(I).zip(dy.chunks_exact(O)) {
        for (v, wc) in dxb.iter_mut().zip(w.chunks_exact(rows)) {
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
    if R <= LOCAL_ROWS && C >= 4 {
        // Two interleaved sets of accumulators, local: the recurrent step that calls this is a chain from one
        // step's state to the next, and one accumulator per row would add `C` dependent multiply-adds to it.
        // Measured at `target-cpu=native`: LSTM step h16 106 -> 92 ns, h32 278 -> 231 ns.
        let (w, x) = (&w.as_slice()[..R * C], &x[..C]);
        let mut acc = [[T::zero(); R]; 2];
        let pairs = C / 2;
        for p in 0..pairs {
            for (k, a) in acc.iter_mut().enumerate() {
                let (xi, wc) = (x[2 * p + k], &w[(2 * p + k) * R..(2 * p + k + 1) * R]);
                for (a, &wr) in a.iter_mut().zip(wc) {
                    *a += wr * xi;
                }
            }
        }
        if C % 2 == 1 {
            let (xi, wc) = (x[C - 1], &w[(C - 1) * R..C * R]);
            for (a, &wr) in acc[0].iter_mut().zip(wc) {
                *a += wr * xi;
            }
        }
        for ((yr, &a0), &a1) in y.iter_mut().zip(&acc[0]).zip(&acc[1]) {
            *yr += a0 + a1;
        }
        return;
    }
    for (wc, &xi) in w.as_slice().chunks_exact(R).zip(&x[..C]) {
        for (yr, &wr) in y.iter_mut().zip(wc) {
            *yr += wr * xi;
        }
    }
}

/// Values of each gate block that one strip of a recurrent step keeps in registers ([`strip_acc`]): eight, a
/// 256-bit vector of `f32`, or two 128-bit ones.
pub const STRIP: usize = 8;

/// Whether recurrent steps run in strips ([`strip_acc`]): on targets with vector registers. A microcontroller's
/// scalar floating-point unit has no vectors to keep sums in, and there the strips took more instructions than
/// one pass over all the gate rows (the firmware's GRU step: 12,542 against 10,679 on a Cortex-M4F).
pub const VECTOR_STRIPS: bool =
    cfg!(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64", target_arch = "wasm32"));

/// Whether the build target fuses multiply-adds (and the standard library provides `mul_add`): the `FMA`
/// argument of [`strip_acc`] for code that is not dispatched at run time.
pub const TARGET_FMA: bool = cfg!(all(feature = "std", target_feature = "fma"));

/// `acc[g][r] += sum_k w[rows[g] + r, k] x[k]` for every block `g` and `r < n`: the products of one strip of a
/// recurrent step, `n <= STRIP` consecutive rows of several gate blocks of `w` (`R x C`, column-major; `x` its
/// first `C` values).
///
/// A recurrent step's gate rows (4H for an LSTM) outnumber the vector registers from a few units on: summed in
/// one pass over the whole matrix, they were stored to the stack and reloaded on every column (the hottest
/// instructions of an LSTM step at 32 units). A strip's `NG x n` sums stay in registers over all the columns,
/// and the cell can update its `n` units from them at once. `n` must be a constant where this is inlined, as
/// [`STRIP`] or `H % STRIP`.
///
/// `FMA`: fused multiply-adds (only where the code is compiled for a CPU that has them: [`TARGET_FMA`], or a
/// clone dispatched at run time), in two independent sets of sums over even and odd columns, since the fused
/// operation's latency (five cycles or so) would hold a single set of four gate vectors back; without, one set
/// of separate multiplies and adds (with 128-bit vectors a strip of four gates already holds eight independent
/// sums).
#[inline(always)]
pub fn strip_acc<T: Float, const R: usize, const C: usize, const NG: usize, const FMA: bool>(
    w: &SMatrix<T, R, C>,
    x: &[T],
    rows: [usize; NG],
    n: usize,
    acc: &mut [[T; STRIP]; NG],
) {
    let (w, x) = (w.as_slice(), &x[..C]);
    debug_assert!(n <= STRIP && rows.iter().all(|&r| r + n <= R));
    if FMA && C >= 2 {
        let mut odd = [[T::zero(); STRIP]; NG];
        for p in 0..C / 2 {
            strip_column::<T, R, NG, FMA>(acc, w, x, 2 * p, rows, n);
            strip_column::<T, R, NG, FMA>(&mut odd, w, x, 2 * p + 1, rows, n);
        }
        if C % 2 == 1 {
            strip_column::<T, R, NG, FMA>(acc, w, x, C - 1, rows, n);
        }
        for (a, o) in acc.iter_mut().zip(&odd) {
            for (a, &o) in a[..n].iter_mut().zip(&o[..n]) {
                *a += o;
            }
        }
    } else {
        for k in 0..C {
            strip_column::<T, R, NG, FMA>(acc, w, x, k, rows, n);
        }
    }
}

/// Column `k` of [`strip_acc`]: `acc[g][r] += w[rows[g] + r, k] x[k]`. A function, not a closure: a closure
/// cannot be marked `inline(always)`, and built for AVX2 LLVM called it once per column.
#[inline(always)]
fn strip_column<T: Float, const R: usize, const NG: usize, const FMA: bool>(
    acc: &mut [[T; STRIP]; NG],
    w: &[T],
    x: &[T],
    k: usize,
    rows: [usize; NG],
    n: usize,
) {
    let (xk, col) = (x[k], &w[k * R..(k + 1) * R]);
    for (a, &r0) in acc.iter_mut().zip(&rows) {
        for (a, &wr) in a[..n].iter_mut().zip(&col[r0..r0 + n]) {
            *a = madd::<T, FMA>(wr, xk, *a);
        }
    }
}

/// `acc[g][r] = a[rows[g] + r] + b[rows[g] + r]` for `r < n` (`b` may be empty: `a` alone): a strip's
/// accumulators started from its biases.
#[inline(always)]
pub fn strip_init<T: Float, const NG: usize>(a: &[T], b: &[T], rows: [usize; NG], n: usize) -> [[T; STRIP]; NG] {
    let mut acc = [[T::zero(); STRIP]; NG];
    for (acc, &r0) in acc.iter_mut().zip(&rows) {
        for (r, v) in acc[..n].iter_mut().enumerate() {
            *v = if b.is_empty() { a[r0 + r] } else { a[r0 + r] + b[r0 + r] };
        }
    }
    acc
}

/// Rows up to which [`gemv_acc`] keeps two sets of accumulators in locals: as many as half the vector registers
/// hold (with fewer registers the accumulators spill, measured slower at the default target: GRU step h32 427 ->
/// 563 ns).
const LOCAL_ROWS: usize = if cfg!(target_feature = "avx512f") {
    128
} else if cfg!(target_feature = "avx") {
    32
} else {
    16
};

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
        agree::<32, 130, 2>();
        agree::<20, 300, 1>();
        agree::<33, 129, 1>();
        // Few outputs over a batch: one dispatched matrix-vector product per sample.
        agree::<10, 128, 20>();
        // Large enough for the blocked GEMM (odd sizes, and the smallest batch that takes it).
        agree::<40, 30, 20>();
        agree::<33, 31, 16>();
        agree::<64, 64, 33>();
    }

    /// Both instruction sets' tall matrix-vector products (whichever the CPU has) against an `f64` product, at
    /// heights around their vector and block sizes and odd and even column counts.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[test]
    #[allow(unsafe_code)]
    fn the_intrinsic_matrix_vector_products_agree_with_f64() {
        use std::vec::Vec;
        for rows in [33, 40, 47, 64, 84, 120, 128, 129, 250, 256, 257, 300, 520] {
            for cols in [1, 2, 3, 8, 9, 120] {
                let w: Vec<f32> = (0..rows * cols).map(|i| ((i * 37 % 101) as f32 - 50.0) / 64.0).collect();
                let x: Vec<f32> = (0..cols).map(|i| ((i * 13 % 17) as f32 - 8.0) / 8.0).collect();
                let y0: Vec<f32> = (0..rows).map(|r| (r % 7) as f32 - 3.0).collect();
                let expected: Vec<f64> = (0..rows)
                    .map(|r| y0[r] as f64 + (0..cols).map(|k| w[k * rows + r] as f64 * x[k] as f64).sum::<f64>())
                    .collect();
                let check = |y: &[f32], isa: &str| {
                    for (r, (&got, &want)) in y.iter().zip(&expected).enumerate() {
                        // Sums of `cols` products of values below 1 in magnitude: f32 rounding stays far below this.
                        assert!((got as f64 - want).abs() < 1e-4 * (1.0 + want.abs()), "{isa} {rows}x{cols} row {r}");
                    }
                };
                if std::arch::is_x86_feature_detected!("avx512f") {
                    let mut y = y0.clone();
                    // SAFETY: the CPU has AVX-512F; the slices have the sizes the function asks for.
                    unsafe { x86_gemv::avx512(rows, &w, &x, &mut y) };
                    check(&y, "avx512");
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    let mut y = y0.clone();
                    // SAFETY: the CPU has AVX2 and FMA; the slices have the sizes the function asks for.
                    unsafe { x86_gemv::avx2(rows, &w, &x, &mut y) };
                    check(&y, "avx2");
                }
            }
        }
    }

    #[test]
    fn blocked_gemm_serves_f32_too() {
        let w = SMatrix::<f32, 48, 40>::from_fn(|r, c| ((r * 7 + c * 3) % 11) as f32 * 0.25 - 1.0);
        let x = SMatrix::<f32, 40, 24>::from_fn(|r, c| ((r * 5 + c) % 9) as f32 * 0.5 - 2.0);
        assert!(blocked(48, 40, 24));
        let mut y = SMatrix::<f32, 48, 24>::from_element(1.0);
        gemm_acc(&w, &x, &mut y);
        let expected = (w.cast::<f64>() * x.cast::<f64>()).add_scalar(1.0);
        assert!((y.cast::<f64>() - expected).abs().max() < 1e-4);
        let dx = gemm_tn(&w, &y);
        let expected = w.cast::<f64>().transpose() * y.cast::<f64>();
        assert!((dx.cast::<f64>() - expected).abs().max() / expected.abs().max() < 1e-6);
    }
}
