//! Fully connected layers: `y = W x + b` and `y = W x`.
//!
//! Layout: `W` is an nalgebra `SMatrix<T, O, I>` (outputs x inputs, column-major storage). PyTorch's
//! `Linear.weight` has the same logical shape `[out, in]` but row-major storage; convert at the file boundary.

use crate::float::Float;
use crate::init::Init;
use crate::kernel;
use crate::network::{Parameters, Tensor, TensorMut};
use nalgebra::{SMatrix, SVector};
use rand::Rng;

/// A dense layer with bias: `y = W x + b`, `I` inputs, `O` outputs.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Dense<T, const I: usize, const O: usize>
where
    T: Float,
{
    /// Weights, `O x I`.
    pub weight: SMatrix<T, O, I>,
    /// Biases, one per output.
    pub bias: SVector<T, O>,
}

/// A dense layer without bias: `y = W x`, `I` inputs, `O` outputs.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct DenseNoBias<T, const I: usize, const O: usize>
where
    T: Float,
{
    /// Weights, `O x I`.
    pub weight: SMatrix<T, O, I>,
}

impl<T: Float, const I: usize, const O: usize> Dense<T, I, O> {
    /// A layer built from its weights and biases.
    pub const fn new(weight: SMatrix<T, O, I>, bias: SVector<T, O>) -> Self {
        Self { weight, bias }
    }

    /// Forward on a batch whose columns are samples: `W X + b 1^T` (one sample is a batch of one).
    #[inline]
    pub fn forward<const B: usize>(&self, x: &SMatrix<T, I, B>) -> SMatrix<T, O, B> {
        let mut y = SMatrix::<T, O, B>::from_fn(|r, _| self.bias[r]);
        kernel::gemm_acc(&self.weight, x, &mut y);
        y
    }

    /// Backward from the forward's input `x` and dL/dy: adds dL/dW and dL/db (summed over the batch) into
    /// `grads`, returns dL/dx. Gradients are updated in place, never copied through the stack.
    #[inline]
    pub fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, I, B>,
        dy: &SMatrix<T, O, B>,
        grads: &mut Self,
    ) -> SMatrix<T, I, B> {
        kernel::ger_acc(dy, x, &mut grads.weight);
        for col in dy.as_slice().chunks_exact(O.max(1)) {
            for (g, &d) in grads.bias.iter_mut().zip(col) {
                *g += d;
            }
        }
        kernel::gemm_tn(&self.weight, dy)
    }

    /// Initialises the weights with `init` and zeroes the biases.
    pub fn init<R: Rng + ?Sized>(&mut self, init: Init, rng: &mut R) {
        init.fill(self.weight.as_mut_slice(), I, O, rng);
        self.bias.fill(T::zero());
    }
}

impl<T: Float, const I: usize, const O: usize> DenseNoBias<T, I, O> {
    /// A layer built from its weights.
    pub const fn new(weight: SMatrix<T, O, I>) -> Self {
        Self { weight }
    }

    /// Forward on a batch whose columns are samples: `W X`.
    #[inline]
    pub fn forward<const B: usize>(&self, x: &SMatrix<T, I, B>) -> SMatrix<T, O, B> {
        let mut y = SMatrix::<T, O, B>::zeros();
        kernel::gemm_acc(&self.weight, x, &mut y);
        y
    }

    /// Backward from the forward's input `x` and dL/dy: adds dL/dW (summed over the batch) into `grads`,
    /// returns dL/dx.
    #[inline]
    pub fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, I, B>,
        dy: &SMatrix<T, O, B>,
        grads: &mut Self,
    ) -> SMatrix<T, I, B> {
        kernel::ger_acc(dy, x, &mut grads.weight);
        kernel::gemm_tn(&self.weight, dy)
    }

    /// Initialises the weights with `init`.
    pub fn init<R: Rng + ?Sized>(&mut self, init: Init, rng: &mut R) {
        init.fill(self.weight.as_mut_slice(), I, O, rng);
    }
}

impl<T: Float, const I: usize, const O: usize> Parameters<T> for Dense<T, I, O> {
    const TENSORS: usize = 2;

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        match index {
            0 => Some(Tensor::matrix("weight", &self.weight)),
            1 => Some(Tensor::vector("bias", &self.bias)),
            _ => None,
        }
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        match index {
            0 => Some(TensorMut::matrix("weight", &mut self.weight)),
            1 => Some(TensorMut::vector("bias", &mut self.bias)),
            _ => None,
        }
    }
}

impl<T: Float, const I: usize, const O: usize> Parameters<T> for DenseNoBias<T, I, O> {
    const TENSORS: usize = 1;

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        (index == 0).then(|| Tensor::matrix("weight", &self.weight))
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        (index == 0).then(|| TensorMut::matrix("weight", &mut self.weight))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{matrix, vector};

    fn layer() -> Dense<f64, 3, 2> {
        Dense::new(matrix![1.0, 2.0, 3.0; -1.0, 0.5, 0.25], vector![0.1, -0.2])
    }

    #[test]
    fn forward_on_literal_weights() {
        let y = layer().forward(&vector![1.0, 2.0, 4.0]);
        assert_eq!(y, vector![1.0 + 4.0 + 12.0 + 0.1, -1.0 + 1.0 + 1.0 - 0.2]);
        let nb = DenseNoBias::new(layer().weight);
        assert_eq!(nb.forward(&vector![1.0, 2.0, 4.0]), vector![17.0, 1.0]);
    }

    #[test]
    fn backward_on_literal_weights_accumulates() {
        let l = layer();
        let mut g: Dense<f64, 3, 2> = bytemuck::Zeroable::zeroed();
        let x = vector![1.0, 2.0, 4.0];
        let dy = vector![0.5, -1.0];
        let dx = l.backward(&x, &dy, &mut g);
        assert_eq!(dx, vector![0.5 + 1.0, 1.0 - 0.5, 1.5 - 0.25]);
        assert_eq!(g.weight, matrix![0.5, 1.0, 2.0; -1.0, -2.0, -4.0]);
        assert_eq!(g.bias, dy);
        l.backward(&x, &dy, &mut g);
        assert_eq!(g.weight, matrix![1.0, 2.0, 4.0; -2.0, -4.0, -8.0]);
        assert_eq!(g.bias, dy * 2.0);
    }

    #[test]
    fn a_batch_is_the_samples_side_by_side() {
        let l = layer();
        let x = matrix![1.0, -1.0, 0.5; 2.0, 0.0, 0.25; 4.0, 3.0, -2.0];
        let y = l.forward(&x);
        let dy = matrix![0.5, 1.0, -1.0; -1.0, 2.0, 0.5];
        let mut g: Dense<f64, 3, 2> = bytemuck::Zeroable::zeroed();
        let dx = l.backward(&x, &dy, &mut g);
        let mut gs: Dense<f64, 3, 2> = bytemuck::Zeroable::zeroed();
        for b in 0..3 {
            let xb: SVector<f64, 3> = x.column(b).into_owned();
            let dyb: SVector<f64, 2> = dy.column(b).into_owned();
            assert_eq!(l.forward(&xb), y.column(b));
            assert_eq!(l.backward(&xb, &dyb, &mut gs), dx.column(b));
        }
        assert!((g.weight - gs.weight).abs().max() < 1e-12);
        assert!((g.bias - gs.bias).abs().max() < 1e-12);
    }

    #[test]
    fn parameters_are_named_and_shaped() {
        let l = layer();
        let w = l.tensor(0).unwrap();
        assert_eq!((w.name.tensor, w.rows, w.cols), ("weight", 2, 3));
        // Column-major: (1, 0) is the second element.
        assert_eq!(w.data[1], -1.0);
        assert_eq!(l.tensor(1).unwrap().data, &[0.1, -0.2]);
        assert!(l.tensor(2).is_none());
        assert_eq!(l.param_count(), 8);
        assert_eq!(DenseNoBias::new(l.weight).param_count(), 6);
    }
}
