//! Plain stochastic gradient descent.

use super::Optimizer;
use crate::float::Float;
use crate::network::Parameters;

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
    use nalgebra::{matrix, vector};

    #[test]
    fn steps_against_the_gradient() {
        let mut l = Dense::<f64, 2, 1>::new(matrix![1.0, 2.0], vector![0.5]);
        let g = Dense::<f64, 2, 1>::new(matrix![0.5, -1.0], vector![2.0]);
        Sgd::new(0.1).step(&mut l, &g);
        assert_eq!(l.weight, matrix![0.95, 2.1]);
        assert_eq!(l.bias, vector![0.3]);
    }
}
