//! Adagrad: per-parameter learning rates shrinking with the accumulated squared gradients.

use super::Optimizer;
use super::state::with_state;
use crate::float::{Float, lit};
use crate::params::Parameters;
use alloc::boxed::Box;

/// Adagrad: each parameter's step is divided by the root of the sum of all its past squared gradients.
///
/// Course formula: `G_t = G_{t-1} + g_t^2`, `theta_t = theta_{t-1} - alpha g_t / sqrt(G_t)`.
///
/// Implemented as `theta_t = theta_{t-1} - alpha g_t / (sqrt(G_t) + eps)`: **`eps` is added outside the square
/// root**, to the denominator. The course formula has no `eps`; without it a coordinate whose gradient has been
/// exactly zero so far (a dead ReLU unit, an unused input) computes `0 / 0 = NaN`. With `eps` it stays put.
///
/// PyTorch: `torch.optim.Adagrad(params, lr, eps=1e-10)` computes `state_sum += g^2`,
/// `theta -= lr g / (sqrt(state_sum) + eps)`, the same formula with the same `eps` placement, so the two
/// **match** (for PyTorch's defaults `lr_decay=0`, `initial_accumulator_value=0`, `weight_decay=0`, which are
/// the only ones supported here). PyTorch's default learning rate is `0.01`.
///
/// The accumulator `G` is a heap-allocated value of the network's type `P`, zero at the start; a step allocates
/// nothing.
#[derive(Clone, Debug)]
pub struct Adagrad<T, P> {
    /// The learning rate `alpha`.
    pub lr: T,
    /// Added to `sqrt(G_t)` in the denominator.
    pub eps: T,
    sum: Box<P>,
}

impl<T: Float, P: Parameters<T> + bytemuck::Zeroable> Adagrad<T, P> {
    /// Adagrad with learning rate `lr` and PyTorch's `eps = 1e-10`.
    pub fn new(lr: T) -> Self {
        Self::with(lr, lit(1e-10))
    }

    /// Adagrad with every coefficient given.
    pub fn with(lr: T, eps: T) -> Self {
        Self { lr, eps, sum: crate::boxed_zeroed() }
    }
}

impl<T: Float, P: Parameters<T>> Adagrad<T, P> {
    /// The accumulated squared gradients `G`.
    pub fn sum_of_squares(&self) -> &P {
        &self.sum
    }

    /// Forgets the accumulated squared gradients.
    pub fn reset(&mut self) {
        self.sum.fill(T::zero());
    }
}

impl<T: Float, P: Parameters<T>> Optimizer<T, P> for Adagrad<T, P> {
    fn learning_rate(&self) -> Option<T> {
        Some(self.lr)
    }

    fn set_learning_rate(&mut self, lr: T) {
        self.lr = lr;
    }

    fn step(&mut self, params: &mut P, grads: &P) {
        let (lr, eps) = (self.lr, self.eps);
        with_state(params, grads, &mut self.sum, |w, g, s| {
            for ((w, &g), s) in w.iter_mut().zip(g).zip(s) {
                *s += g * g;
                *w -= lr * (g / (s.sqrt() + eps));
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
        // L = 1/2 |theta|^2, g = theta, alpha = 0.1, eps = 1e-10. By hand for w_0 (theta_0 = 1), eps ignored:
        // 1: G = 1,                   theta = 1 - 0.1 * 1 / 1 = 0.9   (every coordinate moves by 0.1 sign(g))
        // 2: G = 1 + 0.81 = 1.81,     theta = 0.9 - 0.1 * 0.9 / sqrt(1.81) = 0.9 - 0.066896... = 0.833103...
        // 3: G = 1.81 + 0.694061...,  theta = 0.833103... - 0.1 * 0.833103... / sqrt(2.504061...) = 0.780456...
        // Exact values from torch.optim.Adagrad's update written out in python floats (eps included):
        let expected = [
            [0.90000000001, -1.900000000005, 0.40000000002],
            [0.8331035268523168, -1.831125053815932, 0.33753049527240914],
            [0.7804561813655163, -1.7758215150175451, 0.2908991768122474],
        ];
        assert_steps("adagrad", three_steps(&mut Adagrad::new(0.1)), expected, 1e-14);
    }

    #[test]
    fn a_gradient_that_was_always_zero_leaves_its_parameter_alone() {
        let mut opt = Adagrad::new(0.1);
        let mut p: Tiny = bytemuck::Zeroable::zeroed();
        p.bias[0] = 3.0;
        let mut g: Tiny = bytemuck::Zeroable::zeroed();
        g.weight[0] = 1.0;
        opt.step(&mut p, &g);
        assert_eq!(p.bias[0], 3.0);
        assert_eq!(p.weight[1], 0.0);
        assert!((p.weight[0] + 0.1).abs() < 1e-9);
        opt.reset();
        assert_eq!(opt.sum_of_squares().weight[0], 0.0);
    }

    #[test]
    fn fits_least_squares() {
        steps_to_fit(&mut Adagrad::new(0.5), 200);
    }
}
