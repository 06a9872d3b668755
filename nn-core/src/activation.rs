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
    /// Forward in place, `x = f(x)`: what a layer fused with its activation calls on its own output buffer.
    #[inline]
    fn forward_in_place<const R: usize, const C: usize>(&self, x: &mut SMatrix<T, R, C>) {
        *x = self.forward(x);
    }
    /// Applies the function to every value of `x` in place and returns `true`, for an elementwise activation;
    /// returns `false`, having done nothing, for one that is not (softmax): what a layer that fuses its
    /// activation into its last pass over the output asks first.
    #[inline]
    fn map_slice(&self, x: &mut [T]) -> bool {
        let _ = x;
        false
    }
    /// Backward: dL/dx from the forward's input `x`, output `y` and dL/dy.
    fn backward<const R: usize, const C: usize>(
        &self,
        x: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
        dy: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C>;
    /// Backward into `dx`, overwriting it: what a layer of any size calls, with no temporary on the stack.
    #[inline]
    fn backward_into<const R: usize, const C: usize>(
        &self,
        x: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
        dy: &SMatrix<T, R, C>,
        dx: &mut SMatrix<T, R, C>,
    ) {
        *dx = self.backward(x, y, dy);
    }
}

/// Lifts elementwise activations to [`ActivationLayer`]s.
macro_rules! elementwise_layer {
    ($($ty:ty),* $(,)?) => {$(
        impl<T: Float> ActivationLayer<T> for $ty {
            #[inline]
            fn forward<const R: usize, const C: usize>(&self, x: &SMatrix<T, R, C>) -> SMatrix<T, R, C> {
                let mut y = *x;
                self.forward_in_place(&mut y);
                y
            }

            #[inline]
            fn forward_in_place<const R: usize, const C: usize>(&self, x: &mut SMatrix<T, R, C>) {
                map_in_place(x.as_mut_slice(), |v| self.f(v));
            }

            #[inline]
            fn map_slice(&self, x: &mut [T]) -> bool {
                map_in_place(x, |v| self.f(v));
                true
            }

            #[inline]
            fn backward<const R: usize, const C: usize>(
                &self,
                x: &SMatrix<T, R, C>,
                y: &SMatrix<T, R, C>,
                dy: &SMatrix<T, R, C>,
            ) -> SMatrix<T, R, C> {
                let mut dx = *dy;
                for ((d, &xi), &yi) in dx.as_mut_slice().iter_mut().zip(x.as_slice()).zip(y.as_slice()) {
                    *d *= self.df(xi, yi);
                }
                dx
            }

            #[inline]
            fn backward_into<const R: usize, const C: usize>(
                &self,
                x: &SMatrix<T, R, C>,
                y: &SMatrix<T, R, C>,
                dy: &SMatrix<T, R, C>,
                dx: &mut SMatrix<T, R, C>,
            ) {
                let inputs = x.as_slice().iter().zip(y.as_slice()).zip(dy.as_slice());
                for (d, ((&xi, &yi), &g)) in dx.as_mut_slice().iter_mut().zip(inputs) {
                    *d = g * self.df(xi, yi);
                }
            }
        }
    )*};
}

elementwise_layer!(
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu<T>,
    Elu<T>,
    Softplus,
    Swish<T>,
    Gelu,
    HardSigmoid<T>,
    HardTanh,
    Relu6,
    Identity,
    Step<T>,
    Sign<T>,
    PiecewiseLinear,
);

/// `v` limited to `[lo, hi]`, NaN kept (`min` and `max` return the other operand for NaN, which hid it).
#[inline(always)]
fn clamp<T: Float>(v: T, lo: T, hi: T) -> T {
    if v < lo {
        lo
    } else if v > hi {
        hi
    } else {
        v
    }
}

/// Values per vector that [`map_in_place`] pads a short run to: eight `f32` fill a 256-bit register.
const LANES: usize = 8;

/// `v = f(v)` for every element, written so that the branch-free `f32` functions run as vectors at any
/// length: whole groups of eight (`LANES`) go through a plain loop (which the compiler vectorises), and a remainder is
/// copied into a zero-padded group of eight, mapped whole and copied back. A 4-unit `tanh` layer is then one
/// vector evaluation instead of four scalar ones, each with a branch on its input. With the exact functions
/// (`f64`, or the `exact-math` feature) it is the plain loop: padding would only add library calls.
#[inline(always)]
pub fn map_in_place<T: Float>(xs: &mut [T], f: impl Fn(T) -> T) {
    let whole = if T::VECTORISED { xs.len() / LANES * LANES } else { xs.len() };
    let (head, tail) = xs.split_at_mut(whole);
    for v in head {
        *v = f(*v);
    }
    if !tail.is_empty() {
        let mut lanes = [T::zero(); LANES];
        lanes[..tail.len()].copy_from_slice(tail);
        for v in &mut lanes {
            *v = f(*v);
        }
        tail.copy_from_slice(&lanes[..tail.len()]);
    }
}

/// Logistic sigmoid `1 / (1 + e^-x)`, evaluated without overflow for either sign.
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Sigmoid;

pub use crate::float::sigmoid;

impl<T: Float> Activation<T> for Sigmoid {
    #[inline]
    fn f(&self, x: T) -> T {
        x.fast_sigmoid()
    }
    #[inline]
    fn df(&self, _x: T, y: T) -> T {
        y * (T::one() - y)
    }
}

/// Hyperbolic tangent.
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Tanh;

impl<T: Float> Activation<T> for Tanh {
    #[inline]
    fn f(&self, x: T) -> T {
        x.fast_tanh()
    }
    #[inline]
    fn df(&self, _x: T, y: T) -> T {
        T::one() - y * y
    }
}

/// Rectified linear unit `max(0, x)`; derivative 0 at `x = 0`.
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Relu;

impl<T: Float> Activation<T> for Relu {
    #[inline]
    fn f(&self, x: T) -> T {
        // Not `x > 0 ? x : 0`, which turned NaN into 0.
        if x < T::zero() { T::zero() } else { x }
    }
    #[inline]
    fn df(&self, x: T, _y: T) -> T {
        if x > T::zero() { T::one() } else { T::zero() }
    }
}

/// Leaky ReLU: `x` for positive `x`, `alpha * x` otherwise (`alpha` 0.01 by default, as in PyTorch).
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
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
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Elu<T>(pub T);

impl<T: Float> Default for Elu<T> {
    fn default() -> Self {
        Self(T::one())
    }
}

impl<T: Float> Activation<T> for Elu<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        if x > T::zero() { x } else { self.0 * x.fast_exp_m1() }
    }
    #[inline]
    fn df(&self, x: T, y: T) -> T {
        if x > T::zero() { T::one() } else { y + self.0 }
    }
}

/// Softplus `ln(1 + e^x)`, computed as `max(x, 0) + ln(1 + e^-|x|)` so it never overflows.
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
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

/// Swish `x * sigmoid(beta x)` (Ramachandran, Zoph and Le 2017); with `beta` 1, the default, SiLU (PyTorch's
/// `SiLU`). As `beta` grows it tends to ReLU, at 0 it is `x / 2`.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Swish<T>(pub T);

impl<T: Float> Default for Swish<T> {
    fn default() -> Self {
        Self(T::one())
    }
}

impl<T: Float> Activation<T> for Swish<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        // x limited to -MAX: at x = -inf the value is -MAX * 0 = 0, not -inf * 0 = NaN (one `max`, which keeps
        // NaN here because the sigmoid of NaN is NaN).
        x.max(-T::MAX) * (self.0 * x).fast_sigmoid()
    }
    #[inline]
    fn df(&self, x: T, y: T) -> T {
        // s + beta x s (1 - s), written as s + beta y (1 - s): the form `y + s (1 - y)` cancels to 0 once
        // `1 - y == -y` (x beyond 2^24 in f32, 2^53 in f64), where the derivative is 1. y limited to MAX: at
        // x = inf the second term is MAX * 0 = 0, not NaN.
        let s = (self.0 * x).fast_sigmoid();
        s + self.0 * y.min(T::MAX) * (T::one() - s)
    }
}

/// GELU, the exact form `x * Phi(x) = x/2 (1 + erf(x / sqrt 2))` (PyTorch's default).
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Gelu;

impl<T: Float> Activation<T> for Gelu {
    #[inline]
    fn f(&self, x: T) -> T {
        // x limited to -MAX: at x = -inf the value is -MAX * 0 = 0, not NaN (the erf of NaN keeps NaN).
        lit::<T>(0.5) * x.max(-T::MAX) * (T::one() + (x * lit(core::f64::consts::FRAC_1_SQRT_2)).erf())
    }
    #[inline]
    fn df(&self, x: T, _y: T) -> T {
        let cdf = lit::<T>(0.5) * (T::one() + (x * lit(core::f64::consts::FRAC_1_SQRT_2)).erf());
        // phi(x) = e^(-x^2/2) / sqrt(2 pi); x limited to +-MAX so that x phi(x) is 0 at x = +-inf, not NaN.
        let pdf = (lit::<T>(-0.5) * x * x).exp() * lit(0.398_942_280_401_432_7);
        cdf + x.max(-T::MAX).min(T::MAX) * pdf
    }
}

/// Hard sigmoid `max(min(slope x + 1/2, 1), 0)`; the course's slope, 1/4, by default. PyTorch's `Hardsigmoid` has
/// slope 1/6, Keras's `hard_sigmoid` (and ONNX's default) 1/5.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct HardSigmoid<T>(pub T);

impl<T: Float> Default for HardSigmoid<T> {
    fn default() -> Self {
        Self(lit(0.25))
    }
}

impl<T: Float> Activation<T> for HardSigmoid<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        clamp(self.0 * x + lit(0.5), T::zero(), T::one())
    }
    #[inline]
    fn df(&self, _x: T, y: T) -> T {
        // The slope where the value is strictly between its limits.
        if y > T::zero() && y < T::one() { self.0 } else { T::zero() }
    }
}

/// Hard tanh `max(min(x, 1), -1)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct HardTanh;

impl<T: Float> Activation<T> for HardTanh {
    #[inline]
    fn f(&self, x: T) -> T {
        clamp(x, -T::one(), T::one())
    }
    #[inline]
    fn df(&self, x: T, _y: T) -> T {
        if x > -T::one() && x < T::one() { T::one() } else { T::zero() }
    }
}

/// ReLU6 `min(max(x, 0), 6)` (MobileNet's, PyTorch's `ReLU6`, ONNX's `Clip(0, 6)`); derivative 1 between 0
/// and 6, 0 elsewhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Relu6;

impl<T: Float> Activation<T> for Relu6 {
    #[inline]
    fn f(&self, x: T) -> T {
        clamp(x, T::zero(), lit(6.0))
    }
    #[inline]
    fn df(&self, x: T, _y: T) -> T {
        if x > T::zero() && x < lit(6.0) { T::one() } else { T::zero() }
    }
}

/// The unit step (Heaviside) of Rosenblatt's perceptron: `0` below zero, `1` above, and at zero its parameter.
///
/// The notes write both conventions: the table of activations gives `1/2` at zero, the default here
/// (`Step::default()`, `Step` in a declaration); the threshold units of the first lecture fire when their input
/// reaches the threshold, `1` at zero (`Step(1)` in a declaration, `Step(1.0)` here).
///
/// Its derivative is zero wherever it exists (and taken as zero at the jump), so gradient descent cannot train
/// through it: a step unit learns by [`crate::classic::Perceptron`]'s rule instead.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Step<T>(pub T);

impl<T: Float> Default for Step<T> {
    fn default() -> Self {
        Self(lit(0.5))
    }
}

impl<T: Float> Activation<T> for Step<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        if x > T::zero() {
            T::one()
        } else if x < T::zero() {
            T::zero()
        } else if x == T::zero() {
            self.0
        } else {
            x
        }
    }
    #[inline]
    fn df(&self, _x: T, _y: T) -> T {
        T::zero()
    }
}

/// The sign unit of the bipolar perceptron: `-1` below zero, `1` above, and at zero its parameter: `0` by
/// default (the mathematical sign, `Sign` in a declaration), `+1` as the first lecture's perceptron writes it
/// (`Sign(1)` in a declaration, `Sign(1.0)` here). Derivative zero, as for [`Step`].
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Sign<T>(pub T);

impl<T: Float> Default for Sign<T> {
    fn default() -> Self {
        Self(T::zero())
    }
}

impl<T: Float> Activation<T> for Sign<T> {
    #[inline]
    fn f(&self, x: T) -> T {
        if x > T::zero() {
            T::one()
        } else if x < T::zero() {
            -T::one()
        } else if x == T::zero() {
            self.0
        } else {
            x
        }
    }
    #[inline]
    fn df(&self, _x: T, _y: T) -> T {
        T::zero()
    }
}

/// The course's piecewise-linear unit: `0` up to `-1/2`, `x + 1/2` between, `1` from `1/2` on (a ramp from the
/// step's `0` to its `1`, with slope 1 where it is not flat).
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct PiecewiseLinear;

impl<T: Float> Activation<T> for PiecewiseLinear {
    #[inline]
    fn f(&self, x: T) -> T {
        clamp(x + lit(0.5), T::zero(), T::one())
    }
    #[inline]
    fn df(&self, x: T, _y: T) -> T {
        if x > lit(-0.5) && x < lit(0.5) { T::one() } else { T::zero() }
    }
}

/// The identity (a linear unit).
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Softmax;

impl<T: Float> ActivationLayer<T> for Softmax {
    #[inline]
    fn forward<const R: usize, const C: usize>(&self, x: &SMatrix<T, R, C>) -> SMatrix<T, R, C> {
        let mut y = *x;
        self.forward_in_place(&mut y);
        y
    }

    #[inline]
    fn forward_in_place<const R: usize, const C: usize>(&self, x: &mut SMatrix<T, R, C>) {
        if R > 0 {
            for col in x.as_mut_slice().chunks_exact_mut(R) {
                softmax_in_place(col);
            }
        }
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

/// Softmax over each step of a sequence: every run of `F` values (one step, time-major) is normalised on its
/// own, as [`Softmax`] does for a whole column.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SoftmaxSteps<const F: usize>;

impl<T: Float, const F: usize> ActivationLayer<T> for SoftmaxSteps<F> {
    #[inline]
    fn forward<const R: usize, const C: usize>(&self, x: &SMatrix<T, R, C>) -> SMatrix<T, R, C> {
        let mut y = *x;
        self.forward_in_place(&mut y);
        y
    }

    #[inline]
    fn forward_in_place<const R: usize, const C: usize>(&self, x: &mut SMatrix<T, R, C>) {
        if F > 0 {
            x.as_mut_slice().chunks_exact_mut(F).for_each(softmax_in_place);
        }
    }

    #[inline]
    fn backward<const R: usize, const C: usize>(
        &self,
        _x: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
        dy: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C> {
        let mut dx = *dy;
        if F > 0 {
            for ((d, y), g) in dx
                .as_mut_slice()
                .chunks_exact_mut(F)
                .zip(y.as_slice().chunks_exact(F))
                .zip(dy.as_slice().chunks_exact(F))
            {
                let dot = y.iter().zip(g).fold(T::zero(), |a, (&y, &g)| a + y * g);
                for ((d, &y), &g) in d.iter_mut().zip(y).zip(g) {
                    *d = y * (g - dot);
                }
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
        *e = (*e - max).fast_exp();
        sum += *e;
    }
    for e in v.iter_mut() {
        *e /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::check_activation;
    use nalgebra::{SMatrix, SVector, vector};

    /// NaN in, NaN out, for every activation in `f32` and `f64`, one value at a time and through the vectorised
    /// slice path (whole groups of eight and a padded remainder).
    fn nan_stays<T: Float + core::fmt::Debug, A: ActivationLayer<T>>(name: &str, act: &A) {
        let nan = T::from_f64(f64::NAN);
        let mut xs = [T::from_f64(0.5); 11];
        xs[3] = nan;
        xs[9] = nan;
        assert!(act.map_slice(&mut xs), "{name} is elementwise");
        assert!(xs[3].to_f64().is_nan() && xs[9].to_f64().is_nan(), "{name}: {:?}", xs);
        assert!(!xs[2].to_f64().is_nan() && !xs[10].to_f64().is_nan(), "{name}: {:?}", xs);
        let mut m = SMatrix::<T, 3, 1>::from_column_slice(&[nan, T::one(), -T::one()]);
        act.forward_in_place(&mut m);
        assert!(m[0].to_f64().is_nan(), "{name} on a matrix: {:?}", m);
    }

    fn nan_stays_in_both<A: ActivationLayer<f32> + ActivationLayer<f64>>(name: &str, act: &A) {
        nan_stays::<f32, A>(name, act);
        nan_stays::<f64, A>(name, act);
    }

    /// `act` at the extremes in `T`: at `+-1e38`, `+-MAX` and `+-inf` its value and derivative are `limit(x)` and
    /// `slope(x)` (the function's behaviour for large `|x|`, to `f32` rounding), never NaN; at the smallest
    /// subnormals and at zero they are those at zero to within the subnormal.
    fn takes_its_limits<T: Float + core::fmt::Debug, A: ActivationLayer<T> + Activation<T>>(
        name: &str,
        act: &A,
        limit: fn(f64) -> f64,
        slope: fn(f64) -> f64,
    ) {
        let max = if core::mem::size_of::<T>() == 4 { f64::from(f32::MAX) } else { f64::MAX };
        let near = |got: T, want: f64| {
            let got = got.to_f64();
            got == want || (got - want).abs() <= 1e-6 * want.abs() || (got.abs() < 1e-30 && want == 0.0)
        };
        for x in [1e38, max, f64::INFINITY].into_iter().flat_map(|x| [x, -x]) {
            let xt = T::from_f64(x);
            let (y, d) = (act.f(xt), act.df(xt, act.f(xt)));
            assert!(near(y, limit(x)), "{name}({x:e}) = {y:?}, expected {}", limit(x));
            assert!(near(d, slope(x)), "{name}'({x:e}) = {d:?}, expected {}", slope(x));
            // The vectorised slice path agrees.
            let mut xs = [xt; 9];
            act.map_slice(&mut xs);
            assert!(xs.iter().all(|&v| near(v, limit(x))), "{name} on a slice at {x:e}: {xs:?}");
        }
        let tiny = if core::mem::size_of::<T>() == 4 { f64::from(f32::from_bits(1)) } else { f64::from_bits(1) };
        let at_zero = act.f(T::zero()).to_f64();
        for x in [tiny, -tiny, 0.0, -0.0] {
            let y = act.f(T::from_f64(x)).to_f64();
            let jumps = name == "Step" || name == "Sign";
            assert!(y.is_finite(), "{name}({x:e}) = {y}");
            assert!(jumps || (y - at_zero).abs() <= 2.0 * tiny, "{name}({x:e}) = {y}, at 0 {at_zero}");
        }
    }

    /// [`takes_its_limits`] in `f32` and `f64`.
    fn takes_its_limits_in_both<A: ActivationLayer<f32> + ActivationLayer<f64> + Activation<f32> + Activation<f64>>(
        name: &str,
        act: &A,
        limit: fn(f64) -> f64,
        slope: fn(f64) -> f64,
    ) {
        takes_its_limits::<f32, A>(name, act, limit, slope);
        takes_its_limits::<f64, A>(name, act, limit, slope);
    }

    #[test]
    fn every_activation_takes_its_limits_at_the_extremes() {
        let step = |x: f64| if x > 0.0 { 1.0 } else { 0.0 };
        let sign = |x: f64| if x > 0.0 { 1.0 } else { -1.0 };
        let ramp = |x: f64| if x > 0.0 { x } else { 0.0 };
        let (zero, one) = (|_: f64| 0.0, |_: f64| 1.0);
        takes_its_limits_in_both("Sigmoid", &Sigmoid, step, zero);
        takes_its_limits_in_both("Tanh", &Tanh, sign, zero);
        takes_its_limits_in_both("Relu", &Relu, ramp, step);
        takes_its_limits::<f32, _>("Swish", &Swish::<f32>::default(), ramp, step);
        takes_its_limits::<f64, _>("Swish", &Swish::<f64>::default(), ramp, step);
        takes_its_limits_in_both("Gelu", &Gelu, ramp, step);
        takes_its_limits_in_both("Softplus", &Softplus, ramp, step);
        takes_its_limits::<f32, _>("HardSigmoid", &HardSigmoid::<f32>::default(), step, zero);
        takes_its_limits::<f64, _>("HardSigmoid", &HardSigmoid(1.0 / 6.0), step, zero);
        takes_its_limits_in_both("HardTanh", &HardTanh, sign, zero);
        takes_its_limits_in_both("Relu6", &Relu6, |x| if x > 0.0 { 6.0 } else { 0.0 }, zero);
        takes_its_limits_in_both("PiecewiseLinear", &PiecewiseLinear, step, zero);
        takes_its_limits::<f32, _>("Step", &Step::<f32>::default(), step, zero);
        takes_its_limits::<f64, _>("Step", &Step(1.0), step, zero);
        takes_its_limits::<f32, _>("Sign", &Sign::<f32>::default(), sign, zero);
        takes_its_limits::<f64, _>("Sign", &Sign(1.0), sign, zero);
        takes_its_limits_in_both("Identity", &Identity, |x| x, one);
        let leaky = |x: f64| if x > 0.0 { x } else { 0.25 * x };
        let leaky_slope = |x: f64| if x > 0.0 { 1.0 } else { 0.25 };
        takes_its_limits::<f32, _>("LeakyRelu", &LeakyRelu(0.25f32), leaky, leaky_slope);
        takes_its_limits::<f64, _>("LeakyRelu", &LeakyRelu(0.25f64), leaky, leaky_slope);
        let elu = |x: f64| if x > 0.0 { x } else { -0.5 };
        takes_its_limits::<f32, _>("Elu", &Elu(0.5f32), elu, step);
        takes_its_limits::<f64, _>("Elu", &Elu(0.5f64), elu, step);
        // The values of the issue: swish(-1e38) was -0.449 and swish(-f32::MAX) -1.526 in f32.
        assert_eq!(Swish(1.0f32).f(-1e38f32), 0.0);
        assert_eq!(Swish(1.0f32).f(-f32::MAX), 0.0);
    }

    #[test]
    fn every_activation_keeps_nan() {
        nan_stays_in_both("Sigmoid", &Sigmoid);
        nan_stays_in_both("Tanh", &Tanh);
        nan_stays_in_both("Relu", &Relu);
        nan_stays::<f32, _>("LeakyRelu", &LeakyRelu(0.01f32));
        nan_stays::<f64, _>("LeakyRelu", &LeakyRelu(0.01f64));
        nan_stays::<f32, _>("Elu", &Elu(1.0f32));
        nan_stays::<f64, _>("Elu", &Elu(1.0f64));
        nan_stays_in_both("Softplus", &Softplus);
        nan_stays::<f32, _>("Swish", &Swish(1.0f32));
        nan_stays::<f64, _>("Swish", &Swish(2.0f64));
        nan_stays_in_both("Gelu", &Gelu);
        nan_stays::<f32, _>("HardSigmoid", &HardSigmoid::<f32>::default());
        nan_stays::<f64, _>("HardSigmoid", &HardSigmoid::<f64>::default());
        nan_stays_in_both("HardTanh", &HardTanh);
        nan_stays_in_both("Relu6", &Relu6);
        nan_stays::<f32, _>("Step", &Step(0.5f32));
        nan_stays::<f64, _>("Step", &Step(1.0f64));
        nan_stays::<f32, _>("Sign", &Sign(0.0f32));
        nan_stays::<f64, _>("Sign", &Sign(1.0f64));
        nan_stays_in_both("PiecewiseLinear", &PiecewiseLinear);
        nan_stays_in_both("Identity", &Identity);
    }

    /// Twelve points over [-4, 4], each at least 0.05 from every kink (0, ±1, ±2).
    fn points() -> SVector<f64, 12> {
        vector![-3.7, -2.6, -1.9, -1.3, -0.8, -0.35, 0.2, 0.55, 1.1, 1.6, 2.4, 3.9]
    }

    /// The same twelve points, negative and positive halves apart.
    ///
    /// `check_activation` differentiates the sum `sum_i w_i f(x_i)`, whose rounding (about one ulp of the sum over
    /// the step `2e-6`) counts against the `1e-3` floor wherever a derivative is tiny, such as GELU's at -3.7 or
    /// tanh's at 3.9. Halving the sum keeps that noise well below `1e-6`.
    fn halves() -> [SVector<f64, 6>; 2] {
        let x = points();
        [x.fixed_rows::<6>(0).into_owned(), x.fixed_rows::<6>(6).into_owned()]
    }

    fn assert_gradient<A: ActivationLayer<f64>, const N: usize>(name: &str, act: &A, x: &SVector<f64, N>) {
        let report = check_activation(act, x);
        assert_eq!(report.checked, N, "{name}: checked");
        assert!(report.max_relative_error < 1e-6, "{name}: {report:?}");
    }

    fn assert_gradient_on_points<A: ActivationLayer<f64>>(name: &str, act: &A) {
        for x in &halves() {
            assert_gradient(name, act, x);
        }
    }

    #[test]
    fn map_in_place_pads_short_runs_without_changing_a_value() {
        // Every length around the padding width: each value is exactly the scalar function's.
        for n in 0..=2 * LANES + 3 {
            let xs: std::vec::Vec<f32> = (0..n).map(|i| -3.0 + 0.37 * i as f32).collect();
            let mut ys = xs.clone();
            map_in_place(&mut ys, Float::fast_tanh);
            for (&x, &y) in xs.iter().zip(&ys) {
                assert_eq!(y.to_bits(), x.fast_tanh().to_bits(), "n = {n}, x = {x}");
            }
            let mut zs: std::vec::Vec<f64> = xs.iter().map(|&x| f64::from(x)).collect();
            map_in_place(&mut zs, |v| v * 2.0);
            assert!(zs.iter().zip(&xs).all(|(&z, &x)| z == 2.0 * f64::from(x)), "n = {n}");
        }
    }

    #[test]
    fn gradients_of_elementwise_activations_match_central_differences() {
        assert_gradient_on_points("sigmoid", &Sigmoid);
        assert_gradient_on_points("tanh", &Tanh);
        assert_gradient_on_points("relu", &Relu);
        assert_gradient_on_points("leaky_relu(0.01)", &LeakyRelu(0.01));
        assert_gradient_on_points("leaky_relu(0.2)", &LeakyRelu(0.2));
        assert_gradient_on_points("elu(1)", &Elu(1.0));
        assert_gradient_on_points("elu(0.5)", &Elu(0.5));
        assert_gradient_on_points("softplus", &Softplus);
        assert_gradient_on_points("swish", &Swish::default());
        assert_gradient_on_points("swish(1.7)", &Swish(1.7));
        assert_gradient_on_points("swish(0.4)", &Swish(0.4));
        assert_gradient_on_points("gelu", &Gelu);
        assert_gradient_on_points("hard_sigmoid", &HardSigmoid::default());
        assert_gradient_on_points("hard_sigmoid(1/6)", &HardSigmoid(1.0 / 6.0));
        assert_gradient_on_points("hard_sigmoid(0.2)", &HardSigmoid(0.2));
        assert_gradient_on_points("hard_tanh", &HardTanh);
        assert_gradient_on_points("relu6", &Relu6);
        assert_gradient_on_points("identity", &Identity);
        assert_gradient_on_points("step", &Step::default());
        assert_gradient_on_points("sign", &Sign::default());
        assert_gradient_on_points("piecewise_linear", &PiecewiseLinear);
    }

    #[test]
    fn softmax_gradient_matches_central_differences() {
        assert_gradient("softmax", &Softmax, &points());
        assert_gradient_on_points("softmax halves", &Softmax);
        assert_gradient("softmax small", &Softmax, &vector![0.3, -1.2, 2.5, 0.0, -0.7]);
        assert_gradient("softmax equal", &Softmax, &vector![1.0, 1.0, 1.0, 1.0]);
        assert_gradient("softmax spread", &Softmax, &vector![25.0, -20.0, 3.0, 0.5, -8.0, 12.0]);
        assert_gradient("softmax two", &Softmax, &vector![-0.4, 0.9]);
    }

    #[test]
    fn softmax_per_step_normalises_each_step_and_its_gradient_checks() {
        assert_gradient("softmax steps of 3", &SoftmaxSteps::<3>, &points());
        assert_gradient("softmax steps of 4", &SoftmaxSteps::<4>, &points());
        let y = ActivationLayer::<f64>::forward(&SoftmaxSteps::<4>, &points());
        for (s, x) in y.as_slice().chunks_exact(4).zip(points().as_slice().chunks_exact(4)) {
            let whole = ActivationLayer::<f64>::forward(&Softmax, &SVector::<f64, 4>::from_column_slice(x));
            assert!((SVector::<f64, 4>::from_column_slice(s) - whole).abs().max() < 1e-15);
        }
    }

    fn close(name: &str, got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= tol, "{name}: got {got:e}, want {want:e}");
    }

    /// `f(x)` and `df(x, f(x))` in f64.
    fn eval<A: Activation<f64>>(a: A, x: f64) -> (f64, f64) {
        let y = a.f(x);
        (y, a.df(x, y))
    }

    #[test]
    fn smooth_activations_match_reference_values() {
        // Expected values from Python's `math` module.
        let (y, d) = eval(Sigmoid, 0.5);
        close("sigmoid(0.5)", y, 0.622_459_331_201_854_6, 1e-12);
        close("sigmoid'(0.5)", d, 0.235_003_712_201_594_5, 1e-12);
        close("sigmoid(-3)", eval(Sigmoid, -3.0).0, 0.047_425_873_177_566_78, 1e-12);
        let (y, d) = eval(Tanh, 0.5);
        close("tanh(0.5)", y, 0.462_117_157_260_009_74, 1e-12);
        close("tanh'(0.5)", d, 0.786_447_732_965_927_4, 1e-12);
        let (y, d) = eval(Softplus, 1.0);
        close("softplus(1)", y, 1.313_261_687_518_222_8, 1e-12);
        close("softplus'(1)", d, 0.731_058_578_630_004_9, 1e-12);
        close("softplus(-2)", eval(Softplus, -2.0).0, 0.126_928_011_042_972_5, 1e-12);
        let (y, d) = eval(Gelu, 1.0);
        close("gelu(1)", y, 0.841_344_746_068_542_9, 1e-12);
        close("gelu'(1)", d, 1.083_315_470_587_686_4, 1e-12);
        close("gelu(-0.5)", eval(Gelu, -0.5).0, -0.154_268_769_362_993_44, 1e-12);
        let (y, d) = eval(Swish(1.0), 1.0);
        close("swish(1)", y, 0.731_058_578_630_004_9, 1e-12);
        close("swish'(1)", d, 0.927_670_511_871_486_7, 1e-12);
        close("swish(-2)", eval(Swish(1.0), -2.0).0, -0.238_405_844_044_235_1, 1e-12);
        let (y, d) = eval(Elu(1.0), -1.0);
        close("elu(-1)", y, -0.632_120_558_828_557_7, 1e-12);
        close("elu'(-1)", d, 0.367_879_441_171_442_3, 1e-12);
        close("elu_0.5(-2)", eval(Elu(0.5), -2.0).0, -0.432_332_358_381_693_65, 1e-12);
        assert_eq!(eval(Elu(0.5), 3.0), (3.0, 1.0));
    }

    #[test]
    fn piecewise_activations_match_their_definitions() {
        for (x, y, d) in [(-3.0, 0.0, 0.0), (-1.0, 0.25, 0.25), (0.0, 0.5, 0.25), (1.0, 0.75, 0.25), (3.0, 1.0, 0.0)] {
            assert_eq!(eval(HardSigmoid::default(), x), (y, d), "hard_sigmoid({x})");
        }
        for (x, y, d) in [(-3.0, -1.0, 0.0), (-0.5, -0.5, 1.0), (0.0, 0.0, 1.0), (0.25, 0.25, 1.0), (7.0, 1.0, 0.0)] {
            assert_eq!(eval(HardTanh, x), (y, d), "hard_tanh({x})");
        }
        for (x, y, d) in [(-3.0, 0.0, 0.0), (0.0, 0.0, 0.0), (2.5, 2.5, 1.0), (6.0, 6.0, 0.0), (7.5, 6.0, 0.0)] {
            assert_eq!(eval(Relu6, x), (y, d), "relu6({x})");
        }
        assert_eq!(eval(Relu, -2.5), (0.0, 0.0));
        assert_eq!(eval(Relu, 0.0), (0.0, 0.0));
        assert_eq!(eval(Relu, 2.5), (2.5, 1.0));
        assert_eq!(eval(LeakyRelu(0.2), -2.5), (-0.5, 0.2));
        assert_eq!(eval(LeakyRelu(0.2), 2.5), (2.5, 1.0));
        assert_eq!(eval(LeakyRelu::<f64>::default(), -3.0), (-0.03, 0.01));
        assert_eq!(eval(Identity, -7.25), (-7.25, 1.0));
        for (x, step, sign) in
            [(-2.0, 0.0, -1.0), (-1e-300, 0.0, -1.0), (0.0, 0.5, 0.0), (1e-300, 1.0, 1.0), (3.0, 1.0, 1.0)]
        {
            assert_eq!(eval(Step::default(), x), (step, 0.0), "step({x})");
            assert_eq!(eval(Sign::default(), x), (sign, 0.0), "sign({x})");
        }
        for (x, y, d) in
            [(-2.0, 0.0, 0.0), (-0.5, 0.0, 0.0), (-0.25, 0.25, 1.0), (0.0, 0.5, 1.0), (0.5, 1.0, 0.0), (4.0, 1.0, 0.0)]
        {
            assert_eq!(eval(PiecewiseLinear, x), (y, d), "piecewise_linear({x})");
        }
        assert_eq!(Elu::<f64>::default(), Elu(1.0));
    }

    fn finite_at<T: Float, A: Activation<T>>(name: &str, a: A, x: T) -> (T, T) {
        let y = a.f(x);
        let d = a.df(x, y);
        assert!(Float::is_finite(y) && Float::is_finite(d), "{name}({x}) = {y}, derivative {d}");
        (y, d)
    }

    macro_rules! all_finite {
        ($t:ty, $x:expr) => {{
            let x: $t = $x;
            finite_at("sigmoid", Sigmoid, x);
            finite_at("tanh", Tanh, x);
            finite_at("relu", Relu, x);
            finite_at("leaky_relu", LeakyRelu::<$t>(0.01), x);
            finite_at("elu", Elu::<$t>(1.0), x);
            finite_at("elu(0.5)", Elu::<$t>(0.5), x);
            finite_at("softplus", Softplus, x);
            finite_at("swish", Swish::<$t>::default(), x);
            finite_at("gelu", Gelu, x);
            finite_at("hard_sigmoid", HardSigmoid::<$t>::default(), x);
            finite_at("hard_tanh", HardTanh, x);
            finite_at("relu6", Relu6, x);
            finite_at("identity", Identity, x);
            finite_at("step", Step::<$t>::default(), x);
            finite_at("sign", Sign::<$t>::default(), x);
            finite_at("piecewise_linear", PiecewiseLinear, x);
        }};
    }

    #[test]
    fn every_activation_is_finite_at_extreme_inputs() {
        for x in [1000.0, -1000.0, 1e30, -1e30] {
            all_finite!(f64, x);
            all_finite!(f32, x as f32);
        }
    }

    #[test]
    fn saturating_activations_take_their_limits() {
        assert_eq!(eval(Sigmoid, 1000.0), (1.0, 0.0));
        let (y, d) = eval(Sigmoid, -1000.0);
        assert!((0.0..1e-300).contains(&y) && (0.0..1e-300).contains(&d), "sigmoid(-1000) = {y}, {d}");
        assert_eq!(eval(Tanh, 1000.0), (1.0, 0.0));
        assert_eq!(eval(Tanh, -1000.0), (-1.0, 0.0));
        assert_eq!(eval(Softplus, 1000.0), (1000.0, 1.0));
        let (y, d) = eval(Softplus, -1000.0);
        assert!((0.0..1e-300).contains(&y) && (0.0..1e-300).contains(&d), "softplus(-1000) = {y}, {d}");
        assert_eq!(eval(Swish(1.0), 1000.0), (1000.0, 1.0));
        let (y, d) = eval(Swish(1.0), -1000.0);
        assert!(y.abs() < 1e-300 && d.abs() < 1e-300, "swish(-1000) = {y}, {d}");
        assert_eq!(eval(Gelu, 1000.0), (1000.0, 1.0));
        let (y, d) = eval(Gelu, -1000.0);
        assert!(y == 0.0 && d == 0.0, "gelu(-1000) = {y}, {d}");
        assert_eq!(eval(Elu(1.0), -1000.0), (-1.0, 0.0));
        assert_eq!(eval(Elu(0.5), -1000.0), (-0.5, 0.0));
        assert_eq!(eval(HardSigmoid::default(), -1000.0), (0.0, 0.0));
        // PyTorch's slope: 0 below -3, 1 above 3, x/6 + 1/2 between.
        assert_eq!(eval(HardSigmoid(1.0 / 6.0), 1.5), (0.75, 1.0 / 6.0));
        assert_eq!(eval(HardSigmoid(1.0 / 6.0), 3.5), (1.0, 0.0));
        assert_eq!(eval(HardTanh, 1000.0), (1.0, 0.0));
        // Far beyond 2^53, where `x * sigmoid(x)` and `x` are the same float: the derivatives are still 1.
        assert_eq!(eval(Swish(1.0), 1e30), (1e30, 1.0));
        assert_eq!(eval(Gelu, 1e30), (1e30, 1.0));
        assert_eq!(eval(Softplus, 1e30), (1e30, 1.0));
        let swish = Swish(1.0f32);
        let y = swish.f(1e30f32);
        assert_eq!((y, swish.df(1e30f32, y)), (1e30, 1.0));
        let y = swish.f(1e8f32);
        assert_eq!((y, swish.df(1e8f32, y)), (1e8, 1.0));
    }

    fn check_softmax_stable<T: Float>(big: f64) {
        let x = SVector::<T, 3>::from_column_slice(&[lit(big), lit(-big), T::zero()]);
        let y = Softmax.forward(&x);
        assert!(y.iter().all(|v| Float::is_finite(*v)), "softmax({x:?}) = {y:?}");
        let sum = y.iter().fold(0.0, |acc, v| acc + v.to_f64());
        assert!((sum - 1.0).abs() < 1e-6, "sum {sum}");
        assert_eq!(y[0], T::one());
        let dx = Softmax.backward(&x, &y, &SVector::<T, 3>::from_column_slice(&[lit(1.0), lit(2.0), lit(3.0)]));
        assert!(dx.iter().all(|v| Float::is_finite(*v)), "softmax backward {dx:?}");

        let tie = SVector::<T, 2>::from_column_slice(&[lit(big), lit(big)]);
        assert_eq!(Softmax.forward(&tie), SVector::<T, 2>::from_column_slice(&[lit(0.5), lit(0.5)]));
    }

    #[test]
    fn softmax_is_stable_for_huge_logits() {
        for big in [1000.0, 1e30] {
            check_softmax_stable::<f64>(big);
            check_softmax_stable::<f32>(big);
        }
    }

    #[test]
    fn softmax_normalises_each_column_separately() {
        let x = SMatrix::<f64, 3, 2>::new(1.0, 0.0, 2.0, -1.0, 3.0, 0.5);
        let y = Softmax.forward(&x);
        let want = SMatrix::<f64, 3, 2>::new(
            0.090_030_573_170_380_46,
            0.331_498_960_424_091_5,
            0.244_728_471_054_797_67,
            0.121_951_652_309_728_86,
            0.665_240_955_774_821_9,
            0.546_549_387_266_179_6,
        );
        for (g, w) in y.iter().zip(want.iter()) {
            close("softmax", *g, *w, 1e-12);
        }
        for c in 0..2 {
            close("column sum", y.column(c).sum(), 1.0, 1e-15);
        }
        // A column's output does not depend on the other column.
        let mut x2 = x;
        x2[(0, 1)] = 100.0;
        assert_eq!(Softmax.forward(&x2).column(0), y.column(0));
        // Nor does its backward.
        let dy = SMatrix::<f64, 3, 2>::new(1.0, 0.0, -2.0, 0.0, 0.5, 0.0);
        let dx = Softmax.backward(&x, &y, &dy);
        assert_eq!(dx.column(1), SVector::<f64, 3>::zeros());
        let dot = y.column(0).dot(&dy.column(0));
        for r in 0..3 {
            close("softmax backward", dx[(r, 0)], y[(r, 0)] * (dy[(r, 0)] - dot), 1e-15);
        }
    }

    fn agree<A: Activation<f32>, B: Activation<f64>>(name: &str, a32: A, a64: B) {
        for x in [-3.5f32, -1.25, -0.5, 0.375, 1.5, 2.75] {
            let y32 = a32.f(x);
            let d32 = a32.df(x, y32);
            let y64 = a64.f(f64::from(x));
            let d64 = a64.df(f64::from(x), y64);
            let tol = |v: f64| 1e-6 * v.abs().max(1.0);
            assert!((f64::from(y32) - y64).abs() <= tol(y64), "{name}({x}): {y32} vs {y64}");
            assert!((f64::from(d32) - d64).abs() <= tol(d64), "{name}'({x}): {d32} vs {d64}");
        }
    }

    #[test]
    fn f32_and_f64_agree() {
        agree("sigmoid", Sigmoid, Sigmoid);
        agree("tanh", Tanh, Tanh);
        agree("relu", Relu, Relu);
        agree("leaky_relu", LeakyRelu(0.2f32), LeakyRelu(0.2f64));
        agree("elu", Elu(0.5f32), Elu(0.5f64));
        agree("softplus", Softplus, Softplus);
        agree("swish", Swish(1.0f32), Swish(1.0f64));
        agree("swish(2)", Swish(2.0f32), Swish(2.0f64));
        agree("gelu", Gelu, Gelu);
        agree("hard_sigmoid", HardSigmoid(0.2f32), HardSigmoid(0.2f64));
        agree("hard_tanh", HardTanh, HardTanh);
        agree("relu6", Relu6, Relu6);
        agree("identity", Identity, Identity);

        let x = SVector::<f64, 4>::new(0.3, -1.2, 2.5, 0.0);
        let y64 = Softmax.forward(&x);
        let y32 = Softmax.forward(&x.map(|v| v as f32));
        for (a, b) in y32.iter().zip(y64.iter()) {
            close("softmax f32", f64::from(*a), *b, 1e-6);
        }
    }
}
