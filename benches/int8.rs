//! Int8 against f32 inference at batch 1, in one run: the 784-128-10 MLP and the MNIST LeNet-style CNN of the
//! examples, each quantised from the f32 network (`nn_core::quant::quantize`, calibrated on random inputs) and
//! read into its `#[int8]` twin. Groups `int8/{mlp_784_128_10,mnist_cnn}` with functions `f32` and `int8`.

use criterion::{Criterion, criterion_group, criterion_main};
use nn_core::prelude::*;
use nn_core::quant::quantize;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_core::rand::{RngExt, SeedableRng};
use std::hint::black_box;
use std::time::Duration;

network! {
    /// 784-128-10 with ReLU.
    pub struct Mlp<f32> {
        input: 784,
        fc1: Dense(128), Relu,
        fc2: Dense(10),
    }
}

network! {
    /// [`Mlp`] in int8.
    #[int8]
    pub struct MlpInt8 {
        input: 784,
        fc1: Dense(128), Relu,
        fc2: Dense(10),
    }
}

network! {
    /// The `mnist_cnn` example's network.
    pub struct Cnn<f32> {
        input: [1, 28, 28],
        conv1: Conv2d(8, kernel = 5), Relu,
        MaxPool2d(2),
        conv2: Conv2d(16, kernel = 5), Relu,
        MaxPool2d(2),
        Flatten,
        fc1: Dense(120), Relu,
        fc2: Dense(84), Relu,
        fc3: Dense(10),
    }
}

network! {
    /// [`Cnn`] in int8.
    #[int8]
    pub struct CnnInt8 {
        input: [1, 28, 28],
        conv1: Conv2d(8, kernel = 5), Relu,
        MaxPool2d(2),
        conv2: Conv2d(16, kernel = 5), Relu,
        MaxPool2d(2),
        Flatten,
        fc1: Dense(120), Relu,
        fc2: Dense(84), Relu,
        fc3: Dense(10),
    }
}

/// Random inputs in `[0, 1)` (pixels).
fn inputs<const N: usize>(rng: &mut ChaCha8Rng, n: usize) -> Vec<Vector<f32, N>> {
    (0..n).map(|_| Vector::from_fn(|_, _| rng.random_range(0.0..1.0))).collect()
}

fn int8(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mlp = Mlp::boxed_init(&mut rng);
    let xs = inputs::<784>(&mut rng, 64);
    let mlp8 = MlpInt8::load(&quantize(&*mlp, &xs).expect("quantises")).expect("loads");
    let x = xs[0];
    let x8 = mlp8.quantize(x.as_slice().try_into().expect("784 values"));
    let mut g = c.benchmark_group("int8/mlp_784_128_10");
    g.bench_function("f32", |b| b.iter(|| black_box(mlp.forward(black_box(&x)))));
    g.bench_function("int8", |b| b.iter(|| black_box(mlp8.forward(black_box(&x8)))));
    g.finish();

    let cnn = Cnn::boxed_init(&mut rng);
    let cnn8 = CnnInt8::load(&quantize(&*cnn, &xs).expect("quantises")).expect("loads");
    let x8 = cnn8.quantize(x.as_slice().try_into().expect("784 values"));
    let mut g = c.benchmark_group("int8/mnist_cnn");
    g.bench_function("f32", |b| b.iter(|| black_box(cnn.forward(black_box(&x)))));
    g.bench_function("int8", |b| b.iter(|| black_box(cnn8.forward(black_box(&x8)))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = int8
}
criterion_main!(benches);
