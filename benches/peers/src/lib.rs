//! Generated networks side by side with the same models in [dfdx] and [candle](candle_core), holding the same
//! weights, so one criterion run times all three on identical work.
//!
//! The generated networks are the in-repo suite's (`nn_benches`), re-exported: the multilayer perceptrons [`Net2x4x1`],
//! [`Net16x32x32x4`], [`Net64x128x10`], [`Net784x128x10`] and [`Net256x256x256`], and the single-sample
//! recurrent cells [`Lstm8`], [`Lstm16`], [`Lstm32`], [`Gru8`], [`Gru16`] and [`Gru32`]. Each peer model is
//! built from a generated network's parameters:
//!
//! - [`dense_params`] reads a generated MLP's dense layers in the row-major `[out, in]` order both peers use;
//!   [`FromDense`] loads them into a dfdx model ([`DfdxNet2x4x1`], ...), [`CandleMlp::new`] and
//!   [`CandleMlp::trainable`] into candle.
//! - [`candle_lstm`] and [`candle_gru`] copy a generated recurrent layer into `candle_nn`'s `LSTM` and `GRU`
//!   (PyTorch's gate order and names on all sides). dfdx has no recurrent layer.
//!
//! The tests check that the three compute the same outputs (and, for training, the same updated weights).
//!
//! [`tract_models`] holds the convolution cases of `benches/conv.rs` as ONNX graphs for
//! [tract](tract_onnx), with the generated networks' weights.
#![deny(missing_docs)]

pub mod tract_models;

use candle_core::{DType, Device, Tensor as CandleTensor, Var};
use candle_nn::{GRU, GRUConfig, LSTM, LSTMConfig, Linear, Module, Optimizer as _, SGD as CandleSgd, VarBuilder};
use dfdx::losses::mse_loss;
use dfdx::nn::modules as dm;
use dfdx::nn::{BuildModule, ModuleMut, ZeroGrads};
use dfdx::optim::{Optimizer as _, Sgd as DfdxSgd};
use dfdx::shapes::{Const, Rank0, Rank1, Rank2};
use dfdx::tensor::{Cpu, Gradients, OwnedTape, Tensor as DfdxTensor, TensorFromVec, Trace};
use dfdx::tensor_ops::{Backward, SgdConfig};
use nn_core::Parameters;
use nn_core::params::Layout;
use std::collections::HashMap;

pub use nn_benches::{Gru8, Gru16, Gru32, Lstm8, Lstm16, Lstm32};
pub use nn_benches::{Gru8State, Gru16State, Gru32State, Lstm8State, Lstm16State, Lstm32State};
pub use nn_benches::{Net2x4x1, Net16x32x32x4, Net64x128x10, Net256x256x256, Net784x128x10};

/// The activations after the layers of [`Net2x4x1`].
pub const ACTS_2_4_1: [Act; 2] = [Act::Tanh, Act::Sigmoid];
/// The activations after the layers of [`Net16x32x32x4`].
pub const ACTS_16_32_32_4: [Act; 3] = [Act::Relu, Act::Relu, Act::Identity];
/// The activations after the layers of [`Net64x128x10`], [`Net784x128x10`] and [`Net256x256x256`].
pub const ACTS_RELU_LINEAR: [Act; 2] = [Act::Relu, Act::Identity];

/// The activation after a dense layer of a peer model.
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
    /// Applies the activation to a candle tensor.
    pub fn candle(self, x: CandleTensor) -> candle_core::Result<CandleTensor> {
        match self {
            Act::Identity => Ok(x),
            Act::Tanh => x.tanh(),
            Act::Sigmoid => candle_nn::ops::sigmoid(&x),
            Act::Relu => x.relu(),
        }
    }
}

/// One dense layer's parameters in the row-major `[out, in]` order of PyTorch, dfdx and candle.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseParams {
    /// Inputs of the layer.
    pub inputs: usize,
    /// Outputs of the layer.
    pub outputs: usize,
    /// `outputs x inputs` weights, row-major: element `(o, i)` is at `o * inputs + i`.
    pub weight: Vec<f32>,
    /// One bias per output.
    pub bias: Vec<f32>,
}

/// The elements of a column-major `rows x cols` matrix, reordered row-major.
pub fn row_major(rows: usize, cols: usize, col_major: &[f32]) -> Vec<f32> {
    assert_eq!(col_major.len(), rows * cols, "a {rows} x {cols} matrix");
    (0..rows).flat_map(|r| (0..cols).map(move |c| col_major[c * rows + r])).collect()
}

/// The dense layers of a generated MLP (tensors `weight` then `bias` per layer, in order), converted to the
/// peers' row-major layout.
///
/// # Panics
///
/// If the network has other tensors, or a bias that does not follow its weight.
pub fn dense_params<N: Parameters<f32>>(net: &N) -> Vec<DenseParams> {
    let mut layers: Vec<DenseParams> = Vec::new();
    net.visit(|t| match t.name.tensor {
        "weight" => layers.push(DenseParams {
            inputs: t.cols,
            outputs: t.rows,
            weight: row_major(t.rows, t.cols, t.data),
            bias: Vec::new(),
        }),
        "bias" => {
            let layer = layers.last_mut().expect("a bias follows its weight");
            assert!(layer.bias.is_empty() && t.data.len() == layer.outputs, "bias of {}", t.name);
            layer.bias = t.data.to_vec();
        }
        other => panic!("not a dense MLP: tensor {other}"),
    });
    layers
}

/// A multilayer perceptron in candle: `candle_nn::Linear` layers (weights `[out, in]`, as candle stores them
/// when it loads a model), each followed by an [`Act`]. Inputs are `[batch, features]`.
#[derive(Clone, Debug)]
pub struct CandleMlp {
    layers: Vec<(Linear, Act)>,
}

impl CandleMlp {
    /// An inference model with the given layers and activations, on plain tensors (no gradient tracking).
    pub fn new(params: &[DenseParams], acts: &[Act], dev: &Device) -> candle_core::Result<Self> {
        Self::build(params, acts, |data, shape| CandleTensor::from_slice(data, shape, dev))
    }

    /// A trainable model: every weight and bias is a candle [`Var`]; also returns those variables, for an
    /// optimizer.
    pub fn trainable(params: &[DenseParams], acts: &[Act], dev: &Device) -> candle_core::Result<(Self, Vec<Var>)> {
        let mut vars = Vec::new();
        let model = Self::build(params, acts, |data, shape| {
            let var = Var::from_slice(data, shape, dev)?;
            let tensor = var.as_tensor().clone();
            vars.push(var);
            Ok(tensor)
        })?;
        Ok((model, vars))
    }

    fn build(
        params: &[DenseParams],
        acts: &[Act],
        mut tensor: impl FnMut(&[f32], &[usize]) -> candle_core::Result<CandleTensor>,
    ) -> candle_core::Result<Self> {
        assert_eq!(params.len(), acts.len(), "one activation per layer");
        let layers = params
            .iter()
            .zip(acts)
            .map(|(p, &act)| {
                let w = tensor(&p.weight, &[p.outputs, p.inputs])?;
                let b = tensor(&p.bias, &[p.outputs])?;
                Ok((Linear::new(w, Some(b)), act))
            })
            .collect::<candle_core::Result<_>>()?;
        Ok(Self { layers })
    }
}

impl Module for CandleMlp {
    fn forward(&self, x: &CandleTensor) -> candle_core::Result<CandleTensor> {
        let mut v = x.clone();
        for (layer, act) in &self.layers {
            v = act.candle(layer.forward(&v)?)?;
        }
        Ok(v)
    }
}

/// dfdx's model of [`Net2x4x1`].
pub type DfdxNet2x4x1 = (dm::Linear<2, 4, f32, Cpu>, dm::Tanh, dm::Linear<4, 1, f32, Cpu>, dm::Sigmoid);
/// dfdx's model of [`Net16x32x32x4`].
pub type DfdxNet16x32x32x4 =
    (dm::Linear<16, 32, f32, Cpu>, dm::ReLU, dm::Linear<32, 32, f32, Cpu>, dm::ReLU, dm::Linear<32, 4, f32, Cpu>);
/// dfdx's model of [`Net64x128x10`].
pub type DfdxNet64x128x10 = (dm::Linear<64, 128, f32, Cpu>, dm::ReLU, dm::Linear<128, 10, f32, Cpu>);
/// dfdx's model of [`Net784x128x10`].
pub type DfdxNet784x128x10 = (dm::Linear<784, 128, f32, Cpu>, dm::ReLU, dm::Linear<128, 10, f32, Cpu>);
/// dfdx's model of [`Net256x256x256`].
pub type DfdxNet256x256x256 = (dm::Linear<256, 256, f32, Cpu>, dm::ReLU, dm::Linear<256, 256, f32, Cpu>);

/// A dfdx model built on the CPU device from a generated network's dense layers ([`dense_params`]).
pub trait FromDense: Sized {
    /// The model with the weights and biases of `params`, in order.
    ///
    /// # Panics
    ///
    /// If `params` does not have the model's layers and shapes.
    fn from_dense(dev: &Cpu, params: &[DenseParams]) -> Self;
}

/// Copies `p` into a dfdx linear layer (whose weight is `[O, I]` row-major, like `p`'s).
///
/// # Panics
///
/// If the shapes differ.
pub fn load_linear<const I: usize, const O: usize>(layer: &mut dm::Linear<I, O, f32, Cpu>, p: &DenseParams) {
    assert_eq!((p.inputs, p.outputs), (I, O), "layer shape");
    layer.weight.copy_from(&p.weight);
    layer.bias.copy_from(&p.bias);
}

/// Implements [`FromDense`] for a dfdx model tuple whose dense layers are the fields `$idx`, in order.
macro_rules! from_dense {
    ($model:ty: $($idx:tt),+) => {
        impl FromDense for $model {
            fn from_dense(dev: &Cpu, params: &[DenseParams]) -> Self {
                let mut model = <$model as BuildModule<Cpu, f32>>::build(dev);
                let mut layers = params.iter();
                $(load_linear(&mut model.$idx, layers.next().expect("one parameter set per layer"));)+
                assert!(layers.next().is_none(), "more parameter sets than layers");
                model
            }
        }
    };
}

from_dense!(DfdxNet2x4x1: 0, 2);
from_dense!(DfdxNet16x32x32x4: 0, 2, 4);
from_dense!(DfdxNet64x128x10: 0, 2);
from_dense!(DfdxNet784x128x10: 0, 2);
from_dense!(DfdxNet256x256x256: 0, 2);

/// The tensors of a generated network with one recurrent layer, by PyTorch name (`weight_ih_l0`, ...), as
/// candle tensors: matrices `[rows, cols]` row-major, vectors `[rows]`.
pub fn candle_tensors<N: Parameters<f32>>(net: &N, dev: &Device) -> candle_core::Result<HashMap<String, CandleTensor>> {
    let mut tensors = Vec::new();
    net.visit(|t| tensors.push((t.name.tensor, t.layout, t.rows, t.cols, t.data.to_vec())));
    tensors
        .into_iter()
        .map(|(name, layout, rows, cols, data)| {
            let t = match layout {
                Layout::Vector => CandleTensor::from_vec(data, rows, dev)?,
                Layout::Matrix => CandleTensor::from_vec(row_major(rows, cols, &data), (rows, cols), dev)?,
                other => panic!("not a recurrent layer's tensor: {name} is {other:?}"),
            };
            Ok((name.to_string(), t))
        })
        .collect()
}

/// `candle_nn`'s LSTM with the weights of a generated network holding one LSTM layer of `hidden` units over
/// `inputs` features.
pub fn candle_lstm<N: Parameters<f32>>(
    net: &N,
    inputs: usize,
    hidden: usize,
    dev: &Device,
) -> candle_core::Result<LSTM> {
    let vb = VarBuilder::from_tensors(candle_tensors(net, dev)?, DType::F32, dev);
    candle_nn::lstm(inputs, hidden, LSTMConfig::default(), vb)
}

/// `candle_nn`'s GRU with the weights of a generated network holding one GRU layer of `hidden` units over
/// `inputs` features.
pub fn candle_gru<N: Parameters<f32>>(net: &N, inputs: usize, hidden: usize, dev: &Device) -> candle_core::Result<GRU> {
    let vb = VarBuilder::from_tensors(candle_tensors(net, dev)?, DType::F32, dev);
    candle_nn::gru(inputs, hidden, GRUConfig::default(), vb)
}

/// SGD on dfdx's [`DfdxNet64x128x10`] with the mean-squared-error loss, as dfdx's own examples train: a taped
/// forward (`forward_mut` of the input traced into the reused gradients), `mse_loss`, `backward`, the optimizer's
/// `update`, then `zero_grads`.
pub struct DfdxTrainer {
    /// The model being trained.
    pub model: DfdxNet64x128x10,
    grads: Option<Gradients<f32, Cpu>>,
    sgd: DfdxSgd<DfdxNet64x128x10, f32, Cpu>,
}

impl DfdxTrainer {
    /// Plain SGD (no momentum, no weight decay) at learning rate `lr` on `model`.
    pub fn new(model: DfdxNet64x128x10, lr: f64) -> Self {
        let grads = Some(model.alloc_grads());
        let sgd = DfdxSgd::new(&model, SgdConfig { lr, momentum: None, weight_decay: None });
        Self { model, grads, sgd }
    }

    /// One step on one sample.
    pub fn step(&mut self, x: &DfdxTensor<Rank1<64>, f32, Cpu>, t: &DfdxTensor<Rank1<10>, f32, Cpu>) {
        let grads = self.grads.take().expect("gradients are put back after every step");
        let y = self.model.forward_mut(x.trace(grads));
        self.finish(mse_loss(y, t.clone()));
    }

    /// One step on a batch of `B` samples (the loss is the mean over the batch).
    pub fn step_batch<const B: usize>(
        &mut self,
        x: &DfdxTensor<Rank2<B, 64>, f32, Cpu>,
        t: &DfdxTensor<Rank2<B, 10>, f32, Cpu>,
    ) {
        let grads = self.grads.take().expect("gradients are put back after every step");
        let y = self.model.forward_mut(x.trace(grads));
        self.finish(mse_loss(y, t.clone()));
    }

    fn finish(&mut self, loss: DfdxTensor<Rank0, f32, Cpu, OwnedTape<f32, Cpu>>) {
        let mut grads = loss.backward();
        self.sgd.update(&mut self.model, &grads).expect("every parameter has a gradient");
        self.model.zero_grads(&mut grads);
        self.grads = Some(grads);
    }
}

/// SGD on a [`CandleMlp`] with the mean-squared-error loss, as candle trains: the forward on tracked
/// variables, `candle_nn::loss::mse`, then `SGD::backward_step` (backward and update in one call).
pub struct CandleTrainer {
    /// The model being trained.
    pub model: CandleMlp,
    /// Its parameters, in layer order (weight then bias).
    pub vars: Vec<Var>,
    sgd: CandleSgd,
}

impl CandleTrainer {
    /// Plain SGD at learning rate `lr` on a trainable model with the given layers.
    pub fn new(params: &[DenseParams], acts: &[Act], lr: f64, dev: &Device) -> candle_core::Result<Self> {
        let (model, vars) = CandleMlp::trainable(params, acts, dev)?;
        let sgd = CandleSgd::new(vars.clone(), lr)?;
        Ok(Self { model, vars, sgd })
    }

    /// One step on a batch `[batch, features]` of inputs `x` and targets `t` (the loss is the mean over all
    /// elements, so over the batch too).
    pub fn step(&mut self, x: &CandleTensor, t: &CandleTensor) -> candle_core::Result<()> {
        let y = self.model.forward(x)?;
        let loss = candle_nn::loss::mse(&y, t)?;
        self.sgd.backward_step(&loss)
    }
}

/// A dfdx vector of `I` features on `dev` holding `x`.
///
/// # Panics
///
/// If `x` does not have `I` elements.
pub fn dfdx_vector<const I: usize>(dev: &Cpu, x: &[f32]) -> DfdxTensor<Rank1<I>, f32, Cpu> {
    assert_eq!(x.len(), I, "features");
    dev.tensor_from_vec(x.to_vec(), (Const::<I>,))
}

/// A dfdx batch `[B, I]` on `dev` holding `x`, row-major: sample after sample (the column-major layout of an
/// `I x B` nalgebra batch whose columns are samples).
///
/// # Panics
///
/// If `x` does not have `B * I` elements.
pub fn dfdx_batch<const B: usize, const I: usize>(dev: &Cpu, x: &[f32]) -> DfdxTensor<Rank2<B, I>, f32, Cpu> {
    assert_eq!(x.len(), B * I, "samples x features");
    dev.tensor_from_vec(x.to_vec(), (Const::<B>, Const::<I>))
}

/// The elements of a candle tensor of any shape, in row-major order.
pub fn candle_values(t: &CandleTensor) -> candle_core::Result<Vec<f32>> {
    t.flatten_all()?.to_vec1()
}

/// The largest absolute difference between two equally long slices.
///
/// # Panics
///
/// If the lengths differ.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// How far the peers may differ from the generated network, per output element.
pub const TOLERANCE: f32 = 1e-4;

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::RNN;
    use dfdx::nn::Module as _;
    use nalgebra::{SMatrix, SVector};
    use nn_core::prelude::*;
    use nn_core::rand::RngExt;

    /// A generated network with random weights and non-zero biases (so copying them is checked too).
    fn random_net<N: Network<Scalar = f32> + Initialize + Boxed>(seed: u64) -> Box<N> {
        let mut rng = seeded_rng(seed);
        let mut net = N::boxed_init(&mut rng);
        net.visit_mut(|t| {
            if t.name.tensor == "bias" {
                t.data.iter_mut().for_each(|v| *v = rng.random_range(-0.5..0.5));
            }
        });
        net
    }

    fn assert_close(what: &str, got: &[f32], want: &[f32]) {
        let d = max_abs_diff(got, want);
        assert!(d <= TOLERANCE, "{what}: differs by {d}\n got {got:?}\nwant {want:?}");
    }

    #[test]
    fn row_major_transposes_column_major_storage() {
        // [[1, 2, 3], [4, 5, 6]] stored column-major.
        assert_eq!(row_major(2, 3, &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    /// Per-sample and batched outputs of the 64-128-10 MLP agree in all three libraries.
    #[test]
    fn mlp_64_128_10_outputs_agree() {
        const B: usize = 32;
        let net = random_net::<Net64x128x10>(1);
        let params = dense_params(&*net);
        let (dev, cdev) = (Cpu::default(), Device::Cpu);
        let dfdx_net = DfdxNet64x128x10::from_dense(&dev, &params);
        let candle_net = CandleMlp::new(&params, &ACTS_RELU_LINEAR, &cdev).unwrap();
        let mut rng = seeded_rng(2);
        let xb = SMatrix::<f32, 64, B>::from_fn(|_, _| rng.random_range(-1.0..1.0));

        let x: SVector<f32, 64> = xb.column(0).into_owned();
        let want = net.forward(&x);
        let got = dfdx_net.forward(dfdx_vector::<64>(&dev, x.as_slice())).as_vec();
        assert_close("dfdx batch 1", &got, want.as_slice());
        let got = candle_net.forward(&CandleTensor::from_slice(x.as_slice(), (1, 64), &cdev).unwrap()).unwrap();
        assert_close("candle batch 1", &candle_values(&got).unwrap(), want.as_slice());

        // Columns of `xb` are samples: column-major 64 x B is row-major [B, 64].
        let want = net.forward_batch::<B>(&xb);
        let xd = dfdx_batch::<B, 64>(&dev, xb.as_slice());
        assert_close("dfdx batch 32", &dfdx_net.forward(xd).as_vec(), want.as_slice());
        let xc = CandleTensor::from_slice(xb.as_slice(), (B, 64), &cdev).unwrap();
        let got = candle_values(&candle_net.forward(&xc).unwrap()).unwrap();
        assert_close("candle batch 32", &got, want.as_slice());
    }

    /// Checks one sample of a generated MLP against its dfdx and candle models.
    macro_rules! agrees_on_one_sample {
        ($net:ty, $dfdx:ty, $acts:expr, $inputs:literal) => {{
            let net = random_net::<$net>(3);
            let params = dense_params(&*net);
            let (dev, cdev) = (Cpu::default(), Device::Cpu);
            let dfdx_net = <$dfdx>::from_dense(&dev, &params);
            let candle_net = CandleMlp::new(&params, &$acts, &cdev).unwrap();
            let mut rng = seeded_rng(4);
            let x = SVector::<f32, $inputs>::from_fn(|_, _| rng.random_range(-1.0..1.0));
            let want = net.forward(&x);
            let got = dfdx_net.forward(dfdx_vector::<$inputs>(&dev, x.as_slice())).as_vec();
            assert_close(concat!(stringify!($net), " dfdx"), &got, want.as_slice());
            let xc = CandleTensor::from_slice(x.as_slice(), (1, $inputs), &cdev).unwrap();
            let got = candle_values(&candle_net.forward(&xc).unwrap()).unwrap();
            assert_close(concat!(stringify!($net), " candle"), &got, want.as_slice());
        }};
    }

    /// Every benchmarked MLP shape agrees on one sample.
    #[test]
    fn every_mlp_shape_agrees_on_one_sample() {
        agrees_on_one_sample!(Net2x4x1, DfdxNet2x4x1, ACTS_2_4_1, 2);
        agrees_on_one_sample!(Net16x32x32x4, DfdxNet16x32x32x4, ACTS_16_32_32_4, 16);
        agrees_on_one_sample!(Net64x128x10, DfdxNet64x128x10, ACTS_RELU_LINEAR, 64);
        agrees_on_one_sample!(Net784x128x10, DfdxNet784x128x10, ACTS_RELU_LINEAR, 784);
        agrees_on_one_sample!(Net256x256x256, DfdxNet256x256x256, ACTS_RELU_LINEAR, 256);
    }

    /// Twenty steps of an LSTM and a GRU of 16 units: the generated step and candle's agree.
    #[test]
    fn recurrent_steps_agree() {
        let cdev = Device::Cpu;
        let lstm = random_net::<Lstm16>(5);
        let gru = random_net::<Gru16>(6);
        let candle_lstm = candle_lstm(&*lstm, 1, 16, &cdev).unwrap();
        let candle_gru = candle_gru(&*gru, 1, 16, &cdev).unwrap();
        let (mut ls, mut gs) = (Lstm16State::new(), Gru16State::new());
        let (mut cls, mut cgs) = (candle_lstm.zero_state(1).unwrap(), candle_gru.zero_state(1).unwrap());
        for t in 0..20 {
            let v = (t as f32 * 0.7).sin();
            let xc = CandleTensor::from_slice(&[v], (1, 1), &cdev).unwrap();
            let y = lstm.step(&mut ls, &Vector::from([v]));
            cls = candle_lstm.step(&xc, &cls).unwrap();
            let (h, c) = (candle_values(cls.h()).unwrap(), candle_values(cls.c()).unwrap());
            assert_close("lstm h", &h, y.as_slice());
            assert_close("lstm c", &c, &ls.lstm.as_slice()[16..]);
            let y = gru.step(&mut gs, &Vector::from([v]));
            cgs = candle_gru.step(&xc, &cgs).unwrap();
            assert_close("gru h", &candle_values(cgs.h()).unwrap(), y.as_slice());
        }
        assert!(ls.lstm.amax() > 0.01 && gs.gru.amax() > 0.01, "the states moved");
    }

    /// The weights of the first and last layers of a dfdx and a candle 64-128-10 model, row-major.
    fn peer_weights(dfdx: &DfdxTrainer, candle: &CandleTrainer) -> [Vec<f32>; 4] {
        let c = |i: usize| candle_values(candle.vars[i].as_tensor()).unwrap();
        [dfdx.model.0.weight.as_vec(), dfdx.model.2.weight.as_vec(), c(0), c(2)]
    }

    /// One SGD step (batch 1, then batch 32) leaves the same weights in all three libraries. The learning rate
    /// is large so that a wrong gradient could not hide under the tolerance.
    #[test]
    fn training_steps_agree() {
        const B: usize = 32;
        const LR: f32 = 0.5;
        let mut net = random_net::<Net64x128x10>(7);
        let params = dense_params(&*net);
        let (dev, cdev) = (Cpu::default(), Device::Cpu);
        let mut dfdx = DfdxTrainer::new(DfdxNet64x128x10::from_dense(&dev, &params), f64::from(LR));
        let mut candle = CandleTrainer::new(&params, &ACTS_RELU_LINEAR, f64::from(LR), &cdev).unwrap();
        let mut rng = seeded_rng(8);
        let x = SMatrix::<f32, 64, B>::from_fn(|_, _| rng.random_range(-1.0..1.0));
        let t = SMatrix::<f32, 10, B>::from_fn(|r, b| if r == b % 10 { 1.0 } else { 0.0 });
        let mut grads = Net64x128x10::boxed_zeroed();
        let mut sgd = Sgd::new(LR);

        let check = |what: &str, net: &Net64x128x10, dfdx: &DfdxTrainer, candle: &CandleTrainer| {
            let want = dense_params(net);
            let [d0, d2, c0, c2] = peer_weights(dfdx, candle);
            assert!(max_abs_diff(&want[0].weight, &params[0].weight) > 1e-3, "{what}: the weights moved");
            assert_close(&format!("{what}: dfdx fc1"), &d0, &want[0].weight);
            assert_close(&format!("{what}: dfdx fc2"), &d2, &want[1].weight);
            assert_close(&format!("{what}: candle fc1"), &c0, &want[0].weight);
            assert_close(&format!("{what}: candle fc2"), &c2, &want[1].weight);
        };

        let (x0, t0): (SVector<f32, 64>, SVector<f32, 10>) = (x.column(0).into_owned(), t.column(0).into_owned());
        net.backprop(&x0, &t0, &MeanSquaredError, &mut grads, &mut rng);
        sgd.step(&mut *net, &grads);
        dfdx.step(&dfdx_vector(&dev, x0.as_slice()), &dfdx_vector(&dev, t0.as_slice()));
        let (xc, tc) = (
            CandleTensor::from_slice(x0.as_slice(), (1, 64), &cdev),
            CandleTensor::from_slice(t0.as_slice(), (1, 10), &cdev),
        );
        candle.step(&xc.unwrap(), &tc.unwrap()).unwrap();
        check("batch 1", &net, &dfdx, &candle);

        grads.fill(0.0);
        let (y, cache) = net.forward_train_batch::<B, _>(&x, &mut rng);
        let dy = MeanSquaredError.gradient(&y, &t);
        net.backward_params_batch::<B>(&cache, &dy, &mut grads);
        sgd.step(&mut *net, &grads);
        dfdx.step_batch::<B>(&dfdx_batch(&dev, x.as_slice()), &dfdx_batch(&dev, t.as_slice()));
        let (xc, tc) = (
            CandleTensor::from_slice(x.as_slice(), (B, 64), &cdev),
            CandleTensor::from_slice(t.as_slice(), (B, 10), &cdev),
        );
        candle.step(&xc.unwrap(), &tc.unwrap()).unwrap();
        check("batch 32", &net, &dfdx, &candle);
    }
}
