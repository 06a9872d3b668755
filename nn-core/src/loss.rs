//! Loss functions: a value and its gradient with respect to the network's output.
//!
//! Predictions and targets are matrices whose columns are samples (one sample is a one-column matrix, an
//! `SVector`); a loss is the **mean over the samples** of a per-sample loss, as PyTorch's default reduction,
//! so batched and per-sample training take steps of the same size. Prediction and target have the same type,
//! so a target of the wrong shape is a compile error at the call site. Every loss is finite for any finite
//! input (no `NaN` or infinity from logits of magnitude 1000).

use crate::activation::sigmoid;
use crate::buffer::Buffer;
use crate::float::{Float, lit};

/// A loss `L(y, t)` of predictions `y` against targets `t`, with its gradient dL/dy.
///
/// Implementors give the per-sample loss on one column; the batch forms are provided.
pub trait Loss<T: Float> {
    /// The loss of one sample: prediction `y` and target `t` are columns of the same length.
    fn sample_value(&self, y: &[T], t: &[T]) -> T;

    /// The gradient of [`Loss::sample_value`] with respect to `y`, written into `g` (same length).
    fn sample_gradient(&self, y: &[T], t: &[T], g: &mut [T]);

    /// The mean loss over the samples (columns) of `y`.
    #[inline]
    fn value<B: Buffer<T>>(&self, y: &B, target: &B) -> T {
        if B::SAMPLES == 0 || B::FEATURES == 0 {
            return T::zero();
        }
        let sum = y
            .as_slice()
            .chunks_exact(B::FEATURES)
            .zip(target.as_slice().chunks_exact(B::FEATURES))
            .fold(T::zero(), |acc, (y, t)| acc + self.sample_value(y, t));
        sum / lit(B::SAMPLES as f64)
    }

    /// The gradient of [`Loss::value`]: each sample's gradient divided by the number of samples.
    #[inline]
    fn gradient<B: Buffer<T>>(&self, y: &B, target: &B) -> B {
        let mut g = B::zeros();
        if B::SAMPLES == 0 || B::FEATURES == 0 {
            return g;
        }
        let scale = lit::<T>(1.0 / B::SAMPLES as f64);
        let columns = g.as_mut_slice().chunks_exact_mut(B::FEATURES);
        for ((gc, yc), tc) in
            columns.zip(y.as_slice().chunks_exact(B::FEATURES)).zip(target.as_slice().chunks_exact(B::FEATURES))
        {
            self.sample_gradient(yc, tc, gc);
            if B::SAMPLES > 1 {
                gc.iter_mut().for_each(|v| *v *= scale);
            }
        }
        g
    }

    /// How well one sample is predicted, in `[0, 1]`: by default 1 when the prediction's largest entry is where
    /// the target's is (classification accuracy). [`PerStep`] gives the fraction of steps predicted so.
    #[inline]
    fn sample_accuracy(&self, y: &[T], t: &[T]) -> f64 {
        if crate::argmax(y) == crate::argmax(t) { 1.0 } else { 0.0 }
    }

    /// Both at once.
    #[inline]
    fn value_and_gradient<B: Buffer<T>>(&self, y: &B, target: &B) -> (T, B) {
        (self.value(y, target), self.gradient(y, target))
    }
}

/// Half the sum of squared errors, `1/2 sum (t - y)^2`, as the lectures write `E_total`; gradient `y - t`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HalfSquaredError;

impl<T: Float> Loss<T> for HalfSquaredError {
    #[inline]
    fn sample_value(&self, y: &[T], t: &[T]) -> T {
        let half = lit::<T>(0.5);
        y.iter().zip(t).fold(T::zero(), |acc, (&y, &t)| acc + half * (t - y) * (t - y))
    }

    #[inline]
    fn sample_gradient(&self, y: &[T], t: &[T], g: &mut [T]) {
        for ((g, &y), &t) in g.iter_mut().zip(y).zip(t) {
            *g = y - t;
        }
    }
}

/// Mean squared error, `1/n sum (y - t)^2` over a sample's `n` outputs (PyTorch's `MSELoss`, whose mean runs over
/// every element); gradient `2 (y - t) / n`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeanSquaredError;

impl<T: Float> Loss<T> for MeanSquaredError {
    #[inline]
    fn sample_value(&self, y: &[T], t: &[T]) -> T {
        if y.is_empty() {
            return T::zero();
        }
        let sum = y.iter().zip(t).fold(T::zero(), |acc, (&y, &t)| acc + (y - t) * (y - t));
        sum / lit(y.len() as f64)
    }

    #[inline]
    fn sample_gradient(&self, y: &[T], t: &[T], g: &mut [T]) {
        let scale = lit::<T>(2.0 / y.len().max(1) as f64);
        for ((g, &y), &t) in g.iter_mut().zip(y).zip(t) {
            *g = (y - t) * scale;
        }
    }
}

/// Softmax followed by cross-entropy, fused: the prediction is a vector of logits `z`, the target a
/// probability vector `t` (usually one-hot).
///
/// `L = sum_i t_i (logsumexp(z) - z_i)` with the maximum subtracted inside the log-sum-exp, so no logit
/// overflows; gradient `softmax(z) * sum(t) - t` (that is `softmax(z) - t` for a distribution). Equals
/// PyTorch's `CrossEntropyLoss` with probability targets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SoftmaxCrossEntropy;

/// `ln sum_i e^(z_i)`, computed stably; `-inf` for an empty slice.
pub fn log_sum_exp<T: Float>(z: &[T]) -> T {
    let Some(max) = z.iter().copied().reduce(Float::max) else {
        return -T::one() / T::zero();
    };
    let sum = z.iter().fold(T::zero(), |acc, &v| acc + (v - max).exp());
    max + sum.ln()
}

impl<T: Float> Loss<T> for SoftmaxCrossEntropy {
    #[inline]
    fn sample_value(&self, z: &[T], t: &[T]) -> T {
        let lse = log_sum_exp(z);
        z.iter().zip(t).fold(T::zero(), |acc, (&z, &t)| acc + t * (lse - z))
    }

    #[inline]
    fn sample_gradient(&self, z: &[T], t: &[T], g: &mut [T]) {
        let lse = log_sum_exp(z);
        let total = t.iter().fold(T::zero(), |acc, &t| acc + t);
        for ((g, &z), &t) in g.iter_mut().zip(z).zip(t) {
            *g = (z - lse).exp() * total - t;
        }
    }
}

/// Binary cross-entropy on logits, averaged over a sample's outputs (PyTorch's `BCEWithLogitsLoss`).
///
/// Per output: `max(z, 0) - z t + ln(1 + e^-|z|)`, which equals `-t ln sigmoid(z) - (1 - t) ln(1 - sigmoid(z))`
/// without ever taking the log of zero; gradient `(sigmoid(z) - t) / n`. Its accuracy is that of each output
/// as a yes/no answer: the fraction of outputs whose logit is positive exactly where the target is at least
/// one half (for one output, whether the sample is classified right).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BinaryCrossEntropyWithLogits;

impl<T: Float> Loss<T> for BinaryCrossEntropyWithLogits {
    #[inline]
    fn sample_value(&self, z: &[T], t: &[T]) -> T {
        if z.is_empty() {
            return T::zero();
        }
        let n = lit::<T>(z.len() as f64);
        // max(z, 0) - z t, as max(z, 0) (1 - t) + max(-z, 0) t with a product left out where its weight is 0: an
        // infinite logit then costs 0 when it is right, inf when it is wrong (not inf - inf, NaN). NaN stays in
        // the last term.
        let weighted = |v: T, w: T| if w == T::zero() { T::zero() } else { v * w };
        let term = |z: T, t: T| {
            weighted(z.max(T::zero()), T::one() - t) + weighted((-z).max(T::zero()), t) + (-z.abs()).exp().ln_1p()
        };
        let sum = z.iter().zip(t).fold(T::zero(), |acc, (&z, &t)| acc + term(z, t));
        if sum.is_finite() || !z.iter().chain(t).all(|v| v.is_finite()) {
            return sum / n;
        }
        // Finite logits whose terms add up past the largest float (logits near `T::MAX`): each term divided
        // first, so that the mean, which fits, comes out.
        z.iter().zip(t).fold(T::zero(), |acc, (&z, &t)| acc + term(z, t) / n)
    }

    #[inline]
    fn sample_accuracy(&self, z: &[T], t: &[T]) -> f64 {
        let half = lit::<T>(0.5);
        let right = z.iter().zip(t).filter(|&(&z, &t)| (z > T::zero()) == (t >= half)).count();
        right as f64 / z.len().max(1) as f64
    }

    #[inline]
    fn sample_gradient(&self, z: &[T], t: &[T], g: &mut [T]) {
        let scale = lit::<T>(1.0 / z.len().max(1) as f64);
        for ((g, &z), &t) in g.iter_mut().zip(z).zip(t) {
            *g = (sigmoid(z) - t) * scale;
        }
    }
}

/// A loss applied to every step of a sequence: each sample's values are steps of `F` values (time-major, as the
/// recurrent layers write them), the inner loss is taken on each step and the sample's loss is the **mean over
/// steps**. So [`Loss::value`] is the mean over samples and steps, as PyTorch's `CrossEntropyLoss` on a
/// `[batch * steps, classes]` view.
///
/// ```
/// use nn_core::loss::{Loss, PerStep, SoftmaxCrossEntropy};
/// use nn_core::nalgebra::vector;
///
/// // Two steps of three classes: the first is right with confidence, the second undecided.
/// let loss = PerStep::<_, 3>(SoftmaxCrossEntropy);
/// let y = vector![5.0, 0.0, 0.0, 1.0, 1.0, 1.0];
/// let t = vector![1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
/// let per_step = [SoftmaxCrossEntropy.value(&vector![5.0, 0.0, 0.0], &vector![1.0, 0.0, 0.0]), 3f64.ln()];
/// assert!((loss.value(&y, &t) - (per_step[0] + per_step[1]) / 2.0).abs() < 1e-12);
/// assert_eq!(loss.sample_accuracy(y.as_slice(), t.as_slice()), 0.5);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerStep<L, const F: usize>(pub L);

impl<T: Float, L: Loss<T>, const F: usize> Loss<T> for PerStep<L, F> {
    #[inline]
    fn sample_value(&self, y: &[T], t: &[T]) -> T {
        let steps = y.len() / F.max(1);
        if steps == 0 {
            return T::zero();
        }
        let sum = y.chunks_exact(F).zip(t.chunks_exact(F)).fold(T::zero(), |a, (y, t)| a + self.0.sample_value(y, t));
        sum / lit(steps as f64)
    }

    #[inline]
    fn sample_gradient(&self, y: &[T], t: &[T], g: &mut [T]) {
        let steps = y.len() / F.max(1);
        if steps == 0 {
            return;
        }
        let scale = lit::<T>(1.0 / steps as f64);
        for ((g, y), t) in g.chunks_exact_mut(F).zip(y.chunks_exact(F)).zip(t.chunks_exact(F)) {
            self.0.sample_gradient(y, t, g);
            g.iter_mut().for_each(|v| *v *= scale);
        }
    }

    #[inline]
    fn sample_accuracy(&self, y: &[T], t: &[T]) -> f64 {
        let steps = y.len() / F.max(1);
        if steps == 0 {
            return 0.0;
        }
        let right: f64 = y.chunks_exact(F).zip(t.chunks_exact(F)).map(|(y, t)| self.0.sample_accuracy(y, t)).sum();
        right / steps as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::check_loss;
    use nalgebra::{SVector, vector};

    fn assert_gradient<L: Loss<f64>, const N: usize>(name: &str, loss: &L, y: SVector<f64, N>, t: SVector<f64, N>) {
        let report = check_loss(loss, &y, &t);
        assert_eq!(report.checked, N, "{name}: checked");
        assert!(report.max_relative_error < 1e-6, "{name}: {report:?}");
    }

    fn close(name: &str, got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= tol, "{name}: got {got:e}, want {want:e}");
    }

    #[test]
    fn bce_with_logits_holds_at_the_extremes() {
        // Logits at the largest f32 with target 0: each term is f32::MAX, their mean too (the sum was inf).
        let z = SVector::<f32, 2>::repeat(f32::MAX);
        assert_eq!(BinaryCrossEntropyWithLogits.value(&z, &SVector::zeros()), f32::MAX);
        let mixed = SVector::<f32, 4>::from([f32::MAX, -f32::MAX, 1e38, -1e38]);
        let t = SVector::<f32, 4>::from([0.0, 1.0, 0.0, 1.0]);
        let want = (2.0 * f64::from(f32::MAX) + 2e38) / 4.0;
        let got = f64::from(BinaryCrossEntropyWithLogits.value(&mixed, &t));
        assert!((got - want).abs() <= 1e-6 * want, "{got:e} against {want:e}");
        // Right answers at the extremes cost nothing; gradients are sigmoid(z) - t, finite.
        let right = SVector::<f32, 4>::from([1.0, 0.0, 1.0, 0.0]);
        assert_eq!(BinaryCrossEntropyWithLogits.value(&mixed, &right), 0.0);
        let mut g = SVector::<f32, 4>::zeros();
        BinaryCrossEntropyWithLogits.sample_gradient(mixed.as_slice(), t.as_slice(), g.as_mut_slice());
        assert_eq!(g, SVector::<f32, 4>::from([0.25, -0.25, 0.25, -0.25]));
        // Infinite logits: the loss is infinite where the answer is wrong, 0 where it is right; NaN stays NaN.
        let inf = SVector::<f32, 2>::from([f32::INFINITY, f32::NEG_INFINITY]);
        assert_eq!(BinaryCrossEntropyWithLogits.value(&inf, &SVector::from([0.0, 1.0])), f32::INFINITY);
        assert_eq!(BinaryCrossEntropyWithLogits.value(&inf, &SVector::from([1.0, 0.0])), 0.0);
        assert!(BinaryCrossEntropyWithLogits.value(&SVector::<f32, 1>::repeat(f32::NAN), &SVector::zeros()).is_nan());
        // Subnormal logits: ln 2 for either target.
        let tiny = SVector::<f32, 1>::repeat(f32::from_bits(1));
        assert_eq!(BinaryCrossEntropyWithLogits.value(&tiny, &SVector::zeros()), core::f32::consts::LN_2);
    }

    #[test]
    fn gradients_match_central_differences() {
        let y = vector![0.7, -1.3, 2.2, 0.05, -0.4];
        let t = vector![0.1, 0.9, -1.5, 0.0, 2.0];
        assert_gradient("half squared", &HalfSquaredError, y, t);
        assert_gradient("mse", &MeanSquaredError, y, t);

        let z = vector![0.5, -1.25, 2.0, 0.0];
        for k in 0..4 {
            let mut one_hot = SVector::<f64, 4>::zeros();
            one_hot[k] = 1.0;
            assert_gradient("ce one-hot", &SoftmaxCrossEntropy, z, one_hot);
        }
        assert_gradient("ce soft", &SoftmaxCrossEntropy, z, vector![0.1, 0.2, 0.6, 0.1]);
        // Spread, yet with a loss (about 11) small enough that its rounding over the step stays far below 1e-6
        // relative to the smallest gradient (about 0.011).
        let z = vector![6.0, -5.0, 1.5];
        assert_gradient("ce spread, wrong", &SoftmaxCrossEntropy, z, vector![0.0, 1.0, 0.0]);
        assert_gradient("ce spread, right", &SoftmaxCrossEntropy, z, vector![1.0, 0.0, 0.0]);

        let z = vector![0.7, -1.3, 2.2, -0.2, 3.5, -4.0];
        assert_gradient("bce 0", &BinaryCrossEntropyWithLogits, z, SVector::zeros());
        assert_gradient("bce 1", &BinaryCrossEntropyWithLogits, z, SVector::repeat(1.0));
        assert_gradient("bce 0.3", &BinaryCrossEntropyWithLogits, z, SVector::repeat(0.3));
        assert_gradient("bce mixed", &BinaryCrossEntropyWithLogits, z, vector![1.0, 0.0, 0.3, 1.0, 0.0, 0.3]);
    }

    #[test]
    fn per_step_loss_gradient_matches_central_differences() {
        let y = SVector::<f64, 8>::from_fn(|i, _| (i as f64 * 0.7).sin() * 2.0);
        let t = SVector::<f64, 8>::from_fn(|i, _| if i % 4 == (i / 4) + 1 { 1.0 } else { 0.0 });
        assert_gradient("per-step cross-entropy", &PerStep::<_, 4>(SoftmaxCrossEntropy), y, t);
        assert_gradient("per-step mse", &PerStep::<_, 2>(MeanSquaredError), y, t);
        // Steps 0 and 1 have their targets at 1 and 2.
        let right = PerStep::<_, 4>(SoftmaxCrossEntropy).sample_accuracy(y.as_slice(), t.as_slice());
        let expected = [0, 1].iter().filter(|&&s| crate::argmax(&y.as_slice()[s * 4..s * 4 + 4]) == s + 1).count();
        assert_eq!(right, expected as f64 / 2.0);
    }

    #[test]
    fn half_squared_error_is_the_lectures_e_total() {
        let y = vector![0.751_365_07, 0.772_928_465];
        let t = vector![0.01, 0.99];
        close("E_total", HalfSquaredError.value(&y, &t), 0.298_371_109, 1e-8);
        let g = HalfSquaredError.gradient(&y, &t);
        close("dE/dy0", g[0], 0.741_365_07, 1e-15);
        close("dE/dy1", g[1], -0.217_071_535, 1e-15);
    }

    #[test]
    fn mean_squared_error_averages() {
        let y = vector![1.0, -2.0, 3.0];
        let t = vector![0.5, 1.0, 3.25];
        // ((0.5)^2 + 3^2 + 0.25^2) / 3
        close("mse", MeanSquaredError.value(&y, &t), 3.104_166_666_666_666_5, 1e-14);
        assert_eq!(MeanSquaredError.gradient(&y, &t), vector![1.0 / 3.0, -2.0, -1.0 / 6.0]);
        let (v, g) = MeanSquaredError.value_and_gradient(&y, &y);
        assert_eq!((v, g), (0.0, SVector::zeros()));
        let empty = SVector::<f64, 0>::zeros();
        assert_eq!(MeanSquaredError.value(&empty, &empty), 0.0);
        assert_eq!(BinaryCrossEntropyWithLogits.value(&empty, &empty), 0.0);
    }

    #[test]
    fn softmax_cross_entropy_is_minus_log_softmax() {
        let z = vector![0.5, -1.25, 2.0, 0.0];
        // -ln(softmax(z)[k]), from Python's `math` module.
        let want = [1.834_498_612_603_662_6, 3.584_498_612_603_662_4, 0.334_498_612_603_662_6, 2.334_498_612_603_662_4];
        for (k, want) in want.into_iter().enumerate() {
            let mut t = SVector::<f64, 4>::zeros();
            t[k] = 1.0;
            close("ce", SoftmaxCrossEntropy.value(&z, &t), want, 1e-12);
            let g = SoftmaxCrossEntropy.gradient(&z, &t);
            close("ce gradient sums to 0", g.sum(), 0.0, 1e-15);
            close("ce gradient at k", g[k], (-want).exp() - 1.0, 1e-12);
        }
        close("ce soft", SoftmaxCrossEntropy.value(&z, &vector![0.1, 0.2, 0.6, 0.1]), 1.334_498_612_603_662_4, 1e-12);
        close("log_sum_exp", log_sum_exp(&[1000.0, 1000.0]), 1000.0 + core::f64::consts::LN_2, 1e-12);
        assert_eq!(log_sum_exp::<f64>(&[]), f64::NEG_INFINITY);
    }

    #[test]
    fn binary_cross_entropy_with_logits_matches_the_naive_formula() {
        let z = vector![0.7, -1.3, 2.2];
        let t = vector![1.0, 0.0, 0.3];
        // mean of -t ln s(z) - (1 - t) ln(1 - s(z)), from Python's `math` module.
        close("bce", BinaryCrossEntropyWithLogits.value(&z, &t), 0.763_092_607_495_715_1, 1e-12);
        let naive = |z: f64, t: f64| {
            let s = 1.0 / (1.0 + (-z).exp());
            -t * s.ln() - (1.0 - t) * (1.0 - s).ln()
        };
        let want = (naive(0.7, 1.0) + naive(-1.3, 0.0) + naive(2.2, 0.3)) / 3.0;
        close("bce naive", BinaryCrossEntropyWithLogits.value(&z, &t), want, 1e-14);
        let g = BinaryCrossEntropyWithLogits.gradient(&z, &t);
        for i in 0..3 {
            close("bce gradient", g[i], (1.0 / (1.0 + (-z[i]).exp()) - t[i]) / 3.0, 1e-15);
        }
    }

    fn finite_loss<T: Float, L: Loss<T>, const N: usize>(
        name: &str,
        loss: &L,
        z: SVector<T, N>,
        t: SVector<T, N>,
    ) -> (T, SVector<T, N>) {
        let (v, g) = loss.value_and_gradient(&z, &t);
        assert!(Float::is_finite(v) && g.iter().all(|e| Float::is_finite(*e)), "{name}: {v}, {g:?}");
        (v, g)
    }

    fn huge_logits<T: Float>() {
        let big = lit::<T>(1000.0);
        let z = SVector::<T, 3>::from_column_slice(&[big, -big, T::zero()]);
        // logsumexp(z) = 1000 exactly (to rounding), so the loss for class k is 1000 - z_k.
        for (k, want) in [0.0, 2000.0, 1000.0].into_iter().enumerate() {
            let mut t = SVector::<T, 3>::zeros();
            t[k] = T::one();
            let (v, g) = finite_loss("ce", &SoftmaxCrossEntropy, z, t);
            assert_eq!(v.to_f64(), want, "ce class {k}");
            let mut want_g = [1.0, 0.0, 0.0];
            want_g[k] -= 1.0;
            for (g, w) in g.iter().zip(want_g) {
                assert_eq!(g.to_f64(), w, "ce gradient class {k}");
            }
        }
        for (zi, ti, want) in [(1000.0, 1.0, 0.0), (1000.0, 0.0, 1000.0), (-1000.0, 0.0, 0.0), (-1000.0, 1.0, 1000.0)] {
            let z = SVector::<T, 1>::new(lit(zi));
            let t = SVector::<T, 1>::new(lit(ti));
            let (v, g) = finite_loss("bce", &BinaryCrossEntropyWithLogits, z, t);
            assert_eq!(v.to_f64(), want, "bce({zi}, {ti})");
            let want_g = if zi > 0.0 { 1.0 - ti } else { -ti };
            assert_eq!(g[0].to_f64(), want_g, "bce gradient ({zi}, {ti})");
        }
        let z = SVector::<T, 4>::from_column_slice(&[big, -big, big, -big]);
        let t = SVector::<T, 4>::from_column_slice(&[T::one(), T::zero(), T::zero(), T::one()]);
        let (v, _) = finite_loss("bce mixed", &BinaryCrossEntropyWithLogits, z, t);
        assert_eq!(v.to_f64(), 500.0);
        finite_loss("half squared", &HalfSquaredError, z, t);
        finite_loss("mse", &MeanSquaredError, z, t);
    }

    #[test]
    fn huge_logits_give_finite_exact_losses() {
        huge_logits::<f64>();
        huge_logits::<f32>();
    }

    /// A one-logit classifier is right when its logit's sign is the target's side of one half; several logits
    /// (multi-label) score the fraction right, not an argmax.
    #[test]
    fn binary_cross_entropy_accuracy_thresholds_each_logit() {
        let bce = BinaryCrossEntropyWithLogits;
        assert_eq!(Loss::<f64>::sample_accuracy(&bce, &[-0.3], &[0.0]), 1.0);
        assert_eq!(Loss::<f64>::sample_accuracy(&bce, &[-0.3], &[1.0]), 0.0);
        assert_eq!(Loss::<f64>::sample_accuracy(&bce, &[2.0], &[1.0]), 1.0);
        assert_eq!(Loss::<f64>::sample_accuracy(&bce, &[2.0, 1.0, -1.0, 3.0], &[1.0, 0.0, 0.0, 1.0]), 0.75);
    }
}
