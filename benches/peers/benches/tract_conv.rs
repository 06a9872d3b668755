//! The convolution cases of `benches/conv.rs` in [tract](tract_onnx), one sample per call, single-threaded, under
//! the same criterion group names (the generated network's figures come from `benches/conv.rs`).
//!
//! - `conv_layer/{name}`, function `tract`: one convolution layer (`Conv` with bias).
//! - `depthwise/32x16x16@3x3`, function `tract`: the depthwise layer of [`Depthwise`].
//! - `mobile_blocks/forward`, `mnist_cnn/forward`, `vgg_cifar/forward`, function `tract_sample`: the networks.
//!
//! Each model is the ONNX graph of `onnxruntime_conv.py` built in Rust ([`onnx_model`]) with the weights of the
//! generated network or layer, which is initialised (and fed) exactly as `benches/conv.rs` does, except that the
//! networks' biases are set to small random values ([`random_biases`]): tract's optimiser drops a bias addition
//! whose bias is all zeros, which a trained model would not allow. tract loads it, optimises it and plans it; an
//! iteration is one `SimpleState::run` on a state spawned once (what `plan.run` does after spawning a fresh
//! state), the input a reference-counted tensor built before timing.
//! Before a group is timed, tract's output is checked against the generated code's to [`TRACT_TOLERANCE`].

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nn_benches::{CONV_1X28X28_8K5, CONV_16X14X14_32K3P1, CONV_64X8X8_64K3P1, CONV_64X8X8_128K1, ConvShape};
use nn_core::layer::Conv2d;
use nn_core::nalgebra::{SMatrix, SVector};
use nn_core::prelude::*;
use nn_core::rand::RngExt;
use nn_peer_benches::tract_models::*;
use std::hint::black_box;
use std::time::Duration;
use tract_onnx::prelude::multithread::{Executor, current_tract_executor};
use tract_onnx::prelude::tvec;

/// Times tract on the case as criterion group `group`, function `function`, after checking its output on `x`
/// (one sample, channel-major) against the generated code's `want`.
fn time_tract<P: Parameters<f32>>(
    c: &mut Criterion,
    (group, function): (&str, &str),
    case: &Case,
    params: &P,
    x: &[f32],
    want: &[f32],
    throughput: bool,
) {
    let plan = tract_plan(case, params).unwrap_or_else(|e| panic!("{}: tract cannot plan it: {e:?}", case.name));
    let input = tract_input(case, x).expect("an input tensor");
    let mut state = plan.spawn().expect("a state");
    let got = tract_output(&state.run(tvec!(input.clone())).expect("tract runs")).expect("one output");
    let d = max_scaled_diff(&got, want);
    assert!(d <= TRACT_TOLERANCE, "{}: tract differs from the generated network by {d} (scaled)", case.name);

    let mut g = c.benchmark_group(group);
    if throughput {
        g.throughput(Throughput::Elements(1));
    }
    g.bench_function(function, |b| b.iter(|| black_box(state.run(tvec!(black_box(&input).clone())))));
    g.finish();
}

/// Sets every bias of `net` to a random value in `[-0.05, 0.05)`, drawn from its own generator so that the weights
/// and inputs stay those of `benches/conv.rs` (whose networks' biases are zero; the generated code adds biases
/// whatever their values).
fn random_biases<P: Parameters<f32>>(net: &mut P) {
    let mut rng = seeded_rng(2);
    net.visit_mut(|t| {
        if t.name.tensor == "bias" {
            t.data.iter_mut().for_each(|v| *v = rng.random_range(-0.05..0.05));
        }
    });
}

/// Groups `depthwise/32x16x16@3x3` and `mobile_blocks/forward`, with `benches/conv.rs`'s weights and input.
fn depthwise(c: &mut Criterion) {
    let mut rng = seeded_rng(1);
    let x = Box::new(SMatrix::<f32, 8192, 1>::from_fn(|_, _| rng.random_range(-1.0..1.0)));
    let mut layer = Depthwise::boxed_init(&mut rng);
    let mut blocks = MobileBlocks::boxed_init(&mut rng);
    random_biases(&mut *layer);
    random_biases(&mut *blocks);
    let names = (CASE_DEPTHWISE.name, "tract");
    time_tract(c, names, &CASE_DEPTHWISE, &*layer, x.as_slice(), layer.forward(&*x).as_slice(), false);
    let names = ("mobile_blocks/forward", "tract_sample");
    time_tract(c, names, &CASE_MOBILE_BLOCKS, &*blocks, x.as_slice(), blocks.forward(&*x).as_slice(), false);
}

/// Group `vgg_cifar/forward`: one 3x32x32 image per call.
fn vgg_cifar(c: &mut Criterion) {
    let mut rng = seeded_rng(1);
    let mut net = VggCifar::boxed_init(&mut rng);
    random_biases(&mut *net);
    let x = Box::new(SMatrix::<f32, 3072, 1>::from_fn(|_, _| rng.random_range(0.0..1.0)));
    let names = ("vgg_cifar/forward", "tract_sample");
    time_tract(c, names, &CASE_VGG_CIFAR, &*net, x.as_slice(), net.forward(&*x).as_slice(), true);
}

/// Group `mnist_cnn/forward`: one image per call (the first image of `benches/conv.rs`'s batch).
fn mnist_cnn(c: &mut Criterion) {
    const B: usize = 32;
    let mut rng = seeded_rng(1);
    let mut net = Mnist::boxed_init(&mut rng);
    random_biases(&mut *net);
    let x = Box::new(SMatrix::<f32, 784, B>::from_fn(|_, _| rng.random_range(0.0..1.0)));
    let x1 = SMatrix::<f32, 784, 1>::from_column_slice(&x.as_slice()[..784]);
    let names = ("mnist_cnn/forward", "tract_sample");
    time_tract(c, names, &CASE_MNIST_CNN, &*net, x1.as_slice(), net.forward(&x1).as_slice(), true);
}

/// Group `conv_layer/{name}`, function `tract`: one layer with `benches/conv.rs`'s random weights, biases and
/// input.
fn conv_layer<const CO: usize, const K: usize, const KH: usize, const KW: usize, const IN: usize, const OUT: usize>(
    c: &mut Criterion,
    case: &Case,
    s: &ConvShape,
) {
    let geometry = s.geometry();
    assert_eq!((geometry.inputs(), CO * geometry.positions(), geometry.receptive()), (IN, OUT, K));
    let mut rng = seeded_rng(1);
    let layer = Conv2d::<f32, CO, K, KH, KW>::new(
        SMatrix::from_fn(|_, _| rng.random_range(-0.5..0.5)),
        SVector::from_fn(|_, _| rng.random_range(-0.5..0.5)),
    );
    let x = SMatrix::<f32, IN, 1>::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let want = layer.forward::<IN, OUT, 1>(&geometry, &x);
    time_tract(c, (case.name, "tract"), case, &layer, x.as_slice(), want.as_slice(), true);
}

fn tract_conv(c: &mut Criterion) {
    // tract multiplies on the calling thread unless a multi-threaded executor is installed (and this build does
    // not even compile tract-linalg's `multithread-mm`).
    assert!(matches!(current_tract_executor(), Executor::SingleThread), "tract runs single-threaded");
    mnist_cnn(c);
    vgg_cifar(c);
    depthwise(c);
    conv_layer::<8, 25, 5, 5, 784, 4608>(c, &CASE_CONV_1X28X28_8K5, &CONV_1X28X28_8K5);
    conv_layer::<32, 144, 3, 3, 3136, 6272>(c, &CASE_CONV_16X14X14_32K3P1, &CONV_16X14X14_32K3P1);
    conv_layer::<64, 576, 3, 3, 4096, 4096>(c, &CASE_CONV_64X8X8_64K3P1, &CONV_64X8X8_64K3P1);
    conv_layer::<128, 64, 1, 1, 4096, 8192>(c, &CASE_CONV_64X8X8_128K1, &CONV_64X8X8_128K1);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = tract_conv
}
criterion_main!(benches);
