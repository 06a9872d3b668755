//! Training throughput (samples per second) of a 64-128-10 network: one SGD step per sample (batch 1: through a
//! gradient buffer and `Sgd::step`, and fused into the backward pass with `Network::sgd_step`) and per batch of
//! 32, generated code beside the `DMatrix` baseline in the same run.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nalgebra::{DMatrix, DVector, SMatrix};
use nn_benches::{DynMlp, Net64x128x10, SPEC_64_128_10};
use nn_core::prelude::*;
use nn_core::rand::RngExt;
use std::hint::black_box;
use std::time::Duration;

const B: usize = 32;
const LR: f32 = 1e-3;

fn train(c: &mut Criterion) {
    let mut rng = seeded_rng(1);
    let mut net = Net64x128x10::boxed_init(&mut rng);
    let mut mlp = DynMlp::from_network(&SPEC_64_128_10, &*net);
    let x = SMatrix::<f32, 64, B>::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let mut t = SMatrix::<f32, 10, B>::zeros();
    for b in 0..B {
        t[(b % 10, b)] = 1.0;
    }
    let samples: Vec<(Vector<f32, 64>, Vector<f32, 10>)> =
        (0..B).map(|b| (x.column(b).into_owned(), t.column(b).into_owned())).collect();
    let (dx, dt) = (DMatrix::from_column_slice(64, B, x.as_slice()), DMatrix::from_column_slice(10, B, t.as_slice()));
    let dyn_samples: Vec<(DVector<f32>, DVector<f32>)> = samples
        .iter()
        .map(|(x, t)| (DVector::from_column_slice(x.as_slice()), DVector::from_column_slice(t.as_slice())))
        .collect();

    let mut grads = Net64x128x10::boxed_zeroed();
    // Training storage allocated once and reused by every step, as `Trainer` does.
    let mut ws = nn_core::boxed_zeroed::<<Net64x128x10 as Network>::Cache>();
    let mut ws32 = nn_core::boxed_zeroed::<<Net64x128x10 as BatchNetwork>::BatchCache<B>>();
    let mut dyn_grads = mlp.zeros_like();
    let mut sgd = Sgd::new(LR);
    let mut g = c.benchmark_group("train/64-128-10");
    g.throughput(Throughput::Elements(B as u64));
    g.bench_function("generated/batch1", |b| {
        b.iter(|| {
            for (x, t) in &samples {
                grads.fill(0.0);
                net.backprop_in(&mut ws, black_box(x), t, &MeanSquaredError, &mut grads, &mut rng);
                sgd.step(&mut *net, &grads);
            }
        })
    });
    g.bench_function("generated/batch1_fused", |b| {
        b.iter(|| {
            for (x, t) in &samples {
                black_box(net.sgd_step_in(&mut ws, black_box(x), t, &MeanSquaredError, LR, &mut rng));
            }
        })
    });
    g.bench_function("generated/batch32", |b| {
        b.iter(|| {
            grads.fill(0.0);
            let y = net.forward_train_batch_in::<B, _>(black_box(&x), &mut ws32, &mut rng);
            let dy = MeanSquaredError.gradient(&y, &t);
            Net64x128x10::backward_batch_in::<B, _>(
                Accumulate { layer: &*net, grads: &mut *grads },
                &mut ws32,
                &dy,
                None,
            );
            sgd.step(&mut *net, &grads);
        })
    });
    g.bench_function("dmatrix/batch1", |b| {
        b.iter(|| {
            for (x, t) in &dyn_samples {
                dyn_grads.layers.iter_mut().for_each(|l| {
                    l.weight.fill(0.0);
                    l.bias.fill(0.0);
                });
                mlp.backprop(black_box(x), t, &mut dyn_grads);
                mlp.sgd_step(&dyn_grads, LR);
            }
        })
    });
    g.bench_function("dmatrix/batch32", |b| {
        b.iter(|| {
            dyn_grads.layers.iter_mut().for_each(|l| {
                l.weight.fill(0.0);
                l.bias.fill(0.0);
            });
            black_box(mlp.backprop_batch(black_box(&dx), &dt, &mut dyn_grads));
            mlp.sgd_step(&dyn_grads, LR);
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(30);
    targets = train
}
criterion_main!(benches);
