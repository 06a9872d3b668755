//! Statically shaped neural networks on nalgebra: the runtime of the [`network!`] macro.
//!
//! A model is declared once as a list of layers. The macro works out every layer's shape, refuses a mismatch
//! at compile time with an error at the offending layer, and generates a struct whose parameters are
//! nalgebra fixed-size matrices, with `forward`, a training forward and `backward`. The numerics (layers,
//! activations, losses, optimizers, initialisation, gradient checking) live in this crate as ordinary generic
//! Rust that the generated code calls.
//!
//! # Quick start
//!
//! ```
//! use nn_core::prelude::*;
//!
//! network! {
//!     /// Learns XOR.
//!     pub struct Xor<f64> {
//!         input: 2,
//!         hidden: Dense(4), Tanh,
//!         out: Dense(1), Sigmoid,
//!     }
//! }
//!
//! let mut rng = seeded_rng(3);
//! let mut net = Xor::boxed_init(&mut rng);
//! let mut grads = Xor::boxed_zeroed();
//! let mut sgd = Sgd::new(0.5);
//! let data = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)];
//! for _ in 0..2000 {
//!     grads.fill(0.0);
//!     for (x, t) in &data {
//!         net.backprop(&Vector::from(*x), &Vector::from([*t]), &HalfSquaredError, &mut grads, &mut rng);
//!     }
//!     sgd.step(&mut *net, &grads);
//! }
//! for (x, t) in &data {
//!     let y = net.forward(&Vector::from(*x))[0];
//!     assert_eq!(y > 0.5, *t > 0.5);
//! }
//! ```
//!
//! # Crate features
//!
//! - `std` (default): implies `alloc`; elementary functions from the standard library.
//! - `alloc`: heap construction ([`Boxed::boxed_zeroed`], [`Boxed::boxed_init`]) that keeps large models off
//!   the stack.
//! - `libm`: elementary functions from the pure-Rust `libm` crate even with `std` (bit-identical results on
//!   every platform). Without `std` they always come from `libm`, so inference builds with default features off.
//!
//! # Layout
//!
//! Vectors are nalgebra `SVector`s; a dense weight is an `SMatrix<T, OUT, IN>` stored column-major. Parameter
//! names follow PyTorch (`fc1.weight`, `fc1.bias`).
#![no_std]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

extern crate self as nn_core;

pub mod activation;
#[cfg(feature = "alloc")]
pub mod augment;
mod buffer;
pub mod classic;
#[cfg(feature = "std")]
pub mod data;
pub mod fast;
mod float;
#[cfg(feature = "alloc")]
pub mod gan;
pub mod gradcheck;
pub mod init;
#[cfg(feature = "alloc")]
pub mod io;
pub mod kernel;
pub mod layer;
pub mod loss;
mod message;
mod network;
pub mod optim;
pub mod params;
pub mod quant;
mod scratch;
#[cfg(feature = "alloc")]
pub mod seq2seq;
mod sink;
#[cfg(feature = "alloc")]
pub mod train;
#[cfg(feature = "alloc")]
pub mod vae;

pub use buffer::{Buffer, LengthError};
pub use float::Float;
pub use init::Init;
pub use network::{BatchNetwork, Chain, ChainCache, Network, Workspace};
pub use nn_macros::network;
pub use params::{Parameters, Tensor, TensorMut, TensorName};
pub use scratch::with_scratch;

/// The linear-algebra crate the parameters are stored in.
pub use nalgebra;
/// The random-number crate the initialisers draw from (seed with `rand::SeedableRng`).
pub use rand;
/// The distributions the initialisers, noisy units and generative examples draw from.
pub use rand_distr;

#[cfg(feature = "alloc")]
pub use scratch::boxed_zeroed;

/// Random initialisation of every parameter, layer by layer (He for ReLU-like layers, Xavier otherwise, unless
/// the declaration says `init = ...`).
pub trait Initialize {
    /// Re-initialises every parameter from `rng`.
    fn init<R: rand::Rng + ?Sized>(&mut self, rng: &mut R);
}

impl<A: Initialize, B: Initialize> Initialize for Chain<A, B> {
    fn init<R: rand::Rng + ?Sized>(&mut self, rng: &mut R) {
        self.first.init(rng);
        self.second.init(rng);
    }
}

/// Construction directly on the heap, so a network of any size (a 784-128-10 MLP is 800 kB in `f64`) never
/// passes through the stack.
#[cfg(feature = "alloc")]
pub trait Boxed: Network + bytemuck::Zeroable {
    /// All parameters zero: also the starting point for gradients and optimizer state.
    fn boxed_zeroed() -> alloc::boxed::Box<Self> {
        bytemuck::zeroed_box()
    }

    /// Randomly initialised parameters (see [`Initialize`]).
    fn boxed_init<R: rand::Rng + ?Sized>(rng: &mut R) -> alloc::boxed::Box<Self>
    where
        Self: Initialize,
    {
        let mut net = Self::boxed_zeroed();
        net.init(rng);
        net
    }

    /// A copy on the heap, made without the stack (`Box::new(net.clone())` builds the copy on the stack first,
    /// which a large model overflows).
    fn boxed_clone(&self) -> alloc::boxed::Box<Self> {
        let mut copy = Self::boxed_zeroed();
        copy.copy_from(self);
        copy
    }
}

#[cfg(feature = "alloc")]
impl<N: Network + bytemuck::Zeroable> Boxed for N {}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The seedable, portable generator used for initialisation, shuffling and dropout: ChaCha with 8 rounds, which
/// gives the same stream on every platform, so the same seed gives the same weights bit for bit.
pub type SeededRng = rand::rngs::ChaCha8Rng;

/// A [`SeededRng`] from a 64-bit seed.
pub fn seeded_rng(seed: u64) -> SeededRng {
    <SeededRng as rand::SeedableRng>::seed_from_u64(seed)
}

/// The index of the largest value (the first one on ties; 0 for an empty slice): the predicted class of a
/// classifier's output.
pub fn argmax<T: Float>(v: &[T]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Fixed-size column vector, re-exported for declarations and call sites.
pub type Vector<T, const N: usize> = nalgebra::SVector<T, N>;

/// Everything a model definition and a training loop use.
pub mod prelude {
    #[cfg(feature = "alloc")]
    pub use crate::Boxed;
    pub use crate::activation::{
        Activation, ActivationLayer, Elu, Gelu, HardSigmoid, HardTanh, Identity, LeakyRelu, PiecewiseLinear, Relu,
        Relu6, Sigmoid, Sign, Softmax, Softplus, Step, Swish, Tanh,
    };
    #[cfg(feature = "csv")]
    pub use crate::data::CsvOptions;
    #[cfg(feature = "std")]
    pub use crate::data::{MinMax, Standardize, Table};
    pub use crate::layer::{Accumulate, Descend};
    pub use crate::loss::{
        BinaryCrossEntropyWithLogits, HalfSquaredError, Loss, MeanSquaredError, PerStep, SoftmaxCrossEntropy,
    };
    #[cfg(feature = "alloc")]
    pub use crate::optim::{Adadelta, Adagrad, Adam, Momentum, RmsProp, WeightDecay};
    pub use crate::optim::{Optimizer, Sgd};
    #[cfg(feature = "alloc")]
    pub use crate::train::{EpochStats, Metrics, Progress, Report, Sample, TrainError, Trainable, Trainer, evaluate};
    pub use crate::{
        BatchNetwork, Buffer, Chain, Float, Init, Initialize, Network, Parameters, SeededRng, Vector, network,
        seeded_rng,
    };
}

/// Paths used by the code `network!` generates. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    // Every activation and every layer, so that a new one needs no edit here.
    pub use crate::activation::*;
    #[cfg(feature = "alloc")]
    pub use crate::io::WeightsError;
    pub use crate::layer::*;
    pub use crate::message::ConstMessage;
    pub use crate::network::{Mismatched, NoStreamingStep, SameScalar, ScalarMatch};
    pub use crate::network_from_batches;
    pub use crate::params::{Composite, MAX_SCOPES, PartsMut, PartsRef};
    pub use crate::quant;
    pub use crate::rejected_network;
    pub use crate::{BatchNetwork, Buffer, Float, Init, Initialize, Network, Parameters, Tensor, TensorMut, Workspace};
    #[cfg(feature = "alloc")]
    pub use alloc::boxed::Box;
    pub use bytemuck;
    pub use core::option::Option::{self, None, Some};
    pub use nalgebra::{ArrayStorage, SMatrix, SVector};
    pub use rand::Rng;
}
