//! Fully connected layers: `y = W x + b` and `y = W x`.
//!
//! Layout: `W` is an nalgebra `SMatrix<T, O, I>` (outputs x inputs, column-major storage). PyTorch's
//! `Linear.weight` has the same logical shape `[out, in]` but row-major storage; convert at the file boundary.

use crate::activation::ActivationLayer;
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

    /// The layer fused with the activation after it (inference): `act(W X + b 1^T)`, the activation applied in
    /// place to the product's output buffer while it is still in cache, no intermediate kept.
    #[inline]
    pub fn forward_activated<A: ActivationLayer<T>, const B: usize>(
        &self,
        x: &SMatrix<T, I, B>,
        act: &A,
    ) -> SMatrix<T, O, B> {
        let mut y = self.forward(x);
        act.forward_in_place(&mut y);
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
        self.backward_params(x, dy, grads);
        kernel::gemm_tn(&self.weight, dy)
    }

    /// [`Dense::backward`] without dL/dx: only the parameter gradients, for a first layer in training, whose
    /// input gradient nothing reads (it costs as much as the weight gradient).
    #[inline]
    pub fn backward_params<const B: usize>(&self, x: &SMatrix<T, I, B>, dy: &SMatrix<T, O, B>, grads: &mut Self) {
        kernel::ger_acc(dy, x, &mut grads.weight);
        for col in dy.as_slice().chunks_exact(O.max(1)) {
            for (g, &d) in grads.bias.iter_mut().zip(col) {
                *g += d;
            }
        }
    }

    /// [`Dense::backward`] fused with a plain gradient-descent step, no gradient buffer: returns dL/dx (with
    /// the weights before the step), then `W -= lr dy x^T` and `b -= lr sum(dy)`.
    #[inline]
    pub fn backward_sgd<const B: usize>(
        &mut self,
        x: &SMatrix<T, I, B>,
        dy: &SMatrix<T, O, B>,
        lr: T,
    ) -> SMatrix<T, I, B> {
        let dx = kernel::gemm_tn(&self.weight, dy);
        self.update_sgd(x, dy, lr);
        dx
    }

    /// [`Dense::backward_sgd`] without dL/dx (a first layer).
    #[inline]
    pub fn update_sgd<const B: usize>(&mut self, x: &SMatrix<T, I, B>, dy: &SMatrix<T, O, B>, lr: T) {
        let step = dy * -lr;
        kernel::ger_acc(&step, x, &mut self.weight);
        for col in step.as_slice().chunks_exact(O.max(1)) {
            for (b, &d) in self.bias.iter_mut().zip(col) {
                *b += d;
            }
        }
    }

    /// Forward on a batch of sequences, the same layer applied to every step: each column holds `IN / I` steps
    /// of `I` values (time-major) and gets `OUT / O` steps of `O` back. Sizes that do not match fail to compile.
    #[inline]
    pub fn forward_steps<const IN: usize, const OUT: usize, const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
    ) -> SMatrix<T, OUT, B> {
        let () = Steps::<I, O, IN, OUT>::CHECK;
        let mut y = SMatrix::<T, OUT, B>::zeros();
        for step in y.as_mut_slice().chunks_exact_mut(O.max(1)) {
            step.copy_from_slice(self.bias.as_slice());
        }
        kernel::gemm_acc_columns(&self.weight, x.as_slice(), y.as_mut_slice());
        y
    }

    /// Backward of [`Dense::forward_steps`]: adds dL/dW and dL/db summed over steps and samples into `grads`,
    /// returns dL/dx.
    #[inline]
    pub fn backward_steps<const IN: usize, const OUT: usize, const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        dy: &SMatrix<T, OUT, B>,
        grads: &mut Self,
    ) -> SMatrix<T, IN, B> {
        let () = Steps::<I, O, IN, OUT>::CHECK;
        kernel::ger_acc_columns(dy.as_slice(), x.as_slice(), &mut grads.weight);
        for step in dy.as_slice().chunks_exact(O.max(1)) {
            for (g, &d) in grads.bias.iter_mut().zip(step) {
                *g += d;
            }
        }
        let mut dx = SMatrix::<T, IN, B>::zeros();
        kernel::gemm_tn_columns(&self.weight, dy.as_slice(), dx.as_mut_slice());
        dx
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

    /// The layer fused with the activation after it (inference): `act(W X)`, in place on the product's output.
    #[inline]
    pub fn forward_activated<A: ActivationLayer<T>, const B: usize>(
        &self,
        x: &SMatrix<T, I, B>,
        act: &A,
    ) -> SMatrix<T, O, B> {
        let mut y = self.forward(x);
        act.forward_in_place(&mut y);
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
        self.backward_params(x, dy, grads);
        kernel::gemm_tn(&self.weight, dy)
    }

    /// [`DenseNoBias::backward`] without dL/dx: only the weight gradient.
    #[inline]
    pub fn backward_params<const B: usize>(&self, x: &SMatrix<T, I, B>, dy: &SMatrix<T, O, B>, grads: &mut Self) {
        kernel::ger_acc(dy, x, &mut grads.weight);
    }

    /// [`DenseNoBias::backward`] fused with a plain gradient-descent step: returns dL/dx, then `W -= lr dy x^T`.
    #[inline]
    pub fn backward_sgd<const B: usize>(
        &mut self,
        x: &SMatrix<T, I, B>,
        dy: &SMatrix<T, O, B>,
        lr: T,
    ) -> SMatrix<T, I, B> {
        let dx = kernel::gemm_tn(&self.weight, dy);
        self.update_sgd(x, dy, lr);
        dx
    }

    /// [`DenseNoBias::backward_sgd`] without dL/dx (a first layer).
    #[inline]
    pub fn update_sgd<const B: usize>(&mut self, x: &SMatrix<T, I, B>, dy: &SMatrix<T, O, B>, lr: T) {
        kernel::ger_acc(&(dy * -lr), x, &mut self.weight);
    }

    /// Forward on a batch of sequences, every step alike (see [`Dense::forward_steps`]).
    #[inline]
    pub fn forward_steps<const IN: usize, const OUT: usize, const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
    ) -> SMatrix<T, OUT, B> {
        let () = Steps::<I, O, IN, OUT>::CHECK;
        let mut y = SMatrix::<T, OUT, B>::zeros();
        kernel::gemm_acc_columns(&self.weight, x.as_slice(), y.as_mut_slice());
        y
    }

    /// Backward of [`DenseNoBias::forward_steps`].
    #[inline]
    pub fn backward_steps<const IN: usize, const OUT: usize, const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        dy: &SMatrix<T, OUT, B>,
        grads: &mut Self,
    ) -> SMatrix<T, IN, B> {
        let () = Steps::<I, O, IN, OUT>::CHECK;
        kernel::ger_acc_columns(dy.as_slice(), x.as_slice(), &mut grads.weight);
        let mut dx = SMatrix::<T, IN, B>::zeros();
        kernel::gemm_tn_columns(&self.weight, dy.as_slice(), dx.as_mut_slice());
        dx
    }

    /// Initialises the weights with `init`.
    pub fn init<R: Rng + ?Sized>(&mut self, init: Init, rng: &mut R) {
        init.fill(self.weight.as_mut_slice(), I, O, rng);
    }
}

/// The compile-time check that `IN` is whole steps of `I` and `OUT` the same number of steps of `O`.
struct Steps<const I: usize, const O: usize, const IN: usize, const OUT: usize>;

impl<const I: usize, const O: usize, const IN: usize, const OUT: usize> Steps<I, O, IN, OUT> {
    const CHECK: () = assert!(
        I > 0 && O > 0 && IN.is_multiple_of(I) && OUT == IN / I * O,
        "a per-step dense layer maps steps of I values to as many steps of O"
    );
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
    fn per_step_is_the_layer_on_every_step() {
        let l = layer();
        // Two samples of two steps of three values.
        let x = nalgebra::SMatrix::<f64, 6, 2>::from_fn(|r, c| (r as f64 - 2.0) * 0.5 + c as f64);
        let dy = nalgebra::SMatrix::<f64, 4, 2>::from_fn(|r, c| r as f64 * 0.25 - c as f64);
        let y = l.forward_steps::<6, 4, 2>(&x);
        let mut g: Dense<f64, 3, 2> = bytemuck::Zeroable::zeroed();
        let dx = l.backward_steps::<6, 4, 2>(&x, &dy, &mut g);
        let mut gs: Dense<f64, 3, 2> = bytemuck::Zeroable::zeroed();
        for b in 0..2 {
            for t in 0..2 {
                let xs = SVector::<f64, 3>::from_column_slice(&x.column(b).as_slice()[t * 3..t * 3 + 3]);
                let ds = SVector::<f64, 2>::from_column_slice(&dy.column(b).as_slice()[t * 2..t * 2 + 2]);
                assert_eq!(l.forward(&xs).as_slice(), &y.column(b).as_slice()[t * 2..t * 2 + 2]);
                assert_eq!(l.backward(&xs, &ds, &mut gs).as_slice(), &dx.column(b).as_slice()[t * 3..t * 3 + 3]);
            }
        }
        assert!((g.weight - gs.weight).abs().max() < 1e-12 && (g.bias - gs.bias).abs().max() < 1e-12);
        let nb = DenseNoBias::new(l.weight);
        let ynb = nb.forward_steps::<6, 4, 2>(&x);
        for (s_nb, s) in ynb.as_slice().chunks_exact(2).zip(y.as_slice().chunks_exact(2)) {
            assert!(
                (SVector::<f64, 2>::from_column_slice(s_nb) + l.bias - SVector::from_column_slice(s)).abs().max()
                    < 1e-12
            );
        }
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
