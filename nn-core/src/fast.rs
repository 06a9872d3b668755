//! Branch-free `f32` versions of `e^x`, `tanh` and the logistic sigmoid that the compiler vectorises: every
//! operation is an add, multiply, divide, compare-and-select or integer bit move, so a loop over a layer's
//! values becomes SIMD code, where a call into the C library's `expf`/`tanhf` (10-30 ns each) cannot.
//!
//! - [`exp_f32`]: `x = k ln 2 + r` with `|r| <= ln 2 / 2`, `e^r` by a degree-6 polynomial (a Chebyshev fit,
//!   relative error 2.5e-9 before rounding), `2^k` built in the exponent bits. Inputs are clamped to
//!   `[-87.3, 88.3]`, so the result is always a finite normal number (`e^88.3` for larger inputs).
//! - [`tanh_f32`]: one rational form everywhere, `x P(x^2) / Q(x^2)` with `P` and `Q` of degree 4 (a minimax
//!   fit of the relative error on `[0, 9]`, 2.1e-8 before rounding; `tools/fit_tanh.py` makes it), `x` clamped
//!   to `[-9, 9]` and the result to `[-1, 1]`: nine multiply-adds and one division, with no exponential and
//!   nothing to select, so it is about a third of the two forms it replaces (a polynomial below `|x| = 0.625`,
//!   `1 - 2 / (e^(2|x|) + 1)` above, both evaluated for every value). It reaches exactly `±1` where the rounded
//!   exact value does (`|x|` above about 9.01).
//! - [`sigmoid_f32`]: `1 / (1 + e^-x)`, both terms scaled by `2^-24` so that it follows the exact value through
//!   the subnormal numbers to 0 (at about `x = -104`).
//!
//! Maximum errors against the exact `f64` functions, measured by the tests over two million points in
//! `[-20, 20]` and the values around every branch point: [`MAX_ULP`] unit in the last place for `exp_f32`,
//! [`MAX_ERROR`] (relative below 1, absolute above) for `sigmoid_f32` and [`TANH_MAX_ERROR`] for `tanh_f32`. The
//! activations use them through [`crate::Float::fast_tanh`], [`crate::Float::fast_sigmoid`],
//! [`crate::Float::fast_exp`] (softmax) and [`crate::Float::fast_exp_m1`] (ELU) for `f32`;
//! `f64` (and so every gradient check) always uses the exact functions, and the crate feature `exact-math`
//! makes `f32` exact too.

/// The largest error of [`exp_f32`], in units in the last place of the exact result rounded to `f32` (tested;
/// the arithmetic is plain IEEE `f32`, so the bound holds on every platform).
pub const MAX_ULP: u32 = 1;

/// The largest error of [`sigmoid_f32`]: relative where the exact value is below 1 in magnitude, absolute
/// otherwise (tested: 1.58e-7, about 2.7 `f32` ulps). Where the exact sigmoid is subnormal (`x` below about
/// -87.3), add one subnormal step (`2^-149`) for the rounding to those.
pub const MAX_ERROR: f32 = 2e-7;

/// The largest error of [`tanh_f32`], measured as [`MAX_ERROR`] (tested: 3.2e-7 with separate multiplies and
/// adds, 2.9e-7 with fused ones, about five `f32` ulps just below 1, where the roundings of the two polynomials
/// and the quotient add up; 2.1e-8 of it is the fit's).
pub const TANH_MAX_ERROR: f32 = 3.5e-7;

/// `a * b + c`: one fused multiply-add when `FUSED` (and the standard library provides `mul_add`), which
/// shortens every polynomial's dependency chain by a third; a multiply and an add otherwise (a fused multiply-add
/// without the instruction is a slow library call). The public functions pass `kernel::TARGET_FMA` (the build
/// target has the instruction: `-C target-cpu=native` here, or any `+fma` target); the `_with` forms let code
/// compiled for such a CPU without the target promising it (a clone dispatched at run time) ask for it. The
/// documented error bounds hold for both (tested).
#[inline(always)]
fn fused<const FUSED: bool>(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(feature = "std")]
    if FUSED {
        return a.mul_add(b, c);
    }
    a * b + c
}

/// `e^x`, branch-free; see the module documentation for the method and its error.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    exp_scaled(x, -87.3, 88.3, 0)
}

/// `e^x 2^-m` for `x` clamped to `[lo, hi]`, the power of two folded into the exponent bits at no cost: exact
/// scaling of [`exp_f32`]'s result where that stays normal. `lo` and `hi` must keep `k - m` (with
/// `k = round(x / ln 2)`) within the normal exponents `[-126, 127]`.
#[inline(always)]
fn exp_scaled(x: f32, lo: f32, hi: f32, m: u32) -> f32 {
    exp_scaled_with::<{ crate::kernel::TARGET_FMA }>(x, lo, hi, m)
}

/// [`exp_scaled`] with fused multiply-adds when `FUSED` (see [`fused`]).
#[inline(always)]
fn exp_scaled_with<const FUSED: bool>(x: f32, lo: f32, hi: f32, m: u32) -> f32 {
    let fma = fused::<FUSED>;
    const LOG2_E: f32 = core::f32::consts::LOG2_E;
    // ln 2 split so that `k * LN2_HI` is exact for the `k` that occur.
    const LN2_HI: f32 = 0.69314575;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer in `f32` arithmetic.
    const ROUND: f32 = 12_582_912.0;
    const C: [f32; 7] = [1.0, 1.0, 0.5, 0.16666415, 0.04166635, 0.008375126, 0.0013941108];
    let x = x.clamp(lo, hi);
    let shifted = fma(x, LOG2_E, ROUND);
    let k = shifted - ROUND;
    let r = fma(-k, LN2_LO, fma(-k, LN2_HI, x));
    let p = fma(r, fma(r, fma(r, fma(r, fma(r, fma(r, C[6], C[5]), C[4]), C[3]), C[2]), C[1]), C[0]);
    // 2^k for k in [-126, 127]: the biased exponent in bits 23..31. The integer k sits in the low mantissa bits
    // of `shifted` (whose exponent is that of ROUND), so no float-to-integer conversion is needed: Rust's
    // saturating `as i32` does not vectorise and would leave a scalar conversion per lane.
    let k_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let two_k = f32::from_bits(k_bits.wrapping_add(127).wrapping_sub(m) << 23);
    p * two_k
}

/// `tanh(x)`, branch-free; see the module documentation for the method and its error.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    tanh_f32_with::<{ crate::kernel::TARGET_FMA }>(x)
}

/// [`tanh_f32`] with fused multiply-adds when `FUSED` (for code compiled for a CPU that has them, such as a
/// clone dispatched at run time), separate multiplies and adds otherwise; within [`TANH_MAX_ERROR`] either way.
#[inline(always)]
pub fn tanh_f32_with<const FUSED: bool>(x: f32) -> f32 {
    let fma = fused::<FUSED>;
    // Coefficients of `u = x^2`, lowest first (tools/fit_tanh.py); all positive, so nothing cancels.
    const P: [f32; 5] = [1.0, 0.13381022, 0.0034955842, 2.0609004e-5, 1.3354535e-8];
    const Q: [f32; 5] = [1.0, 0.4671434, 0.025876967, 0.00032856278, 7.7765105e-7];
    // `clamp` keeps NaN (it compares, and a NaN compares false), and so does everything after it.
    let a = x.clamp(-9.0, 9.0);
    let u = a * a;
    let p = fma(u, fma(u, fma(u, fma(u, P[4], P[3]), P[2]), P[1]), P[0]);
    let q = fma(u, fma(u, fma(u, fma(u, Q[4], Q[3]), Q[2]), Q[1]), Q[0]);
    (a * p / q).clamp(-1.0, 1.0)
}

/// The logistic sigmoid `1 / (1 + e^-x)`, branch-free; see the module documentation for its error.
#[inline(always)]
pub fn sigmoid_f32(x: f32) -> f32 {
    sigmoid_f32_with::<{ crate::kernel::TARGET_FMA }>(x)
}

/// [`sigmoid_f32`] with fused multiply-adds when `FUSED` (as [`tanh_f32_with`]); within [`MAX_ERROR`] either way.
#[inline(always)]
pub fn sigmoid_f32_with<const FUSED: bool>(x: f32) -> f32 {
    // `1 / (1 + e^-x)` scaled by 2^-24 above and below: `2^-24 / (2^-24 + e^-x 2^-24)`. Scaling by a power of two
    // is exact, so where `1 / (1 + e^-x)` is normal the result is the same to the bit, at the same cost (the
    // scale costs nothing in `exp_scaled`); but `e^-x 2^-24` stays finite up to x = -104.5, so the quotient
    // follows the exact value through the subnormals to 0, where the unscaled form stopped at 4.5e-39 (its
    // `e^-x` clamped at e^88.3). NaN stays NaN.
    const SCALE: f32 = 1.0 / 16_777_216.0;
    SCALE / (SCALE + exp_scaled_with::<FUSED>(-x, -70.0, 104.5, 24))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two million points spread over `[-20, 20]`, plus the values around every threshold.
    fn points() -> impl Iterator<Item = f32> {
        let grid = (0..=2_000_000).map(|i| -20.0 + 40.0 * i as f32 / 2_000_000.0);
        let edges = [0.0f32, 0.625, 9.0, 4.0, 1e-30, 1e-8, 0.346_573_6, 87.3, 88.3, -87.3, 44.0, -44.0];
        let near = edges.into_iter().flat_map(|e| {
            let b = e.to_bits();
            (b.saturating_sub(50)..b + 50).flat_map(|v| [f32::from_bits(v), -f32::from_bits(v)])
        });
        grid.chain(near)
    }

    /// Units in the last place between `got` and the exact value rounded to `f32`.
    fn ulps(got: f32, exact: f64) -> u32 {
        let want = exact as f32;
        (got.to_bits() as i64 - want.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn exp_is_within_its_documented_ulps() {
        let mut worst = 0;
        for x in points().filter(|x| (-87.3..=88.3).contains(x)) {
            worst = worst.max(ulps(exp_f32(x), f64::from(x).exp()));
        }
        assert!(worst <= MAX_ULP, "exp: {worst} ulp");
        assert_eq!(exp_f32(0.0), 1.0);
        assert!(exp_f32(1000.0).is_finite() && exp_f32(-1000.0) > 0.0);
    }

    #[test]
    fn tanh_and_sigmoid_are_within_their_documented_error() {
        let (mut tanh_worst, mut sigmoid_worst) = (0.0f64, 0.0f64);
        for x in points() {
            let xd = f64::from(x);
            let t = xd.tanh();
            // Absolute error, or relative where the value is below 1 in magnitude (small arguments).
            let scale = t.abs().clamp(f64::MIN_POSITIVE, 1.0);
            // Both forms: separate multiplies and adds, and fused ones.
            for y in [tanh_f32_with::<false>(x), tanh_f32_with::<true>(x)] {
                tanh_worst = tanh_worst.max((f64::from(y) - t).abs() / scale);
            }
            sigmoid_worst = sigmoid_worst.max(sigmoid_error(x, sigmoid_f32_with::<false>(x)));
            sigmoid_worst = sigmoid_worst.max(sigmoid_error(x, sigmoid_f32_with::<true>(x)));
        }
        assert!(tanh_worst <= f64::from(TANH_MAX_ERROR), "tanh: {tanh_worst:e}");
        assert!(sigmoid_worst <= f64::from(MAX_ERROR), "sigmoid: {sigmoid_worst:e}");
        assert_eq!((tanh_f32(0.0), tanh_f32(30.0), tanh_f32(-30.0)), (0.0, 1.0, -1.0));
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert!(tanh_f32(f32::NAN).is_nan());
        for x in [9.02f32, 9.5, 1e30, f32::INFINITY] {
            assert_eq!((tanh_f32(x), tanh_f32(-x)), (1.0, -1.0), "{x}");
        }
        assert!(sigmoid_f32(-200.0) >= 0.0 && sigmoid_f32(200.0) == 1.0 && sigmoid_f32(0.0) == 0.5);
    }

    /// The error of `sigmoid_f32(x)` in units of the documented bound: relative below 1, absolute above, with one
    /// subnormal step allowed where the exact value is subnormal.
    fn sigmoid_error(x: f32, got: f32) -> f64 {
        let xd = f64::from(x);
        let exact = if xd >= 0.0 { 1.0 / (1.0 + (-xd).exp()) } else { xd.exp() / (1.0 + xd.exp()) };
        let tiny = f64::from(f32::from_bits(1));
        let error = (f64::from(got) - exact).abs();
        let error = if exact < f64::from(f32::MIN_POSITIVE) { (error - tiny).max(0.0) } else { error };
        error / exact.clamp(f64::MIN_POSITIVE, 1.0)
    }

    #[test]
    fn sigmoid_follows_the_exact_value_through_the_subnormals_to_zero() {
        // Every 1/64 from -120 to 120, and the extremes.
        let mut worst = 0.0f64;
        for i in -120 * 64..=120 * 64 {
            let x = i as f32 / 64.0;
            worst = worst
                .max(sigmoid_error(x, sigmoid_f32_with::<false>(x)))
                .max(sigmoid_error(x, sigmoid_f32_with::<true>(x)));
        }
        assert!(worst <= f64::from(MAX_ERROR), "sigmoid: {worst:e}");
        // Where `1 / (1 + e^-x)` is normal, the scaled form is the same to the bit.
        for x in points().filter(|x| (-87.0..=88.0).contains(x)) {
            assert_eq!(sigmoid_f32(x).to_bits(), (1.0 / (1.0 + exp_f32(-x))).to_bits(), "{x}");
        }
        // e^-100 = 3.72e-44, a subnormal (26 steps of 2^-149): the clamped exponential gave 4.5e-39.
        let tiny = f32::from_bits(1);
        assert!((f64::from(sigmoid_f32(-100.0)) - 3.720_076e-44).abs() <= f64::from(tiny), "{:e}", sigmoid_f32(-100.0));
        for x in [-1e38, -f32::MAX, f32::NEG_INFINITY, -110.0] {
            assert_eq!(sigmoid_f32(x), 0.0, "{x}");
        }
        for x in [1e38, f32::MAX, f32::INFINITY, 110.0, 20.0] {
            assert_eq!(sigmoid_f32(x), 1.0, "{x}");
        }
        // Subnormal inputs give one half.
        assert_eq!((sigmoid_f32(tiny), sigmoid_f32(-tiny)), (0.5, 0.5));
        assert!(sigmoid_f32(f32::NAN).is_nan());
    }

    #[test]
    fn exp_minus_one_is_within_2e7_absolute_below_zero() {
        let worst = points()
            .filter(|&x| x <= 0.0)
            .map(|x| (f64::from(exp_f32(x) - 1.0) - f64::from(x).exp_m1()).abs())
            .fold(0.0, f64::max);
        assert!(worst <= 2e-7, "exp - 1: {worst:e}");
    }

    #[test]
    fn odd_and_symmetric() {
        for x in [0.1f32, 0.6, 0.7, 2.0, 8.9] {
            assert_eq!(tanh_f32(-x), -tanh_f32(x));
            assert!((sigmoid_f32(x) + sigmoid_f32(-x) - 1.0).abs() <= 1.2e-7);
        }
    }
}
