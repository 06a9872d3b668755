//! Optimizers: update a network's parameters from its accumulated gradients.
//!
//! Every optimizer implements [`Optimizer`]; those with per-parameter state ([`Momentum`], [`Adagrad`],
//! [`Adadelta`], [`RmsProp`], [`Adam`]) keep it as heap-allocated values of the network's own type, built once
//! (so they need the `alloc` feature) and walked tensor by tensor on each step without allocating. Each type's
//! documentation gives the course formula, the PyTorch equivalent and whether the two agree; only momentum
//! differs, and [`Momentum::pytorch`] reproduces PyTorch's numbers. [`WeightDecay`], [`l2_penalty`] and
//! [`add_l2_gradient`] add the course's L2 regularisation of the weights.
//!
//! ```
//! use nn_core::layer::Dense;
//! use nn_core::loss::{Loss, MeanSquaredError};
//! use nn_core::nalgebra::{matrix, vector};
//! use nn_core::optim::{Adam, Optimizer, WeightDecay};
//! use nn_core::{Parameters, Vector};
//!
//! let mut line = Dense::<f64, 1, 1>::new(matrix![0.0], vector![0.0]);
//! let mut grads = line;
//! let mut opt = WeightDecay::new(Adam::new(0.05), 1e-4); // Adam on R = L + 1e-4 / 2 |W|^2
//! let data = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]; // y = 2x + 1
//! for _ in 0..2000 {
//!     grads.fill(0.0);
//!     for &(x, y) in &data {
//!         let x = Vector::from([x]);
//!         let dy = MeanSquaredError.gradient(&line.forward(&x), &Vector::from([y]));
//!         line.backward(&x, &dy, &mut grads);
//!     }
//!     opt.step(&mut line, &grads);
//! }
//! assert!((line.forward(&Vector::from([3.0]))[0] - 7.0).abs() < 1e-2);
//! ```

#[cfg(feature = "alloc")]
mod adadelta;
#[cfg(feature = "alloc")]
mod adagrad;
#[cfg(feature = "alloc")]
mod adam;
#[cfg(feature = "alloc")]
mod momentum;
#[cfg(feature = "alloc")]
mod rmsprop;
mod schedule;
mod sgd;
#[cfg(feature = "alloc")]
mod state;
#[cfg(test)]
mod testing;
mod weight_decay;

#[cfg(feature = "alloc")]
pub use adadelta::Adadelta;
#[cfg(feature = "alloc")]
pub use adagrad::Adagrad;
#[cfg(feature = "alloc")]
pub use adam::Adam;
#[cfg(feature = "alloc")]
pub use momentum::{Momentum, MomentumForm};
#[cfg(feature = "alloc")]
pub use rmsprop::RmsProp;
pub use schedule::{Schedule, warmup_factor};
pub use sgd::Sgd;
#[cfg(feature = "alloc")]
pub use weight_decay::WeightDecay;
pub use weight_decay::{add_l2_gradient, is_decayed, l2_penalty};

use crate::float::Float;
use crate::params::Parameters;

/// Updates parameters `P` from gradients of the same type.
pub trait Optimizer<T: Float, P: Parameters<T>> {
    /// One update step: `params` moves against `grads`.
    fn step(&mut self, params: &mut P, grads: &P);

    /// The learning rate, for optimizers that have one (every optimizer of this module does).
    fn learning_rate(&self) -> Option<T> {
        None
    }

    /// Sets the learning rate (what a [`Schedule`] does before every update); nothing for an optimizer without.
    fn set_learning_rate(&mut self, lr: T) {
        let _ = lr;
    }
}

/// Rescales `grads` in place so that their Euclidean norm over every tensor is at most `max_norm`, and returns
/// the norm before clipping (PyTorch's `clip_grad_norm_`, including its `1e-6` in the scale
/// `max_norm / (norm + 1e-6)`). Gradients already within the bound are left untouched.
///
/// ```
/// use nn_core::layer::Dense;
/// use nn_core::nalgebra::{matrix, vector};
/// use nn_core::optim::clip_grad_norm;
///
/// let mut g = Dense::<f64, 1, 2>::new(matrix![3.0; 0.0], vector![0.0, 4.0]); // norm 5
/// assert_eq!(clip_grad_norm(&mut g, 1.0), 5.0);
/// assert!((g.weight[0] - 0.6).abs() < 1e-6 && (g.bias[1] - 0.8).abs() < 1e-6);
/// ```
pub fn clip_grad_norm<T: Float, P: Parameters<T>>(grads: &mut P, max_norm: T) -> T {
    let mut sum = T::zero();
    grads.visit(|t| sum = t.data.iter().fold(sum, |acc, &v| acc + v * v));
    let norm = sum.sqrt();
    if norm > max_norm {
        let scale = max_norm / (norm + T::from_f64(1e-6));
        grads.visit_mut(|t| t.data.iter_mut().for_each(|v| *v *= scale));
    }
    norm
}
