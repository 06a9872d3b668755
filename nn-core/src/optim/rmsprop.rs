//! RMSprop: steps divided by a running root-mean-square of the gradients.

use super::Optimizer;
use super::state::with_state;
use crate::float::{Float, lit};
use crate::params::Parameters;
use alloc::boxed::Box;

/// RMSprop: each parameter's step is divided by an exponential average of its recent squared gradients.
///
/// Course formula: `v_t = beta v_{t-1} + (1 - beta) g_t^2`, `theta_t = theta_{t-1} - alpha g_t / sqrt(v_t)`
/// (the course calls the smoothing `b2`).
///
/// Implemented as `theta_t = theta_{t-1} - alpha g_t / (sqrt(v_t) + eps)`: **`eps` is added outside the square
/// root**, so a coordinate whose gradient has been zero so far does not compute `0 / 0`.
///
/// PyTorch: `torch.optim.RMSprop(params, lr=0.01, alpha=0.99, eps=1e-8)` computes
/// `square_avg = alpha square_avg + (1 - alpha) g^2`, `theta -= lr g / (sqrt(square_avg) + eps)`: PyTorch's
/// `alpha` is the smoothing `beta` here (not a learning rate), and with `momentum=0`, `centered=False` (its
/// defaults, the only ones supported here) the two **match**. [`RmsProp::new`] takes PyTorch's defaults.
///
/// The average `v` is a heap-allocated value of the network's type `P`, zero at the start; a step allocates
/// nothing.
#[derive(Clone, Debug)]
pub struct RmsProp<T, P> {
    /// The learning rate `alpha` (PyTorch's `lr`).
    pub lr: T,
    /// The smoothing of the squared gradients: the course's `b2`, PyTorch's `alpha`.
    pub beta: T,
    /// Added to `sqrt(v_t)` in the denominator.
    pub eps: T,
    square_avg: Box<P>,
}

impl<T: Float, P: Parameters<T> + bytemuck::Zeroable> RmsProp<T, P> {
    /// RMSprop with learning rate `lr` and PyTorch's defaults, `beta = 0.99`, `eps = 1e-8` (PyTorch's default
    /// `lr` is `0.01`).
    pub fn new(lr: T) -> Self {
        Self::with(lr, lit(0.99), lit(1e-8))
    }

    /// RMSprop with every coefficient given.
    pub fn with(lr: T, beta: T, eps: T) -> Self {
        Self { lr, beta, eps, square_avg: crate::boxed_zeroed() }
    }
}

impl<T: Float, P: Parameters<T>> RmsProp<T, P> {
    /// The running average of the squared gradients `v`.
    pub fn square_avg(&self) -> &P {
        &self.square_avg
    }

    /// Forgets the running average.
    pub fn reset(&mut self) {
        self.square_avg.fill(T::zero());
    }
}

impl<T: Float, P: Parameters<T>> Optimizer<T, P> for RmsProp<T, P> {
    fn learning_rate(&self) -> Option<T> {
        Some(self.lr)
    }

    fn set_learning_rate(&mut self, lr: T) {
        self.lr = lr;
    }

    fn step(&mut self, params: &mut P, grads: &P) {
        let (lr, beta, eps) = (self.lr, self.beta, self.eps);
        let one_minus_beta = T::one() - beta;
        with_state(params, grads, &mut self.square_avg, |w, g, v| {
            for ((w, &g), v) in w.iter_mut().zip(g).zip(v) {
                *v = beta * *v + one_minus_beta * g * g;
                *w -= lr * (g / (v.sqrt() + eps));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Tiny, assert_steps, steps_to_fit, theta0, three_steps};
    use super::*;

    #[test]
    fn first_three_steps_match_the_torch_reference() {
        // L = 1/2 |theta|^2, g = theta; PyTorch defaults lr = 0.01, alpha = 0.99, eps = 1e-8. By hand for w_0:
        // 1: v = 0.01 * 1 = 0.01,                 theta = 1 - 0.01 * 1 / 0.1 = 0.9 (each coordinate moves 0.1)
        // 2: v = 0.0099 + 0.01 * 0.81 = 0.018,    theta = 0.9 - 0.01 * 0.9 / sqrt(0.018) = 0.832917...
        // 3: v = 0.01782 + 0.01 * 0.69375... = 0.0247575..., theta = 0.832917... - 0.01 * 0.832917... / 0.157345...
        // Exact values from torch.optim.RMSprop's update written out in python floats (eps included):
        let expected = [
            [0.9000000099999991, -1.9000000049999999, 0.400000019999996],
            [0.8329179752650593, -1.8309433328172848, 0.33733919191401895],
            [0.7799822819823541, -1.775349450099218, 0.290433242384113],
        ];
        assert_steps("rmsprop", three_steps(&mut RmsProp::new(0.01)), expected, 1e-14);
    }

    #[test]
    fn reset_forgets_the_average() {
        let mut opt = RmsProp::with(0.01, 0.5, 0.0);
        let (mut p, g): (Tiny, Tiny) = (theta0(), theta0());
        opt.step(&mut p, &g);
        assert_eq!(opt.square_avg().weight[1], 2.0); // 0.5 * (-2)^2
        opt.reset();
        assert_eq!(opt.square_avg().weight[1], 0.0);
    }

    #[test]
    fn fits_least_squares() {
        steps_to_fit(&mut RmsProp::new(0.01), 1000);
    }
}
