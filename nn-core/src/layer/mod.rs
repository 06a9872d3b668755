//! Layers with parameters or training behaviour. Each file holds one layer kind with its kernels and its tests.

mod batchnorm;
mod dense;
mod dropout;

pub use batchnorm::{BatchNorm, BatchNormCache};
pub use dense::{Dense, DenseNoBias};
pub use dropout::Dropout;
