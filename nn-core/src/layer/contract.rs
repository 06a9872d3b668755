//! The one contract every layer implements, and the gradient sinks its backward pass writes into.
//!
//! A layer maps `I` values per sample to `O` (a batch is `B` columns). It has an inference forward (fused with
//! a following activation where that pays), a training forward that writes its output and what backward needs
//! into storage the caller owns (nothing is returned by value, so a large model's caches live on the heap), and
//! one backward that takes a [`Sink`]: the sink decides whether parameter gradients are added into a gradient
//! buffer ([`Accumulate`]), applied as a plain gradient-descent step in place ([`Descend`]) or not computed at
//! all ([`Frozen`]), and passing `None` for dL/dx skips the input gradient. Generated networks are written
//! against this contract only, and implement it themselves, so a network nests in another as a layer.

use crate::activation::{
    ActivationLayer, Elu, Gelu, HardSigmoid, HardTanh, Identity, LeakyRelu, PiecewiseLinear, Relu, Relu6, Sigmoid,
    Sign, Softmax, SoftmaxSteps, Softplus, Step, Swish, Tanh,
};
use crate::float::Float;
pub use crate::sink::{Accumulate, Descend, Frozen, Sink};
use core::fmt::Debug;
use nalgebra::{SMatrix, SVector};
use rand::Rng;

/// A layer from `I` values per sample to `O`, on batches of `B` samples (the columns of a matrix).
///
/// Parameter-free layers (activations, pooling, dropout, reshapes) implement it on a value that holds their
/// settings; layers with parameters on the struct that holds them; generated networks on themselves.
pub trait Layer<T: Float, const I: usize, const O: usize> {
    /// What the training forward keeps for backward beyond the layer's input and output (a dropout mask, batch
    /// statistics, every step of a recurrent layer); also scratch space backward may write. `()` for most
    /// layers. Zeroed storage is a valid starting value.
    type Cache<const B: usize>: Clone + Debug + bytemuck::Zeroable;

    /// Inference.
    fn forward<const B: usize>(&self, x: &SMatrix<T, I, B>) -> SMatrix<T, O, B>;

    /// Inference into `y`, overwriting it.
    #[inline]
    fn forward_into<const B: usize>(&self, x: &SMatrix<T, I, B>, y: &mut SMatrix<T, O, B>) {
        *y = self.forward(x);
    }

    /// Inference fused with the activation after it, applied in place on the output while it is in cache.
    #[inline]
    fn forward_activated<A: ActivationLayer<T>, const B: usize>(
        &self,
        x: &SMatrix<T, I, B>,
        act: &A,
    ) -> SMatrix<T, O, B> {
        let mut y = self.forward(x);
        act.forward_in_place(&mut y);
        y
    }

    /// Training forward: writes the output into `y` and what backward needs into `cache`; `rng` draws dropout
    /// masks and noise (layers without randomness never touch it).
    #[inline]
    fn forward_train<const B: usize, R: Rng + ?Sized>(
        &self,
        x: &SMatrix<T, I, B>,
        y: &mut SMatrix<T, O, B>,
        cache: &mut Self::Cache<B>,
        rng: &mut R,
    ) {
        let _ = (cache, rng);
        self.forward_into(x, y);
    }

    /// Backward from the training forward's input `x`, output `y` and `cache`, and `dy` = dL/dy: hands the
    /// parameter gradients to `sink` and, when `dx` is given, **overwrites** it with dL/dx (`None` skips the
    /// input gradient, as a first layer in training does).
    fn backward<const B: usize, S: Sink<T, Self>>(
        sink: S,
        x: &SMatrix<T, I, B>,
        y: &SMatrix<T, O, B>,
        cache: &mut Self::Cache<B>,
        dy: &SMatrix<T, O, B>,
        dx: Option<&mut SMatrix<T, I, B>>,
    ) where
        Self: Sized;

    /// Folds a training batch's statistics into the state used at inference (batch norm's running averages);
    /// nothing for other layers.
    #[inline]
    fn update_statistics<const B: usize>(&mut self, cache: &Self::Cache<B>) {
        let _ = cache;
    }
}

/// A layer's backward pass called on its sink, `sink.backward(x, y, cache, dy, dx)`: the same as
/// [`Layer::backward`], in the method form generated networks are written in (the layer's type follows from the
/// sink, its sizes from the arguments).
pub trait Backward<T: Float, L>: Sink<T, L> + Sized {
    /// Runs `L::backward` with this sink.
    #[inline]
    fn backward<const I: usize, const O: usize, const B: usize>(
        self,
        x: &SMatrix<T, I, B>,
        y: &SMatrix<T, O, B>,
        cache: &mut L::Cache<B>,
        dy: &SMatrix<T, O, B>,
        dx: Option<&mut SMatrix<T, I, B>>,
    ) where
        L: Layer<T, I, O>,
    {
        L::backward(self, x, y, cache, dy, dx);
    }
}

impl<T: Float, L, S: Sink<T, L>> Backward<T, L> for S {}

/// The backward pass of `layer` with its parameters (if it has any) held fixed: only dL/dx, through
/// [`Frozen`]. What generated networks call for layers without parameters.
#[inline]
pub fn backward_frozen<T: Float, L: Layer<T, I, O>, const I: usize, const O: usize, const B: usize>(
    layer: &L,
    x: &SMatrix<T, I, B>,
    y: &SMatrix<T, O, B>,
    cache: &mut L::Cache<B>,
    dy: &SMatrix<T, O, B>,
    dx: Option<&mut SMatrix<T, I, B>>,
) {
    L::backward(Frozen(layer), x, y, cache, dy, dx);
}

/// A layer that runs on a sequence one step at a time, `I` values in and `O` out per step, carrying a state
/// (recurrent layers) or none (every per-step layer): streaming inference that allocates nothing.
pub trait Stream<T: Float, const I: usize, const O: usize> {
    /// What is carried from one step to the next; zero at the start of a sequence.
    type State: Clone + Copy + Debug + PartialEq + bytemuck::Zeroable;

    /// One step: `x` in, that step's output out, `state` updated.
    fn step(&self, state: &mut Self::State, x: &SVector<T, I>) -> SVector<T, O>;
}

/// The identity on a vector of `N` values: `Flatten` and `Reshape`, which move no data (activations are
/// channel-major columns whatever their shape).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reshape;

impl<T: Float, const N: usize> Layer<T, N, N> for Reshape {
    type Cache<const B: usize> = ();

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, N, B>) -> SMatrix<T, N, B> {
        *x
    }

    #[inline]
    fn forward_into<const B: usize>(&self, x: &SMatrix<T, N, B>, y: &mut SMatrix<T, N, B>) {
        y.copy_from(x);
    }

    #[inline]
    fn backward<const B: usize, S: Sink<T, Self>>(
        _sink: S,
        _x: &SMatrix<T, N, B>,
        _y: &SMatrix<T, N, B>,
        _cache: &mut (),
        dy: &SMatrix<T, N, B>,
        dx: Option<&mut SMatrix<T, N, B>>,
    ) {
        if let Some(dx) = dx {
            dx.copy_from(dy);
        }
    }
}

impl<T: Float, const N: usize> Stream<T, N, N> for Reshape {
    type State = ();

    #[inline]
    fn step(&self, _state: &mut (), x: &SVector<T, N>) -> SVector<T, N> {
        *x
    }
}

/// Implements [`Layer`] and [`Stream`] for activations: each is a layer from `N` values to `N`.
macro_rules! activation_layers {
    ($([$($g:tt)*] $ty:ty),* $(,)?) => {$(
        impl<T: Float, $($g)* const N: usize> Layer<T, N, N> for $ty {
            type Cache<const B: usize> = ();

            #[inline]
            fn forward<const B: usize>(&self, x: &SMatrix<T, N, B>) -> SMatrix<T, N, B> {
                ActivationLayer::forward(self, x)
            }

            #[inline]
            fn forward_into<const B: usize>(&self, x: &SMatrix<T, N, B>, y: &mut SMatrix<T, N, B>) {
                y.copy_from(x);
                self.forward_in_place(y);
            }

            #[inline]
            fn backward<const B: usize, S: Sink<T, Self>>(
                sink: S,
                x: &SMatrix<T, N, B>,
                y: &SMatrix<T, N, B>,
                _cache: &mut (),
                dy: &SMatrix<T, N, B>,
                dx: Option<&mut SMatrix<T, N, B>>,
            ) {
                if let Some(dx) = dx {
                    sink.weights().backward_into(x, y, dy, dx);
                }
            }
        }

        impl<T: Float, $($g)* const N: usize> Stream<T, N, N> for $ty {
            type State = ();

            #[inline]
            fn step(&self, _state: &mut (), x: &SVector<T, N>) -> SVector<T, N> {
                ActivationLayer::forward(self, x)
            }
        }
    )*};
}

activation_layers!(
    [] Sigmoid,
    [] Tanh,
    [] Relu,
    [] LeakyRelu<T>,
    [] Elu<T>,
    [] Softplus,
    [] Swish<T>,
    [] Gelu,
    [] HardSigmoid<T>,
    [] HardTanh,
    [] Relu6,
    [] Identity,
    [] Step<T>,
    [] Sign<T>,
    [] PiecewiseLinear,
    [] Softmax,
    [const F: usize,] SoftmaxSteps<F>,
);

/// Adds `b` into `a` elementwise (branch gradients meeting at a fork).
#[inline]
pub fn add_assign<T: Float, const R: usize, const C: usize>(a: &mut SMatrix<T, R, C>, b: &SMatrix<T, R, C>) {
    for (a, &b) in a.as_mut_slice().iter_mut().zip(b.as_slice()) {
        *a += b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::vector;

    #[test]
    fn activations_and_reshapes_are_layers() {
        let x = vector![-1.0, 0.5, 2.0];
        let y = Layer::<f64, 3, 3>::forward(&Relu, &x);
        assert_eq!(y, vector![0.0, 0.5, 2.0]);
        let mut into = nalgebra::SVector::<f64, 3>::zeros();
        Layer::<f64, 3, 3>::forward_into(&Sigmoid, &x, &mut into);
        assert!((into[1] - 1.0 / (1.0 + (-0.5f64).exp())).abs() < 1e-15);
        let mut dx = nalgebra::SVector::<f64, 3>::zeros();
        <Relu as Layer<f64, 3, 3>>::backward(Frozen(&Relu), &x, &y, &mut (), &vector![1.0, 2.0, 3.0], Some(&mut dx));
        assert_eq!(dx, vector![0.0, 2.0, 3.0]);
        <Reshape as Layer<f64, 3, 3>>::backward(Frozen(&Reshape), &x, &x, &mut (), &y, Some(&mut dx));
        assert_eq!(dx, y);
        assert_eq!(Stream::<f64, 3, 3>::step(&Relu, &mut (), &x), y);
    }

    #[test]
    fn sinks_scale_and_route_gradients() {
        let layer = vector![1.0f64, 2.0];
        let mut grads = vector![0.0f64, 0.0];
        let mut acc = Accumulate { layer: &layer, grads: &mut grads };
        let (g, s) = Sink::<f64, _>::target(&mut acc).unwrap();
        g[0] += s * 3.0;
        assert_eq!(grads, vector![3.0, 0.0]);
        let mut params = vector![1.0f64, 2.0];
        let mut sgd = Descend { layer: &mut params, lr: 0.5 };
        let (p, s) = sgd.target().unwrap();
        p[1] += s * 4.0;
        assert_eq!(params, vector![1.0, 0.0]);
        let frozen = vector![1.0f64];
        assert!(Sink::<f64, _>::target(&mut Frozen(&frozen)).is_none());
    }
}
