//! Optimizers: update a network's parameters from its accumulated gradients.

mod sgd;

pub use sgd::Sgd;

use crate::float::Float;
use crate::network::Parameters;

/// Updates parameters `P` from gradients of the same type.
pub trait Optimizer<T: Float, P: Parameters<T>> {
    /// One update step: `params` moves against `grads`.
    fn step(&mut self, params: &mut P, grads: &P);
}
