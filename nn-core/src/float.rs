//! The scalar types a network may use.

use core::fmt::{Debug, Display};

/// A floating-point scalar a network computes in: `f32` or `f64`.
///
/// The elementary functions are the exact ones (the standard library's with `std`, the `libm` crate's
/// without it or with the `libm` feature); the activations, losses and gradient checks are written in terms
/// of them so the same code serves both widths.
pub trait Float:
    nalgebra::Scalar
    + Copy
    + Default
    + Debug
    + Display
    + PartialOrd
    + num_traits::Zero
    + num_traits::One
    + nalgebra::ClosedAddAssign
    + nalgebra::ClosedSubAssign
    + nalgebra::ClosedMulAssign
    + nalgebra::ClosedDivAssign
    + core::ops::Neg<Output = Self>
    + bytemuck::Pod
    + Send
    + Sync
    + 'static
{
    /// Converts from `f64` (rounding to nearest for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact).
    fn to_f64(self) -> f64;
    /// `e^x`.
    fn exp(self) -> Self;
    /// `e^x - 1`, accurate near zero.
    fn exp_m1(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// `ln(1 + x)`, accurate near zero.
    fn ln_1p(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// The error function.
    fn erf(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// The larger of two values (`NaN`-ignoring, like `f64::max`).
    fn max(self, other: Self) -> Self;
    /// The smaller of two values (`NaN`-ignoring, like `f64::min`).
    fn min(self, other: Self) -> Self;
    /// `true` when neither infinite nor `NaN`.
    fn is_finite(self) -> bool;

    /// `self * a + b` with one rounding, where the standard library provides it (the FMA instruction on targets
    /// that have it: only kernels dispatched to such targets call it); without `std`, a multiply and an add.
    fn mul_add(self, a: Self, b: Self) -> Self;

    /// `e^x` as softmax computes it: [`crate::fast::exp_f32`] for `f32` (within [`crate::fast::MAX_ULP`]), exact
    /// for `f64` (and for `f32` with `exact-math`).
    fn fast_exp(self) -> Self;

    /// `e^x - 1` as ELU computes it: `exp_f32(x) - 1` for `f32` (absolute error below 2e-7), the exact `exp_m1`
    /// for `f64` (and for `f32` with `exact-math`).
    fn fast_exp_m1(self) -> Self;

    /// Hyperbolic tangent as the activations compute it: for `f32` the vectorisable [`crate::fast::tanh_f32`]
    /// (within [`crate::fast::TANH_MAX_ERROR`]), for `f64` (and for `f32` with the feature `exact-math`) the exact
    /// function.
    fn fast_tanh(self) -> Self;

    /// The logistic sigmoid as the activations and gates compute it: [`crate::fast::sigmoid_f32`] for `f32`, the
    /// exact [`sigmoid`] for `f64` (and for `f32` with `exact-math`).
    fn fast_sigmoid(self) -> Self;

    /// [`Float::fast_tanh`], with fused multiply-adds in the `f32` approximation when `FUSED`: for code compiled
    /// for a CPU that has them although the build target does not promise it (a clone dispatched at run time).
    fn fast_tanh_with<const FUSED: bool>(self) -> Self;

    /// [`Float::fast_sigmoid`], with fused multiply-adds in the `f32` approximation when `FUSED` (as
    /// [`Float::fast_tanh_with`]).
    fn fast_sigmoid_with<const FUSED: bool>(self) -> Self;

    /// `true` when the `fast_*` functions are the branch-free approximations (`f32` without `exact-math`):
    /// elementwise loops then pad short runs to a full vector ([`crate::activation::map_in_place`]), which is
    /// cheaper than evaluating them one lane at a time. `false` for the exact functions, library calls that
    /// padding would only multiply.
    const VECTORISED: bool;

    /// Zero, as a constant (for `const fn` constructors of compiled-in weights).
    const ZERO: Self;

    /// The largest finite value (`f32::MAX`, `f64::MAX`).
    const MAX: Self;
}

macro_rules! impl_float {
    ($t:ty, $exp:ident, $expm1:ident, $ln:ident, $ln1p:ident, $tanh:ident, $erf:ident, $sqrt:ident) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const MAX: Self = <$t>::MAX;

            #[inline]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn exp(self) -> Self {
                #[cfg(all(feature = "std", not(feature = "libm")))]
                return <$t>::exp(self);
                #[cfg(not(all(feature = "std", not(feature = "libm"))))]
                return libm::$exp(self);
            }
            #[inline]
            fn exp_m1(self) -> Self {
                #[cfg(all(feature = "std", not(feature = "libm")))]
                return <$t>::exp_m1(self);
                #[cfg(not(all(feature = "std", not(feature = "libm"))))]
                return libm::$expm1(self);
            }
            #[inline]
            fn ln(self) -> Self {
                #[cfg(all(feature = "std", not(feature = "libm")))]
                return <$t>::ln(self);
                #[cfg(not(all(feature = "std", not(feature = "libm"))))]
                return libm::$ln(self);
            }
            #[inline]
            fn ln_1p(self) -> Self {
                #[cfg(all(feature = "std", not(feature = "libm")))]
                return <$t>::ln_1p(self);
                #[cfg(not(all(feature = "std", not(feature = "libm"))))]
                return libm::$ln1p(self);
            }
            #[inline]
            fn tanh(self) -> Self {
                #[cfg(all(feature = "std", not(feature = "libm")))]
                return <$t>::tanh(self);
                #[cfg(not(all(feature = "std", not(feature = "libm"))))]
                return libm::$tanh(self);
            }
            #[inline]
            fn erf(self) -> Self {
                libm::$erf(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                #[cfg(all(feature = "std", not(feature = "libm")))]
                return <$t>::sqrt(self);
                #[cfg(not(all(feature = "std", not(feature = "libm"))))]
                return libm::$sqrt(self);
            }
            #[inline]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline]
            fn min(self, other: Self) -> Self {
                <$t>::min(self, other)
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                #[cfg(feature = "std")]
                return <$t>::mul_add(self, a, b);
                #[cfg(not(feature = "std"))]
                return self * a + b;
            }
            #[inline(always)]
            fn fast_exp(self) -> Self {
                FastFunctions::fast_exp_impl(self)
            }
            #[inline(always)]
            fn fast_exp_m1(self) -> Self {
                FastFunctions::fast_exp_m1_impl(self)
            }
            #[inline(always)]
            fn fast_tanh(self) -> Self {
                FastFunctions::fast_tanh_impl(self)
            }
            #[inline(always)]
            fn fast_sigmoid(self) -> Self {
                FastFunctions::fast_sigmoid_impl(self)
            }
            #[inline(always)]
            fn fast_tanh_with<const FUSED: bool>(self) -> Self {
                FastFunctions::fast_tanh_with_impl::<FUSED>(self)
            }
            #[inline(always)]
            fn fast_sigmoid_with<const FUSED: bool>(self) -> Self {
                FastFunctions::fast_sigmoid_with_impl::<FUSED>(self)
            }
            const VECTORISED: bool = <$t as FastFunctions>::VECTORISED;
        }
    };
}

impl_float!(f32, expf, expm1f, logf, log1pf, tanhf, erff, sqrtf);
impl_float!(f64, exp, expm1, log, log1p, tanh, erf, sqrt);

/// The fast functions of one width: vectorisable approximations (`fast`) or the exact ones.
macro_rules! impl_fast {
    ($t:ty, fast) => {
        impl FastFunctions for $t {
            const VECTORISED: bool = true;
            #[inline(always)]
            fn fast_exp_impl(self) -> Self {
                crate::fast::exp_f32(self)
            }
            #[inline(always)]
            fn fast_exp_m1_impl(self) -> Self {
                crate::fast::exp_f32(self) - 1.0
            }
            #[inline(always)]
            fn fast_tanh_impl(self) -> Self {
                crate::fast::tanh_f32(self)
            }
            #[inline(always)]
            fn fast_sigmoid_impl(self) -> Self {
                crate::fast::sigmoid_f32(self)
            }
            #[inline(always)]
            fn fast_tanh_with_impl<const FUSED: bool>(self) -> Self {
                crate::fast::tanh_f32_with::<FUSED>(self)
            }
            #[inline(always)]
            fn fast_sigmoid_with_impl<const FUSED: bool>(self) -> Self {
                crate::fast::sigmoid_f32_with::<FUSED>(self)
            }
        }
    };
    ($t:ty, exact) => {
        impl FastFunctions for $t {
            const VECTORISED: bool = false;
            #[inline(always)]
            fn fast_exp_impl(self) -> Self {
                Float::exp(self)
            }
            #[inline(always)]
            fn fast_exp_m1_impl(self) -> Self {
                Float::exp_m1(self)
            }
            #[inline(always)]
            fn fast_tanh_impl(self) -> Self {
                Float::tanh(self)
            }
            #[inline(always)]
            fn fast_sigmoid_impl(self) -> Self {
                sigmoid(self)
            }
            #[inline(always)]
            fn fast_tanh_with_impl<const FUSED: bool>(self) -> Self {
                Float::tanh(self)
            }
            #[inline(always)]
            fn fast_sigmoid_with_impl<const FUSED: bool>(self) -> Self {
                sigmoid(self)
            }
        }
    };
}

/// Where [`Float::fast_tanh`] and [`Float::fast_sigmoid`] come from, per width.
trait FastFunctions {
    const VECTORISED: bool;
    fn fast_exp_impl(self) -> Self;
    fn fast_exp_m1_impl(self) -> Self;
    fn fast_tanh_impl(self) -> Self;
    fn fast_sigmoid_impl(self) -> Self;
    fn fast_tanh_with_impl<const FUSED: bool>(self) -> Self;
    fn fast_sigmoid_with_impl<const FUSED: bool>(self) -> Self;
}

#[cfg(not(feature = "exact-math"))]
impl_fast!(f32, fast);
#[cfg(feature = "exact-math")]
impl_fast!(f32, exact);
impl_fast!(f64, exact);

/// `T::from_f64(v)`, shorter at call sites.
#[inline]
pub fn lit<T: Float>(v: f64) -> T {
    T::from_f64(v)
}

/// The logistic function on one value, stable for |x| up to the type's range.
#[inline]
pub fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_and_functions_agree_across_widths() {
        assert_eq!(f32::from_f64(0.5), 0.5f32);
        assert_eq!(Float::to_f64(0.25f32), 0.25);
        assert!((Float::exp(1.0f64) - core::f64::consts::E).abs() < 1e-15);
        assert!((Float::erf(1.0f64) - 0.842_700_792_949_714_9).abs() < 1e-15);
        assert!((Float::ln_1p(1e-20f64) - 1e-20).abs() < 1e-35);
        assert!((f64::from(Float::tanh(0.5f32)) - 0.5f64.tanh()).abs() < 1e-7);
        assert!(!Float::is_finite(f64::NAN));
    }
}
