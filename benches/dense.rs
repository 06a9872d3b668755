//! Per-sample forward and training step (forward, MSE gradient, backward) of generated networks against the
//! same networks on nalgebra `DMatrix`/`DVector` ([`DynMlp`]), initialised with the same weights.

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::DVector;
use nn_benches::{DynMlp, Net2x4x1, Net16x32x32x4, Net64x128x10, SPEC_2_4_1, SPEC_16_32_32_4, SPEC_64_128_10, Spec};
use nn_core::prelude::*;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_core::rand::{RngExt, SeedableRng};
use std::hint::black_box;
use std::time::Duration;

/// Benchmarks one shape: groups `forward/{name}` and `train_step/{name}`, each with `generated` and `dmatrix`.
fn shape<N>(c: &mut Criterion, name: &str, spec: &[Spec])
where
    N: Network<Scalar = f32> + Initialize + Boxed,
{
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut net = N::boxed_init(&mut rng);
    net.visit_mut(|t| {
        if t.name.tensor == "bias" {
            t.data.iter_mut().for_each(|v| *v = rng.random_range(-0.1..0.1));
        }
    });
    let mlp = DynMlp::from_network(spec, &*net);

    let mut x = N::Input::zeros();
    x.as_mut_slice().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
    let mut t = N::Output::zeros();
    t.as_mut_slice().iter_mut().for_each(|v| *v = rng.random_range(0.0..1.0));
    let (dx, dt) = (DVector::from_column_slice(x.as_slice()), DVector::from_column_slice(t.as_slice()));

    let mut g = c.benchmark_group(format!("forward/{name}"));
    g.bench_function("generated", |b| b.iter(|| black_box(net.forward(black_box(&x)))));
    g.bench_function("dmatrix", |b| b.iter(|| black_box(mlp.forward(black_box(&dx)))));
    g.finish();

    let mut grads = N::boxed_zeroed();
    let mut dyn_grads = mlp.zeros_like();
    let mut g = c.benchmark_group(format!("train_step/{name}"));
    g.bench_function("generated", |b| {
        b.iter(|| {
            let (y, cache) = net.forward_train(black_box(&x), &mut rng);
            let dy = MeanSquaredError.gradient(&y, black_box(&t));
            black_box(net.backward(&cache, &dy, &mut grads))
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
    black_box((&grads, &dyn_grads));
}

fn dense(c: &mut Criterion) {
    shape::<Net2x4x1>(c, "2-4-1", &SPEC_2_4_1);
    shape::<Net16x32x32x4>(c, "16-32-32-4", &SPEC_16_32_32_4);
    shape::<Net64x128x10>(c, "64-128-10", &SPEC_64_128_10);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = dense
}
criterion_main!(benches);
