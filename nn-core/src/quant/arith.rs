//! The fixed-point arithmetic of TFLite's quantisation scheme: affine parameters, multipliers with shifts, and
//! the two roundings every requantisation goes through.

/// The affine map between real values and 8-bit integers: `real = scale * (q - zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct QuantParams {
    /// The real value of one integer step (positive).
    pub scale: f32,
    /// The integer that stands for real zero (in `-128..=127` for `i8` tensors, 0 for weights and biases).
    pub zero_point: i32,
}

impl QuantParams {
    /// Parameters from a scale and a zero point.
    pub const fn new(scale: f32, zero_point: i32) -> Self {
        Self { scale, zero_point }
    }

    /// Asymmetric parameters covering `[min, max]` (widened to include zero, as every activation range must),
    /// TFLite's choice: the scale spreads the range over 255 steps and the zero point is rounded and clamped
    /// into `-128..=127`. A degenerate range (`min == max == 0`) gets scale 1.
    pub fn from_range(min: f32, max: f32) -> Self {
        let (min, max) = (min.min(0.0), max.max(0.0));
        if max - min <= 0.0 || !(max - min).is_finite() {
            return Self::new(1.0, 0);
        }
        let scale = (f64::from(max) - f64::from(min)) / 255.0;
        // TFLite's choice of zero point: from whichever end of the range loses less to rounding, then
        // rounded and clamped into the integers.
        let (from_min, from_max) = (-128.0 - f64::from(min) / scale, 127.0 - f64::from(max) / scale);
        let (err_min, err_max) = (128.0 + (f64::from(min) / scale).abs(), 127.0 + (f64::from(max) / scale).abs());
        let zp = if err_min < err_max { from_min } else { from_max };
        let zero_point = if zp < -128.0 {
            -128
        } else if zp > 127.0 {
            127
        } else {
            round_f64(zp) as i32
        };
        let scale = scale as f32;
        Self::new(scale, zero_point)
    }

    /// Symmetric parameters for weights spanning `[-max_abs, max_abs]`: zero point 0, scale `max_abs / 127`.
    pub fn symmetric(max_abs: f32) -> Self {
        if max_abs > 0.0 && max_abs.is_finite() { Self::new(max_abs / 127.0, 0) } else { Self::new(1.0, 0) }
    }

    /// `x` quantised as TFLite's `Quantize` operator does: `round(x / scale) + zero_point` (ties away from zero,
    /// the division in `f32`), clamped to `i8`. NaN maps to the zero point.
    #[inline]
    pub fn quantize(self, x: f32) -> i8 {
        let q = round_f32(x / self.scale);
        // `as` saturates (and sends NaN to 0), so huge values clamp instead of wrapping.
        (q as i32).saturating_add(self.zero_point).clamp(-128, 127) as i8
    }

    /// The real value of `q`: `scale * (q - zero_point)`, as TFLite's `Dequantize` computes it.
    #[inline]
    pub fn dequantize(self, q: i8) -> f32 {
        self.scale * (i32::from(q) - self.zero_point) as f32
    }
}

/// A real multiplier `m` as a 32-bit fixed-point significand in `[2^30, 2^31)` (or 0) and a power-of-two
/// exponent: `m ≈ value * 2^(shift - 31)`. Requantisation multiplies 32-bit accumulators by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Multiplier {
    /// The significand, `round(frac * 2^31)` for `m = frac * 2^shift` with `frac` in `[0.5, 1)`.
    pub value: i32,
    /// The exponent: positive shifts left before the multiplication, negative shifts right after it.
    pub shift: i32,
}

impl Multiplier {
    /// TFLite's `QuantizeMultiplier`: the significand rounded to 31 bits (ties away from zero), renormalised
    /// when it rounds up to `2^31`; multipliers below `2^-32` flush to zero. Negative, NaN and infinite
    /// multipliers, which no valid scale produces, give zero. A `const fn`, so compiled-in networks carry
    /// their multipliers as constants.
    pub const fn from_real(m: f64) -> Self {
        if m.is_nan() || m <= 0.0 || !m.is_finite() {
            return Self { value: 0, shift: 0 };
        }
        let (frac, mut shift) = frexp(m);
        let mut fixed = round_f64(frac * (1u64 << 31) as f64) as i64;
        if fixed == 1 << 31 {
            fixed /= 2;
            shift += 1;
        }
        if shift < -31 {
            return Self { value: 0, shift: 0 };
        }
        // A multiplier of 2^31 or more cannot be applied to a 32-bit accumulator; no scale ratio reaches it.
        Self { value: fixed as i32, shift: if shift > 30 { 30 } else { shift } }
    }

    /// `round(x * m)` as TFLite computes it by default ("double rounding"): a saturating, rounding doubling
    /// high multiplication by the significand, then a rounding division by `2^-shift`.
    #[inline]
    pub const fn apply(self, x: i32) -> i32 {
        let (left, right) = if self.shift > 0 { (self.shift, 0) } else { (0, -self.shift) };
        rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x.wrapping_shl(left as u32), self.value), right)
    }
}

impl Multiplier {
    /// `round(x * m)` rounded once, half up: `(x * value + 2^(30 - shift)) >> (31 - shift)` in 64 bits. TFLite's
    /// fully connected kernel requantises this way (its convolutions round twice, [`Multiplier::apply`]); the
    /// two differ when `x * m` lies just below a half.
    #[inline]
    pub const fn apply_once(self, x: i32) -> i32 {
        let total = 31 - self.shift;
        ((x as i64 * self.value as i64 + (1i64 << (total - 1))) >> total) as i32
    }
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul`: `round(a * b / 2^31)` with ties away from zero (in the
/// integer sense of the 64-bit product's nudge), saturating the one overflowing case `MIN * MIN`.
#[inline]
pub const fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // The division truncates toward zero, as C++'s does.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from zero.
#[inline]
pub const fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    if exponent <= 0 {
        return x;
    }
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + if x < 0 { 1 } else { 0 };
    (x >> exponent) + if remainder > threshold { 1 } else { 0 }
}

/// Rounds half away from zero (C's `round`), in `f32`; a `const fn`.
#[inline]
pub const fn round_f32(x: f32) -> f32 {
    // From 2^23 on every `f32` is an integer (and NaN and the infinities stay as they are).
    if x.is_nan() || x.abs() >= 8_388_608.0 {
        return x;
    }
    let t = x as i32 as f32;
    let d = x - t;
    if d >= 0.5 {
        t + 1.0
    } else if d <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// Rounds half away from zero (C's `round`), in `f64`; a `const fn`.
#[inline]
pub const fn round_f64(x: f64) -> f64 {
    if x.is_nan() || x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    let t = x as i64 as f64;
    let d = x - t;
    if d >= 0.5 {
        t + 1.0
    } else if d <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// C's `frexp` for positive, finite `m`: `(frac, e)` with `m = frac * 2^e`, `frac` in `[0.5, 1)`; exact.
const fn frexp(m: f64) -> (f64, i32) {
    let bits = m.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale into the normal range first.
        let (f, e) = frexp(m * 18_014_398_509_481_984.0); // 2^54
        return (f, e - 54);
    }
    // Keep the significand, set the exponent so the value lies in [0.5, 1).
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, exp - 1022)
}

/// An activation fused into the layer before it: the output is clamped to the activation's range instead of
/// being computed by a separate layer (TFLite's `fused_activation_function`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Fused {
    /// No clamp beyond `i8`'s range.
    #[default]
    None,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `min(max(x, -1), 1)`.
    ReluN1To1,
}

impl Fused {
    /// The clamp in the output's integers, as TFLite's `CalculateActivationRangeQuantized` computes it:
    /// the bounds quantised with the output's parameters and intersected with `-128..=127`.
    pub const fn range(self, output: QuantParams) -> (i8, i8) {
        const fn q(x: f32, p: QuantParams) -> i32 {
            (round_f32(x / p.scale) as i32).saturating_add(p.zero_point)
        }
        const fn clamp(v: i32) -> i8 {
            (if v < -128 {
                -128
            } else if v > 127 {
                127
            } else {
                v
            }) as i8
        }
        match self {
            Fused::None => (-128, 127),
            Fused::Relu => (clamp(q(0.0, output)), 127),
            Fused::Relu6 => (clamp(q(0.0, output)), clamp(q(6.0, output))),
            Fused::ReluN1To1 => (clamp(q(-1.0, output)), clamp(q(1.0, output))),
        }
    }
}

/// Requantises a 32-bit accumulator as TFLite's convolutions do: multiply (rounding twice), add the output zero
/// point, clamp to `[lo, hi]`.
#[inline]
pub const fn requantize(acc: i32, m: Multiplier, zero_point: i32, lo: i8, hi: i8) -> i8 {
    clamp_to(m.apply(acc).saturating_add(zero_point), lo, hi)
}

/// Requantises a 32-bit accumulator as TFLite's fully connected kernel does: multiply (rounding once), add the
/// output zero point, clamp to `[lo, hi]`.
#[inline]
pub const fn requantize_once(acc: i32, m: Multiplier, zero_point: i32, lo: i8, hi: i8) -> i8 {
    clamp_to(m.apply_once(acc).saturating_add(zero_point), lo, hi)
}

/// `v` clamped to `[lo, hi]`.
#[inline]
const fn clamp_to(v: i32, lo: i8, hi: i8) -> i8 {
    let v = if v < lo as i32 { lo as i32 } else { v };
    (if v > hi as i32 { hi as i32 } else { v }) as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipliers_match_tflites_fixed_point_form() {
        // 0.5 = 2^30 * 2^-31 * 2^0; 1.0 = 2^30 * 2^(1-31); 0.75 = 0.75 * 2^0.
        assert_eq!(Multiplier::from_real(0.5), Multiplier { value: 1 << 30, shift: 0 });
        assert_eq!(Multiplier::from_real(1.0), Multiplier { value: 1 << 30, shift: 1 });
        assert_eq!(Multiplier::from_real(0.75), Multiplier { value: 1_610_612_736, shift: 0 });
        assert_eq!(Multiplier::from_real(0.001), Multiplier { value: 1_099_511_628, shift: -9 });
        // A significand that rounds up to 2^31 is renormalised.
        assert_eq!(Multiplier::from_real(1.0 - 1e-12), Multiplier { value: 1 << 30, shift: 1 });
        assert_eq!(Multiplier::from_real(1e-12), Multiplier::default());
        assert_eq!(Multiplier::from_real(0.0), Multiplier::default());
        assert_eq!(Multiplier::from_real(f64::NAN), Multiplier::default());
    }

    #[test]
    fn applying_a_multiplier_rounds_twice_as_tflite_does() {
        // The high multiplication rounds ties up (-1.5 -> -1), the division by a power of two away from zero.
        let half = Multiplier::from_real(0.5);
        assert_eq!([half.apply(3), half.apply(-3), half.apply(5), half.apply(-5)], [2, -1, 3, -2]);
        // 0.25 is 2^30 with shift -1: 5 -> 2.5 -> 3 -> 1.5 -> 2 (double rounding; exact would be 1).
        let quarter = Multiplier::from_real(0.25);
        assert_eq!([quarter.apply(6), quarter.apply(-6), quarter.apply(5), quarter.apply(-5)], [2, -2, 2, -1]);
        let three = Multiplier::from_real(3.0);
        assert_eq!(three.apply(7), 21);
        // Rounding once: 5 * 0.25 = 1.25 -> 1, where rounding twice gives 2; ties go up (-1.5 -> -1).
        assert_eq!([quarter.apply_once(5), quarter.apply_once(-5), quarter.apply_once(6)], [1, -1, 2]);
        assert_eq!([half.apply_once(3), half.apply_once(-3), three.apply_once(7)], [2, -1, 21]);
        // TFLite's sine model, first layer, input -119: 15427 * 0.0091719559... = 141.4957; once gives 141,
        // twice 142 (9055.97 -> 9056, / 64 = 141.5 -> 142). TFLite's fully connected kernel says 141.
        let m = Multiplier { value: 1_260_584_027, shift: -6 };
        assert_eq!((m.apply_once(15427), m.apply(15427)), (141, 142));
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
        assert_eq!(saturating_rounding_doubling_high_mul(1 << 30, 3), 2);
        assert_eq!(saturating_rounding_doubling_high_mul(-(1 << 30), 3), -1);
        assert_eq!(rounding_divide_by_pot(-12, 3), -2);
        assert_eq!(rounding_divide_by_pot(-11, 3), -1);
        assert_eq!(rounding_divide_by_pot(12, 3), 2);
        assert_eq!(rounding_divide_by_pot(11, 3), 1);
        // Against exact rational rounding over a sweep: the result is within one of round(x * m).
        for m in [0.000_123, 0.0371, 0.49, 0.9999, 1.7] {
            let mq = Multiplier::from_real(m);
            for x in (-100_000..100_000).step_by(997) {
                let exact = round_f64(x as f64 * m) as i32;
                assert!((mq.apply(x) - exact).abs() <= 1, "{x} * {m}: {} vs {exact}", mq.apply(x));
            }
        }
    }

    #[test]
    fn the_const_roundings_and_frexp_agree_with_libm() {
        let mut x = 1.234_567e-12_f64;
        while x < 1e12 {
            for v in [x, -x, x + 0.5, -x - 0.5, (x * 2.0).floor() + 0.5, -((x * 2.0).floor() + 0.5)] {
                assert_eq!(round_f64(v), libm::round(v), "{v}");
                assert_eq!(round_f32(v as f32), libm::roundf(v as f32), "{v}");
            }
            let (f, e) = frexp(x);
            assert_eq!((f, e), libm::frexp(x), "{x}");
            x *= 1.618;
        }
        assert_eq!(frexp(f64::MIN_POSITIVE / 8.0), libm::frexp(f64::MIN_POSITIVE / 8.0));
        assert!(round_f32(f32::NAN).is_nan());
        assert_eq!(round_f32(f32::INFINITY), f32::INFINITY);
    }

    #[test]
    fn quantising_rounds_clamps_and_inverts() {
        let p = QuantParams::new(0.1, -128);
        assert_eq!([p.quantize(0.0), p.quantize(0.05), p.quantize(-0.05), p.quantize(25.5)], [-128, -127, -128, 127]);
        assert_eq!(p.quantize(1e30), 127);
        assert_eq!(p.quantize(f32::NAN), -128);
        assert_eq!(p.dequantize(-118), 1.0);
        let r = QuantParams::from_range(-1.0, 3.0);
        assert_eq!(r.zero_point, -64);
        assert!((r.scale - 4.0 / 255.0).abs() < 1e-9);
        assert_eq!(r.quantize(0.0), -64);
        assert_eq!(QuantParams::from_range(2.0, 3.0).zero_point, -128);
        assert_eq!(QuantParams::from_range(-3.0, -2.0).zero_point, 127);
        assert_eq!(QuantParams::symmetric(12.7), QuantParams::new(0.1, 0));
    }

    #[test]
    fn fused_activations_clamp_in_the_outputs_integers() {
        let p = QuantParams::new(0.05, -10);
        assert_eq!(Fused::None.range(p), (-128, 127));
        assert_eq!(Fused::Relu.range(p), (-10, 127));
        assert_eq!(Fused::Relu6.range(p), (-10, 110));
        assert_eq!(Fused::ReluN1To1.range(p), (-30, 10));
        assert_eq!(requantize(1000, Multiplier::from_real(0.01), -10, -10, 110), 0);
        assert_eq!(requantize(-1000, Multiplier::from_real(0.01), -10, -10, 110), -10);
        assert_eq!(requantize(100_000, Multiplier::from_real(0.01), -10, -10, 110), 110);
    }
}
