//! The inner product every int8 layer spends its time in: rows of int8 weights against a vector of activations
//! already offset by their zero point (so in `-255..=255`, held as `i16`). Written so that the compiler emits
//! the multiply-add of pairs of 16-bit values (`pmaddwd` on x86, `smlad` on a Cortex-M4); with `std` on x86-64,
//! an AVX2 kernel (four rows at a time, `vpmaddwd`) is picked at run time when the CPU has it.

/// `acc[r] = Σ_i w[r * n + i] * x[i]` for every row `r` of `w` (`n = x.len()`, `acc.len()` rows), exactly.
#[inline]
pub fn rows_dot(w: &[i8], x: &[i16], acc: &mut [i32]) {
    debug_assert_eq!(w.len(), x.len() * acc.len());
    #[cfg(feature = "std")]
    rows_dot_dispatch(w, x, acc);
    #[cfg(not(feature = "std"))]
    rows_dot_body(w, x, acc);
}

#[cfg(feature = "std")]
fn rows_dot_dispatch(w: &[i8], x: &[i16], acc: &mut [i32]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        #[allow(unsafe_code)]
        unsafe {
            x86::rows_dot_avx2(w, x, acc)
        };
        return;
    }
    rows_dot_body(w, x, acc);
}

/// AVX2: `vpmaddwd` on 16 columns of four rows at a time, four accumulators.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[allow(unsafe_code)]
mod x86 {
    use core::arch::x86_64::*;

    /// Horizontal sum of eight `i32`.
    #[target_feature(enable = "avx2")]
    fn hsum(v: __m256i) -> i32 {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
    }

    /// 16 `i8` at `w[i..]` widened to `i16`, times 16 `i16` of `xv`, summed in pairs into eight `i32`.
    ///
    /// # Safety
    /// `i + 16 <= w.len()`, and the CPU has AVX2.
    #[target_feature(enable = "avx2")]
    unsafe fn madd(w: &[i8], i: usize, xv: __m256i) -> __m256i {
        debug_assert!(i + 16 <= w.len());
        // SAFETY: 16 bytes from `i`, within `w` (the caller's bound).
        let wv = unsafe { _mm_loadu_si128(w.as_ptr().add(i).cast()) };
        _mm256_madd_epi16(_mm256_cvtepi8_epi16(wv), xv)
    }

    /// [`super::rows_dot`] with AVX2.
    ///
    /// # Safety
    /// The CPU has AVX2; `w.len() == x.len() * acc.len()`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn rows_dot_avx2(w: &[i8], x: &[i16], acc: &mut [i32]) {
        let n = x.len();
        if n == 0 {
            acc.fill(0);
            return;
        }
        let full = n - n % 16;
        // The columns after the last full 16: eight at a time with 128-bit loads, then one by one (no copies
        // into padded buffers: their stores would stall the loads that follow).
        let tail = |row: &[i8]| -> i32 {
            let mut i = full;
            let mut sum = 0i32;
            if i + 8 <= n {
                // SAFETY: 8 bytes of `row` and 8 `i16` of `x` from `i`, within both (`i + 8 <= n`).
                let v = unsafe {
                    let wv = _mm_cvtepi8_epi16(_mm_loadl_epi64(row.as_ptr().add(i).cast()));
                    _mm_madd_epi16(wv, _mm_loadu_si128(x.as_ptr().add(i).cast()))
                };
                let v = _mm_add_epi32(v, _mm_shuffle_epi32::<0b01_00_11_10>(v));
                let v = _mm_add_epi32(v, _mm_shuffle_epi32::<0b10_11_00_01>(v));
                sum = _mm_cvtsi128_si32(v);
                i += 8;
            }
            sum + row[i..].iter().zip(&x[i..]).map(|(&a, &b)| i32::from(a) * i32::from(b)).sum::<i32>()
        };
        let mut r = 0;
        while r + 4 <= acc.len() {
            let (w0, w1, w2, w3) =
                (&w[r * n..][..n], &w[(r + 1) * n..][..n], &w[(r + 2) * n..][..n], &w[(r + 3) * n..][..n]);
            let (mut a0, mut a1, mut a2, mut a3) =
                (_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256());
            let mut i = 0;
            while i < full {
                // SAFETY: `i + 16 <= full <= n`, the length of `x` and of every row.
                unsafe {
                    let xv = _mm256_loadu_si256(x.as_ptr().add(i).cast());
                    a0 = _mm256_add_epi32(a0, madd(w0, i, xv));
                    a1 = _mm256_add_epi32(a1, madd(w1, i, xv));
                    a2 = _mm256_add_epi32(a2, madd(w2, i, xv));
                    a3 = _mm256_add_epi32(a3, madd(w3, i, xv));
                }
                i += 16;
            }
            acc[r] = hsum(a0) + tail(w0);
            acc[r + 1] = hsum(a1) + tail(w1);
            acc[r + 2] = hsum(a2) + tail(w2);
            acc[r + 3] = hsum(a3) + tail(w3);
            r += 4;
        }
        while r < acc.len() {
            let row = &w[r * n..][..n];
            let mut a = _mm256_setzero_si256();
            let mut i = 0;
            while i < full {
                // SAFETY: as above.
                unsafe {
                    let xv = _mm256_loadu_si256(x.as_ptr().add(i).cast());
                    a = _mm256_add_epi32(a, madd(row, i, xv));
                }
                i += 16;
            }
            acc[r] = hsum(a) + tail(row);
            r += 1;
        }
    }
}

#[inline(always)]
fn rows_dot_body(w: &[i8], x: &[i16], acc: &mut [i32]) {
    let n = x.len();
    if n == 0 {
        acc.fill(0);
        return;
    }
    for (row, a) in w.chunks_exact(n).zip(acc.iter_mut()) {
        let mut s = 0i32;
        for (&wi, &xi) in row.iter().zip(x) {
            s += i32::from(i16::from(wi)) * i32::from(xi);
        }
        *a = s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn rows_dot_is_exact_at_the_extremes() {
        let n = 1003;
        let w: Vec<i8> = (0..3 * n).map(|i| if i % 3 == 0 { -128 } else { 127 }).collect();
        // Five rows: one block of four and one row alone, each with a tail of 11 columns.
        let w5: Vec<i8> = (0..5 * n).map(|i| (i * 37 % 256) as u8 as i8).collect();
        let x5: Vec<i16> = (0..n).map(|i| (i as i16 * 13 % 511) - 255).collect();
        let (mut a5, mut p5) = ([0; 5], [0; 5]);
        rows_dot(&w5, &x5, &mut a5);
        rows_dot_body(&w5, &x5, &mut p5);
        assert_eq!(a5, p5);
        let x: Vec<i16> = (0..n).map(|i| if i % 2 == 0 { -255 } else { 255 }).collect();
        let mut acc = [0; 3];
        rows_dot(&w, &x, &mut acc);
        let mut portable = [0; 3];
        rows_dot_body(&w, &x, &mut portable);
        assert_eq!(acc, portable);
        for (r, a) in acc.iter().enumerate() {
            let want: i64 = (0..n).map(|i| i64::from(w[r * n + i]) * i64::from(x[i])).sum();
            assert_eq!(i64::from(*a), want);
        }
    }
}
