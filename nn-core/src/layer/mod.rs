//! Layers with parameters. Each file holds one layer kind with its kernels and its tests.

mod dense;

pub use dense::{Dense, DenseNoBias};
