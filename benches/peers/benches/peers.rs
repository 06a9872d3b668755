//! Generated networks, dfdx and candle timed side by side in one criterion run, on the same weights and the same
//! inputs, single-threaded.
//!
//! - `forward/{shape}/batch1`: inference on one sample, for every MLP shape.
//! - `forward/{shape}/batch{32,256}`: inference on a batch (throughput in samples), for the larger shapes.
//! - `train/64-128-10/batch1`: 32 SGD steps of one sample each (MSE loss, learning rate 1e-3); the generated
//!   network both through a gradient buffer (`generated`) and fused into its backward pass (`generated_fused`);
//!   `train/64-128-10/batch32`: one SGD step on a batch of 32. Both count 32 samples of throughput.
//! - `lstm_step/h{8,16,32}` and `gru_step/h{8,16,32}`: one streaming step of a recurrent cell (one input,
//!   batch 1), generated against candle (dfdx has no recurrent layer).
//!
//! Each group has the functions `generated`, `dfdx` and `candle` (the recurrent ones have no `dfdx`). Before a
//! group is timed its models are run once on its input and must agree to [`TOLERANCE`]. Peer inputs are built
//! before timing, so each timed iteration is the library's forward (or step) call alone; dfdx consumes its
//! input, so its iteration also clones the input tensor (a reference-count increment).

use candle_core::{Device, Tensor as CandleTensor};
use candle_nn::{Module as _, RNN as _};
use criterion::{Criterion, Throughput, criterion_group};
use dfdx::nn::Module as DfdxModule;
use dfdx::shapes::{Rank1, Rank2};
use dfdx::tensor::{Cpu, Tensor as DfdxTensor};
use nalgebra::{SMatrix, SVector};
use nn_core::prelude::*;
use nn_core::rand::RngExt;
use nn_peer_benches::*;
use std::hint::black_box;
use std::time::Duration;

/// Learning rate of the training benchmarks.
const LR: f32 = 1e-3;

/// Samples per training iteration, in both training benchmarks.
const TRAIN_SAMPLES: usize = 32;

/// Samples in the recurrent input table, a power of two so the step counter wraps with a mask.
const SIGNAL_LEN: usize = 1024;

/// Recurrent steps compared before timing.
const CHECK_STEPS: usize = 32;

/// Runs every library on one thread: rayon's global pool (dfdx's matmul asks it for its size) gets one
/// thread, and `RAYON_NUM_THREADS=1` makes candle's matmul run without parallelism (candle reads the variable
/// on every product).
fn single_threaded() {
    // SAFETY: this is the first thing `main` does, before any other thread exists, so nothing can read or
    // write the environment concurrently.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    rayon::ThreadPoolBuilder::new().num_threads(1).build_global().expect("rayon's global pool is configured once");
    assert_eq!(candle_core::utils::get_num_threads(), 1, "candle runs single-threaded");
}

/// Panics unless `got` (from `library`) agrees with the generated network's `want` to [`TOLERANCE`].
fn assert_agree(group: &str, library: &str, got: &[f32], want: &[f32]) {
    let d = max_abs_diff(got, want);
    assert!(d <= TOLERANCE, "{group}: {library} differs from the generated network by {d}");
}

/// `len` uniform values in `[-1, 1)`.
fn uniform(rng: &mut SeededRng, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// One MLP in all three libraries, with the same parameters.
struct Models<N, M> {
    /// The generated network.
    net: Box<N>,
    /// dfdx's model.
    dfdx: M,
    /// candle's model.
    candle: CandleMlp,
}

impl<N, M> Models<N, M>
where
    N: Network<Scalar = f32> + Initialize + Boxed,
    M: FromDense,
{
    /// A randomly initialised generated network (with small random biases, so copying them matters) and its
    /// copies in dfdx and candle.
    fn new(acts: &[Act]) -> Self {
        let mut rng = seeded_rng(1);
        let mut net = N::boxed_init(&mut rng);
        net.visit_mut(|t| {
            if t.name.tensor == "bias" {
                t.data.iter_mut().for_each(|v| *v = rng.random_range(-0.1..0.1));
            }
        });
        let params = dense_params(&*net);
        let dfdx = M::from_dense(&Cpu::default(), &params);
        let candle = CandleMlp::new(&params, acts, &Device::Cpu).expect("candle model");
        Self { net, dfdx, candle }
    }
}

/// `forward/{shape}/batch1`: inference on one sample.
fn forward_one<N, M, const I: usize>(c: &mut Criterion, shape: &str, m: &Models<N, M>)
where
    N: Network<Scalar = f32, Input = SVector<f32, I>>,
    M: DfdxModule<DfdxTensor<Rank1<I>, f32, Cpu>, Output: DfdxOutput>,
{
    let group = format!("forward/{shape}/batch1");
    let (dev, cdev) = (Cpu::default(), Device::Cpu);
    let data = uniform(&mut seeded_rng(2), I);
    let x = SVector::<f32, I>::from_column_slice(&data);
    let xd = dfdx_vector::<I>(&dev, &data);
    let xc = CandleTensor::from_slice(&data, (1, I), &cdev).expect("candle input");

    let want = m.net.forward(&x);
    assert_agree(&group, "dfdx", &m.dfdx.forward(xd.clone()).values(), want.as_slice());
    assert_agree(
        &group,
        "candle",
        &candle_values(&m.candle.forward(&xc).expect("forward")).expect("values"),
        want.as_slice(),
    );

    let mut g = c.benchmark_group(group);
    g.bench_function("generated", |b| b.iter(|| black_box(m.net.forward(black_box(&x)))));
    g.bench_function("dfdx", |b| b.iter(|| black_box(m.dfdx.forward(black_box(&xd).clone()))));
    g.bench_function("candle", |b| b.iter(|| black_box(m.candle.forward(black_box(&xc)).expect("forward"))));
    g.finish();
}

/// `forward/{shape}/batch{B}`: inference on `B` samples, throughput in samples.
fn forward_batch<N, M, const I: usize, const B: usize>(c: &mut Criterion, shape: &str, m: &Models<N, M>)
where
    N: BatchNetwork<Scalar = f32>,
    M: DfdxModule<DfdxTensor<Rank2<B, I>, f32, Cpu>, Output: DfdxOutput>,
{
    let group = format!("forward/{shape}/batch{B}");
    let (dev, cdev) = (Cpu::default(), Device::Cpu);
    // Sample after sample: the column-major `I x B` batch is the row-major `[B, I]` tensor.
    let data = uniform(&mut seeded_rng(3), I * B);
    let mut x = Box::new(<N::InputBatch<B> as Buffer<f32>>::zeros());
    x.as_mut_slice().copy_from_slice(&data);
    let xd = dfdx_batch::<B, I>(&dev, &data);
    let xc = CandleTensor::from_slice(&data, (B, I), &cdev).expect("candle input");

    let want = m.net.forward_batch::<B>(&x);
    assert_agree(&group, "dfdx", &m.dfdx.forward(xd.clone()).values(), want.as_slice());
    assert_agree(
        &group,
        "candle",
        &candle_values(&m.candle.forward(&xc).expect("forward")).expect("values"),
        want.as_slice(),
    );

    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(B as u64));
    g.bench_function("generated", |b| b.iter(|| black_box(m.net.forward_batch::<B>(black_box(&x)))));
    g.bench_function("dfdx", |b| b.iter(|| black_box(m.dfdx.forward(black_box(&xd).clone()))));
    g.bench_function("candle", |b| b.iter(|| black_box(m.candle.forward(black_box(&xc)).expect("forward"))));
    g.finish();
}

/// A dfdx forward's output, read back as row-major values.
trait DfdxOutput {
    /// The elements, row-major.
    fn values(&self) -> Vec<f32>;
}

impl<S: dfdx::shapes::Shape> DfdxOutput for DfdxTensor<S, f32, Cpu> {
    fn values(&self) -> Vec<f32> {
        self.as_vec()
    }
}

fn forward(c: &mut Criterion) {
    let m = Models::<Net2x4x1, DfdxNet2x4x1>::new(&ACTS_2_4_1);
    forward_one::<_, _, 2>(c, "2-4-1", &m);

    let m = Models::<Net16x32x32x4, DfdxNet16x32x32x4>::new(&ACTS_16_32_32_4);
    forward_one::<_, _, 16>(c, "16-32-32-4", &m);

    let m = Models::<Net64x128x10, DfdxNet64x128x10>::new(&ACTS_RELU_LINEAR);
    forward_one::<_, _, 64>(c, "64-128-10", &m);
    forward_batch::<_, _, 64, 32>(c, "64-128-10", &m);
    forward_batch::<_, _, 64, 256>(c, "64-128-10", &m);

    let m = Models::<Net784x128x10, DfdxNet784x128x10>::new(&ACTS_RELU_LINEAR);
    forward_one::<_, _, 784>(c, "784-128-10", &m);
    forward_batch::<_, _, 784, 32>(c, "784-128-10", &m);
    forward_batch::<_, _, 784, 256>(c, "784-128-10", &m);

    let m = Models::<Net256x256x256, DfdxNet256x256x256>::new(&ACTS_RELU_LINEAR);
    forward_one::<_, _, 256>(c, "256-256-256", &m);
    forward_batch::<_, _, 256, 32>(c, "256-256-256", &m);
    forward_batch::<_, _, 256, 256>(c, "256-256-256", &m);
}

/// `train/64-128-10/batch1` and `train/64-128-10/batch32`: SGD with the MSE loss on 32 samples per iteration,
/// one step per sample or one step on the batch, each library updating its own copy of the same starting model.
fn train(c: &mut Criterion) {
    const B: usize = TRAIN_SAMPLES;
    let Models { mut net, dfdx, .. } = Models::<Net64x128x10, DfdxNet64x128x10>::new(&ACTS_RELU_LINEAR);
    let params = dense_params(&*net);
    let (dev, cdev) = (Cpu::default(), Device::Cpu);
    let mut dfdx = DfdxTrainer::new(dfdx, f64::from(LR));
    let mut candle = CandleTrainer::new(&params, &ACTS_RELU_LINEAR, f64::from(LR), &cdev).expect("candle model");

    let mut rng = seeded_rng(4);
    let x = SMatrix::<f32, 64, B>::from_column_slice(&uniform(&mut rng, 64 * B));
    let t = SMatrix::<f32, 10, B>::from_fn(|r, b| if r == b % 10 { 1.0 } else { 0.0 });
    let samples: Vec<(SVector<f32, 64>, SVector<f32, 10>)> =
        (0..B).map(|b| (x.column(b).into_owned(), t.column(b).into_owned())).collect();
    let dfdx_samples: Vec<_> = samples
        .iter()
        .map(|(x, t)| (dfdx_vector::<64>(&dev, x.as_slice()), dfdx_vector::<10>(&dev, t.as_slice())))
        .collect();
    let candle_tensor =
        |v: &[f32], rows: usize| CandleTensor::from_slice(v, (rows, v.len() / rows), &cdev).expect("candle tensor");
    let candle_samples: Vec<_> =
        samples.iter().map(|(x, t)| (candle_tensor(x.as_slice(), 1), candle_tensor(t.as_slice(), 1))).collect();
    let (xd, td) = (dfdx_batch::<B, 64>(&dev, x.as_slice()), dfdx_batch::<B, 10>(&dev, t.as_slice()));
    let (xc, tc) = (candle_tensor(x.as_slice(), B), candle_tensor(t.as_slice(), B));

    let mut grads = Net64x128x10::boxed_zeroed();
    // Training storage allocated once and reused by every step, as `Trainer` does.
    let mut ws = nn_core::boxed_zeroed::<<Net64x128x10 as Network>::Cache>();
    let mut ws32 = nn_core::boxed_zeroed::<<Net64x128x10 as BatchNetwork>::BatchCache<B>>();
    let mut sgd = Sgd::new(LR);
    let mut g = c.benchmark_group("train/64-128-10/batch1");
    g.throughput(Throughput::Elements(B as u64));
    g.bench_function("generated", |b| {
        b.iter(|| {
            for (x, t) in &samples {
                grads.fill(0.0);
                net.backprop_in(&mut ws, black_box(x), t, &MeanSquaredError, &mut grads, &mut rng);
                sgd.step(&mut *net, &grads);
            }
        })
    });
    g.bench_function("generated_fused", |b| {
        b.iter(|| {
            for (x, t) in &samples {
                black_box(net.sgd_step_in(&mut ws, black_box(x), t, &MeanSquaredError, LR, &mut rng));
            }
        })
    });
    g.bench_function("dfdx", |b| {
        b.iter(|| {
            for (x, t) in &dfdx_samples {
                dfdx.step(black_box(x), t);
            }
        })
    });
    g.bench_function("candle", |b| {
        b.iter(|| {
            for (x, t) in &candle_samples {
                candle.step(black_box(x), t).expect("training step");
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("train/64-128-10/batch32");
    g.throughput(Throughput::Elements(B as u64));
    g.bench_function("generated", |b| {
        b.iter(|| {
            grads.fill(0.0);
            let y = net.forward_train_batch_in::<B, _>(black_box(&x), &mut ws32, &mut rng);
            let dy = MeanSquaredError.gradient(&y, &t);
            Net64x128x10::backward_batch_in::<B, _>(Accumulate { layer: &*net, grads: &mut *grads }, &mut ws32, &dy, None);
            sgd.step(&mut *net, &grads);
        })
    });
    g.bench_function("dfdx", |b| b.iter(|| dfdx.step_batch::<B>(black_box(&xd), &td)));
    g.bench_function("candle", |b| b.iter(|| candle.step(black_box(&xc), &tc).expect("training step")));
    g.finish();
}

/// A 440 Hz sine sampled at 48 kHz, plus a little of its octave, in `[-1, 1]` (the in-repo recurrent input).
fn signal() -> Vec<f32> {
    let w = 2.0 * std::f32::consts::PI * 440.0 / 48_000.0;
    (0..SIGNAL_LEN).map(|t| 0.8 * (w * t as f32).sin() + 0.2 * (2.0 * w * t as f32).sin()).collect()
}

/// The signal as candle inputs `[1, 1]`, built before timing.
fn candle_signal(signal: &[f32]) -> Vec<CandleTensor> {
    signal.iter().map(|v| CandleTensor::from_slice(&[*v], (1, 1), &Device::Cpu).expect("candle input")).collect()
}

/// Group `{name}`: `generated` and `candle`, each one step per iteration on successive samples of the signal
/// (wrapping around), the state carried across iterations.
fn stream(
    c: &mut Criterion,
    name: &str,
    signal: &[f32],
    mut generated: impl FnMut(f32),
    mut candle: impl FnMut(usize),
) {
    let mask = signal.len() - 1;
    assert!(signal.len().is_power_of_two());
    let mut g = c.benchmark_group(name);
    let mut t = 0;
    g.bench_function("generated", |b| {
        b.iter(|| {
            generated(black_box(signal[t & mask]));
            t += 1;
        })
    });
    let mut t = 0;
    g.bench_function("candle", |b| {
        b.iter(|| {
            candle(black_box(t & mask));
            t += 1;
        })
    });
    g.finish();
}

/// Benchmarks `{kind}_step/h{H}` for the network `$net` (one recurrent layer, state `$state`),
/// against candle's cell built by `$candle`, after checking [`CHECK_STEPS`] steps from the zero state.
macro_rules! recurrent_step {
    ($c:expr, $signal:expr, $kind:literal, $net:ident, $state:ident, $candle:ident, $h:literal) => {{
        let group = concat!($kind, "_step/h", $h);
        let net = $net::boxed_init(&mut seeded_rng(1));
        let cell = $candle(&*net, 1, $h, &Device::Cpu).expect("candle cell");
        let inputs = candle_signal($signal);
        let (mut state, mut cs) = ($state::new(), cell.zero_state(1).expect("zero state"));
        for (t, &v) in $signal.iter().take(CHECK_STEPS).enumerate() {
            let y = net.step(&mut state, &Vector::from([v]));
            cs = cell.step(&inputs[t], &cs).expect("step");
            assert_agree(group, "candle", &candle_values(cs.h()).expect("values"), y.as_slice());
        }
        state.reset();
        cs = cell.zero_state(1).expect("zero state");
        stream(
            $c,
            group,
            $signal,
            |v| {
                black_box(net.step(&mut state, &Vector::from([v])));
            },
            |t| {
                cs = cell.step(&inputs[t], &cs).expect("step");
                black_box(&cs);
            },
        );
    }};
}

fn recurrent(c: &mut Criterion) {
    let signal = signal();
    recurrent_step!(c, &signal, "lstm", Lstm8, Lstm8State, candle_lstm, 8);
    recurrent_step!(c, &signal, "lstm", Lstm16, Lstm16State, candle_lstm, 16);
    recurrent_step!(c, &signal, "lstm", Lstm32, Lstm32State, candle_lstm, 32);
    recurrent_step!(c, &signal, "gru", Gru8, Gru8State, candle_gru, 8);
    recurrent_step!(c, &signal, "gru", Gru16, Gru16State, candle_gru, 16);
    recurrent_step!(c, &signal, "gru", Gru32, Gru32State, candle_gru, 32);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = forward, train, recurrent
}

fn main() {
    single_threaded();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
