//! Fully connected layers: `y = W x + b` and `y = W x`.
//!
//! Layout: `W` is an nalgebra `SMatrix<T, O, I>` (outputs x inputs, column-major storage). PyTorch's
//! `Linear.weight` has the same logical shape `[out, in]` but row-major storage; convert at the file boundary.

use crate::float::Float;
use crate::init::Init;
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

/// dL/dW += dy x^T, in place (no temporary the size of `W` on the stack).
///
/// One axpy per column of `W` (contiguous in column-major storage). nalgebra's fixed-size `ger` lets LLVM
/// vectorise across columns instead, which with AVX-512 turns into gathers and scatters ~10x slower.
#[inline]
fn accumulate_weight_grad<T: Float, const I: usize, const O: usize>(
    gw: &mut SMatrix<T, O, I>,
    x: &SVector<T, I>,
    dy: &SVector<T, O>,
) {
    let dy = dy.as_slice();
    for (col, &xc) in gw.as_mut_slice().chunks_exact_mut(O.max(1)).zip(x.iter()) {
        for (w, &d) in col.iter_mut().zip(dy) {
            *w += xc * d;
        }
    }
}

/// dL/dx = W^T dy: one dot product per column of `W`, each over contiguous memory with eight independent
/// partial sums so that it vectorises (a single running sum cannot be reordered by the compiler).
#[inline]
fn backprop_input<T: Float, const I: usize, const O: usize>(w: &SMatrix<T, O, I>, dy: &SVector<T, O>) -> SVector<T, I> {
    let mut dx = SVector::<T, I>::zeros();
    let dy = dy.as_slice();
    for (d, col) in dx.iter_mut().zip(w.as_slice().chunks_exact(O.max(1))) {
        *d = dot(col, dy);
    }
    dx
}

/// A dot product with eight partial sums.
#[inline]
fn dot<T: Float>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (a8, b8) in ac.zip(bc) {
        for k in 0..8 {
            acc[k] += a8[k] * b8[k];
        }
    }
    let mut tail = T::zero();
    for (&x, &y) in ar.iter().zip(br) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

impl<T: Float, const I: usize, const O: usize> Dense<T, I, O> {
    /// A layer built from its weights and biases.
    pub const fn new(weight: SMatrix<T, O, I>, bias: SVector<T, O>) -> Self {
        Self { weight, bias }
    }

    /// Forward: `W x + b`.
    #[inline]
    pub fn forward(&self, x: &SVector<T, I>) -> SVector<T, O> {
        let mut y = self.bias;
        y.gemv(T::one(), &self.weight, x, T::one());
        y
    }

    /// Backward from the forward's input `x` and dL/dy: adds dL/dW and dL/db into `grads`, returns dL/dx.
    #[inline]
    pub fn backward(&self, x: &SVector<T, I>, dy: &SVector<T, O>, grads: &mut Self) -> SVector<T, I> {
        accumulate_weight_grad(&mut grads.weight, x, dy);
        grads.bias += dy;
        backprop_input(&self.weight, dy)
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

    /// Forward: `W x`.
    #[inline]
    pub fn forward(&self, x: &SVector<T, I>) -> SVector<T, O> {
        let mut y = SVector::<T, O>::zeros();
        y.gemv(T::one(), &self.weight, x, T::zero());
        y
    }

    /// Backward from the forward's input `x` and dL/dy: adds dL/dW into `grads`, returns dL/dx.
    #[inline]
    pub fn backward(&self, x: &SVector<T, I>, dy: &SVector<T, O>, grads: &mut Self) -> SVector<T, I> {
        accumulate_weight_grad(&mut grads.weight, x, dy);
        backprop_input(&self.weight, dy)
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
            0 => Some(Tensor::of("weight", &self.weight)),
            1 => Some(Tensor::of("bias", &self.bias)),
            _ => None,
        }
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        match index {
            0 => Some(TensorMut::of("weight", &mut self.weight)),
            1 => Some(TensorMut::of("bias", &mut self.bias)),
            _ => None,
        }
    }
}

impl<T: Float, const I: usize, const O: usize> Parameters<T> for DenseNoBias<T, I, O> {
    const TENSORS: usize = 1;

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        (index == 0).then(|| Tensor::of("weight", &self.weight))
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        (index == 0).then(|| TensorMut::of("weight", &mut self.weight))
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
    fn kernels_agree_with_nalgebra_at_sizes_that_are_not_multiples_of_eight() {
        let w = SMatrix::<f64, 19, 5>::from_fn(|r, c| ((r * 7 + c * 3) % 11) as f64 - 5.0);
        let dy = SVector::<f64, 19>::from_fn(|r, _| r as f64 * 0.25 - 2.0);
        let x = SVector::<f64, 5>::from_fn(|c, _| 1.5 - c as f64);
        assert_eq!(backprop_input(&w, &dy), w.tr_mul(&dy));
        let mut g = SMatrix::<f64, 19, 5>::from_element(1.0);
        accumulate_weight_grad(&mut g, &x, &dy);
        assert_eq!(g, SMatrix::<f64, 19, 5>::from_element(1.0) + dy * x.transpose());
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
