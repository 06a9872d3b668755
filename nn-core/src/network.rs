//! The traits generated networks implement, and the parameter visitor everything generic is written against.

pub use crate::buffer::Buffer;
use crate::float::Float;
use crate::layer::{Accumulate, Descend, Sink};
use crate::loss::Loss;
use core::fmt;
use nalgebra::SMatrix;

/// How many composition levels a tensor name records ([`TensorName::scopes`]): networks nest inside networks at
/// most this deep (the generated code checks it at compile time).
pub const MAX_SCOPES: usize = 4;

/// The name of one parameter tensor: `layer.tensor`, with leading scopes for composed networks
/// (`encoder.fc1.weight`, `gan.generator.fc1.weight`).
///
/// Names follow PyTorch `state_dict` keys (`fc1.weight`, `fc1.bias`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TensorName {
    /// The enclosing networks, outermost first (a field of a composed network, `"encoder"`, or a position in a
    /// [`Chain`], `"0"`); unused entries are `""`.
    pub scopes: [&'static str; MAX_SCOPES],
    /// The layer's name (`"fc1"`), or `""` for a bare layer.
    pub layer: &'static str,
    /// The tensor within the layer (`"weight"`, `"bias"`).
    pub tensor: &'static str,
}

impl TensorName {
    /// A tensor of a bare layer (no layer name yet).
    pub const fn new(tensor: &'static str) -> Self {
        Self { scopes: [""; MAX_SCOPES], layer: "", tensor }
    }

    /// The same tensor, inside the layer called `layer`.
    #[must_use]
    pub const fn in_layer(self, layer: &'static str) -> Self {
        Self { layer, ..self }
    }

    /// The same tensor, one composition level further in: `scope` becomes the outermost scope. The innermost
    /// is dropped past [`MAX_SCOPES`] levels, which composed networks rule out at compile time.
    #[must_use]
    pub const fn in_scope(self, scope: &'static str) -> Self {
        let mut scopes = [""; MAX_SCOPES];
        scopes[0] = scope;
        let mut i = 1;
        while i < MAX_SCOPES {
            scopes[i] = self.scopes[i - 1];
            i += 1;
        }
        Self { scopes, ..self }
    }

    /// The scopes and the layer, outermost first, skipping empty ones.
    fn parts(&self) -> impl Iterator<Item = &'static str> {
        self.scopes.into_iter().chain([self.layer]).filter(|p| !p.is_empty())
    }

    /// `true` when the dotted form of this name equals `dotted`; allocates nothing.
    pub fn matches(&self, dotted: &str) -> bool {
        let mut rest = dotted;
        for part in self.parts() {
            match rest.strip_prefix(part).and_then(|r| r.strip_prefix('.')) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        rest == self.tensor
    }
}

impl fmt::Display for TensorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in self.parts() {
            write!(f, "{part}.")?;
        }
        f.write_str(self.tensor)
    }
}

/// How a tensor appears outside this crate (PyTorch's `state_dict`, safetensors files).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// A vector of `rows` values: shape `[rows]` (biases, batch-norm parameters and statistics).
    Vector,
    /// A matrix: shape `[rows, cols]`, stored row-major outside and column-major here (dense weights,
    /// PyTorch's `[out, in]`).
    Matrix,
    /// A 2-D convolution kernel: a `rows x cols` matrix whose columns are `[cols / (kh kw), kh, kw]` row-major,
    /// shape `[rows, cols / (kh kw), kh, kw]` outside (PyTorch's `[out, in, kh, kw]`).
    Kernel2d {
        /// Kernel height.
        kh: usize,
        /// Kernel width.
        kw: usize,
    },
    /// A 1-D convolution kernel: shape `[rows, cols / kw, kw]` outside (PyTorch's `[out, in, k]`).
    Kernel1d {
        /// Kernel width.
        kw: usize,
    },
}

impl Layout {
    /// The external shape of a `rows x cols` tensor.
    pub fn shape(self, rows: usize, cols: usize) -> Shape {
        match self {
            Layout::Vector => Shape::new(&[rows]),
            Layout::Matrix => Shape::new(&[rows, cols]),
            Layout::Kernel2d { kh, kw } => Shape::new(&[rows, cols / (kh * kw).max(1), kh, kw]),
            Layout::Kernel1d { kw } => Shape::new(&[rows, cols / kw.max(1), kw]),
        }
    }
}

/// A tensor's external shape, one to four dimensions, without allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    dims: [usize; 4],
    len: usize,
}

impl Shape {
    /// The shape with the given dimensions (at most four; more are dropped).
    pub fn new(dims: &[usize]) -> Self {
        let mut d = [0; 4];
        let len = dims.len().min(4);
        d[..len].copy_from_slice(&dims[..len]);
        Self { dims: d, len }
    }

    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.len]
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.dims())
    }
}

/// One parameter tensor, read-only: its name, its nalgebra shape and its column-major elements.
#[derive(Debug)]
pub struct Tensor<'a, T> {
    /// The tensor's name.
    pub name: TensorName,
    /// Its external layout (vector or matrix).
    pub layout: Layout,
    /// Rows of the nalgebra matrix (for a dense weight, the layer's outputs).
    pub rows: usize,
    /// Columns of the nalgebra matrix (for a dense weight, the layer's inputs; 1 for a bias).
    pub cols: usize,
    /// The elements, column-major: element `(r, c)` is at `c * rows + r`.
    pub data: &'a [T],
}

/// One parameter tensor, writable; see [`Tensor`].
#[derive(Debug)]
pub struct TensorMut<'a, T> {
    /// The tensor's name.
    pub name: TensorName,
    /// Its external layout (vector or matrix).
    pub layout: Layout,
    /// Rows of the nalgebra matrix.
    pub rows: usize,
    /// Columns of the nalgebra matrix.
    pub cols: usize,
    /// The elements, column-major.
    pub data: &'a mut [T],
}

impl<'a, T> Tensor<'a, T> {
    /// Wraps a matrix's storage ([`Layout::Matrix`]).
    #[inline]
    pub fn matrix<const R: usize, const C: usize>(name: &'static str, m: &'a SMatrix<T, R, C>) -> Self
    where
        T: Float,
    {
        Self { name: TensorName::new(name), layout: Layout::Matrix, rows: R, cols: C, data: m.as_slice() }
    }

    /// Wraps a vector's storage ([`Layout::Vector`]).
    #[inline]
    pub fn vector<const R: usize>(name: &'static str, v: &'a SMatrix<T, R, 1>) -> Self
    where
        T: Float,
    {
        Self { name: TensorName::new(name), layout: Layout::Vector, rows: R, cols: 1, data: v.as_slice() }
    }

    /// The same tensor under the layer `layer`.
    #[inline]
    #[must_use]
    pub fn in_layer(self, layer: &'static str) -> Self {
        Self { name: self.name.in_layer(layer), ..self }
    }

    /// The same tensor under the composition slot `scope`.
    #[inline]
    #[must_use]
    pub fn in_scope(self, scope: &'static str) -> Self {
        Self { name: self.name.in_scope(scope), ..self }
    }
}

impl<'a, T> TensorMut<'a, T> {
    /// Wraps a matrix's storage ([`Layout::Matrix`]).
    #[inline]
    pub fn matrix<const R: usize, const C: usize>(name: &'static str, m: &'a mut SMatrix<T, R, C>) -> Self
    where
        T: Float,
    {
        Self { name: TensorName::new(name), layout: Layout::Matrix, rows: R, cols: C, data: m.as_mut_slice() }
    }

    /// Wraps a vector's storage ([`Layout::Vector`]).
    #[inline]
    pub fn vector<const R: usize>(name: &'static str, v: &'a mut SMatrix<T, R, 1>) -> Self
    where
        T: Float,
    {
        Self { name: TensorName::new(name), layout: Layout::Vector, rows: R, cols: 1, data: v.as_mut_slice() }
    }

    /// The same tensor under the layer `layer`.
    #[inline]
    #[must_use]
    pub fn in_layer(self, layer: &'static str) -> Self {
        Self { name: self.name.in_layer(layer), ..self }
    }

    /// The same tensor under the composition slot `scope`.
    #[inline]
    #[must_use]
    pub fn in_scope(self, scope: &'static str) -> Self {
        Self { name: self.name.in_scope(scope), ..self }
    }
}

/// Indexed access to every parameter tensor of a layer or network: the parameter visitor.
///
/// Tensors are numbered `0..TENSORS` in declaration order. Optimizers, weight decay, serialisation and gradient
/// checks are written once against this trait. A network's gradients and an optimizer's per-parameter state are
/// values of the network's own type, so the same index names the same tensor in all of them.
pub trait Parameters<T: Float> {
    /// How many tensors there are.
    const TENSORS: usize;

    /// How many composition levels the tensor names already carry: 0 for a network of layers, one more than its
    /// deepest part for a composed one. Composition checks at compile time that it stays below [`MAX_SCOPES`].
    const DEPTH: usize = 0;

    /// Tensor `index`, or `None` past the end.
    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>>;

    /// Tensor `index` mutably, or `None` past the end.
    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>>;

    /// Total number of scalar parameters.
    fn param_count(&self) -> usize {
        (0..Self::TENSORS).filter_map(|i| self.tensor(i)).map(|t| t.data.len()).sum()
    }

    /// Calls `f` on every tensor in order.
    fn visit(&self, mut f: impl FnMut(Tensor<'_, T>)) {
        (0..Self::TENSORS).filter_map(|i| self.tensor(i)).for_each(&mut f);
    }

    /// Calls `f` on every tensor in order, mutably.
    fn visit_mut(&mut self, mut f: impl FnMut(TensorMut<'_, T>)) {
        for i in 0..Self::TENSORS {
            if let Some(t) = self.tensor_mut(i) {
                f(t);
            }
        }
    }

    /// Calls `f` on each tensor of `self` with the same tensor of `other` (a gradient, an optimizer state).
    fn zip_mut(&mut self, other: &Self, mut f: impl FnMut(TensorName, &mut [T], &[T])) {
        for i in 0..Self::TENSORS {
            if let (Some(a), Some(b)) = (self.tensor_mut(i), other.tensor(i)) {
                f(a.name, a.data, b.data);
            }
        }
    }

    /// Sets every parameter to `value` (zeroing gradients before a new accumulation).
    fn fill(&mut self, value: T) {
        self.visit_mut(|t| t.data.fill(value));
    }

    /// The tensor whose dotted name is `name` (`"fc1.weight"`).
    fn tensor_named(&self, name: &str) -> Option<Tensor<'_, T>> {
        (0..Self::TENSORS).filter_map(|i| self.tensor(i)).find(|t| t.name.matches(name))
    }

    /// How many non-trainable state tensors there are (batch norm's running statistics).
    const BUFFERS: usize = 0;

    /// State tensor `index` (not trained, but part of the model: saved, restored, used at inference).
    fn buffer(&self, index: usize) -> Option<Tensor<'_, T>> {
        let _ = index;
        None
    }

    /// State tensor `index`, mutably.
    fn buffer_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        let _ = index;
        None
    }

    /// Copies every parameter and state tensor from `other`, in place (a snapshot of any size without the
    /// stack).
    fn copy_from(&mut self, other: &Self) {
        for i in 0..Self::TENSORS {
            if let (Some(a), Some(b)) = (self.tensor_mut(i), other.tensor(i)) {
                a.data.copy_from_slice(b.data);
            }
        }
        for i in 0..Self::BUFFERS {
            if let (Some(a), Some(b)) = (self.buffer_mut(i), other.buffer(i)) {
                a.data.copy_from_slice(b.data);
            }
        }
    }
}

/// A network with statically known input and output shapes, a training forward that keeps what backprop needs,
/// and a backward pass.
///
/// Generated by `network!`; written by hand only for composition ([`Chain`]). The gradients of a network are a
/// value of the network's own type (same tensors, same names), so they are stored, zeroed, visited and
/// optimised like the parameters themselves.
///
/// The training methods come in two forms: the `_in` forms write into a [`Network::Cache`] the caller owns
/// (allocate it once, boxed for large models, with [`crate::boxed_zeroed`], and reuse it every step: nothing is
/// allocated or passed by value), the plain forms are the same computations with a cache of their own (on the
/// stack when it is small, on the heap otherwise).
pub trait Network: Parameters<Self::Scalar> + Sized {
    /// `f32` or `f64`.
    type Scalar: Float;
    /// What `forward` takes.
    type Input: Buffer<Self::Scalar>;
    /// What `forward` returns.
    type Output: Buffer<Self::Scalar>;
    /// What the training forward keeps for `backward` (every layer's input and output), and room for the
    /// gradients backward passes from layer to layer. Zeroed storage is a valid starting value.
    type Cache: Clone + fmt::Debug + bytemuck::Zeroable;

    /// Inference: maps an input to an output. Allocates nothing.
    fn forward(&self, x: &Self::Input) -> Self::Output;

    /// Inference with every layer's output written into `cache` rather than the stack: for networks whose
    /// activations are too large for a thread's stack.
    fn forward_in(&self, x: &Self::Input, cache: &mut Self::Cache) -> Self::Output;

    /// Training forward into `cache`; returns the output. `rng` draws dropout masks (networks without dropout
    /// never touch it).
    fn forward_train_in<R: rand::Rng + ?Sized>(
        &self,
        x: &Self::Input,
        cache: &mut Self::Cache,
        rng: &mut R,
    ) -> Self::Output;

    /// Backward from the cache of a training forward and `dy` = dL/dy: hands every parameter gradient to `sink`
    /// ([`Accumulate`] into gradients, [`Descend`] for plain SGD in place) and, when `dx` is given, writes dL/dx
    /// into it. Uses the cache as scratch space: run the training forward again before another backward.
    fn backward_in<S: Sink<Self::Scalar, Self>>(
        sink: S,
        cache: &mut Self::Cache,
        dy: &Self::Output,
        dx: Option<&mut Self::Input>,
    );

    /// Training forward: the output and the cache that [`Network::backward`] needs. `rng` draws dropout masks
    /// (networks without dropout never touch it).
    fn forward_train<R: rand::Rng + ?Sized>(&self, x: &Self::Input, rng: &mut R) -> (Self::Output, Self::Cache) {
        let mut cache: Self::Cache = bytemuck::Zeroable::zeroed();
        let y = self.forward_train_in(x, &mut cache, rng);
        (y, cache)
    }

    /// Backward pass: given the cache of a training forward and `dy` = dL/dy, **adds** dL/dθ for every
    /// parameter into `grads` and returns dL/dx.
    ///
    /// Gradients accumulate, so a mini-batch is one `grads.fill(0)` followed by one `backward` per sample;
    /// large gradients are updated in place and never copied through the stack.
    fn backward(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) -> Self::Input {
        with_copy(cache, |c| {
            let mut dx = Self::Input::zeros();
            Self::backward_in(Accumulate { layer: self, grads }, c, dy, Some(&mut dx));
            dx
        })
    }

    /// [`Network::backward`] for training: adds the same parameter gradients into `grads` but skips dL/dx,
    /// which a training step discards.
    fn backward_params(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) {
        with_copy(cache, |c| Self::backward_in(Accumulate { layer: self, grads }, c, dy, None));
    }

    /// Plain gradient descent applied during the backward pass, with no gradient buffer: each layer, last first,
    /// computes dL/dx with its current weights and then moves its parameters by `-lr` times their gradient.
    /// Returns dL/dx. The same update as [`Network::backward`] into zeroed gradients followed by
    /// [`crate::optim::Sgd`]'s step, in one pass over the weights instead of three (zero, accumulate, update),
    /// and with no second copy of the parameters: what per-sample training on a small device needs.
    fn backward_sgd(&mut self, cache: &Self::Cache, dy: &Self::Output, lr: Self::Scalar) -> Self::Input {
        with_copy(cache, |c| {
            let mut dx = Self::Input::zeros();
            Self::backward_in(Descend { layer: self, lr }, c, dy, Some(&mut dx));
            dx
        })
    }

    /// [`Network::backward_sgd`] without dL/dx.
    fn update_sgd(&mut self, cache: &Self::Cache, dy: &Self::Output, lr: Self::Scalar) {
        with_copy(cache, |c| Self::backward_in(Descend { layer: self, lr }, c, dy, None));
    }

    /// One step of per-sample stochastic gradient descent: training forward, loss, and the fused update of
    /// [`Network::update_sgd`]. Returns the loss before the step.
    fn sgd_step<L: Loss<Self::Scalar>, R: rand::Rng + ?Sized>(
        &mut self,
        x: &Self::Input,
        target: &Self::Output,
        loss: &L,
        lr: Self::Scalar,
        rng: &mut R,
    ) -> Self::Scalar {
        with_scratch(|cache| self.sgd_step_in(cache, x, target, loss, lr, rng))
    }

    /// [`Network::sgd_step`] with a cache the caller owns: allocates nothing.
    fn sgd_step_in<L: Loss<Self::Scalar>, R: rand::Rng + ?Sized>(
        &mut self,
        cache: &mut Self::Cache,
        x: &Self::Input,
        target: &Self::Output,
        loss: &L,
        lr: Self::Scalar,
        rng: &mut R,
    ) -> Self::Scalar {
        let y = self.forward_train_in(x, cache, rng);
        let (value, dy) = loss.value_and_gradient(&y, target);
        Self::backward_in(Descend { layer: self, lr }, cache, &dy, None);
        value
    }

    /// One sample of backpropagation: training forward, loss, backward. Adds the sample's parameter gradients
    /// into `grads` and returns the loss.
    fn backprop<L: Loss<Self::Scalar>, R: rand::Rng + ?Sized>(
        &self,
        x: &Self::Input,
        target: &Self::Output,
        loss: &L,
        grads: &mut Self,
        rng: &mut R,
    ) -> Self::Scalar {
        with_scratch(|cache| self.backprop_in(cache, x, target, loss, grads, rng))
    }

    /// [`Network::backprop`] with a cache the caller owns: allocates nothing.
    fn backprop_in<L: Loss<Self::Scalar>, R: rand::Rng + ?Sized>(
        &self,
        cache: &mut Self::Cache,
        x: &Self::Input,
        target: &Self::Output,
        loss: &L,
        grads: &mut Self,
        rng: &mut R,
    ) -> Self::Scalar {
        let y = self.forward_train_in(x, cache, rng);
        let (value, dy) = loss.value_and_gradient(&y, target);
        Self::backward_in(Accumulate { layer: self, grads }, cache, &dy, None);
        value
    }
}

/// A network that also runs on a batch of `B` samples at once, the samples being the columns of a matrix, so
/// every dense layer is one matrix-matrix product per batch.
///
/// Generated by `network!` (the per-sample [`Network`] methods are the `B = 1` case of these). Gradients of a
/// batch are those of the **mean** loss over its samples when `dy` comes from [`Loss::gradient`]. As for
/// [`Network`], the `_in` forms work in a cache the caller owns.
pub trait BatchNetwork: Network {
    /// `B` inputs side by side.
    type InputBatch<const B: usize>: Buffer<Self::Scalar> + bytemuck::Pod;
    /// `B` outputs side by side.
    type OutputBatch<const B: usize>: Buffer<Self::Scalar> + bytemuck::Pod;
    /// What the batched training forward keeps for the batched backward, and room for its gradients.
    type BatchCache<const B: usize>: Clone + fmt::Debug + bytemuck::Zeroable;

    /// Inference on a batch.
    fn forward_batch<const B: usize>(&self, x: &Self::InputBatch<B>) -> Self::OutputBatch<B>;

    /// Inference on a batch with every layer's output written into `cache` (see [`Network::forward_in`]).
    fn forward_batch_in<const B: usize>(
        &self,
        x: &Self::InputBatch<B>,
        cache: &mut Self::BatchCache<B>,
    ) -> Self::OutputBatch<B>;

    /// Training forward on a batch into `cache` (batch statistics for batch norm, fresh dropout masks from
    /// `rng`); returns the output.
    fn forward_train_batch_in<const B: usize, R: rand::Rng + ?Sized>(
        &self,
        x: &Self::InputBatch<B>,
        cache: &mut Self::BatchCache<B>,
        rng: &mut R,
    ) -> Self::OutputBatch<B>;

    /// Backward on a batch: hands the parameter gradients summed over the batch to `sink` and writes dL/dX into
    /// `dx` when given.
    fn backward_batch_in<const B: usize, S: Sink<Self::Scalar, Self>>(
        sink: S,
        cache: &mut Self::BatchCache<B>,
        dy: &Self::OutputBatch<B>,
        dx: Option<&mut Self::InputBatch<B>>,
    );

    /// Folds a training batch's statistics into the running statistics used at inference (batch norm); does
    /// nothing for networks without such state.
    fn update_statistics<const B: usize>(&mut self, cache: &Self::BatchCache<B>);

    /// Training forward on a batch (batch statistics for batch norm, fresh dropout masks from `rng`).
    fn forward_train_batch<const B: usize, R: rand::Rng + ?Sized>(
        &self,
        x: &Self::InputBatch<B>,
        rng: &mut R,
    ) -> (Self::OutputBatch<B>, Self::BatchCache<B>) {
        let mut cache: Self::BatchCache<B> = bytemuck::Zeroable::zeroed();
        let y = self.forward_train_batch_in(x, &mut cache, rng);
        (y, cache)
    }

    /// Backward on a batch: **adds** dL/dθ summed over the batch into `grads`, returns dL/dX.
    fn backward_batch<const B: usize>(
        &self,
        cache: &Self::BatchCache<B>,
        dy: &Self::OutputBatch<B>,
        grads: &mut Self,
    ) -> Self::InputBatch<B> {
        with_copy(cache, |c| {
            let mut dx = Self::InputBatch::<B>::zeros();
            Self::backward_batch_in(Accumulate { layer: self, grads }, c, dy, Some(&mut dx));
            dx
        })
    }

    /// [`BatchNetwork::backward_batch`] for training: the same parameter gradients, without dL/dX.
    fn backward_params_batch<const B: usize>(
        &self,
        cache: &Self::BatchCache<B>,
        dy: &Self::OutputBatch<B>,
        grads: &mut Self,
    ) {
        with_copy(cache, |c| Self::backward_batch_in(Accumulate { layer: self, grads }, c, dy, None));
    }

    /// [`Network::backward_sgd`] on a batch: the parameters move by `-lr` times the batch's gradient (the mean
    /// over its samples when `dy` comes from [`Loss::gradient`]). Returns dL/dX.
    fn backward_sgd_batch<const B: usize>(
        &mut self,
        cache: &Self::BatchCache<B>,
        dy: &Self::OutputBatch<B>,
        lr: Self::Scalar,
    ) -> Self::InputBatch<B> {
        with_copy(cache, |c| {
            let mut dx = Self::InputBatch::<B>::zeros();
            Self::backward_batch_in(Descend { layer: self, lr }, c, dy, Some(&mut dx));
            dx
        })
    }

    /// [`BatchNetwork::backward_sgd_batch`] without dL/dX.
    fn update_sgd_batch<const B: usize>(
        &mut self,
        cache: &Self::BatchCache<B>,
        dy: &Self::OutputBatch<B>,
        lr: Self::Scalar,
    ) {
        with_copy(cache, |c| Self::backward_batch_in(Descend { layer: self, lr }, c, dy, None));
    }
}

/// The per-sample [`Network`] of a generated network: its [`BatchNetwork`] at `B = 1`.
#[doc(hidden)]
#[macro_export]
macro_rules! network_from_batches {
    ($name:ident, $t:ty, $inputs:expr, $outputs:expr) => {
        impl $crate::Network for $name {
            type Scalar = $t;
            type Input = $crate::nalgebra::SVector<$t, { $inputs }>;
            type Output = $crate::nalgebra::SVector<$t, { $outputs }>;
            type Cache = <Self as $crate::BatchNetwork>::BatchCache<1>;

            #[inline]
            fn forward(&self, x: &Self::Input) -> Self::Output {
                $crate::BatchNetwork::forward_batch::<1>(self, x)
            }

            #[inline]
            fn forward_in(&self, x: &Self::Input, cache: &mut Self::Cache) -> Self::Output {
                $crate::BatchNetwork::forward_batch_in::<1>(self, x, cache)
            }

            #[inline]
            fn forward_train_in<R: $crate::rand::Rng + ?Sized>(
                &self,
                x: &Self::Input,
                cache: &mut Self::Cache,
                rng: &mut R,
            ) -> Self::Output {
                $crate::BatchNetwork::forward_train_batch_in::<1, R>(self, x, cache, rng)
            }

            #[inline]
            fn backward_in<S: $crate::layer::Sink<$t, Self>>(
                sink: S,
                cache: &mut Self::Cache,
                dy: &Self::Output,
                dx: ::core::option::Option<&mut Self::Input>,
            ) {
                <Self as $crate::BatchNetwork>::backward_batch_in::<1, S>(sink, cache, dy, dx)
            }
        }
    };
}

/// Two networks run one after the other, the first's output feeding the second's input.
///
/// The seam is checked by the compiler: `Chain<A, B>` is a [`Network`] only when `B::Input` is `A::Output`
/// and both compute in the same scalar. Parameter names are scoped `0.` and `1.`, like PyTorch's
/// `nn.Sequential(a, b)`.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Chain<A, B> {
    /// The network that runs first.
    pub first: A,
    /// The network that runs second.
    pub second: B,
}

impl<A, B> Chain<A, B>
where
    A: Network,
    B: Network<Scalar = A::Scalar, Input = A::Output>,
{
    /// Composes `first` then `second`; refuses to compile when `second`'s input is not `first`'s output.
    pub const fn new(first: A, second: B) -> Self {
        Self { first, second }
    }
}

impl<T: Float, A: Parameters<T>, B: Parameters<T>> Parameters<T> for Chain<A, B> {
    const TENSORS: usize = A::TENSORS + B::TENSORS;
    const DEPTH: usize = {
        let deepest = if A::DEPTH > B::DEPTH { A::DEPTH } else { B::DEPTH };
        assert!(deepest < MAX_SCOPES, "networks nest at most MAX_SCOPES deep");
        deepest + 1
    };

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        if index < A::TENSORS {
            self.first.tensor(index).map(|t| t.in_scope("0"))
        } else {
            self.second.tensor(index - A::TENSORS).map(|t| t.in_scope("1"))
        }
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        if index < A::TENSORS {
            self.first.tensor_mut(index).map(|t| t.in_scope("0"))
        } else {
            self.second.tensor_mut(index - A::TENSORS).map(|t| t.in_scope("1"))
        }
    }

    const BUFFERS: usize = A::BUFFERS + B::BUFFERS;

    fn buffer(&self, index: usize) -> Option<Tensor<'_, T>> {
        if index < A::BUFFERS {
            self.first.buffer(index).map(|t| t.in_scope("0"))
        } else {
            self.second.buffer(index - A::BUFFERS).map(|t| t.in_scope("1"))
        }
    }

    fn buffer_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        if index < A::BUFFERS {
            self.first.buffer_mut(index).map(|t| t.in_scope("0"))
        } else {
            self.second.buffer_mut(index - A::BUFFERS).map(|t| t.in_scope("1"))
        }
    }
}

/// A generated network's training storage: what its training forward keeps (`cache`, whose fields are reached
/// directly through `Deref`: `ws.x1`) and the gradients its backward hands from layer to layer (`deltas`).
#[derive(Clone, Debug, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Workspace<C, D> {
    /// Every layer's input and output, and what layers keep for backward.
    pub cache: C,
    /// dL/d(every layer's output but the last).
    pub deltas: D,
}

impl<C, D> core::ops::Deref for Workspace<C, D> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.cache
    }
}

impl<C, D> core::ops::DerefMut for Workspace<C, D> {
    fn deref_mut(&mut self) -> &mut C {
        &mut self.cache
    }
}

/// What a [`Chain`]'s training forward keeps: each network's cache and the gradient at the seam.
#[derive(Clone, Debug, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct ChainCache<A, B, H> {
    /// The first network's cache.
    pub first: A,
    /// The second network's cache.
    pub second: B,
    /// dL/d(the first network's output).
    pub seam: H,
}

impl<A, B> Network for Chain<A, B>
where
    A: Network,
    B: Network<Scalar = A::Scalar, Input = A::Output>,
    A::Output: bytemuck::Zeroable + fmt::Debug,
{
    type Scalar = A::Scalar;
    type Input = A::Input;
    type Output = B::Output;
    type Cache = ChainCache<A::Cache, B::Cache, A::Output>;

    #[inline]
    fn forward(&self, x: &Self::Input) -> Self::Output {
        self.second.forward(&self.first.forward(x))
    }

    #[inline]
    fn forward_in(&self, x: &Self::Input, cache: &mut Self::Cache) -> Self::Output {
        let h = self.first.forward_in(x, &mut cache.first);
        self.second.forward_in(&h, &mut cache.second)
    }

    #[inline]
    fn forward_train_in<R: rand::Rng + ?Sized>(
        &self,
        x: &Self::Input,
        cache: &mut Self::Cache,
        rng: &mut R,
    ) -> Self::Output {
        let h = self.first.forward_train_in(x, &mut cache.first, rng);
        self.second.forward_train_in(&h, &mut cache.second, rng)
    }

    #[inline]
    fn backward_in<S: Sink<Self::Scalar, Self>>(
        mut sink: S,
        cache: &mut Self::Cache,
        dy: &Self::Output,
        dx: Option<&mut Self::Input>,
    ) {
        B::backward_in(sink.part(|c| &c.second, |c| &mut c.second), &mut cache.second, dy, Some(&mut cache.seam));
        A::backward_in(sink.part(|c| &c.first, |c| &mut c.first), &mut cache.first, &cache.seam, dx);
    }
}

/// Finds tensor (or state tensor, with `BUFFERS`) number `index` among the parts of a generated network, part
/// by part in declaration order, and names it under the part's field: what generated `Parameters`
/// implementations are made of.
#[doc(hidden)]
pub struct Find<R, const BUFFERS: bool> {
    index: usize,
    found: Option<R>,
}

impl<R, const BUFFERS: bool> Find<R, BUFFERS> {
    /// The search for tensor `index`.
    #[inline]
    pub fn new(index: usize) -> Self {
        Self { index, found: None }
    }

    /// The tensor found, if any.
    #[inline]
    pub fn done(self) -> Option<R> {
        self.found
    }

    /// How many of `P`'s tensors this search counts.
    #[inline]
    fn count<T: Float, P: Parameters<T>>() -> usize {
        if BUFFERS { P::BUFFERS } else { P::TENSORS }
    }
}

impl<'a, T: Float, const BUFFERS: bool> Find<Tensor<'a, T>, BUFFERS> {
    /// Looks in `part`, a layer called `name` (or, `nested`, a network whose tensors `name` scopes).
    #[inline]
    #[must_use]
    pub fn part<P: Parameters<T>>(mut self, part: &'a P, name: &'static str, nested: bool) -> Self {
        let n = Self::count::<T, P>();
        if self.found.is_none() && self.index < n {
            let t = if BUFFERS { part.buffer(self.index) } else { part.tensor(self.index) };
            self.found = t.map(|t| if nested { t.in_scope(name) } else { t.in_layer(name) });
            self.index = usize::MAX;
        } else {
            self.index = self.index.saturating_sub(n);
        }
        self
    }
}

impl<'a, T: Float, const BUFFERS: bool> Find<TensorMut<'a, T>, BUFFERS> {
    /// Looks in `part`, mutably (see [`Find::part`]).
    #[inline]
    #[must_use]
    pub fn part_mut<P: Parameters<T>>(mut self, part: &'a mut P, name: &'static str, nested: bool) -> Self {
        let n = Self::count::<T, P>();
        if self.found.is_none() && self.index < n {
            let t = if BUFFERS { part.buffer_mut(self.index) } else { part.tensor_mut(self.index) };
            self.found = t.map(|t| if nested { t.in_scope(name) } else { t.in_layer(name) });
            self.index = usize::MAX;
        } else {
            self.index = self.index.saturating_sub(n);
        }
        self
    }
}

/// Scratch values of at most this many bytes live on the stack in [`with_scratch`]; larger ones on the heap (with
/// `alloc`), so that a big model neither overflows a thread's stack nor costs an allocation per step when it is
/// small.
#[cfg(feature = "alloc")]
const STACK_SCRATCH: usize = 16 * 1024;

/// Runs `f` on a zeroed value of type `V`: on the stack when it is small (or without `alloc`), on the heap when
/// it is large.
#[inline]
pub fn with_scratch<V: bytemuck::Zeroable, D>(f: impl FnOnce(&mut V) -> D) -> D {
    #[cfg(feature = "alloc")]
    if core::mem::size_of::<V>() > STACK_SCRATCH {
        return f(&mut boxed_zeroed::<V>());
    }
    f(&mut V::zeroed())
}

/// Runs `f` on a copy of `value` (on the stack when small, on the heap when large).
#[inline]
fn with_copy<V: Clone + bytemuck::Zeroable, D>(value: &V, f: impl FnOnce(&mut V) -> D) -> D {
    #[cfg(feature = "alloc")]
    if core::mem::size_of::<V>() > STACK_SCRATCH {
        let mut copy = boxed_zeroed::<V>();
        (*copy).clone_from(value);
        return f(&mut copy);
    }
    f(&mut value.clone())
}

/// Runs `backward` (a layer's own backward pass, writing its parameter gradients into a zeroed value of its
/// type) and then moves `layer`'s parameters by `-lr` times those gradients: plain SGD for layers whose input
/// and parameter gradients come out of one pass.
pub fn sgd_through_gradients<T, L, D>(layer: &mut L, lr: T, backward: impl FnOnce(&L, &mut L) -> D) -> D
where
    T: Float,
    L: Parameters<T> + bytemuck::Zeroable,
{
    with_scratch(|grads: &mut L| {
        let d = backward(layer, grads);
        layer.zip_mut(grads, |_, w, g| {
            for (w, &g) in w.iter_mut().zip(g) {
                *w -= lr * g;
            }
        });
        d
    })
}

/// A zero-initialised value built directly on the heap, never on the stack: how large networks, their
/// gradients and optimizer states are created.
#[cfg(feature = "alloc")]
pub fn boxed_zeroed<N: bytemuck::Zeroable>() -> alloc::boxed::Box<N> {
    bytemuck::zeroed_box()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_print_and_match_in_dotted_form() {
        let n = TensorName::new("weight").in_layer("fc1");
        assert_eq!(alloc::format!("{n}"), "fc1.weight");
        assert!(n.matches("fc1.weight"));
        assert!(!n.matches("fc1.bias"));
        assert!(!n.matches("fc1"));
        let s = n.in_scope("0");
        assert_eq!(alloc::format!("{s}"), "0.fc1.weight");
        assert!(s.matches("0.fc1.weight"));
        assert!(!s.matches("fc1.weight"));
        assert_eq!(alloc::format!("{}", TensorName::new("bias")), "bias");
        // Each composition level goes in front.
        let deep = n.in_scope("generator").in_scope("gan");
        assert_eq!(alloc::format!("{deep}"), "gan.generator.fc1.weight");
        assert!(deep.matches("gan.generator.fc1.weight"));
        assert!(!deep.matches("generator.gan.fc1.weight") && !deep.matches("gan.fc1.weight"));
    }
}
