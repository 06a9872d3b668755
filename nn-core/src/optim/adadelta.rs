//! Adadelta: steps scaled by the ratio of running RMS of past updates to running RMS of gradients.

use super::Optimizer;
use super::state::with_states;
use crate::float::{Float, lit};
use crate::params::Parameters;
use alloc::boxed::Box;

/// Adadelta: the step's units come from the updates already taken, so the learning rate can stay at 1.
///
/// Course formula (`b1` smooths the squared updates, `b2` the squared gradients):
///
/// ```text
/// v_t      = b2 v_{t-1} + (1 - b2) g_t^2
/// dtheta_t = -alpha g_t sqrt(D_{t-1}) / sqrt(v_t)
/// D_t      = b1 D_{t-1} + (1 - b1) (dtheta_t / alpha)^2
/// ```
///
/// Implemented with **`eps` inside both square roots**: `dtheta_t = -alpha g_t sqrt(D_{t-1} + eps) /
/// sqrt(v_t + eps)`. It is needed in the numerator: `D_0 = 0`, so without it every step is zero and `D` stays
/// zero for ever (the optimizer is frozen); `sqrt(eps)` sets the size of the first steps. In the denominator it
/// keeps a coordinate whose gradient has been zero from computing `0 / 0`.
///
/// PyTorch: `torch.optim.Adadelta(params, lr=1.0, rho=0.9, eps=1e-6)` computes
/// `v = rho v + (1 - rho) g^2`, `delta = sqrt(u + eps) / sqrt(v + eps) g`, `u = rho u + (1 - rho) delta^2`,
/// `theta -= lr delta`. That is the course formula with `b1 = b2 = rho` (`dtheta / alpha = -delta`) and the
/// same `eps` placement, so they **match**; the course's separate `b1` and `b2` generalise PyTorch's single
/// `rho`. [`Adadelta::new`] takes PyTorch's defaults for everything but the learning rate, whose PyTorch
/// default is `1.0`.
///
/// **Near a minimum** the gradients vanish, `v_t` falls below `eps` and the step tends to
/// `alpha sqrt(D + eps) / sqrt(eps) g_t`: gradient descent with a step size of at least `alpha`. On a
/// deterministic (full-batch) problem whose largest curvature exceeds `2 / alpha` that limit is unstable, and
/// the loss stalls and drifts up instead of converging (PyTorch behaves the same); a smaller `alpha` or a
/// larger `rho` fixes it.
///
/// The averages `v` and `D` are heap-allocated values of the network's type `P`, zero at the start; a step
/// allocates nothing.
#[derive(Clone, Debug)]
pub struct Adadelta<T, P> {
    /// The learning rate `alpha` (PyTorch's `lr`, usually `1.0`).
    pub lr: T,
    /// The smoothing `b1` of the squared updates `D` (PyTorch's `rho`).
    pub beta1: T,
    /// The smoothing `b2` of the squared gradients `v` (PyTorch's `rho`).
    pub beta2: T,
    /// Added to `D_{t-1}` and to `v_t` inside the square roots.
    pub eps: T,
    square_avg: Box<P>,
    delta_avg: Box<P>,
}

impl<T: Float, P: Parameters<T> + bytemuck::Zeroable> Adadelta<T, P> {
    /// Adadelta with learning rate `lr` and PyTorch's defaults `b1 = b2 = 0.9`, `eps = 1e-6`.
    pub fn new(lr: T) -> Self {
        Self::with(lr, lit(0.9), lit(0.9), lit(1e-6))
    }

    /// Adadelta with every coefficient given: `beta1` smooths the squared updates `D`, `beta2` the squared
    /// gradients `v`. PyTorch's `Adadelta(lr, rho, eps)` is `with(lr, rho, rho, eps)`.
    pub fn with(lr: T, beta1: T, beta2: T, eps: T) -> Self {
        Self { lr, beta1, beta2, eps, square_avg: crate::boxed_zeroed(), delta_avg: crate::boxed_zeroed() }
    }
}

impl<T: Float, P: Parameters<T>> Adadelta<T, P> {
    /// The running average of the squared gradients `v`.
    pub fn square_avg(&self) -> &P {
        &self.square_avg
    }

    /// The running average of the squared updates `D` (in units of `alpha`).
    pub fn delta_avg(&self) -> &P {
        &self.delta_avg
    }

    /// Forgets both running averages.
    pub fn reset(&mut self) {
        self.square_avg.fill(T::zero());
        self.delta_avg.fill(T::zero());
    }
}

impl<T: Float, P: Parameters<T>> Optimizer<T, P> for Adadelta<T, P> {
    fn learning_rate(&self) -> Option<T> {
        Some(self.lr)
    }

    fn set_learning_rate(&mut self, lr: T) {
        self.lr = lr;
    }

    fn step(&mut self, params: &mut P, grads: &P) {
        let (lr, b1, b2, eps) = (self.lr, self.beta1, self.beta2, self.eps);
        let (one_minus_b1, one_minus_b2) = (T::one() - b1, T::one() - b2);
        with_states(params, grads, &mut self.square_avg, &mut self.delta_avg, |w, g, v, d| {
            for (((w, &g), v), d) in w.iter_mut().zip(g).zip(v).zip(d) {
                *v = b2 * *v + one_minus_b2 * g * g;
                // delta = -dtheta / alpha, computed without dividing by alpha.
                let delta = (*d + eps).sqrt() / (*v + eps).sqrt() * g;
                *d = b1 * *d + one_minus_b1 * delta * delta;
                *w -= lr * delta;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Tiny, assert_steps, steps_to_fit, three_steps};
    use super::*;

    #[test]
    fn first_three_steps_match_the_torch_reference() {
        // L = 1/2 |theta|^2, g = theta; PyTorch defaults lr = 1, rho = 0.9, eps = 1e-6. By hand for w_0:
        // 1: v = 0.1,  delta = sqrt(1e-6) / sqrt(0.1 + 1e-6) * 1 = 0.0031622...,  theta = 0.9968377...
        //    u = 0.1 * delta^2 = 9.9999e-7
        // 2: v = 0.09 + 0.1 * 0.99368...= 0.189368..., delta = sqrt(1.99999e-6) / sqrt(0.189369...) * 0.99683...
        //    = 0.0032395..., theta = 0.9935981...
        // Exact values from torch.optim.Adadelta's update written out in python floats:
        let expected = [
            [0.9968377381511013, -1.9968377262926713, 0.4968377855834875],
            [0.9935981984076517, -1.9935957350142592, 0.49360319207938774],
            [0.9903090828008376, -1.990300761714474, 0.4903258670648537],
        ];
        assert_steps("adadelta", three_steps(&mut Adadelta::new(1.0)), expected, 1e-14);
    }

    #[test]
    fn course_form_with_separate_smoothings() {
        // Course formula, alpha = 0.5, b1 = 0.5, b2 = 0.9, eps = 1e-2, written out in python floats:
        // v = 0.9 v + 0.1 g^2; dth = -0.5 g sqrt(D + 0.01) / sqrt(v + 0.01); D = 0.5 D + 0.5 (dth / 0.5)^2.
        // Step 1 for w_0 by hand: v = 0.1, dth = -0.5 * 0.1 / sqrt(0.11) = -0.150755..., theta = 0.849244...
        let expected = [
            [0.8492443277111181, -1.843826238111394, 0.3663693790437878],
            [0.6082240647924697, -1.5785570940515388, 0.18360074719574015],
            [0.34103159808024136, -1.2282765332089616, 0.051478217692887906],
        ];
        assert_steps("adadelta b1 != b2", three_steps(&mut Adadelta::with(0.5, 0.5, 0.9, 1e-2)), expected, 1e-14);
    }

    #[test]
    fn without_eps_it_is_frozen() {
        let mut opt = Adadelta::with(1.0, 0.9, 0.9, 0.0);
        let steps = three_steps(&mut opt);
        assert_eq!(steps[2], [1.0, -2.0, 0.5]);
        let d: &Tiny = opt.delta_avg();
        assert_eq!(d.weight[0], 0.0);
    }

    #[test]
    fn fits_least_squares() {
        // The task's largest curvature is about 3.96, so the gradient-descent limit near the minimum needs
        // lr < 2 / 3.96 (see the type's documentation); with lr = 1 the loss bottoms out near 5e-4 and drifts up.
        steps_to_fit(&mut Adadelta::new(0.5), 2000);
    }
}
