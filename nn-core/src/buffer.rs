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

    /// The buffer holding `values` (column-major: one sample's features after another), or the
    /// [`LengthError`] saying how many it takes when `values` has another length.
    ///
    /// ```
    /// use nn_core::{Buffer, Vector};
    /// let x = <Vector<f32, 3> as Buffer<f32>>::from_slice(&[0.5, 1.0, 2.0]).unwrap();
    /// assert_eq!(x[2], 2.0);
    /// assert!(<Vector<f32, 3> as Buffer<f32>>::from_slice(&[0.5]).is_err());
    /// ```
    fn from_slice(values: &[T]) -> Result<Self, LengthError>
    where
        T: Copy,
    {
        let mut b = Self::zeros();
        if values.len() != b.as_slice().len() {
            return Err(LengthError { expected: b.as_slice().len(), found: values.len() });
        }
        b.as_mut_slice().copy_from_slice(values);
        Ok(b)
    }

    /// The buffer whose element `i` (column-major) is `f(i)`.
    fn from_fn(mut f: impl FnMut(usize) -> T) -> Self {
        let mut b = Self::zeros();
        b.as_mut_slice().iter_mut().enumerate().for_each(|(i, v)| *v = f(i));
        b
    }
}

/// A slice of the wrong length for a [`Buffer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LengthError {
    /// The values the buffer holds.
    pub expected: usize,
    /// The values given.
    pub found: usize,
}

impl core::fmt::Display for LengthError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} values given for a buffer of {}", self.found, self.expected)
    }
}

impl core::error::Error for LengthError {}

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
