//! Multilayer perceptrons 2-4-1, 16-32-32-4, 64-128-10, 784-128-10 and 256-256-256: per-sample inference
//! (`forward/{shape}/batch1`), batched inference for the three larger ones (`forward/{shape}/batch32`,
//! `.../batch256`, throughput in samples) and a per-sample training step (`train_step/{shape}`). Each group
//! runs the generated network beside the same network written naively with `SMatrix` ([`nn_benches::Naive2`],
//! [`nn_benches::Naive3`]) and with `DMatrix` ([`DynMlp`]), all with the same weights, so the ratios come from
//! one run. Group `peak/fma` measures one core's fused multiply-add peak (throughput in FLOP), the ceiling
//! for the GFLOP/s of the batched products.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nalgebra::{DMatrix, DVector, SMatrix};
use nn_benches::{DynMlp, Naive2, Naive3, Spec};
use nn_benches::{Net2x4x1, Net16x32x32x4, Net64x128x10, Net256x256x256, Net784x128x10};
use nn_benches::{SPEC_2_4_1, SPEC_16_32_32_4, SPEC_64_128_10, SPEC_256_256_256, SPEC_784_128_10};
use nn_core::prelude::*;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_core::rand::{RngExt, SeedableRng};
use std::hint::black_box;
use std::time::Duration;

/// Rounds of [`nn_benches::fma_peak`] per iteration.
const PEAK_ROUNDS: usize = 20_000;

fn peak(c: &mut Criterion) {
    let mut g = c.benchmark_group("peak");
    g.throughput(Throughput::Elements(nn_benches::fma_peak_flops(PEAK_ROUNDS)));
    g.bench_function("fma", |b| b.iter(|| black_box(nn_benches::fma_peak(black_box(PEAK_ROUNDS)))));
    g.finish();
}

/// A generated network with random weights and biases (the initialiser leaves biases at zero), and the
/// `DynMlp` with the same parameters.
fn networks<N>(spec: &[Spec], rng: &mut ChaCha8Rng) -> (Box<N>, DynMlp)
where
    N: Network<Scalar = f32> + Initialize + Boxed,
{
    let mut net = N::boxed_init(rng);
    net.visit_mut(|t| {
        if t.name.tensor == "bias" {
            t.data.iter_mut().for_each(|v| *v = rng.random_range(-0.1..0.1));
        }
    });
    let mlp = DynMlp::from_network(spec, &*net);
    (net, mlp)
}

/// Groups `forward/{name}/batch1` (generated, naive_smatrix, dmatrix) and `train_step/{name}` (generated,
/// dmatrix: forward, MSE gradient, backward).
fn per_sample<N>(c: &mut Criterion, name: &str, net: &N, mlp: &DynMlp, naive: impl Fn(&N::Input) -> N::Output)
where
    N: Network<Scalar = f32> + Boxed,
{
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut x = N::Input::zeros();
    x.as_mut_slice().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
    let mut t = N::Output::zeros();
    t.as_mut_slice().iter_mut().for_each(|v| *v = rng.random_range(0.0..1.0));
    let (dx, dt) = (DVector::from_column_slice(x.as_slice()), DVector::from_column_slice(t.as_slice()));

    // The three compute the same outputs.
    let (y, yn, yd) = (net.forward(&x), naive(&x), mlp.forward(&dx));
    for ((a, b), d) in y.as_slice().iter().zip(yn.as_slice()).zip(yd.as_slice()) {
        assert!((a - b).abs() < 1e-4 && (a - d).abs() < 1e-4, "{name}: generated {a}, naive {b}, dmatrix {d}");
    }

    let mut g = c.benchmark_group(format!("forward/{name}/batch1"));
    g.bench_function("generated", |b| b.iter(|| black_box(net.forward(black_box(&x)))));
    g.bench_function("naive_smatrix", |b| b.iter(|| black_box(naive(black_box(&x)))));
    g.bench_function("dmatrix", |b| b.iter(|| black_box(mlp.forward(black_box(&dx)))));
    g.finish();

    let mut grads = N::boxed_zeroed();
    let mut ws = nn_core::boxed_zeroed::<N::Cache>();
    let mut dyn_grads = mlp.zeros_like();
    let mut g = c.benchmark_group(format!("train_step/{name}"));
    g.bench_function("generated", |b| {
        b.iter(|| {
            let y = net.forward_train_in(black_box(&x), &mut ws, &mut rng);
            let dy = MeanSquaredError.gradient(&y, black_box(&t));
            let mut dx: N::Input = Buffer::zeros();
            N::backward_in(Accumulate { layer: &*net, grads: &mut *grads }, &mut ws, &dy, Some(&mut dx));
            black_box(dx)
        })
    });
    g.bench_function("dmatrix", |b| {
        b.iter(|| {
            let cache = mlp.forward_train(black_box(&dx));
            let dy = nn_benches::mse_gradient(cache.output(), black_box(&dt));
            black_box(mlp.backward(&cache, &dy, &mut dyn_grads))
        })
    });
    g.finish();
}

/// Group `forward/{name}/batch{B}`: generated, naive_smatrix and dmatrix on one batch of `B` samples.
fn batched<const I: usize, const H: usize, const O: usize, const B: usize, N>(
    c: &mut Criterion,
    name: &str,
    net: &N,
    mlp: &DynMlp,
    naive: &Naive2<I, H, O>,
) where
    N: Network<Scalar = f32>,
    N: nn_core::BatchNetwork<InputBatch<B> = SMatrix<f32, I, B>, OutputBatch<B> = SMatrix<f32, O, B>>,
{
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x = Box::new(SMatrix::<f32, I, B>::from_fn(|_, _| rng.random_range(-1.0..1.0)));
    let dx = DMatrix::from_column_slice(I, B, x.as_slice());
    let (y, yn, yd) = (net.forward_batch::<B>(&x), naive.forward_batch::<B>(&x), mlp.forward_batch(&dx));
    for ((a, b), d) in y.as_slice().iter().zip(yn.as_slice()).zip(yd.as_slice()) {
        assert!((a - b).abs() < 1e-3 && (a - d).abs() < 1e-3, "{name}/{B}: generated {a}, naive {b}, dmatrix {d}");
    }

    let mut g = c.benchmark_group(format!("forward/{name}/batch{B}"));
    g.throughput(Throughput::Elements(B as u64));
    g.bench_function("generated", |b| b.iter(|| black_box(net.forward_batch::<B>(black_box(&x)))));
    g.bench_function("naive_smatrix", |b| b.iter(|| black_box(naive.forward_batch::<B>(black_box(&x)))));
    g.bench_function("dmatrix", |b| b.iter(|| black_box(mlp.forward_batch(black_box(&dx)))));
    g.finish();
}

fn small(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (net, mlp) = networks::<Net2x4x1>(&SPEC_2_4_1, &mut rng);
    let naive = Naive2::<2, 4, 1>::from_network(&*net, &SPEC_2_4_1);
    per_sample(c, "2-4-1", &*net, &mlp, |x| naive.forward(x));

    let (net, mlp) = networks::<Net16x32x32x4>(&SPEC_16_32_32_4, &mut rng);
    let naive = Naive3::<16, 32, 32, 4>::from_network(&*net, &SPEC_16_32_32_4);
    per_sample(c, "16-32-32-4", &*net, &mlp, |x| naive.forward(x));
}

/// A two-layer shape per sample and at batches of 32 and 256.
fn two_layer<const I: usize, const H: usize, const O: usize, N>(c: &mut Criterion, name: &str, spec: &[Spec; 2])
where
    N: Network<Scalar = f32> + Initialize + Boxed,
    N: Network<Input = SMatrix<f32, I, 1>, Output = SMatrix<f32, O, 1>>,
    N: nn_core::BatchNetwork<InputBatch<32> = SMatrix<f32, I, 32>, OutputBatch<32> = SMatrix<f32, O, 32>>,
    N: nn_core::BatchNetwork<InputBatch<256> = SMatrix<f32, I, 256>, OutputBatch<256> = SMatrix<f32, O, 256>>,
{
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (net, mlp) = networks::<N>(spec, &mut rng);
    let naive = Box::new(Naive2::<I, H, O>::from_network(&*net, spec));
    per_sample(c, name, &*net, &mlp, |x| naive.forward(x));
    batched::<I, H, O, 32, N>(c, name, &*net, &mlp, &naive);
    batched::<I, H, O, 256, N>(c, name, &*net, &mlp, &naive);
}

fn large(c: &mut Criterion) {
    two_layer::<64, 128, 10, Net64x128x10>(c, "64-128-10", &SPEC_64_128_10);
    two_layer::<784, 128, 10, Net784x128x10>(c, "784-128-10", &SPEC_784_128_10);
    two_layer::<256, 256, 256, Net256x256x256>(c, "256-256-256", &SPEC_256_256_256);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = peak, small, large
}
criterion_main!(benches);
