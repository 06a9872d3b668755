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
//! use nn_core::optim::{Adam, WeightDecay};
//! use nn_core::prelude::*;
//!
//! network! {
//!     /// A linear model.
//!     pub struct Line<f64> { input: 1, out: Dense(1) }
//! }
//!
//! let mut net = Line::boxed_zeroed();
//! let mut grads = Line::boxed_zeroed();
//! let mut opt = WeightDecay::new(Adam::new(0.05), 1e-4);
//! let data = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]; // y = 2x + 1
//! for _ in 0..2000 {
//!     grads.fill(0.0);
//!     for &(x, y) in &data {
//!         net.backprop(&Vector::from([x]), &Vector::from([y]), &MeanSquaredError, &mut grads);
//!     }
//!     opt.step(&mut *net, &grads);
//! }
//! assert!((net.forward(&Vector::from([3.0]))[0] - 7.0).abs() < 1e-2);
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
pub use sgd::Sgd;
#[cfg(feature = "alloc")]
pub use weight_decay::WeightDecay;
pub use weight_decay::{add_l2_gradient, is_decayed, l2_penalty};

use crate::float::Float;
use crate::network::Parameters;

/// Updates parameters `P` from gradients of the same type.
pub trait Optimizer<T: Float, P: Parameters<T>> {
    /// One update step: `params` moves against `grads`.
    fn step(&mut self, params: &mut P, grads: &P);
}
