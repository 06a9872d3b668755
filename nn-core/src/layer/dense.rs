//! Fully connected layers: `y = W x + b` and `y = W x`.
//!
//! Layout: `W` is an nalgebra `SMatrix<T, O, I>` (outputs x inputs, column-major storage). PyTorch's
//! `Linear.weight` has the same logical shape `[out, in]` but row-major storage; convert at the file boundary.

use crate::float::Float;
use crate::init::Init;
use crate::kernel;
use crate::layer::contract::{Layer, Sink, Stream};
use crate::params::{Parameters, Tensor, TensorMut};
use nalgebra::{SMatrix, SVector};
use rand::Rng;

/// A dense layer, `I` inputs and `O` outputs: `y = W x + b`, or `y = W x` when `BIAS` is `false`.
///
/// On a sequence (a column of `S` steps of `I` values, time-major) the same layer applies to every step: as a
/// [`Layer`] from `S * I` values to `S * O`.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Dense<T, const I: usize, const O: usize, const BIAS: bool = true>
where
    T: Float,
{
    /// Weights, `O x I`.
    pub weight: SMatrix<T, O, I>,
    /// Biases, one per output; zero, and not a parameter, when `BIAS` is `false`.
    pub bias: SVector<T, O>,
}

/// A dense layer without bias: `y = W x`, `I` inputs, `O` outputs.
pub type DenseNoBias<T, const I: usize, const O: usize> = Dense<T, I, O, false>;

impl<T: Float, const I: usize, const O: usize, const BIAS: bool> Dense<T, I, O, BIAS> {
    /// A layer built from its weights and biases (a layer without bias ignores `bias`).
    pub const fn new(weight: SMatrix<T, O, I>, bias: SVector<T, O>) -> Self {
        Self { weight, bias }
    }

    /// A layer built from its weights, biases zero.
    pub const fn without_bias(weight: SMatrix<T, O, I>) -> Self {
        Self { weight, bias: SMatrix::from_array_storage(nalgebra::ArrayStorage([[T::ZERO; O]; 1])) }
    }

    /// Forward on a batch whose columns are samples: `W X + b 1^T` (one sample is a batch of one).
    #[inline]
    pub fn forward<const B: usize>(&self, x: &SMatrix<T, I, B>) -> SMatrix<T, O, B> {
        let mut y = if BIAS { SMatrix::<T, O, B>::from_fn(|r, _| self.bias[r]) } else { SMatrix::zeros() };
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
        grads.accumulate(x, dy, T::one());
        kernel::gemm_tn(&self.weight, dy)
    }

    /// Adds `scale` times the parameter gradients of `x` and `dy` into `self`: a gradient buffer (`scale = 1`),
    /// or the parameters themselves (`scale = -lr`).
    #[inline]
    fn accumulate<const B: usize>(&mut self, x: &SMatrix<T, I, B>, dy: &SMatrix<T, O, B>, scale: T) {
        // Two calls rather than one on a reference chosen at run time: the kernel then sees where `dy` comes
        // from and vectorises (a chosen reference cost the fused SGD step 29% more instructions).
        if scale == T::one() {
            kernel::ger_acc(dy, x, &mut self.weight);
            self.add_bias(dy.as_slice());
        } else {
            let dy = dy * scale;
            kernel::ger_acc(&dy, x, &mut self.weight);
            self.add_bias(dy.as_slice());
        }
    }

    /// [`Dense::accumulate`] over sequences: `x` and `dy` hold whole steps of `I` and `O` values per column.
    #[inline]
    fn accumulate_steps<const R: usize, const B: usize>(&mut self, x: &[T], dy: &SMatrix<T, R, B>, scale: T) {
        if scale == T::one() {
            kernel::ger_acc_columns(dy.as_slice(), x, &mut self.weight);
            self.add_bias(dy.as_slice());
        } else {
            let dy = dy * scale;
            kernel::ger_acc_columns(dy.as_slice(), x, &mut self.weight);
            self.add_bias(dy.as_slice());
        }
    }

    /// Adds every step of `dy` into the biases (nothing without bias).
    #[inline]
    fn add_bias(&mut self, dy: &[T]) {
        if BIAS {
            for step in dy.chunks_exact(O.max(1)) {
                for (g, &d) in self.bias.iter_mut().zip(step) {
                    *g += d;
                }
            }
        }
    }

    /// Initialises the weights with `init` and zeroes the biases.
    pub fn init<R: Rng + ?Sized>(&mut self, init: Init, rng: &mut R) {
        init.fill(self.weight.as_mut_slice(), I, O, rng);
        self.bias.fill(T::zero());
    }
}

/// `a` seen as `B`, two matrices of the same size (checked by the caller's shapes).
#[inline(always)]
fn cast<A: bytemuck::Pod, B: bytemuck::Pod>(a: &A) -> &B {
    bytemuck::cast_ref(a)
}

/// `a` seen as `B`, mutably.
#[inline(always)]
fn cast_mut<A: bytemuck::Pod, B: bytemuck::Pod>(a: &mut A) -> &mut B {
    bytemuck::cast_mut(a)
}

/// The compile-time check that `IN` is whole steps of `I` and `OUT` the same number of steps of `O`.
struct Steps<const I: usize, const O: usize, const IN: usize, const OUT: usize>;

impl<const I: usize, const O: usize, const IN: usize, const OUT: usize> Steps<I, O, IN, OUT> {
    const CHECK: () = assert!(
        I > 0 && O > 0 && IN.is_multiple_of(I) && OUT == IN / I * O,
        "a per-step dense layer maps steps of I values to as many steps of O"
    );
}

/// One sample or batch (`IN = I`), or a sequence of `IN / I` steps with the layer applied to every step.
impl<T: Float, const I: usize, const O: usize, const BIAS: bool, const IN: usize, const OUT: usize> Layer<T, IN, OUT>
    for Dense<T, I, O, BIAS>
{
    type Cache<const B: usize> = ();

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, IN, B>) -> SMatrix<T, OUT, B> {
        let () = Steps::<I, O, IN, OUT>::CHECK;
        if IN == I {
            return *cast(&Dense::forward(self, cast::<_, SMatrix<T, I, B>>(x)));
        }
        let mut y = SMatrix::<T, OUT, B>::zeros();
        if BIAS {
            for step in y.as_mut_slice().chunks_exact_mut(O.max(1)) {
                step.copy_from_slice(self.bias.as_slice());
            }
        }
        kernel::gemm_acc_columns(&self.weight, x.as_slice(), y.as_mut_slice());
        y
    }

    #[inline]
    fn backward<const B: usize, S: Sink<T, Self>>(
        mut sink: S,
        x: &SMatrix<T, IN, B>,
        _y: &SMatrix<T, OUT, B>,
        _cache: &mut (),
        dy: &SMatrix<T, OUT, B>,
        dx: Option<&mut SMatrix<T, IN, B>>,
    ) {
        let () = Steps::<I, O, IN, OUT>::CHECK;
        if let Some(dx) = dx {
            let w = &sink.weights().weight;
            if IN == I {
                *cast_mut::<_, SMatrix<T, I, B>>(dx) = kernel::gemm_tn(w, cast::<_, SMatrix<T, O, B>>(dy));
            } else {
                dx.fill(T::zero());
                kernel::gemm_tn_columns(w, dy.as_slice(), dx.as_mut_slice());
            }
        }
        if let Some((target, scale)) = sink.target() {
            if IN == I {
                target.accumulate(cast::<_, SMatrix<T, I, B>>(x), cast::<_, SMatrix<T, O, B>>(dy), scale);
            } else {
                target.accumulate_steps(x.as_slice(), dy, scale);
            }
        }
    }
}

impl<T: Float, const I: usize, const O: usize, const BIAS: bool> Stream<T, I, O> for Dense<T, I, O, BIAS> {
    type State = ();

    #[inline]
    fn step(&self, _state: &mut (), x: &SVector<T, I>) -> SVector<T, O> {
        Dense::forward(self, x)
    }
}

impl<T: Float, const I: usize, const O: usize, const BIAS: bool> Parameters<T> for Dense<T, I, O, BIAS> {
    const TENSORS: usize = if BIAS { 2 } else { 1 };

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        match index {
            0 => Some(Tensor::matrix("weight", &self.weight)),
            1 if BIAS => Some(Tensor::vector("bias", &self.bias)),
            _ => None,
        }
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        match index {
            0 => Some(TensorMut::matrix("weight", &mut self.weight)),
            1 if BIAS => Some(TensorMut::vector("bias", &mut self.bias)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::contract::{Accumulate, Descend};
    use nalgebra::{matrix, vector};

    fn layer() -> Dense<f64, 3, 2> {
        Dense::new(matrix![1.0, 2.0, 3.0; -1.0, 0.5, 0.25], vector![0.1, -0.2])
    }

    #[test]
    fn forward_on_literal_weights() {
        let y = layer().forward(&vector![1.0, 2.0, 4.0]);
        assert_eq!(y, vector![1.0 + 4.0 + 12.0 + 0.1, -1.0 + 1.0 + 1.0 - 0.2]);
        let nb = DenseNoBias::without_bias(layer().weight);
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
        let y: nalgebra::SMatrix<f64, 4, 2> = Layer::forward(&l, &x);
        let mut g: Dense<f64, 3, 2> = bytemuck::Zeroable::zeroed();
        let mut dx = nalgebra::SMatrix::<f64, 6, 2>::zeros();
        <Dense<f64, 3, 2> as Layer<f64, 6, 4>>::backward(
            Accumulate { layer: &l, grads: &mut g },
            &x,
            &y,
            &mut (),
            &dy,
            Some(&mut dx),
        );
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
        let nb = DenseNoBias::without_bias(l.weight);
        let ynb: nalgebra::SMatrix<f64, 4, 2> = Layer::forward(&nb, &x);
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
        assert_eq!(DenseNoBias::without_bias(l.weight).param_count(), 6);
    }

    #[test]
    fn descending_in_place_is_backward_then_a_step() {
        let x = vector![1.0, 2.0, 4.0];
        let dy = vector![0.5, -1.0];
        let mut stepped = layer();
        let mut g: Dense<f64, 3, 2> = bytemuck::Zeroable::zeroed();
        let dx = stepped.backward(&x, &dy, &mut g);
        stepped.weight -= g.weight * 0.1;
        stepped.bias -= g.bias * 0.1;
        let mut fused = layer();
        let y = fused.forward(&x);
        let mut dx_fused = SVector::<f64, 3>::zeros();
        <Dense<f64, 3, 2> as Layer<f64, 3, 2>>::backward(
            Descend { layer: &mut fused, lr: 0.1 },
            &x,
            &y,
            &mut (),
            &dy,
            Some(&mut dx_fused),
        );
        assert_eq!(dx_fused, dx);
        assert!((fused.weight - stepped.weight).abs().max() < 1e-15);
        assert!((fused.bias - stepped.bias).abs().max() < 1e-15);
        // Without bias: one tensor, and the bias stays zero through a step.
        let mut nb = DenseNoBias::without_bias(layer().weight);
        <DenseNoBias<f64, 3, 2> as Layer<f64, 3, 2>>::backward(
            Descend { layer: &mut nb, lr: 0.1 },
            &x,
            &y,
            &mut (),
            &dy,
            None,
        );
        assert_eq!((nb.bias, DenseNoBias::<f64, 3, 2>::TENSORS), (SVector::zeros(), 1));
        assert!((nb.weight - stepped.weight).abs().max() < 1e-15);
    }
}
