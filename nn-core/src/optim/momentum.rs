//! Gradient descent with momentum, in the course's averaged form and in PyTorch's summed form.

use super::Optimizer;
use super::state::with_state;
use crate::float::Float;
use crate::params::Parameters;
use alloc::boxed::Box;

/// How [`Momentum`] accumulates gradients into its velocity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MomentumForm {
    /// The course's exponential average, `m_t = gamma m_{t-1} + (1 - gamma) g_t`.
    Average,
    /// PyTorch's undamped sum, `b_t = mu b_{t-1} + g_t` (`torch.optim.SGD(momentum=mu)`).
    PyTorch,
}

/// Gradient descent with momentum: the step follows a running accumulation of the gradients.
///
/// With `g_t` the gradient and `alpha` the learning rate:
///
/// - **Course form** ([`Momentum::new`], [`MomentumForm::Average`]): `m_t = gamma m_{t-1} + (1 - gamma) g_t`,
///   `theta_t = theta_{t-1} - alpha m_t`. The velocity is an exponential average of the gradients, so it has
///   the gradients' scale.
/// - **PyTorch form** ([`Momentum::pytorch`], [`MomentumForm::PyTorch`]): `b_t = mu b_{t-1} + g_t`,
///   `theta_t = theta_{t-1} - lr b_t`, exactly `torch.optim.SGD(params, lr, momentum=mu)` (no dampening, no
///   Nesterov). The velocity is an undamped sum, up to `1 / (1 - mu)` times the gradients' scale.
///
/// **The two forms differ.** From a zero velocity `m_t = (1 - gamma) b_t` at every step, so the course form with
/// learning rate `alpha` follows exactly the trajectory of the PyTorch form with `lr = alpha (1 - gamma)` (10
/// times smaller for `gamma = 0.9`). PyTorch's `dampening=gamma` does *not* reproduce the course form: PyTorch
/// starts the buffer at the undamped first gradient, `b_1 = g_1`, where the course has `m_1 = (1 - gamma) g_1`.
/// To run PyTorch code with the same numbers, use [`Momentum::pytorch`] with the same `lr` and `momentum`.
///
/// The velocity is a heap-allocated value of the network's type `P`, zero at the start; a step allocates
/// nothing.
#[derive(Clone, Debug)]
pub struct Momentum<T, P> {
    /// The learning rate `alpha` (PyTorch's `lr`).
    pub lr: T,
    /// The momentum coefficient: the course's `gamma`, PyTorch's `momentum`.
    pub gamma: T,
    /// Average (course) or sum (PyTorch).
    pub form: MomentumForm,
    velocity: Box<P>,
}

impl<T: Float, P: Parameters<T> + bytemuck::Zeroable> Momentum<T, P> {
    /// The course form, `m_t = gamma m_{t-1} + (1 - gamma) g_t`, `theta -= lr m_t`; `gamma = 0.9` is usual.
    pub fn new(lr: T, gamma: T) -> Self {
        Self::with_form(lr, gamma, MomentumForm::Average)
    }

    /// PyTorch's `SGD(params, lr, momentum)`: `b_t = momentum b_{t-1} + g_t`, `theta -= lr b_t`.
    pub fn pytorch(lr: T, momentum: T) -> Self {
        Self::with_form(lr, momentum, MomentumForm::PyTorch)
    }

    /// Either form, explicitly.
    pub fn with_form(lr: T, gamma: T, form: MomentumForm) -> Self {
        Self { lr, gamma, form, velocity: crate::boxed_zeroed() }
    }
}

impl<T: Float, P: Parameters<T>> Momentum<T, P> {
    /// The current velocity (`m` or `b`), tensor by tensor like the parameters.
    pub fn velocity(&self) -> &P {
        &self.velocity
    }

    /// Forgets the accumulated velocity: the next step behaves like the first.
    pub fn reset(&mut self) {
        self.velocity.fill(T::zero());
    }
}

impl<T: Float, P: Parameters<T>> Optimizer<T, P> for Momentum<T, P> {
    fn learning_rate(&self) -> Option<T> {
        Some(self.lr)
    }

    fn set_learning_rate(&mut self, lr: T) {
        self.lr = lr;
    }

    fn step(&mut self, params: &mut P, grads: &P) {
        let (lr, gamma) = (self.lr, self.gamma);
        let gain = match self.form {
            MomentumForm::Average => T::one() - gamma,
            MomentumForm::PyTorch => T::one(),
        };
        with_state(params, grads, &mut self.velocity, |w, g, m| {
            for ((w, &g), m) in w.iter_mut().zip(g).zip(m) {
                *m = gamma * *m + gain * g;
                *w -= lr * *m;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Tiny, assert_steps, steps_to_fit, theta0, three_steps};
    use super::*;

    #[test]
    fn course_form_first_three_steps_by_hand() {
        // L = 1/2 |theta|^2, so g = theta; every coordinate is theta_0 times a factor. alpha = 0.1, gamma = 0.9.
        // 1: m = 0.1 theta0;                       theta = theta0 - 0.01 theta0 = 0.99 theta0
        // 2: m = 0.9 * 0.1 + 0.1 * 0.99 = 0.189;   theta = 0.99 - 0.0189 = 0.9711
        // 3: m = 0.9 * 0.189 + 0.1 * 0.9711 = 0.26721; theta = 0.9711 - 0.026721 = 0.944379
        let steps = three_steps(&mut Momentum::new(0.1, 0.9));
        let t0 = [1.0, -2.0, 0.5];
        let expected = [0.99, 0.9711, 0.944379].map(|f| t0.map(|x| f * x));
        assert_steps("momentum", steps, expected, 1e-15);
    }

    #[test]
    fn pytorch_form_matches_torch_sgd_reference() {
        // torch.optim.SGD(lr=0.1, momentum=0.9), written out in python floats:
        // buf = g (first step), then buf = 0.9 buf + g; theta -= 0.1 buf. With g = theta:
        // 1: buf = 1,     theta = 0.9;   2: buf = 0.9 + 0.9 = 1.8,  theta = 0.9 - 0.18 = 0.72
        // 3: buf = 1.62 + 0.72 = 2.34,   theta = 0.72 - 0.234 = 0.486   (times theta0)
        let steps = three_steps(&mut Momentum::pytorch(0.1, 0.9));
        let expected = [[0.9, -1.8, 0.45], [0.72, -1.44, 0.36], [0.486, -0.972, 0.243]];
        assert_steps("sgd momentum", steps, expected, 1e-15);
    }

    #[test]
    fn course_form_is_pytorch_form_with_the_learning_rate_scaled_by_one_minus_gamma() {
        let course = three_steps(&mut Momentum::new(0.1, 0.9));
        let torch = three_steps(&mut Momentum::pytorch(0.1 * (1.0 - 0.9), 0.9));
        assert_steps("course vs torch lr(1-gamma)", course, torch, 1e-15);
        // torch.optim.SGD(lr=0.1, momentum=0.9, dampening=0.9) is different (undamped first step):
        // python reference 0.9, 0.801, 0.70389 (times theta0); the course gives 0.99 at step 1.
        assert!((course[0][0] - 0.9).abs() > 0.08);
    }

    #[test]
    fn reset_forgets_the_velocity() {
        let mut opt = Momentum::new(0.1, 0.9);
        let (mut p, g): (Tiny, Tiny) = (theta0(), theta0());
        opt.step(&mut p, &g);
        assert!((opt.velocity().bias[0] - 0.05).abs() < 1e-16); // (1 - 0.9) * 0.5
        opt.reset();
        assert_eq!(opt.velocity().bias[0], 0.0);
    }

    #[test]
    fn fits_least_squares() {
        let course = steps_to_fit(&mut Momentum::new(0.3, 0.9), 200);
        let torch = steps_to_fit(&mut Momentum::pytorch(0.03, 0.9), 200);
        assert_eq!(course, torch);
    }
}
