//! Adam: momentum on the gradients, RMSprop on their squares, both bias-corrected.

use super::Optimizer;
use super::state::with_states;
use crate::float::{Float, lit};
use crate::params::Parameters;
use alloc::boxed::Box;

/// Adam: a step along the bias-corrected average gradient, divided by the bias-corrected RMS gradient.
///
/// Course formula:
///
/// ```text
/// m_t = b1 m_{t-1} + (1 - b1) g_t          mhat_t = m_t / (1 - b1^t)
/// v_t = b2 v_{t-1} + (1 - b2) g_t^2        vhat_t = v_t / (1 - b2^t)
/// theta_t = theta_{t-1} - alpha mhat_t / (sqrt(vhat_t) + eps)
/// ```
///
/// with `eps` outside the square root. PyTorch's `torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999),
/// eps=1e-8)` computes the same thing (with `amsgrad=False`, `weight_decay=0`, its defaults), and the two
/// **match**. The update is evaluated in PyTorch's order, `theta -= (alpha / (1 - b1^t)) m_t / (sqrt(v_t) /
/// sqrt(1 - b2^t) + eps)`, with the bias corrections computed in `f64`, so results agree with PyTorch to
/// rounding. [`Adam::new`] takes the defaults `b1 = 0.9`, `b2 = 0.999`, `eps = 1e-8` (PyTorch's default `lr` is
/// `1e-3`).
///
/// The moments `m` and `v` are heap-allocated values of the network's type `P`, zero at the start, and `t`
/// counts the steps taken; a step allocates nothing.
#[derive(Clone, Debug)]
pub struct Adam<T, P> {
    /// The learning rate `alpha`.
    pub lr: T,
    /// The smoothing `b1` of the gradients.
    pub beta1: T,
    /// The smoothing `b2` of the squared gradients.
    pub beta2: T,
    /// Added to `sqrt(vhat_t)` in the denominator.
    pub eps: T,
    t: u64,
    m: Box<P>,
    v: Box<P>,
}

impl<T: Float, P: Parameters<T> + bytemuck::Zeroable> Adam<T, P> {
    /// Adam with learning rate `lr` and the defaults `b1 = 0.9`, `b2 = 0.999`, `eps = 1e-8`.
    pub fn new(lr: T) -> Self {
        Self::with(lr, lit(0.9), lit(0.999), lit(1e-8))
    }

    /// Adam with every coefficient given (PyTorch's `Adam(lr, betas=(beta1, beta2), eps)`).
    pub fn with(lr: T, beta1: T, beta2: T, eps: T) -> Self {
        Self { lr, beta1, beta2, eps, t: 0, m: crate::boxed_zeroed(), v: crate::boxed_zeroed() }
    }
}

impl<T: Float, P: Parameters<T>> Adam<T, P> {
    /// The number of steps taken, `t` (the exponent of the bias corrections).
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// The first moment `m` (uncorrected).
    pub fn first_moment(&self) -> &P {
        &self.m
    }

    /// The second moment `v` (uncorrected).
    pub fn second_moment(&self) -> &P {
        &self.v
    }

    /// Forgets both moments and the step count.
    pub fn reset(&mut self) {
        self.t = 0;
        self.m.fill(T::zero());
        self.v.fill(T::zero());
    }
}

impl<T: Float, P: Parameters<T>> Optimizer<T, P> for Adam<T, P> {
    fn learning_rate(&self) -> Option<T> {
        Some(self.lr)
    }

    fn set_learning_rate(&mut self, lr: T) {
        self.lr = lr;
    }

    fn step(&mut self, params: &mut P, grads: &P) {
        self.t += 1;
        let t = self.t as f64;
        let bias_correction1 = 1.0 - libm::pow(self.beta1.to_f64(), t);
        let bias_correction2 = 1.0 - libm::pow(self.beta2.to_f64(), t);
        let step_size = T::from_f64(self.lr.to_f64() / bias_correction1);
        let bias_correction2_sqrt = T::from_f64(libm::sqrt(bias_correction2));
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        let (one_minus_b1, one_minus_b2) = (T::one() - b1, T::one() - b2);
        with_states(params, grads, &mut self.m, &mut self.v, |w, g, m, v| {
            for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m).zip(v) {
                *m = b1 * *m + one_minus_b1 * g;
                *v = b2 * *v + one_minus_b2 * g * g;
                *w -= step_size * (*m / (v.sqrt() / bias_correction2_sqrt + eps));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Tiny, assert_steps, steps_to_fit, theta0, three_steps};
    use super::*;
    use crate::layer::Dense;

    #[test]
    fn first_three_steps_match_the_torch_reference() {
        // L = 1/2 |theta|^2, g = theta; alpha = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8. By hand for w_0:
        // 1: m = 0.1, v = 0.001, mhat = 1, vhat = 1, theta = 1 - 0.1 * 1 / (1 + 1e-8) = 0.900000001
        //    (every coordinate moves by 0.1 sign(g) on the first step)
        // 2: m = 0.09 + 0.09 = 0.18, mhat = 0.18 / 0.19 = 0.947368...
        //    v = 0.000999 + 0.00081 = 0.001809, vhat = 0.001809 / 0.001999 = 0.904952..., sqrt = 0.951290...
        //    theta = 0.9 - 0.1 * 0.947368... / 0.951290... = 0.800412...
        // Exact values from torch.optim.Adam's update written out in python floats:
        let expected = [
            [0.900000001, -1.9000000005, 0.40000000199999997],
            [0.8004122297123382, -1.8001664866210927, 0.3011874237306403],
            [0.701586274504415, -1.7006233928121137, 0.20487125573945103],
        ];
        let mut adam = Adam::new(0.1);
        assert_steps("adam", three_steps(&mut adam), expected, 1e-14);
        assert_eq!(adam.steps(), 3);
    }

    #[test]
    fn step_count_and_reset() {
        let mut adam = Adam::new(0.1);
        let (mut p, g): (Tiny, Tiny) = (theta0(), theta0());
        adam.step(&mut p, &g);
        adam.step(&mut p, &g);
        assert_eq!(adam.steps(), 2);
        assert!((adam.first_moment().weight[1] - -0.38).abs() < 1e-15); // 0.9 * -0.2 + 0.1 * -2
        assert!((adam.second_moment().bias[0] - 0.0004997500).abs() < 1e-15); // (0.999 + 1) * 0.001 * 0.25
        adam.reset();
        assert_eq!(adam.steps(), 0);
        assert_eq!(adam.first_moment().weight[1], 0.0);
        // After a reset the first step again moves every coordinate by lr.
        let before = p;
        adam.step(&mut p, &g);
        assert!((p.bias[0] - (before.bias[0] - 0.1)).abs() < 1e-8);
    }

    #[test]
    fn works_in_f32() {
        let mut adam = Adam::new(0.1f32);
        let mut p = Dense::<f32, 2, 1>::new(nalgebra::matrix![1.0, -2.0], nalgebra::vector![0.5]);
        let g = p;
        adam.step(&mut p, &g);
        assert!((p.weight[0] - 0.9).abs() < 1e-6 && (p.weight[1] + 1.9).abs() < 1e-6);
    }

    #[test]
    fn fits_least_squares() {
        steps_to_fit(&mut Adam::new(0.05), 400);
    }
}
