//! The parameter visitor everything generic is written against: names, layouts and indexed access to every
//! tensor of a layer or network.

use crate::float::Float;
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
    /// [`Chain`](crate::Chain), `"0"`); unused entries are `""`.
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

/// A value whose parameters are those of its parts, in order, each named under its own name: what `network!`
/// implements for a generated network, and what its [`Parameters`] follow from.
///
/// ```
/// use nn_core::layer::Dense;
/// use nn_core::Parameters;
/// use nn_core::params::{Composite, PartsMut, PartsRef};
///
/// /// Two layers, named `encoder` and `decoder`.
/// #[derive(bytemuck::Zeroable)]
/// struct Pair {
///     encoder: Dense<f32, 3, 2>,
///     decoder: Dense<f32, 2, 3>,
/// }
///
/// impl Composite for Pair {
///     type Scalar = f32;
///     type Parts = (Dense<f32, 3, 2>, (Dense<f32, 2, 3>, ()));
///     const NAMES: &'static [(&'static str, bool)] = &[("encoder", false), ("decoder", false)];
///     fn parts(&self) -> PartsRef<'_, Self> {
///         (&self.encoder, (&self.decoder, ()))
///     }
///     fn parts_mut(&mut self) -> PartsMut<'_, Self> {
///         (&mut self.encoder, (&mut self.decoder, ()))
///     }
/// }
///
/// let pair: Pair = bytemuck::Zeroable::zeroed();
/// assert_eq!(Pair::TENSORS, 4);
/// assert_eq!(pair.tensor(2).unwrap().name.to_string(), "decoder.weight");
/// assert_eq!(pair.param_count(), 3 * 2 + 2 + 2 * 3 + 3);
/// ```
pub trait Composite {
    /// The scalar every part computes in.
    type Scalar: Float;
    /// The parts' types as a list of nested pairs ending in `()`: `(A, (B, ()))`.
    type Parts: Parts<Self::Scalar>;
    /// Each part's name and whether the part is a nested network, whose tensor names the name scopes
    /// (`encoder.fc1.weight`) instead of naming the layer (`fc1.weight`).
    const NAMES: &'static [(&'static str, bool)];
    /// One more than the deepest nested network's [`Parameters::DEPTH`]; 0 without nested networks.
    const DEPTH: usize = 0;
    /// The parts, borrowed, in the shape of [`Composite::Parts`].
    fn parts(&self) -> PartsRef<'_, Self>;
    /// The parts, borrowed mutably.
    fn parts_mut(&mut self) -> PartsMut<'_, Self>;
}

/// The borrowed parts of a [`Composite`]: `(&A, (&B, ()))`.
pub type PartsRef<'a, N> = <<N as Composite>::Parts as Parts<<N as Composite>::Scalar>>::Ref<'a>;
/// The mutably borrowed parts of a [`Composite`]: `(&mut A, (&mut B, ()))`.
pub type PartsMut<'a, N> = <<N as Composite>::Parts as Parts<<N as Composite>::Scalar>>::Mut<'a>;

/// A list of parts with parameters, as nested pairs ending in `()`: the tensors of the whole list are those of
/// the head followed by those of the tail.
pub trait Parts<T: Float> {
    /// How many tensors the list holds.
    const TENSORS: usize;
    /// How many state tensors the list holds.
    const BUFFERS: usize;
    /// The list borrowed.
    type Ref<'a>
    where
        Self: 'a;
    /// The list borrowed mutably.
    type Mut<'a>
    where
        Self: 'a;
    /// Tensor `index` of the list (a state tensor with `buffers`), named under the part's entry of `names`.
    fn find<'a>(
        parts: Self::Ref<'a>,
        names: &[(&'static str, bool)],
        index: usize,
        buffers: bool,
    ) -> Option<Tensor<'a, T>>;
    /// [`Parts::find`], mutably.
    fn find_mut<'a>(
        parts: Self::Mut<'a>,
        names: &[(&'static str, bool)],
        index: usize,
        buffers: bool,
    ) -> Option<TensorMut<'a, T>>;
}

impl<T: Float> Parts<T> for () {
    const TENSORS: usize = 0;
    const BUFFERS: usize = 0;
    type Ref<'a> = ();
    type Mut<'a> = ();

    #[inline]
    fn find<'a>(_: (), _: &[(&'static str, bool)], _: usize, _: bool) -> Option<Tensor<'a, T>> {
        None
    }

    #[inline]
    fn find_mut<'a>(_: (), _: &[(&'static str, bool)], _: usize, _: bool) -> Option<TensorMut<'a, T>> {
        None
    }
}

impl<T: Float, A: Parameters<T>, R: Parts<T>> Parts<T> for (A, R) {
    const TENSORS: usize = A::TENSORS + R::TENSORS;
    const BUFFERS: usize = A::BUFFERS + R::BUFFERS;
    type Ref<'a>
        = (&'a A, R::Ref<'a>)
    where
        Self: 'a;
    type Mut<'a>
        = (&'a mut A, R::Mut<'a>)
    where
        Self: 'a;

    #[inline]
    fn find<'a>(
        (head, tail): Self::Ref<'a>,
        names: &[(&'static str, bool)],
        index: usize,
        buffers: bool,
    ) -> Option<Tensor<'a, T>> {
        let ((name, nested), rest) = names.split_first()?;
        let n = if buffers { A::BUFFERS } else { A::TENSORS };
        if index >= n {
            return R::find(tail, rest, index - n, buffers);
        }
        let t = if buffers { head.buffer(index) } else { head.tensor(index) };
        t.map(|t| if *nested { t.in_scope(name) } else { t.in_layer(name) })
    }

    #[inline]
    fn find_mut<'a>(
        (head, tail): Self::Mut<'a>,
        names: &[(&'static str, bool)],
        index: usize,
        buffers: bool,
    ) -> Option<TensorMut<'a, T>> {
        let ((name, nested), rest) = names.split_first()?;
        let n = if buffers { A::BUFFERS } else { A::TENSORS };
        if index >= n {
            return R::find_mut(tail, rest, index - n, buffers);
        }
        let t = if buffers { head.buffer_mut(index) } else { head.tensor_mut(index) };
        t.map(|t| if *nested { t.in_scope(name) } else { t.in_layer(name) })
    }
}

impl<N: Composite> Parameters<N::Scalar> for N {
    const TENSORS: usize = <N::Parts as Parts<N::Scalar>>::TENSORS;
    const BUFFERS: usize = <N::Parts as Parts<N::Scalar>>::BUFFERS;
    const DEPTH: usize = N::DEPTH;

    #[inline]
    fn tensor(&self, index: usize) -> Option<Tensor<'_, N::Scalar>> {
        N::Parts::find(self.parts(), N::NAMES, index, false)
    }

    #[inline]
    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, N::Scalar>> {
        N::Parts::find_mut(self.parts_mut(), N::NAMES, index, false)
    }

    #[inline]
    fn buffer(&self, index: usize) -> Option<Tensor<'_, N::Scalar>> {
        N::Parts::find(self.parts(), N::NAMES, index, true)
    }

    #[inline]
    fn buffer_mut(&mut self, index: usize) -> Option<TensorMut<'_, N::Scalar>> {
        N::Parts::find_mut(self.parts_mut(), N::NAMES, index, true)
    }
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
