//! Fixed-size values seen as flat slices of scalars: what networks, losses and data sets exchange.

use crate::float::Float;
use nalgebra::SMatrix;

/// A fixed-size value flowing through a network (an input, an output, or a gradient of either), seen as a
/// flat slice of scalars: `SAMPLES` columns of `FEATURES` values each.
///
/// Implemented for nalgebra's fixed-size matrices (`SVector`, `SMatrix`), whose slices are column-major, so
/// sample `b` is the contiguous run `b * FEATURES .. (b + 1) * FEATURES`.
pub trait Buffer<T>: Clone {
    /// Values per sample (rows).
    const FEATURES: usize;
    /// Samples (columns): 1 for a single sample.
    const SAMPLES: usize;
    /// A buffer of zeros.
    fn zeros() -> Self;
    /// The elements, column-major.
    fn as_slice(&self) -> &[T];
    /// The elements, column-major, mutably.
    fn as_mut_slice(&mut self) -> &mut [T];
}

impl<T: Float, const R: usize, const C: usize> Buffer<T> for SMatrix<T, R, C> {
    const FEATURES: usize = R;
    const SAMPLES: usize = C;

    #[inline]
    fn zeros() -> Self {
        SMatrix::zeros()
    }
    #[inline]
    fn as_slice(&self) -> &[T] {
        self.as_slice()
    }
    #[inline]
    fn as_mut_slice(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}
