//! Convolutions: the MNIST CNN of `examples/mnist_cnn.rs` per sample and in batches of 32, a VGG-style CIFAR
//! network per sample, and single convolution layers (`nn_core`'s `Conv2d`, an implicit GEMM with register-blocked
//! micro-kernels) against the textbook six-loop form ([`nn_benches::conv2d_naive`]) with the same weights.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nn_benches::{CONV_1X28X28_8K5, CONV_16X14X14_32K3P1, CONV_64X8X8_64K3P1, CONV_64X8X8_128K1};
use nn_benches::{ConvShape, conv_weights_oihw, conv2d_naive};
use nn_core::layer::Conv2d;
use nn_core::nalgebra::{SMatrix, SVector};
use nn_core::prelude::*;
use nn_core::rand::RngExt;
use std::hint::black_box;
use std::time::Duration;

network! {
    /// LeNet-style, as in `examples/mnist_cnn.rs`: [1, 28, 28] -> conv 8@5x5 -> max pool -> conv 16@5x5
    /// -> max pool -> 120 -> 84 -> 10 logits.
    pub struct Mnist<f32> {
        input: [1, 28, 28],
        conv1: Conv2d(8, kernel = 5), Relu,
        MaxPool2d(2),
        conv2: Conv2d(16, kernel = 5), Relu,
        MaxPool2d(2),
        Flatten,
        fc1: Dense(120), Relu, Dropout(0.3),
        fc2: Dense(84), Relu, Dropout(0.3),
        fc3: Dense(10),
    }
}

network! {
    /// The VGG-style CIFAR network of `../shared/peers/ort/ortbench.py vgg` (VGG-11's eight 3x3 convolutions,
    /// 64 to 512 channels, on 3x32x32, then 512 -> 512 -> 10), for the comparison with ONNX Runtime.
    pub struct VggCifar<f32> {
        input: [3, 32, 32],
        Conv2d(64, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(128, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(256, kernel = 3, padding = 1), Relu, Conv2d(256, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(512, kernel = 3, padding = 1), Relu, Conv2d(512, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(512, kernel = 3, padding = 1), Relu, Conv2d(512, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Flatten,
        Dense(512), Relu,
        Dense(512), Relu,
        Dense(10),
    }
}

network! {
    /// One depthwise 3x3 convolution over 32 channels of 16x16 (one group per channel).
    pub struct Depthwise<f32> {
        input: [32, 16, 16],
        Conv2d(32, kernel = 3, padding = 1, groups = 32),
    }
}

network! {
    /// A MobileNet-style stack: depthwise 3x3 and pointwise 1x1 convolutions, the second depthwise one at
    /// stride 2, then global average pooling and a classifier.
    pub struct MobileBlocks<f32> {
        input: [32, 16, 16],
        Conv2d(32, kernel = 3, padding = 1, groups = 32), Relu,
        Conv2d(64, kernel = 1), Relu,
        Conv2d(64, kernel = 3, stride = 2, padding = 1, groups = 64), Relu,
        Conv2d(128, kernel = 1), Relu,
        GlobalAvgPool2d,
        Dense(10),
    }
}

/// Groups `depthwise/32x16x16@3x3` and `mobile_blocks/forward`: one sample per call.
fn depthwise(c: &mut Criterion) {
    let mut rng = seeded_rng(1);
    let x = Box::new(SMatrix::<f32, 8192, 1>::from_fn(|_, _| rng.random_range(-1.0..1.0)));
    let layer = Depthwise::boxed_init(&mut rng);
    let blocks = MobileBlocks::boxed_init(&mut rng);
    let mut g = c.benchmark_group("depthwise");
    g.bench_function("32x16x16@3x3", |b| b.iter(|| black_box(layer.forward(black_box(&*x)))));
    g.finish();
    let mut g = c.benchmark_group("mobile_blocks/forward");
    g.bench_function("sample", |b| b.iter(|| black_box(blocks.forward(black_box(&*x)))));
    g.finish();
}

/// Group `vgg_cifar/forward`: one 3x32x32 image per call.
fn vgg_cifar(c: &mut Criterion) {
    let mut rng = seeded_rng(1);
    let net = VggCifar::boxed_init(&mut rng);
    let x = Box::new(SMatrix::<f32, 3072, 1>::from_fn(|_, _| rng.random_range(0.0..1.0)));
    let mut g = c.benchmark_group("vgg_cifar/forward");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sample", |b| b.iter(|| black_box(net.forward(black_box(&*x)))));
    g.finish();
}

/// Group `mnist_cnn/forward`: `sample` (one image per call) and `batch_32` (32 images per call); both report
/// throughput in images, so the per-image times compare directly.
fn mnist_cnn(c: &mut Criterion) {
    const B: usize = 32;
    let mut rng = seeded_rng(1);
    let net = Mnist::boxed_init(&mut rng);
    let x = Box::new(SMatrix::<f32, 784, B>::from_fn(|_, _| rng.random_range(0.0..1.0)));
    let x1 = SMatrix::<f32, 784, 1>::from_column_slice(&x.as_slice()[..784]);

    let mut g = c.benchmark_group("mnist_cnn/forward");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sample", |b| b.iter(|| black_box(net.forward(black_box(&x1)))));
    g.throughput(Throughput::Elements(B as u64));
    g.bench_function("batch_32", |b| b.iter(|| black_box(net.forward_batch::<B>(black_box(&*x)))));
    g.finish();
}

/// Group `conv_layer/{name}`: `lowered` (`Conv2d::forward`) and `naive` ([`conv2d_naive`]) on one sample, with
/// the same random weights, biases and input.
fn conv_layer<const CO: usize, const K: usize, const KH: usize, const KW: usize, const IN: usize, const OUT: usize>(
    c: &mut Criterion,
    name: &str,
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
    let weight = conv_weights_oihw(&layer.weight);
    let mut y = vec![0.0f32; OUT];

    let mut g = c.benchmark_group(format!("conv_layer/{name}"));
    g.throughput(Throughput::Elements(1));
    g.bench_function("lowered", |b| {
        b.iter(|| black_box(layer.forward::<IN, OUT, 1>(black_box(&geometry), black_box(&x))))
    });
    g.bench_function("naive", |b| {
        b.iter(|| {
            conv2d_naive(black_box(s), &weight, layer.bias.as_slice(), black_box(x.as_slice()), &mut y);
            black_box(&mut y);
        })
    });
    g.finish();
}

fn conv(c: &mut Criterion) {
    mnist_cnn(c);
    vgg_cifar(c);
    depthwise(c);
    conv_layer::<8, 25, 5, 5, 784, 4608>(c, "1x28x28->8@5x5", &CONV_1X28X28_8K5);
    conv_layer::<32, 144, 3, 3, 3136, 6272>(c, "16x14x14->32@3x3p1", &CONV_16X14X14_32K3P1);
    conv_layer::<64, 576, 3, 3, 4096, 4096>(c, "64x8x8->64@3x3p1", &CONV_64X8X8_64K3P1);
    conv_layer::<128, 64, 1, 1, 4096, 8192>(c, "64x8x8->128@1x1", &CONV_64X8X8_128K1);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = conv
}
criterion_main!(benches);
