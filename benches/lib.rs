//! Baselines the benchmarks compare generated networks against.
//!
//! The networks benchmarked are declared here with `network!` ([`Net2x4x1`], [`Net16x32x32x4`],
//! [`Net64x128x10`]), next to [`DynMlp`]: the same multilayer perceptrons written the usual dynamic way, with
//! nalgebra's heap-allocated [`DMatrix`] and [`DVector`]. A [`DynMlp`] is built from a list of layer
//! [`Spec`]s and takes its weights from a generated network ([`DynMlp::from_network`]), so both compute the
//! same numbers and the benchmark compares only how they compute them.
//!
//! [`NaiveDense`] and [`Naive2`]/[`Naive3`] are the same networks again as a user would write them with
//! fixed-size nalgebra types: `&w * x + b` on `SMatrix`/`SVector`, then the standard library's activation on
//! every element (the "naive `SMatrix`" baseline). [`fma_peak`] measures what one core's fused multiply-add
//! units can do, the ceiling the GFLOP/s figures are quoted against.
//!
//! The recurrent benchmark streams single-sample LSTMs ([`Lstm8`], [`Lstm16`], [`Lstm32`]) and GRUs ([`Gru8`],
//! [`Gru16`], [`Gru32`]) one step at a time, beside [`DynLstm`] and [`DynGru`]: the same cells on [`DMatrix`] and
//! [`DVector`], with the weights copied from the generated layer.
#![deny(missing_docs)]

use nalgebra::{DMatrix, DVector, Dim, Matrix, RawStorage, RawStorageMut, SMatrix, SVector};
use nn_core::layer::{Gru, Lstm};
use nn_core::prelude::*;

network! {
    /// 2-4-1 with `Tanh` then `Sigmoid` (the XOR network).
    pub struct Net2x4x1<f32> { input: 2, Dense(4), Tanh, Dense(1), Sigmoid }
}

network! {
    /// 16-32-32-4 with `Relu` hidden layers and a linear output.
    pub struct Net16x32x32x4<f32> { input: 16, Dense(32), Relu, Dense(32), Relu, Dense(4) }
}

network! {
    /// 64-128-10 with a `Relu` hidden layer and a linear output.
    pub struct Net64x128x10<f32> { input: 64, Dense(128), Relu, Dense(10) }
}

network! {
    /// 784-128-10 with a `Relu` hidden layer and a linear output (the MNIST MLP).
    pub struct Net784x128x10<f32> { input: 784, Dense(128), Relu, Dense(10) }
}

network! {
    /// 256-256-256 with a `Relu` hidden layer and a linear output.
    pub struct Net256x256x256<f32> { input: 256, Dense(256), Relu, Dense(256) }
}

/// The layers of [`Net2x4x1`].
pub const SPEC_2_4_1: [Spec; 2] = [Spec::new(2, 4, Act::Tanh), Spec::new(4, 1, Act::Sigmoid)];

/// The layers of [`Net16x32x32x4`].
pub const SPEC_16_32_32_4: [Spec; 3] =
    [Spec::new(16, 32, Act::Relu), Spec::new(32, 32, Act::Relu), Spec::new(32, 4, Act::Identity)];

/// The layers of [`Net64x128x10`].
pub const SPEC_64_128_10: [Spec; 2] = [Spec::new(64, 128, Act::Relu), Spec::new(128, 10, Act::Identity)];

/// The layers of [`Net784x128x10`].
pub const SPEC_784_128_10: [Spec; 2] = [Spec::new(784, 128, Act::Relu), Spec::new(128, 10, Act::Identity)];

/// The layers of [`Net256x256x256`].
pub const SPEC_256_256_256: [Spec; 2] = [Spec::new(256, 256, Act::Relu), Spec::new(256, 256, Act::Identity)];

/// The activation after a [`DynMlp`] layer, applied elementwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// None: the layer is linear.
    Identity,
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic sigmoid.
    Sigmoid,
    /// `max(0, x)`.
    Relu,
}

impl Act {
    /// Applies the activation to every element of `v` (a vector or a batch) in place, with the same functions
    /// the generated network calls.
    #[inline]
    pub fn forward<R: Dim, C: Dim, S: RawStorageMut<f32, R, C>>(self, v: &mut Matrix<f32, R, C, S>) {
        match self {
            Act::Identity => {}
            Act::Tanh => v.apply(|e| *e = e.tanh()),
            Act::Sigmoid => v.apply(|e| *e = std_sigmoid(*e)),
            Act::Relu => v.apply(|e| *e = Relu.f(*e)),
        }
    }

    /// Multiplies `d` = dL/dy elementwise by dy/dx, written in terms of the output `y` alone (for ReLU,
    /// `y > 0` exactly when `x > 0`), turning it into dL/dx.
    #[inline]
    pub fn backward<R: Dim, C: Dim, S: RawStorageMut<f32, R, C>, Y: RawStorage<f32, R, C>>(
        self,
        y: &Matrix<f32, R, C, Y>,
        d: &mut Matrix<f32, R, C, S>,
    ) {
        match self {
            Act::Identity => {}
            Act::Tanh => d.zip_apply(y, |d, y| *d *= 1.0 - y * y),
            Act::Sigmoid => d.zip_apply(y, |d, y| *d *= y * (1.0 - y)),
            Act::Relu => d.zip_apply(y, |d, y| {
                if y <= 0.0 {
                    *d = 0.0;
                }
            }),
        }
    }
}

/// One dense layer of a [`DynMlp`]: `inputs` to `outputs`, then `act`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// Inputs of the layer.
    pub inputs: usize,
    /// Outputs of the layer.
    pub outputs: usize,
    /// The activation that follows it.
    pub act: Act,
}

impl Spec {
    /// A layer of `inputs` to `outputs` followed by `act`.
    pub const fn new(inputs: usize, outputs: usize, act: Act) -> Self {
        Self { inputs, outputs, act }
    }
}

/// A dense layer of a [`DynMlp`]: `y = act(W x + b)`.
#[derive(Clone, Debug, PartialEq)]
pub struct DynLayer {
    /// Weights, outputs x inputs.
    pub weight: DMatrix<f32>,
    /// Biases, one per output.
    pub bias: DVector<f32>,
    /// The activation applied to `W x + b`.
    pub act: Act,
}

/// A multilayer perceptron on dynamically sized nalgebra matrices: the baseline.
///
/// Its gradients are another `DynMlp` of the same shape, into which [`DynMlp::backward`] adds, as a generated
/// network's are.
#[derive(Clone, Debug, PartialEq)]
pub struct DynMlp {
    /// The layers, input first.
    pub layers: Vec<DynLayer>,
}

/// What [`DynMlp::forward_train`] keeps for [`DynMlp::backward`]: the input and every layer's activated output.
#[derive(Clone, Debug)]
pub struct DynCache {
    /// `acts[0]` is the input, `acts[i + 1]` the output of layer `i`.
    pub acts: Vec<DVector<f32>>,
}

impl DynCache {
    /// The network's output.
    pub fn output(&self) -> &DVector<f32> {
        self.acts.last().expect("a cache holds at least the input")
    }
}

impl DynMlp {
    /// A network of the given layers with every parameter zero (also the starting point for gradients).
    ///
    /// # Panics
    ///
    /// If a layer's inputs are not the previous layer's outputs.
    pub fn zeroed(spec: &[Spec]) -> Self {
        for pair in spec.windows(2) {
            assert_eq!(pair[0].outputs, pair[1].inputs, "layer sizes do not chain: {pair:?}");
        }
        let layers = spec
            .iter()
            .map(|s| DynLayer {
                weight: DMatrix::zeros(s.outputs, s.inputs),
                bias: DVector::zeros(s.outputs),
                act: s.act,
            })
            .collect();
        Self { layers }
    }

    /// A network of the given layers with the parameters of `net`, which must be a generated network with the
    /// same dense layers (tensors `weight`, `bias` per layer, in order, column-major).
    ///
    /// # Panics
    ///
    /// If `net`'s tensors do not have the shapes `spec` implies.
    pub fn from_network<N: Parameters<f32>>(spec: &[Spec], net: &N) -> Self {
        assert_eq!(N::TENSORS, 2 * spec.len(), "expected a weight and a bias per layer");
        let mut mlp = Self::zeroed(spec);
        for (i, layer) in mlp.layers.iter_mut().enumerate() {
            let (w, b) = (net.tensor(2 * i).expect("weight"), net.tensor(2 * i + 1).expect("bias"));
            assert_eq!((w.name.tensor, w.rows, w.cols), ("weight", layer.weight.nrows(), layer.weight.ncols()));
            assert_eq!((b.name.tensor, b.rows, b.cols), ("bias", layer.bias.len(), 1));
            layer.weight.copy_from_slice(w.data);
            layer.bias.copy_from_slice(b.data);
        }
        mlp
    }

    /// A network of the same shape with every parameter zero.
    pub fn zeros_like(&self) -> Self {
        let spec: Vec<Spec> =
            self.layers.iter().map(|l| Spec::new(l.weight.ncols(), l.weight.nrows(), l.act)).collect();
        Self::zeroed(&spec)
    }

    /// Inference: `act(W x + b)` layer after layer.
    pub fn forward(&self, x: &DVector<f32>) -> DVector<f32> {
        let mut v = x.clone();
        for l in &self.layers {
            v = l.apply(&v);
        }
        v
    }

    /// Inference on a batch whose columns are samples: nalgebra's dynamic `gemm` (`matrixmultiply`) per layer.
    pub fn forward_batch(&self, x: &DMatrix<f32>) -> DMatrix<f32> {
        let mut v = x.clone();
        for l in &self.layers {
            let mut y = DMatrix::<f32>::from_fn(l.bias.len(), v.ncols(), |r, _| l.bias[r]);
            y.gemm(1.0, &l.weight, &v, 1.0);
            l.act.forward(&mut y);
            v = y;
        }
        v
    }

    /// Training forward: keeps the input and every layer's output for [`DynMlp::backward`].
    pub fn forward_train(&self, x: &DVector<f32>) -> DynCache {
        let mut acts = Vec::with_capacity(self.layers.len() + 1);
        acts.push(x.clone());
        for l in &self.layers {
            let y = l.apply(acts.last().expect("not empty"));
            acts.push(y);
        }
        DynCache { acts }
    }

    /// Backward pass from a training forward's cache and `dy` = dL/dy: **adds** dL/dW = d x^T and dL/db = d
    /// for every layer into `grads`, and returns dL/dx.
    pub fn backward(&self, cache: &DynCache, dy: &DVector<f32>, grads: &mut DynMlp) -> DVector<f32> {
        let mut d = dy.clone();
        for (i, (l, g)) in self.layers.iter().zip(&mut grads.layers).enumerate().rev() {
            l.act.backward(&cache.acts[i + 1], &mut d);
            g.weight.ger(1.0, &d, &cache.acts[i], 1.0);
            g.bias += &d;
            d = l.weight.tr_mul(&d);
        }
        d
    }
}

impl DynMlp {
    /// One training step on a batch whose columns are samples, with the mean-squared-error loss averaged over
    /// the batch: matrix-matrix products throughout (nalgebra's dynamic `gemm`, which uses `matrixmultiply`).
    /// Adds the gradients into `grads` and returns the loss.
    pub fn backprop_batch(&self, x: &DMatrix<f32>, t: &DMatrix<f32>, grads: &mut DynMlp) -> f32 {
        let mut acts = Vec::with_capacity(self.layers.len() + 1);
        acts.push(x.clone());
        for l in &self.layers {
            let input = acts.last().expect("not empty");
            let mut y = DMatrix::<f32>::from_fn(l.bias.len(), input.ncols(), |r, _| l.bias[r]);
            y.gemm(1.0, &l.weight, input, 1.0);
            l.act.forward(&mut y);
            acts.push(y);
        }
        let y = acts.last().expect("not empty");
        let n = (y.nrows() * y.ncols()) as f32;
        let loss = (y - t).map(|e| e * e).sum() / n;
        let mut d = (y - t) * (2.0 / n);
        for (i, (l, g)) in self.layers.iter().zip(&mut grads.layers).enumerate().rev() {
            l.act.backward(&acts[i + 1], &mut d);
            g.weight.gemm(1.0, &d, &acts[i].transpose(), 1.0);
            g.bias += d.column_sum();
            // The input gradient of the first layer is not needed for training.
            if i > 0 {
                d = l.weight.tr_mul(&d);
            }
        }
        loss
    }

    /// One training step's gradients for one sample with the mean-squared-error loss: the forward, then
    /// [`DynMlp::backward`] without the first layer's input gradient (which training discards), as
    /// [`Network::backprop`] does. Adds the gradients into `grads`.
    pub fn backprop(&self, x: &DVector<f32>, t: &DVector<f32>, grads: &mut DynMlp) {
        let cache = self.forward_train(x);
        let mut d = mse_gradient(cache.output(), t);
        for (i, (l, g)) in self.layers.iter().zip(&mut grads.layers).enumerate().rev() {
            l.act.backward(&cache.acts[i + 1], &mut d);
            g.weight.ger(1.0, &d, &cache.acts[i], 1.0);
            g.bias += &d;
            if i > 0 {
                d = l.weight.tr_mul(&d);
            }
        }
    }

    /// Plain SGD on every parameter: `w -= lr * g`.
    pub fn sgd_step(&mut self, grads: &DynMlp, lr: f32) {
        for (l, g) in self.layers.iter_mut().zip(&grads.layers) {
            l.weight.zip_apply(&g.weight, |w, g| *w -= lr * g);
            l.bias.zip_apply(&g.bias, |w, g| *w -= lr * g);
        }
    }
}

impl DynLayer {
    /// `act(W x + b)`.
    #[inline]
    fn apply(&self, x: &DVector<f32>) -> DVector<f32> {
        let mut y = self.bias.clone();
        y.gemv(1.0, &self.weight, x, 1.0);
        self.act.forward(&mut y);
        y
    }
}

/// A dense layer written the plain fixed-size nalgebra way: `act(&w * x + b)` with `SMatrix`/`SVector`
/// (borrowing the weights: `SMatrix` is `Copy`, and `w * x` would copy them) and the standard library's
/// activation applied element by element.
#[derive(Clone, Debug, PartialEq)]
pub struct NaiveDense<const I: usize, const O: usize> {
    /// Weights, `O x I`.
    pub weight: SMatrix<f32, O, I>,
    /// Biases.
    pub bias: SVector<f32, O>,
    /// The activation after the product.
    pub act: Act,
}

// `&self.weight * x` on purpose: `SMatrix` is `Copy`, and `self.weight * x` would copy the whole matrix.
#[allow(clippy::op_ref)]
impl<const I: usize, const O: usize> NaiveDense<I, O> {
    /// The layer with the parameters of tensors `index` (weight) and `index + 1` (bias) of `net`.
    ///
    /// # Panics
    ///
    /// If those tensors do not have the shapes `O x I` and `O`.
    pub fn from_network<N: Parameters<f32>>(net: &N, index: usize, act: Act) -> Self {
        let (w, b) = (net.tensor(index).expect("weight"), net.tensor(index + 1).expect("bias"));
        assert_eq!((w.rows, w.cols, b.rows), (O, I, O), "tensor shapes");
        Self { weight: SMatrix::from_column_slice(w.data), bias: SVector::from_column_slice(b.data), act }
    }

    /// One sample: `act(&w * x + b)`.
    #[inline]
    pub fn forward(&self, x: &SVector<f32, I>) -> SVector<f32, O> {
        let mut y = &self.weight * x + &self.bias;
        self.act.forward(&mut y);
        y
    }

    /// A batch whose columns are samples: nalgebra's fixed-size matrix product, the bias added to every column.
    #[inline]
    pub fn forward_batch<const B: usize>(&self, x: &SMatrix<f32, I, B>) -> SMatrix<f32, O, B> {
        let mut y = &self.weight * x;
        for mut col in y.column_iter_mut() {
            col += &self.bias;
        }
        self.act.forward(&mut y);
        y
    }
}

/// Two [`NaiveDense`] layers, `I -> H -> O`.
#[derive(Clone, Debug, PartialEq)]
pub struct Naive2<const I: usize, const H: usize, const O: usize>(pub NaiveDense<I, H>, pub NaiveDense<H, O>);

impl<const I: usize, const H: usize, const O: usize> Naive2<I, H, O> {
    /// The network with the parameters of a generated two-layer network `net` and the activations of `spec`.
    pub fn from_network<N: Parameters<f32>>(net: &N, spec: &[Spec; 2]) -> Self {
        Self(NaiveDense::from_network(net, 0, spec[0].act), NaiveDense::from_network(net, 2, spec[1].act))
    }

    /// One sample.
    #[inline]
    pub fn forward(&self, x: &SVector<f32, I>) -> SVector<f32, O> {
        self.1.forward(&self.0.forward(x))
    }

    /// A batch whose columns are samples.
    #[inline]
    pub fn forward_batch<const B: usize>(&self, x: &SMatrix<f32, I, B>) -> SMatrix<f32, O, B> {
        self.1.forward_batch(&self.0.forward_batch(x))
    }
}

/// Three [`NaiveDense`] layers, `I -> H1 -> H2 -> O`.
#[derive(Clone, Debug, PartialEq)]
pub struct Naive3<const I: usize, const H1: usize, const H2: usize, const O: usize>(
    pub NaiveDense<I, H1>,
    pub NaiveDense<H1, H2>,
    pub NaiveDense<H2, O>,
);

impl<const I: usize, const H1: usize, const H2: usize, const O: usize> Naive3<I, H1, H2, O> {
    /// The network with the parameters of a generated three-layer network `net` and the activations of `spec`.
    pub fn from_network<N: Parameters<f32>>(net: &N, spec: &[Spec; 3]) -> Self {
        Self(
            NaiveDense::from_network(net, 0, spec[0].act),
            NaiveDense::from_network(net, 2, spec[1].act),
            NaiveDense::from_network(net, 4, spec[2].act),
        )
    }

    /// One sample.
    #[inline]
    pub fn forward(&self, x: &SVector<f32, I>) -> SVector<f32, O> {
        self.2.forward(&self.1.forward(&self.0.forward(x)))
    }
}

/// Independent accumulators in [`fma_peak`]: enough to cover the latency of the fused multiply-add units.
const PEAK_CHAINS: usize = 16;

/// [`PEAK_CHAINS`] with AVX2: its sixteen vector registers cannot hold sixteen accumulators and the two operands,
/// and the spills held a Zen 1 core to 20-25 GFLOP/s, below what the 256-256-256 product reached at batch 256;
/// twelve cover a latency of six cycles at two multiply-adds per cycle.
const PEAK_CHAINS_AVX2: usize = 12;

/// Floating-point operations (two per fused multiply-add) that one call of [`fma_peak`] with `rounds` performs,
/// at the vector width it uses: the ceiling that GFLOP/s figures are quoted against.
pub fn fma_peak_flops(rounds: usize) -> u64 {
    let chains = if fma_peak_lanes() == 8 { PEAK_CHAINS_AVX2 } else { PEAK_CHAINS };
    (rounds * chains * 2 * fma_peak_lanes()) as u64
}

/// The `f32` lanes of the widest FMA unit this machine has: 16 with AVX-512, 8 with AVX2 and FMA, 4 (SSE2,
/// separate multiply and add) otherwise.
pub fn fma_peak_lanes() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return 16;
        }
        if std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2") {
            return 8;
        }
    }
    4
}

/// Runs `rounds` rounds of sixteen (twelve with AVX2, see `PEAK_CHAINS_AVX2`) independent fused multiply-adds on
/// the widest vectors this machine has (detected at run time, so the figure is the machine's, whatever the build's
/// target), and returns a value that depends on all of them.
pub fn fma_peak(rounds: usize) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above.
            #[allow(unsafe_code)]
            return unsafe { peak::avx512(rounds) };
        }
        if std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 and FMA, checked just above.
            #[allow(unsafe_code)]
            return unsafe { peak::avx2(rounds) };
        }
    }
    peak::portable(rounds)
}

/// The loops of [`fma_peak`], one per instruction set.
mod peak {
    use super::{PEAK_CHAINS, PEAK_CHAINS_AVX2};

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    pub(super) fn avx512(rounds: usize) -> f32 {
        use std::arch::x86_64::*;
        let (a, b) = (_mm512_set1_ps(0.999_9), _mm512_set1_ps(1e-4));
        let mut acc = [_mm512_set1_ps(0.0); PEAK_CHAINS];
        for _ in 0..rounds {
            for v in &mut acc {
                *v = _mm512_fmadd_ps(*v, a, b);
            }
        }
        acc.iter().map(|v| _mm512_reduce_add_ps(*v)).sum()
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn avx2(rounds: usize) -> f32 {
        use std::arch::x86_64::*;
        let (a, b) = (_mm256_set1_ps(0.999_9), _mm256_set1_ps(1e-4));
        let mut acc = [_mm256_set1_ps(0.0); PEAK_CHAINS_AVX2];
        for _ in 0..rounds {
            for v in &mut acc {
                *v = _mm256_fmadd_ps(*v, a, b);
            }
        }
        let mut sum = _mm256_set1_ps(0.0);
        for v in acc {
            sum = _mm256_add_ps(sum, v);
        }
        let half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
        let pairs = _mm_hadd_ps(half, half);
        _mm_cvtss_f32(_mm_hadd_ps(pairs, pairs))
    }

    /// Four lanes of separate multiplies and adds, which any target vectorises.
    pub(super) fn portable(rounds: usize) -> f32 {
        let mut acc = [[0.0f32; 4]; PEAK_CHAINS];
        for _ in 0..rounds {
            for chain in &mut acc {
                for v in chain.iter_mut() {
                    *v = *v * 0.999_9 + 1e-4;
                }
            }
        }
        acc.iter().flatten().sum()
    }
}

/// The mean-squared-error gradient `2 (y - t) / n`, as [`MeanSquaredError`] computes it.
pub fn mse_gradient(y: &DVector<f32>, t: &DVector<f32>) -> DVector<f32> {
    let scale = 2.0 / y.len().max(1) as f32;
    (y - t) * scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use nn_core::rand::rngs::ChaCha8Rng;
    use nn_core::rand::{RngExt, SeedableRng};

    fn close(what: &str, got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len(), "{what}: lengths");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() <= 1e-5, "{what}[{i}]: dmatrix {g}, generated {w}");
        }
    }

    /// Forward output, parameter gradients and input gradient agree with the generated network.
    fn agrees<N>(spec: &[Spec])
    where
        N: Network<Scalar = f32> + Initialize + Boxed,
    {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut net = N::boxed_init(&mut rng);
        // Non-zero biases, so that copying them is checked too.
        net.visit_mut(|t| {
            if t.name.tensor == "bias" {
                t.data.iter_mut().for_each(|v| *v = rng.random_range(-0.5..0.5));
            }
        });
        let mlp = DynMlp::from_network(spec, &*net);

        let mut grads = N::boxed_zeroed();
        let mut dyn_grads = mlp.zeros_like();
        for _ in 0..3 {
            let mut x = N::Input::zeros();
            x.as_mut_slice().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
            let mut t = N::Output::zeros();
            t.as_mut_slice().iter_mut().for_each(|v| *v = rng.random_range(0.0..1.0));
            let (dx_in, dt) = (DVector::from_column_slice(x.as_slice()), DVector::from_column_slice(t.as_slice()));

            close("forward", mlp.forward(&dx_in).as_slice(), net.forward(&x).as_slice());

            let (y, cache) = net.forward_train(&x, &mut nn_core::seeded_rng(0));
            let dy = MeanSquaredError.gradient(&y, &t);
            let dx = net.backward(&cache, &dy, &mut grads);

            let dyn_cache = mlp.forward_train(&dx_in);
            close("train output", dyn_cache.output().as_slice(), y.as_slice());
            let dyn_dy = mse_gradient(dyn_cache.output(), &dt);
            close("loss gradient", dyn_dy.as_slice(), dy.as_slice());
            let dyn_dx = mlp.backward(&dyn_cache, &dyn_dy, &mut dyn_grads);
            close("input gradient", dyn_dx.as_slice(), dx.as_slice());

            // Accumulated over the samples so far, as in the benchmark.
            for (i, l) in dyn_grads.layers.iter().enumerate() {
                let (w, b) = (grads.tensor(2 * i).unwrap(), grads.tensor(2 * i + 1).unwrap());
                assert!(w.data.iter().any(|v| *v != 0.0), "layer {i} has a weight gradient");
                close("weight gradient", l.weight.as_slice(), w.data);
                close("bias gradient", l.bias.as_slice(), b.data);
            }
        }
    }

    #[test]
    fn dmatrix_baseline_matches_the_generated_networks() {
        agrees::<Net2x4x1>(&SPEC_2_4_1);
        agrees::<Net16x32x32x4>(&SPEC_16_32_32_4);
        agrees::<Net64x128x10>(&SPEC_64_128_10);
    }

    #[test]
    fn from_network_copies_column_major_weights() {
        let mut net = Net2x4x1::zeroed();
        net.fc1.weight[(3, 1)] = 7.0;
        net.fc2.bias[0] = -2.0;
        let mlp = DynMlp::from_network(&SPEC_2_4_1, &net);
        assert_eq!(mlp.layers[0].weight[(3, 1)], 7.0);
        assert_eq!(mlp.layers[0].weight.iter().filter(|v| **v != 0.0).count(), 1);
        assert_eq!(mlp.layers[1].bias[0], -2.0);
    }

    #[test]
    #[should_panic(expected = "weight")]
    fn from_network_refuses_a_mismatched_spec() {
        DynMlp::from_network(&[Spec::new(2, 4, Act::Tanh), Spec::new(4, 2, Act::Sigmoid)], &Net2x4x1::zeroed());
    }

    #[test]
    fn per_sample_training_baseline_matches_backprop() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let net = Net64x128x10::boxed_init(&mut rng);
        let mlp = DynMlp::from_network(&SPEC_64_128_10, &*net);
        let x = nalgebra::SVector::<f32, 64>::from_fn(|_, _| rng.random_range(-1.0..1.0));
        let t = nalgebra::SVector::<f32, 10>::from_fn(|_, _| rng.random_range(0.0..1.0));
        let mut grads = Net64x128x10::boxed_zeroed();
        net.backprop(&x, &t, &MeanSquaredError, &mut grads, &mut rng);
        let mut dyn_grads = mlp.zeros_like();
        mlp.backprop(
            &DVector::from_column_slice(x.as_slice()),
            &DVector::from_column_slice(t.as_slice()),
            &mut dyn_grads,
        );
        close("fc1.weight", dyn_grads.layers[0].weight.as_slice(), grads.fc1.weight.as_slice());
        close("fc2.bias", dyn_grads.layers[1].bias.as_slice(), grads.fc2.bias.as_slice());
    }

    #[test]
    fn batched_baseline_matches_the_generated_batch() {
        const B: usize = 5;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut net = Net64x128x10::boxed_init(&mut rng);
        net.fc1.bias.iter_mut().for_each(|b| *b = rng.random_range(-0.1..0.1));
        let mlp = DynMlp::from_network(&SPEC_64_128_10, &*net);
        let x = nalgebra::SMatrix::<f32, 64, B>::from_fn(|_, _| rng.random_range(-1.0..1.0));
        let t = nalgebra::SMatrix::<f32, 10, B>::from_fn(|_, _| rng.random_range(0.0..1.0));
        let mut grads = Net64x128x10::boxed_zeroed();
        let (y, cache) = net.forward_train_batch::<B, _>(&x, &mut rng);
        let (loss, dy) = MeanSquaredError.value_and_gradient(&y, &t);
        net.backward_batch::<B>(&cache, &dy, &mut grads);
        let mut dyn_grads = mlp.zeros_like();
        let dx = DMatrix::from_column_slice(64, B, x.as_slice());
        let dt = DMatrix::from_column_slice(10, B, t.as_slice());
        let dyn_loss = mlp.backprop_batch(&dx, &dt, &mut dyn_grads);
        // MeanSquaredError averages over outputs per sample, then over samples: the same mean over all.
        assert!((loss - dyn_loss).abs() < 1e-5, "{loss} vs {dyn_loss}");
        close("fc1.weight", dyn_grads.layers[0].weight.as_slice(), grads.fc1.weight.as_slice());
        close("fc1.bias", dyn_grads.layers[0].bias.as_slice(), grads.fc1.bias.as_slice());
        close("fc2.weight", dyn_grads.layers[1].weight.as_slice(), grads.fc2.weight.as_slice());
    }
}

/// The shape of a square-strided, square-padded 2-D convolution without dilation, as [`conv2d_naive`] takes it:
/// `c_in` planes of `h x w` to `c_out` planes of [`ConvShape::out_h`] x [`ConvShape::out_w`], channel-major
/// (`NCHW` for one sample), as `nn_core`'s convolution layers store activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Input channels.
    pub c_in: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub c_out: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride along both axes.
    pub stride: usize,
    /// Zero padding on every side.
    pub padding: usize,
}

impl ConvShape {
    /// Output height: `(h + 2 padding - kh) / stride + 1`.
    pub const fn out_h(&self) -> usize {
        (self.h + 2 * self.padding - self.kh) / self.stride + 1
    }

    /// Output width: `(w + 2 padding - kw) / stride + 1`.
    pub const fn out_w(&self) -> usize {
        (self.w + 2 * self.padding - self.kw) / self.stride + 1
    }

    /// The same convolution as an `nn_core` [`Geometry`](nn_core::layer::Geometry) (dilation 1).
    pub const fn geometry(&self) -> nn_core::layer::Geometry {
        let (s, p) = (self.stride, self.padding);
        nn_core::layer::Geometry::new2d(self.c_in, self.h, self.w, (self.kh, self.kw), (s, s), (p, p), (1, 1))
    }
}

/// The weights of a convolution layer `CO x K` in PyTorch's `[c_out][c_in][kh][kw]` order, contiguous, as
/// [`conv2d_naive`] reads them (the layer stores them column-major, so this is its transpose).
pub fn conv_weights_oihw<const CO: usize, const K: usize>(weight: &nalgebra::SMatrix<f32, CO, K>) -> Vec<f32> {
    let mut out = Vec::with_capacity(CO * K);
    for co in 0..CO {
        out.extend((0..K).map(|k| weight[(co, k)]));
    }
    out
}

/// A 2-D convolution written the textbook way, as the baseline for the lowered (im2col + GEMM) layer: six
/// nested loops over output channel, input channel, output row, output column, kernel row and kernel column,
/// with a bounds check on every input read for the zero padding.
///
/// `weight` is `[c_out][c_in][kh][kw]` ([`conv_weights_oihw`]), `bias` has `c_out` values, `x` is
/// `c_in x h x w` and `y` is `c_out x out_h x out_w`, both channel-major; `y` is overwritten.
///
/// # Panics
///
/// If a slice is shorter than the shape implies.
pub fn conv2d_naive(s: &ConvShape, weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    for co in 0..s.c_out {
        for oh in 0..oh_n {
            for ow in 0..ow_n {
                y[(co * oh_n + oh) * ow_n + ow] = bias[co];
            }
        }
        for ci in 0..s.c_in {
            for oh in 0..oh_n {
                for ow in 0..ow_n {
                    let mut sum = 0.0;
                    for kh in 0..s.kh {
                        for kw in 0..s.kw {
                            let ih = (oh * s.stride + kh) as isize - s.padding as isize;
                            let iw = (ow * s.stride + kw) as isize - s.padding as isize;
                            if ih >= 0 && ih < s.h as isize && iw >= 0 && iw < s.w as isize {
                                let input = x[(ci * s.h + ih as usize) * s.w + iw as usize];
                                sum += input * weight[((co * s.c_in + ci) * s.kh + kh) * s.kw + kw];
                            }
                        }
                    }
                    y[(co * oh_n + oh) * ow_n + ow] += sum;
                }
            }
        }
    }
}

/// The smaller benchmarked convolution: 1 to 8 channels, 5x5, stride 1, no padding, 28x28 to 24x24.
pub const CONV_1X28X28_8K5: ConvShape =
    ConvShape { c_in: 1, h: 28, w: 28, c_out: 8, kh: 5, kw: 5, stride: 1, padding: 0 };

/// The larger benchmarked convolution: 16 to 32 channels, 3x3, stride 1, padding 1, 14x14 to 14x14.
pub const CONV_16X14X14_32K3P1: ConvShape =
    ConvShape { c_in: 16, h: 14, w: 14, c_out: 32, kh: 3, kw: 3, stride: 1, padding: 1 };

/// A mid-network 3x3 convolution: 64 to 64 channels on 8x8, stride 1, padding 1.
pub const CONV_64X8X8_64K3P1: ConvShape =
    ConvShape { c_in: 64, h: 8, w: 8, c_out: 64, kh: 3, kw: 3, stride: 1, padding: 1 };

/// A pointwise (1x1) convolution: 64 to 128 channels on 8x8.
pub const CONV_64X8X8_128K1: ConvShape =
    ConvShape { c_in: 64, h: 8, w: 8, c_out: 128, kh: 1, kw: 1, stride: 1, padding: 0 };

#[cfg(test)]
mod conv_tests {
    use super::*;
    use nalgebra::{SMatrix, SVector};
    use nn_core::layer::Conv2d;
    use nn_core::rand::rngs::ChaCha8Rng;
    use nn_core::rand::{RngExt, SeedableRng};

    /// The naive loops and the lowered layer agree to 1e-4 on random weights, biases and input.
    fn agree<const CO: usize, const K: usize, const KH: usize, const KW: usize, const IN: usize, const OUT: usize>(
        s: &ConvShape,
    ) {
        let g = s.geometry();
        assert_eq!((g.inputs(), CO * g.positions(), g.receptive()), (IN, OUT, K));
        assert_eq!((g.out_h(), g.out_w()), (s.out_h(), s.out_w()));
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let layer = Conv2d::<f32, CO, K, KH, KW>::new(
            SMatrix::from_fn(|_, _| rng.random_range(-0.5..0.5)),
            SVector::from_fn(|_, _| rng.random_range(-0.5..0.5)),
        );
        let x = SMatrix::<f32, IN, 1>::from_fn(|_, _| rng.random_range(-1.0..1.0));
        let lowered = layer.forward::<IN, OUT, 1>(&g, &x);
        let mut naive = vec![f32::NAN; OUT];
        conv2d_naive(s, &conv_weights_oihw(&layer.weight), layer.bias.as_slice(), x.as_slice(), &mut naive);
        for (i, (n, l)) in naive.iter().zip(lowered.as_slice()).enumerate() {
            assert!((n - l).abs() <= 1e-4, "{s:?} output {i}: naive {n}, lowered {l}");
        }
    }

    #[test]
    fn naive_convolution_matches_the_lowered_layer() {
        agree::<8, 25, 5, 5, 784, 4608>(&CONV_1X28X28_8K5);
        agree::<32, 144, 3, 3, 3136, 6272>(&CONV_16X14X14_32K3P1);
        agree::<64, 576, 3, 3, 4096, 4096>(&CONV_64X8X8_64K3P1);
        agree::<128, 64, 1, 1, 4096, 8192>(&CONV_64X8X8_128K1);
    }
}

network! {
    /// One LSTM layer of 8 units on a single-sample stream.
    pub struct Lstm8<f32> { input: Seq(1, 1), lstm: Lstm(8) }
}

network! {
    /// One LSTM layer of 16 units on a single-sample stream.
    pub struct Lstm16<f32> { input: Seq(1, 1), lstm: Lstm(16) }
}

network! {
    /// One LSTM layer of 32 units on a single-sample stream.
    pub struct Lstm32<f32> { input: Seq(1, 1), lstm: Lstm(32) }
}

network! {
    /// One GRU layer of 8 units on a single-sample stream.
    pub struct Gru8<f32> { input: Seq(1, 1), gru: Gru(8) }
}

network! {
    /// One GRU layer of 16 units on a single-sample stream.
    pub struct Gru16<f32> { input: Seq(1, 1), gru: Gru(16) }
}

network! {
    /// One GRU layer of 32 units on a single-sample stream.
    pub struct Gru32<f32> { input: Seq(1, 1), gru: Gru(32) }
}

/// The logistic sigmoid as typical code writes it, with the standard library's `exp` (the baselines use the
/// standard library's elementary functions throughout; the generated networks use `nn_core::fast`).
#[inline]
pub fn std_sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// The weights and biases of a recurrent cell in PyTorch's layout, on dynamically sized matrices: `G x I` input
/// weights, `G x H` hidden weights and two biases of `G` (the gate rows stacked).
#[derive(Clone, Debug, PartialEq)]
pub struct DynCellWeights {
    /// Input-to-gates weights.
    pub weight_ih: DMatrix<f32>,
    /// Hidden-to-gates weights.
    pub weight_hh: DMatrix<f32>,
    /// Input-side biases.
    pub bias_ih: DVector<f32>,
    /// Hidden-side biases.
    pub bias_hh: DVector<f32>,
}

impl DynCellWeights {
    fn copy<const I: usize, const H: usize, const G: usize>(
        weight_ih: &nalgebra::SMatrix<f32, G, I>,
        weight_hh: &nalgebra::SMatrix<f32, G, H>,
        bias_ih: &nalgebra::SVector<f32, G>,
        bias_hh: &nalgebra::SVector<f32, G>,
    ) -> Self {
        Self {
            weight_ih: DMatrix::from_column_slice(G, I, weight_ih.as_slice()),
            weight_hh: DMatrix::from_column_slice(G, H, weight_hh.as_slice()),
            bias_ih: DVector::from_column_slice(bias_ih.as_slice()),
            bias_hh: DVector::from_column_slice(bias_hh.as_slice()),
        }
    }

    /// Hidden units.
    pub fn hidden(&self) -> usize {
        self.weight_hh.ncols()
    }
}

/// An LSTM cell on [`DMatrix`] and [`DVector`], stepped one input at a time as PyTorch's `nn.LSTM` computes it:
///
/// ```text
/// a = W_ih x + b_ih + W_hh h + b_hh      (gates i, f, g, o stacked)
/// c = sigmoid(a_f) * c + sigmoid(a_i) * tanh(a_g)
/// h = sigmoid(a_o) * tanh(c)
/// ```
///
/// The gate buffer is allocated once and reused by every step.
#[derive(Clone, Debug, PartialEq)]
pub struct DynLstm {
    /// The weights, copied from a generated layer.
    pub weights: DynCellWeights,
    gates: DVector<f32>,
}

/// The state an LSTM carries from one step to the next.
#[derive(Clone, Debug, PartialEq)]
pub struct DynLstmState {
    /// Hidden state (the output).
    pub h: DVector<f32>,
    /// Cell state.
    pub c: DVector<f32>,
}

impl DynLstm {
    /// A cell with the weights of `layer`.
    pub fn from_layer<const I: usize, const H: usize, const G: usize, const S: usize, const K: usize>(
        layer: &Lstm<f32, I, H, G, 0, S, K>,
    ) -> Self {
        let weights = DynCellWeights::copy(&layer.weight_ih, &layer.weight_hh, &layer.bias_ih, &layer.bias_hh);
        Self { weights, gates: DVector::zeros(G) }
    }

    /// The zero state.
    pub fn state(&self) -> DynLstmState {
        let h = self.weights.hidden();
        DynLstmState { h: DVector::zeros(h), c: DVector::zeros(h) }
    }

    /// One step on input `x`: updates `state` and returns the new hidden state.
    pub fn step<'s>(&mut self, state: &'s mut DynLstmState, x: &DVector<f32>) -> &'s DVector<f32> {
        let w = &self.weights;
        let a = &mut self.gates;
        a.copy_from(&w.bias_ih);
        *a += &w.bias_hh;
        a.gemv(1.0, &w.weight_ih, x, 1.0);
        a.gemv(1.0, &w.weight_hh, &state.h, 1.0);
        let n = state.h.len();
        for j in 0..n {
            let (i, f, g, o) =
                (std_sigmoid(a[j]), std_sigmoid(a[n + j]), a[2 * n + j].tanh(), std_sigmoid(a[3 * n + j]));
            state.c[j] = f * state.c[j] + i * g;
            state.h[j] = o * state.c[j].tanh();
        }
        &state.h
    }
}

/// A GRU cell on [`DMatrix`] and [`DVector`], stepped one input at a time as PyTorch's `nn.GRU` computes it:
///
/// ```text
/// ai = W_ih x + b_ih   ah = W_hh h + b_hh      (gates r, z, n stacked)
/// r = sigmoid(ai_r + ah_r)   z = sigmoid(ai_z + ah_z)   n = tanh(ai_n + r * ah_n)
/// h = (1 - z) * n + z * h
/// ```
///
/// The two gate buffers are allocated once and reused by every step.
#[derive(Clone, Debug, PartialEq)]
pub struct DynGru {
    /// The weights, copied from a generated layer.
    pub weights: DynCellWeights,
    input_side: DVector<f32>,
    hidden_side: DVector<f32>,
}

impl DynGru {
    /// A cell with the weights of `layer`.
    pub fn from_layer<const I: usize, const H: usize, const G: usize, const S: usize, const K: usize>(
        layer: &Gru<f32, I, H, G, 0, S, K>,
    ) -> Self {
        let weights = DynCellWeights::copy(&layer.weight_ih, &layer.weight_hh, &layer.bias_ih, &layer.bias_hh);
        Self { weights, input_side: DVector::zeros(G), hidden_side: DVector::zeros(G) }
    }

    /// The zero state: the hidden vector.
    pub fn state(&self) -> DVector<f32> {
        DVector::zeros(self.weights.hidden())
    }

    /// One step on input `x`: updates the hidden state `h` in place.
    pub fn step(&mut self, h: &mut DVector<f32>, x: &DVector<f32>) {
        let w = &self.weights;
        let (ai, ah) = (&mut self.input_side, &mut self.hidden_side);
        ai.copy_from(&w.bias_ih);
        ai.gemv(1.0, &w.weight_ih, x, 1.0);
        ah.copy_from(&w.bias_hh);
        ah.gemv(1.0, &w.weight_hh, &*h, 1.0);
        let n = h.len();
        for j in 0..n {
            let r = std_sigmoid(ai[j] + ah[j]);
            let z = std_sigmoid(ai[n + j] + ah[n + j]);
            let c = (ai[2 * n + j] + r * ah[2 * n + j]).tanh();
            h[j] = (1.0 - z) * c + z * h[j];
        }
    }
}

/// An LSTM cell written the plain fixed-size nalgebra way (the "naive `SMatrix`" baseline): the gate
/// pre-activations as `&w_ih * x + &w_hh * h + b`, then the standard library's `tanh` and a sigmoid on every gate
/// value, one `map` per gate.
#[derive(Clone, Debug, PartialEq)]
pub struct NaiveLstm<const I: usize, const H: usize, const G: usize> {
    /// Input-to-gates weights.
    pub weight_ih: SMatrix<f32, G, I>,
    /// Hidden-to-gates weights.
    pub weight_hh: SMatrix<f32, G, H>,
    /// The two biases, summed.
    pub bias: SVector<f32, G>,
}

// `&w * x` on purpose: `SMatrix` is `Copy`, and `w * x` would copy the whole matrix.
#[allow(clippy::op_ref)]
impl<const I: usize, const H: usize, const G: usize> NaiveLstm<I, H, G> {
    /// A cell with the weights of `layer`.
    pub fn from_layer<const S: usize, const K: usize>(layer: &Lstm<f32, I, H, G, 0, S, K>) -> Self {
        Self { weight_ih: layer.weight_ih, weight_hh: layer.weight_hh, bias: layer.bias_ih + layer.bias_hh }
    }

    /// One step on input `x`, updating the hidden state `h` and the cell state `c`.
    #[inline]
    pub fn step(&self, h: &mut SVector<f32, H>, c: &mut SVector<f32, H>, x: &SVector<f32, I>) {
        let a = &self.weight_ih * x + &self.weight_hh * &*h + &self.bias;
        let i = a.fixed_rows::<H>(0).map(std_sigmoid);
        let f = a.fixed_rows::<H>(H).map(std_sigmoid);
        let g = a.fixed_rows::<H>(2 * H).map(f32::tanh);
        let o = a.fixed_rows::<H>(3 * H).map(std_sigmoid);
        *c = f.component_mul(c) + i.component_mul(&g);
        *h = o.component_mul(&c.map(f32::tanh));
    }
}

/// A GRU cell written the plain fixed-size nalgebra way, as [`NaiveLstm`].
#[derive(Clone, Debug, PartialEq)]
pub struct NaiveGru<const I: usize, const H: usize, const G: usize> {
    /// Input-to-gates weights.
    pub weight_ih: SMatrix<f32, G, I>,
    /// Hidden-to-gates weights.
    pub weight_hh: SMatrix<f32, G, H>,
    /// Input-side biases.
    pub bias_ih: SVector<f32, G>,
    /// Hidden-side biases.
    pub bias_hh: SVector<f32, G>,
}

#[allow(clippy::op_ref)]
impl<const I: usize, const H: usize, const G: usize> NaiveGru<I, H, G> {
    /// A cell with the weights of `layer`.
    pub fn from_layer<const S: usize, const K: usize>(layer: &Gru<f32, I, H, G, 0, S, K>) -> Self {
        Self { weight_ih: layer.weight_ih, weight_hh: layer.weight_hh, bias_ih: layer.bias_ih, bias_hh: layer.bias_hh }
    }

    /// One step on input `x`, updating the hidden state `h`.
    #[inline]
    pub fn step(&self, h: &mut SVector<f32, H>, x: &SVector<f32, I>) {
        let ai = &self.weight_ih * x + &self.bias_ih;
        let ah = &self.weight_hh * &*h + &self.bias_hh;
        let r = (ai.fixed_rows::<H>(0) + ah.fixed_rows::<H>(0)).map(std_sigmoid);
        let z = (ai.fixed_rows::<H>(H) + ah.fixed_rows::<H>(H)).map(std_sigmoid);
        let n = (ai.fixed_rows::<H>(2 * H) + r.component_mul(&ah.fixed_rows::<H>(2 * H))).map(f32::tanh);
        *h = z.map(|z| 1.0 - z).component_mul(&n) + z.component_mul(h);
    }
}

#[cfg(test)]
mod recurrent_tests {
    use super::*;

    /// Twenty steps of a sine from the zero state: the generated step and the baselines agree to 1e-5.
    #[test]
    fn dynamic_cells_match_the_generated_step() {
        let mut rng = seeded_rng(2);
        let lstm = Lstm16::boxed_init(&mut rng);
        let gru = Gru16::boxed_init(&mut rng);
        let (mut dyn_lstm, mut dyn_gru) = (DynLstm::from_layer(&lstm.lstm), DynGru::from_layer(&gru.gru));
        let (mut ls, mut gs) = (Lstm16State::new(), Gru16State::new());
        let (mut dls, mut dgs) = (dyn_lstm.state(), dyn_gru.state());
        for t in 0..20 {
            let v = (t as f32 * 0.7).sin();
            let (x, dx) = (Vector::from([v]), DVector::from_element(1, v));
            let y = lstm.step(&mut ls, &x);
            let dy = dyn_lstm.step(&mut dls, &dx);
            assert!((dy - DVector::from_column_slice(y.as_slice())).amax() <= 1e-5, "lstm step {t}");
            assert!((&dls.c - DVector::from_column_slice(&ls.lstm.as_slice()[16..])).amax() <= 1e-5);
            let y = gru.step(&mut gs, &x);
            dyn_gru.step(&mut dgs, &dx);
            assert!((&dgs - DVector::from_column_slice(y.as_slice())).amax() <= 1e-5, "gru step {t}");
        }
        assert!(dls.h.amax() > 0.01 && dgs.amax() > 0.01, "the states moved");
    }
}
