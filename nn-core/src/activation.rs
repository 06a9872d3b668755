//! Activation functions: each is a unit (or one-parameter) struct with its function `f` and derivative `df`.
//!
//! Elementwise activations implement [`Activation`]; [`ActivationLayer`] lifts them (and [`Softmax`], which is
//! not elementwise) to whole matrices, column by column, for use as layers. Every function is the exact one and
//! is finite for any finite input: no `NaN` or infinity at |x| = 1000.

use crate::float::{Float, lit};
use nalgebra::SMatrix;

/// An elementwise activation `y = f(x)` with derivative `dy/dx = df(x, y)`.
///
/// `df` receives both the input and the output so that each function can use whichever is cheaper and more
/// stable (the sigmoid's derivative is `y (1 - y)`).
pub trait Activation<T: Float>: Copy {
    /// The function.
    fn f(&self, x: T) -> T;
    /// Its derivative at `x`, where `y = f(x)`.
    fn df(&self, x: T, y: T) -> T;
}

/// An activation applied as a layer to a whole matrix (a sample per column).
pub trait ActivationLayer<T: Float>: Copy {
    /// Forward: `y = f(x)`.
    fn forward<const R: usize, const C: usize>(&self, x: &SMatrix<T, R, C>) -> SMatrix<T, R, C>;
    /// Backward: dL/dx from the forward's input `x`, output `y` and dL/dy.
    fn backward<const R: usize, const C: usize>(
        &self,
        x: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
        dy: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C>;
}

/// Lifts elementwise activations to [`ActivationLayer`]s.
macro_rules! elementwise_layer {
    ($($ty:ty),* $(,)?) => {$(
        impl<T: Float> ActivationLayer<T> for $ty {
            #[inline]
            fn forward<const R: usize, const C: usize>(&self, x: &SMatrix<T, R, C>) -> SMatrix<T, R, C> {
                x.map(|v| self.f(v))
            }

            #[inline]
            fn backward<const R: usize, const C: usize>(
                &self,
                x: &SMatrix<T, R, C>,
                y: &SMatrix<T, R, C>,
                dy: &SMatrix<T, R, C>,
            ) -> SMatrix<T, R, C> {
                let mut dx = *dy;
                for ((d, &xi), &yi) in dx.iter_mut().zip(x.iter()).zip(y.iter()) {
                    *d *= self.df(xi, yi);
                }
                dx
            }
        }
    )*};
}

elementwise_layer!(Sigmoid, Tanh, Relu, LeakyRelu<T>, Elu<T>, Softplus, Swish, Gelu, HardSigmoid, HardTanh, Identity);

/// Logistic sigmoid `1 / (1 + e^-x)`, evaluated without overflow for either sign.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sigmoid;

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

impl<T: Float> Activation<T> for Sigmoid {
    #[inline]
    fn f(&self, x: T) -> T {
        sigmoid(x)
    }
    #[inline]
    fn df(&self, _x: T, y: T) -> T {
        y * (T::one() - y)
    }
}

/// Hyperbolic tangent.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tanh;

impl<T: Float> Activation<T> for Tanh {
    #[inline]
    fn f(&self, x: T) -> T {
        x.tanh()
    }
    #[inline]
    fn df(&self, _x: T, y: T) -> T {
        T::one() - y * y
    }
}

/// Rectified linear unit `max(0, x)`; derivative 0 at `x = 0`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Relu;

impl<T: Float> Activation<T> for Relu {
    #[inline]
    fn f(&self, x: T) -> T {
        if x > T::zero() { x } else { T::zero() }
    }
    #[inline]
    fn df(&self, x: T, _y: T) -> T {
        if x > T::zero() { T::one() } else { T::zero() }
    }
}

/// Leaky ReLU: `x` for positive `x`, `alpha * x` otherwise (`alpha` 0.01 by default, as in PyTorch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu<T>(pub T);

impl<T: Float> Default for LeakyRelu<T> {
    fn default() -> Self {
        Self(lit(0.01))
    }
}

impl<T: Float> Activation<T> for LeakyRelu<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        if x > T::zero() { x } else { self.0 * x }
    }
    #[inline]
    fn df(&self, x: T, _y: T) -> T {
        if x > T::zero() { T::one() } else { self.0 }
    }
}

/// Exponential linear unit: `x` for positive `x`, `alpha (e^x - 1)` otherwise (`alpha` 1 by default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu<T>(pub T);

impl<T: Float> Default for Elu<T> {
    fn default() -> Self {
        Self(T::one())
    }
}

impl<T: Float> Activation<T> for Elu<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        if x > T::zero() { x } else { self.0 * x.exp_m1() }
    }
    #[inline]
    fn df(&self, x: T, y: T) -> T {
        if x > T::zero() { T::one() } else { y + self.0 }
    }
}

/// Softplus `ln(1 + e^x)`, computed as `max(x, 0) + ln(1 + e^-|x|)` so it never overflows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Softplus;

impl<T: Float> Activation<T> for Softplus {
    #[inline]
    fn f(&self, x: T) -> T {
        x.max(T::zero()) + (-x.abs()).exp().ln_1p()
    }
    #[inline]
    fn df(&self, x: T, _y: T) -> T {
        sigmoid(x)
    }
}

/// Swish (SiLU) `x * sigmoid(x)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Swish;

impl<T: Float> Activation<T> for Swish {
    #[inline]
    fn f(&self, x: T) -> T {
        x * sigmoid(x)
    }
    #[inline]
    fn df(&self, x: T, y: T) -> T {
        let s = sigmoid(x);
        y + s * (T::one() - y)
    }
}

/// GELU, the exact form `x * Phi(x) = x/2 (1 + erf(x / sqrt 2))` (PyTorch's default).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Gelu;

impl<T: Float> Activation<T> for Gelu {
    #[inline]
    fn f(&self, x: T) -> T {
        lit::<T>(0.5) * x * (T::one() + (x * lit(core::f64::consts::FRAC_1_SQRT_2)).erf())
    }
    #[inline]
    fn df(&self, x: T, _y: T) -> T {
        let cdf = lit::<T>(0.5) * (T::one() + (x * lit(core::f64::consts::FRAC_1_SQRT_2)).erf());
        // phi(x) = e^(-x^2/2) / sqrt(2 pi)
        let pdf = (lit::<T>(-0.5) * x * x).exp() * lit(0.398_942_280_401_432_7);
        cdf + x * pdf
    }
}

/// Hard sigmoid as the course writes it: `max(min(0.25 x + 0.5, 1), 0)`.
///
/// PyTorch's `Hardsigmoid` uses slope 1/6 instead of 1/4; this is the lecture's form.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HardSigmoid;

impl<T: Float> Activation<T> for HardSigmoid {
    #[inline]
    fn f(&self, x: T) -> T {
        (lit::<T>(0.25) * x + lit(0.5)).min(T::one()).max(T::zero())
    }
    #[inline]
    fn df(&self, x: T, _y: T) -> T {
        if x > lit(-2.0) && x < lit(2.0) { lit(0.25) } else { T::zero() }
    }
}

/// Hard tanh `max(min(x, 1), -1)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HardTanh;

impl<T: Float> Activation<T> for HardTanh {
    #[inline]
    fn f(&self, x: T) -> T {
        x.min(T::one()).max(-T::one())
    }
    #[inline]
    fn df(&self, x: T, _y: T) -> T {
        if x > -T::one() && x < T::one() { T::one() } else { T::zero() }
    }
}

/// The identity (a linear unit).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Identity;

impl<T: Float> Activation<T> for Identity {
    #[inline]
    fn f(&self, x: T) -> T {
        x
    }
    #[inline]
    fn df(&self, _x: T, _y: T) -> T {
        T::one()
    }
}

/// Softmax over each column: `y_i = e^(x_i - max x) / sum_j e^(x_j - max x)`.
///
/// Not elementwise: its backward is the vector-Jacobian product `dx = y * (dy - <dy, y>)`. To train a
/// classifier, prefer a linear output with [`crate::loss::SoftmaxCrossEntropy`], which fuses the two stably.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Softmax;

impl<T: Float> ActivationLayer<T> for Softmax {
    #[inline]
    fn forward<const R: usize, const C: usize>(&self, x: &SMatrix<T, R, C>) -> SMatrix<T, R, C> {
        let mut y = *x;
        if R > 0 {
            for col in y.as_mut_slice().chunks_exact_mut(R) {
                softmax_in_place(col);
            }
        }
        y
    }

    #[inline]
    fn backward<const R: usize, const C: usize>(
        &self,
        _x: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
        dy: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C> {
        let mut dx = *dy;
        for c in 0..C {
            let dot = y.column(c).dot(&dy.column(c));
            for r in 0..R {
                dx[(r, c)] = y[(r, c)] * (dy[(r, c)] - dot);
            }
        }
        dx
    }
}

/// Replaces `v` by its softmax, subtracting the maximum first so no exponential overflows.
#[inline]
pub fn softmax_in_place<T: Float>(v: &mut [T]) {
    let Some(max) = v.iter().copied().reduce(Float::max) else {
        return;
    };
    let mut sum = T::zero();
    for e in v.iter_mut() {
        *e = (*e - max).exp();
        sum += *e;
    }
    for e in v.iter_mut() {
        *e /= sum;
    }
}
