//! Plain stochastic gradient descent.

use super::Optimizer;
use crate::float::Float;
use crate::params::Parameters;

/// Plain gradient descent, `w <- w - lr * dL/dw` (PyTorch's `SGD` without momentum or decay).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd<T> {
    /// The learning rate.
    pub lr: T,
}

impl<T: Float> Sgd<T> {
    /// SGD with learning rate `lr`.
    pub const fn new(lr: T) -> Self {
        Self { lr }
    }
}

impl<T: Float, P: Parameters<T>> Optimizer<T, P> for Sgd<T> {
    fn learning_rate(&self) -> Option<T> {
        Some(self.lr)
    }

    fn set_learning_rate(&mut self, lr: T) {
        self.lr = lr;
    }

    fn step(&mut self, params: &mut P, grads: &P) {
        let lr = self.lr;
        params.zip_mut(grads, |_, w, g| {
            for (w, &g) in w.iter_mut().zip(g) {
                *w -= lr * g;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Dense;
    use crate::optim::testing::{assert_steps, steps_to_fit, three_steps};
    use nalgebra::{matrix, vector};

    #[test]
    fn steps_against_the_gradient() {
        let mut l = Dense::<f64, 2, 1>::new(matrix![1.0, 2.0], vector![0.5]);
        let g = Dense::<f64, 2, 1>::new(matrix![0.5, -1.0], vector![2.0]);
        Sgd::new(0.1).step(&mut l, &g);
        assert_eq!(l.weight, matrix![0.95, 2.1]);
        assert_eq!(l.bias, vector![0.3]);
    }

    #[test]
    fn first_three_steps_shrink_by_one_minus_lr() {
        // On L = 1/2 |θ|^2 the gradient is θ, so each step multiplies θ by (1 - lr) = 0.9:
        // θ_0 = (1, -2, 0.5) -> (0.9, -1.8, 0.45) -> (0.81, -1.62, 0.405) -> (0.729, -1.458, 0.3645).
        let steps = three_steps(&mut Sgd::new(0.1));
        assert_steps("sgd", steps, [[0.9, -1.8, 0.45], [0.81, -1.62, 0.405], [0.729, -1.458, 0.3645]], 1e-15);
    }

    #[test]
    fn fits_least_squares() {
        let steps = steps_to_fit(&mut Sgd::new(0.2), 2000);
        assert!(steps > 10, "took {steps} steps");
    }
}
