//! Convolutional networks from `network!`: shapes, gradient checks through every convolution and pooling
//! layer (global average pooling included), and a small CNN that learns the digits.

use nn_core::data::load_digits;
use nn_core::gradcheck::check_batch;
use nn_core::nalgebra::SMatrix;
use nn_core::prelude::*;
use nn_core::rand::RngExt;
use nn_core::train::Sample;

network! {
    /// Every 2-D layer kind, with stride, padding and dilation.
    struct Conv2dNet<f64> {
        input: [2, 7, 10],
        Conv2d(3, kernel = 3, padding = 1), Tanh,
        Conv2d(4, kernel = (2, 3), stride = 2, dilation = (1, 2)), Relu,
        ConvTranspose2d(2, kernel = 2, stride = 2, padding = 1, output_padding = 1), Sigmoid,
        MaxPool2d(2, stride = 1),
        AvgPool2d(2),
        Flatten,
        Dense(3),
    }
}

network! {
    /// The 1-D layer kinds.
    struct Conv1dNet<f64> {
        input: [2, 11],
        Conv1d(3, kernel = 3, stride = 2, padding = 1), Gelu,
        MaxPool1d(2, stride = 1),
        ConvTranspose1d(2, kernel = 3, stride = 2), Tanh,
        AvgPool1d(3),
        Flatten,
        Dense(2),
    }
}

fn random<const R: usize, const C: usize>(rng: &mut SeededRng) -> SMatrix<f64, R, C> {
    SMatrix::from_fn(|_, _| rng.random_range(-1.0..1.0))
}

#[test]
fn shapes_follow_the_output_size_formulas() {
    // [2,7,10] -conv 3x3 p1-> [3,7,10] -conv (2,3) s2 d(1,2)-> [4,3,3] -convT k2 s2 p1 op1-> [2,5,5]
    // -maxpool 2 s1-> [2,4,4] -avgpool 2-> [2,2,2] -flatten-> 8 -dense-> 3
    assert_eq!(Conv2dNet::INPUTS, 140);
    assert_eq!(Conv2dNet::OUTPUTS, 3);
    assert_eq!(Conv1dNet::INPUTS, 22);
    let summary = Conv2dNet::SUMMARY;
    assert!(
        summary.starts_with("input [2, 7, 10] -> conv1 Conv [3, 7, 10] -> Tanh -> conv2 Conv [4, 3, 3]"),
        "{summary}"
    );
    assert!(
        summary.contains("conv3 TransposedConv [2, 5, 5] -> Sigmoid -> MaxPool [2, 4, 4] -> AvgPool [2, 2, 2]"),
        "{summary}"
    );
}

#[test]
fn every_convolution_and_pooling_layer_passes_the_gradient_check() {
    let mut rng = seeded_rng(1);
    let mut net = Conv2dNet::boxed_init(&mut rng);
    net.visit_mut(|t| {
        if t.name.tensor == "bias" {
            t.data.iter_mut().for_each(|b| *b = rng.random_range(-0.5..0.5));
        }
    });
    let x = random::<140, 2>(&mut rng);
    let t = random::<3, 2>(&mut rng);
    let r = check_batch(&mut *net, &x, &t, &MeanSquaredError, &mut Conv2dNet::boxed_zeroed(), 0);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
    assert_eq!(r.checked, net.param_count() + 280);

    let mut net = Conv1dNet::boxed_init(&mut rng);
    let x = random::<22, 3>(&mut rng);
    let t = random::<2, 3>(&mut rng);
    let r = check_batch(&mut *net, &x, &t, &HalfSquaredError, &mut Conv1dNet::boxed_zeroed(), 0);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
}

network! {
    /// A CNN whose head averages each channel instead of flattening: the dense layer sees one value per channel,
    /// whatever the planes' size.
    struct GlobalPooled<f64> {
        input: [2, 6, 7],
        Conv2d(5, kernel = 3, padding = 1), Relu,
        GlobalAvgPool2d,
        Dense(10),
    }
}

network! {
    /// The 1-D form.
    struct GlobalPooled1d<f64> {
        input: [3, 9],
        Conv1d(4, kernel = 3, stride = 2), Tanh,
        GlobalAvgPool1d,
        Dense(2),
    }
}

#[test]
fn global_average_pooling_gives_one_value_per_channel_and_passes_the_gradient_check() {
    // [2, 6, 7] -conv 3x3 p1-> [5, 6, 7] -global average-> 5 -dense-> 10
    assert_eq!((GlobalPooled::INPUTS, GlobalPooled::OUTPUTS), (84, 10));
    assert_eq!(GlobalPooled::boxed_zeroed().fc1.weight.shape(), (10, 5));
    let summary = GlobalPooled::SUMMARY;
    assert!(summary.contains("Relu -> GlobalAvgPool (5) -> fc1 Dense 10"), "{summary}");
    // [3, 9] -conv k3 s2-> [4, 4] -global average-> 4 -dense-> 2
    assert_eq!((GlobalPooled1d::INPUTS, GlobalPooled1d::OUTPUTS), (27, 2));
    assert_eq!(GlobalPooled1d::boxed_zeroed().fc1.weight.shape(), (2, 4));

    let mut rng = seeded_rng(9);
    let mut net = GlobalPooled::boxed_init(&mut rng);
    net.visit_mut(|t| {
        if t.name.tensor == "bias" {
            t.data.iter_mut().for_each(|b| *b = rng.random_range(-0.5..0.5));
        }
    });
    let y: Vector<f64, 10> = net.forward(&random::<84, 1>(&mut rng));
    assert!(y.iter().all(|v| v.is_finite()));
    let x = random::<84, 2>(&mut rng);
    let t = random::<10, 2>(&mut rng);
    let r = check_batch(&mut *net, &x, &t, &MeanSquaredError, &mut GlobalPooled::boxed_zeroed(), 0);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
    assert_eq!(r.checked, net.param_count() + 168);

    let mut net = GlobalPooled1d::boxed_init(&mut rng);
    let x = random::<27, 3>(&mut rng);
    let t = random::<2, 3>(&mut rng);
    let r = check_batch(&mut *net, &x, &t, &HalfSquaredError, &mut GlobalPooled1d::boxed_zeroed(), 0);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
}

network! {
    /// A small CNN for the 8x8 digits.
    struct DigitsCnn<f32> {
        input: [1, 8, 8],
        Conv2d(8, kernel = 3, padding = 1), Relu,
        MaxPool2d(2),
        Conv2d(16, kernel = 3, padding = 1), Relu,
        MaxPool2d(2),
        Flatten,
        Dense(10),
    }
}

#[test]
fn a_small_cnn_learns_the_digits() {
    let data = load_digits(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits.csv.gz")).unwrap().shuffled(2026);
    let (train, test) = data.split(data.len() * 4 / 5);
    let train: Vec<Sample<DigitsCnn>> = train.pairs().unwrap();
    let test: Vec<Sample<DigitsCnn>> = test.pairs().unwrap();
    let mut net = DigitsCnn::boxed_init(&mut seeded_rng(3));
    let mut adam = Adam::new(3e-3);
    Trainer::new(&mut *net, &mut adam, SoftmaxCrossEntropy)
        .epochs(6)
        .seed(3)
        .fit_without_validation::<16>(&train)
        .unwrap();
    let m = evaluate::<_, _, 16>(&*net, &test, &SoftmaxCrossEntropy);
    assert!(m.accuracy >= 0.93, "test accuracy {}", m.accuracy);
}

network! {
    /// Residual blocks with and without a projection, in 2-D and on vectors.
    struct Residuals<f64> {
        input: [2, 6, 6],
        Conv2d(3, kernel = 3, padding = 1), Relu,
        Residual(Conv2d(3, kernel = 3, padding = 1), Tanh, Conv2d(3, kernel = 3, padding = 1)), Relu,
        Residual(Conv2d(4, kernel = 3, stride = 2, padding = 1), Relu, project = Conv2d(4, kernel = 1, stride = 2)),
        Flatten,
        Dense(5), Tanh,
        block: Residual(Dense(5), Sigmoid, Dense(5)),
        Dense(2),
    }
}

#[test]
fn residual_blocks_pass_the_gradient_check() {
    let mut rng = seeded_rng(2);
    let mut net = Residuals::boxed_init(&mut rng);
    net.visit_mut(|t| {
        if t.name.tensor == "bias" {
            t.data.iter_mut().for_each(|b| *b = rng.random_range(-0.5..0.5));
        }
    });
    let x = random::<72, 2>(&mut rng);
    let t = random::<2, 2>(&mut rng);
    let r = check_batch(&mut *net, &x, &t, &MeanSquaredError, &mut Residuals::boxed_zeroed(), 0);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
    // Parameters of layers inside blocks keep their names; the projection is `conv5`.
    let names: Vec<String> = (0..Residuals::TENSORS).map(|i| net.tensor(i).unwrap().name.to_string()).collect();
    assert!(names.contains(&"conv5.weight".to_string()), "{names:?}");
    assert_eq!(names.len(), 2 * 9);
}

network! {
    /// A small ResNet for the 8x8 digits.
    struct DigitsResNet<f32> {
        input: [1, 8, 8],
        Conv2d(8, kernel = 3, padding = 1), Relu,
        Residual(Conv2d(8, kernel = 3, padding = 1), Relu, Conv2d(8, kernel = 3, padding = 1)), Relu,
        MaxPool2d(2),
        Residual(Conv2d(12, kernel = 3, padding = 1), Relu, project = Conv2d(12, kernel = 1)), Relu,
        MaxPool2d(2),
        Flatten,
        Dense(10),
    }
}

#[test]
fn a_small_residual_cnn_learns_the_digits() {
    let data = load_digits(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits.csv.gz")).unwrap().shuffled(2026);
    let (train, test) = data.split(data.len() * 4 / 5);
    let train: Vec<Sample<DigitsResNet>> = train.pairs().unwrap();
    let test: Vec<Sample<DigitsResNet>> = test.pairs().unwrap();
    let mut net = DigitsResNet::boxed_init(&mut seeded_rng(4));
    let mut adam = Adam::new(3e-3);
    Trainer::new(&mut *net, &mut adam, SoftmaxCrossEntropy)
        .epochs(3)
        .seed(4)
        .fit_without_validation::<16>(&train)
        .unwrap();
    let m = evaluate::<_, _, 16>(&*net, &test, &SoftmaxCrossEntropy);
    assert!(m.accuracy >= 0.93, "test accuracy {}", m.accuracy);
}

network! {
    /// A dense code reshaped into planes and decoded by transposed convolutions (a generator's shape).
    struct Decoder<f64> {
        input: 6,
        Dense(32), Relu,
        Reshape([2, 4, 4]),
        ConvTranspose2d(3, kernel = 2, stride = 2), Tanh,
        Reshape([3, 64]),
        Conv1d(2, kernel = 5, stride = 3),
        Flatten,
    }
}

#[test]
fn reshape_moves_no_data_and_passes_the_gradient_check() {
    assert_eq!((Decoder::INPUTS, Decoder::OUTPUTS), (6, 2 * 20));
    let mut rng = seeded_rng(6);
    let mut net = Decoder::boxed_init(&mut rng);
    let x = random::<6, 2>(&mut rng);
    let t = random::<40, 2>(&mut rng);
    let r = check_batch(&mut *net, &x, &t, &MeanSquaredError, &mut Decoder::boxed_zeroed(), 0);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
}

network! {
    /// Batch norm per channel on 2-D and 1-D planes (PyTorch's `BatchNorm2d` and `BatchNorm1d`).
    struct Normed<f64> {
        input: [2, 5, 5],
        Conv2d(3, kernel = 3, padding = 1), BatchNorm(3), Relu,
        Reshape([3, 25]),
        Conv1d(2, kernel = 3, stride = 2), BatchNorm, Tanh,
        Flatten,
        Dense(2),
    }
}

#[test]
fn per_channel_batch_norm_passes_the_gradient_check_and_tracks_statistics() {
    let mut rng = seeded_rng(7);
    let mut net = Normed::boxed_init(&mut rng);
    net.bn1.weight = Vector::from([1.2, 0.7, 1.5]);
    net.bn1.bias = Vector::from([0.1, -0.2, 0.3]);
    let x = random::<50, 3>(&mut rng);
    let t = random::<2, 3>(&mut rng);
    let r = check_batch(&mut *net, &x, &t, &MeanSquaredError, &mut Normed::boxed_zeroed(), 0);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
    // One statistic per channel; saved as PyTorch's [C] vectors.
    assert_eq!(net.tensor_named("bn1.weight").unwrap().data.len(), 3);
    assert_eq!(net.buffer(2).unwrap().name.to_string(), "bn2.running_mean");
    let (_, cache) = net.forward_train_batch::<3, _>(&x, &mut rng);
    net.update_statistics(&cache);
    assert!(net.bn1.running_mean.iter().all(|m| m.abs() > 0.0));
}

const SIDE: usize = 12;
const CHANNELS: usize = 3;
const FILTERS: usize = 6;

network! {
    /// Plane sizes and channels from `const` items: output sizes are `const` expressions checked by the compiler.
    struct ConstSized<f64> {
        input: [CHANNELS, SIDE, SIDE],
        Conv2d(FILTERS, kernel = 3, stride = 2, padding = 1), Relu,
        BatchNorm(FILTERS),
        Residual(Conv2d(FILTERS, kernel = 3, padding = 1), Tanh),
        MaxPool2d(2),
        ConvTranspose2d(CHANNELS, kernel = 2, stride = 2),
        Flatten,
        Dense(2),
    }
}

#[test]
fn const_sized_convolutions_work_out_their_shapes() {
    // [3, 12, 12] -conv s2 p1-> [6, 6, 6] -pool-> [6, 3, 3] -convT s2-> [3, 6, 6] -> 108 -> 2
    assert_eq!((ConstSized::INPUTS, ConstSized::OUTPUTS), (432, 2));
    assert_eq!(ConstSized::boxed_zeroed().fc1.weight.shape(), (2, 108));
    let mut rng = seeded_rng(8);
    let mut net = ConstSized::boxed_init(&mut rng);
    let x = random::<432, 2>(&mut rng);
    let t = random::<2, 2>(&mut rng);
    let r = check_batch(&mut *net, &x, &t, &MeanSquaredError, &mut ConstSized::boxed_zeroed(), 0);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
}

network! {
    /// A MobileNet-style block stack: a depthwise 3x3 convolution (one group per channel), a pointwise 1x1
    /// one, a grouped 3x3 one at stride 2, then a classifier.
    struct Separable<f64> {
        input: [4, 6, 6],
        dw1: Conv2d(4, kernel = 3, padding = 1, groups = 4), Relu,
        pw1: Conv2d(6, kernel = 1), Relu,
        grouped: Conv2d(4, kernel = 3, stride = 2, padding = 1, groups = 2), Tanh,
        Flatten,
        Dense(3),
    }
}

network! {
    /// Grouped 1-D convolution: 6 channels in three groups to 9.
    struct Grouped1d<f64> {
        input: [6, 8],
        Conv1d(9, kernel = 3, groups = 3), Tanh,
        Flatten,
        Dense(2),
    }
}

#[test]
fn depthwise_and_grouped_convolutions_pass_the_gradient_check() {
    // [4, 6, 6] -dw 3x3 p1-> [4, 6, 6] -pw-> [6, 6, 6] -grouped 3x3 s2 p1-> [4, 3, 3] -> 36 -> 3
    assert_eq!((Separable::INPUTS, Separable::OUTPUTS), (144, 3));
    let net = Separable::boxed_zeroed();
    // PyTorch's shapes: weight [out, in / groups, kh, kw].
    assert_eq!(net.dw1.weight.shape(), (4, 9));
    assert_eq!(net.grouped.weight.shape(), (4, 3 * 9));
    let dims = |name: &str| {
        let t = net.tensor_named(name).unwrap();
        t.layout.shape(t.rows, t.cols).dims().to_vec()
    };
    assert_eq!(dims("dw1.weight"), [4, 1, 3, 3]);
    assert_eq!(dims("grouped.weight"), [4, 3, 3, 3]);
    let layers = Separable::SUMMARY;
    assert!(layers.starts_with("input [4, 6, 6] -> dw1 Conv [4, 6, 6] -> Relu -> pw1 Conv [6, 6, 6]"), "{layers}");

    let mut rng = seeded_rng(12);
    let mut net = Separable::boxed_init(&mut rng);
    net.visit_mut(|t| {
        if t.name.tensor == "bias" {
            t.data.iter_mut().for_each(|b| *b = rng.random_range(-0.5..0.5));
        }
    });
    let x = random::<144, 2>(&mut rng);
    let t = random::<3, 2>(&mut rng);
    let r = check_batch(&mut *net, &x, &t, &MeanSquaredError, &mut Separable::boxed_zeroed(), 0);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
    assert_eq!(r.checked, net.param_count() + 288);

    assert_eq!((Grouped1d::INPUTS, Grouped1d::OUTPUTS), (48, 2));
    let mut net = Grouped1d::boxed_init(&mut rng);
    let x = random::<48, 3>(&mut rng);
    let t = random::<2, 3>(&mut rng);
    let r = check_batch(&mut *net, &x, &t, &HalfSquaredError, &mut Grouped1d::boxed_zeroed(), 0);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
}

network! {
    /// Convolutions without bias (PyTorch's `bias=False`), as before batch norm: plain, grouped and 1-D.
    struct Unbiased<f64> {
        input: [2, 6, 6],
        a: Conv2d(4, kernel = 3, padding = 1, bias = false), BatchNorm, Relu,
        b: Conv2d(4, kernel = 3, stride = 2, padding = 1, groups = 2, bias = false), Tanh,
        Reshape([4, 9]),
        c: Conv1d(3, kernel = 2, bias = false), Sigmoid,
        d: Conv1d(2, kernel = 3, bias = true),
        Flatten,
        Dense(2),
    }
}

#[test]
fn convolutions_without_bias_have_only_weights_and_pass_the_gradient_check() {
    // [2, 6, 6] -a-> [4, 6, 6] -b s2-> [4, 3, 3] -> [4, 9] -c-> [3, 8] -d-> [2, 6] -> 12 -> 2
    assert_eq!((Unbiased::INPUTS, Unbiased::OUTPUTS), (72, 2));
    let mut rng = seeded_rng(11);
    let mut net = Unbiased::boxed_init(&mut rng);
    let mut names = Vec::new();
    net.visit(|t| names.push(t.name.to_string()));
    assert_eq!(
        names,
        ["a.weight", "bn1.weight", "bn1.bias", "b.weight", "c.weight", "d.weight", "d.bias", "fc1.weight", "fc1.bias"]
    );
    assert_eq!(net.param_count(), 4 * 18 + 2 * 4 + 4 * 18 + 3 * 8 + 2 * 9 + 2 + 2 * 12 + 2);
    // Whatever the unused bias fields hold, the layers add none.
    net.a.bias = Vector::from_element(3.0);
    net.c.bias = Vector::from_element(-2.0);
    net.d.bias = Vector::from([0.3, -0.4]);
    let x = random::<72, 3>(&mut rng);
    let t = random::<2, 3>(&mut rng);
    let mut grads = Unbiased::boxed_zeroed();
    let r = check_batch(&mut *net, &x, &t, &MeanSquaredError, &mut grads, 0);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
    assert_eq!(r.checked, net.param_count() + 72 * 3);
    for g in [grads.a.bias.as_slice(), grads.b.bias.as_slice(), grads.c.bias.as_slice()] {
        assert!(g.iter().all(|&v| v == 0.0), "{g:?}");
    }
    assert!(grads.d.bias.iter().any(|&v| v != 0.0));
}

/// The classic architectures and local response normalisation (in this binary, to share its build).
#[path = "architectures.rs"]
mod architectures;
