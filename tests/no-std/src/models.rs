//! The firmware's networks and what it does with them, shared with the host-side test that computes the outputs
//! the firmware must reproduce (`tests/tests/firmware.rs` includes this file): one source, so the host and the
//! device cannot run different models.

use nn_core::optim::{Optimizer, Sgd};
use nn_core::prelude::*;

network! {
    /// The `digits` example's classifier, weights compiled in from its saved file.
    #[weights = "../../../examples/assets/digits-mlp.safetensors"]
    pub struct Digits<f32> {
        input: 64,
        hidden: Dense(64), Relu, Dropout(0.1),
        out: Dense(10),
    }
}

/// The trained network in read-only memory.
pub static NET: Digits = Digits::TRAINED;

/// The logits of an 8x8 image (64 pixels in [0, 1]) and the digit they pick.
pub fn classify(net: &Digits, pixels: &[f32; 64]) -> (usize, [f32; 10]) {
    let logits = net.forward(&Vector::from(*pixels));
    let mut out = [0.0; 10];
    out.copy_from_slice(logits.as_slice());
    (nn_core::argmax(&out), out)
}

/// One SGD step on one labelled sample, entirely on the stack: training needs neither `std` nor a heap.
pub fn train_step(net: &mut Digits, grads: &mut Digits, pixels: &[f32; 64], label: usize, seed: u64) -> f32 {
    let mut target = Vector::<f32, 10>::zeros();
    target[label % 10] = 1.0;
    grads.fill(0.0);
    let loss = net.backprop(&Vector::from(*pixels), &target, &SoftmaxCrossEntropy, grads, &mut seeded_rng(seed));
    Sgd::new(0.01).step(net, grads);
    loss
}

/// The mean softmax cross-entropy of `net` (inference, no dropout) over labelled samples.
pub fn mean_loss(net: &Digits, samples: &[[f32; 64]], labels: &[u8]) -> f32 {
    let mut total = 0.0;
    for (pixels, &label) in samples.iter().zip(labels) {
        let (_, logits) = classify(net, pixels);
        let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let sum: f32 = logits.iter().map(|&v| nn_core::Float::exp(v - max)).sum();
        total += nn_core::Float::ln(sum) + max - logits[label as usize];
    }
    total / samples.len().max(1) as f32
}

/// Epochs of on-device training over the compiled-in samples, one SGD step per sample.
pub const EPOCHS: usize = 3;

/// [`EPOCHS`] epochs of [`train_step`] over `samples` in order, seeds counting from one.
pub fn train(net: &mut Digits, grads: &mut Digits, samples: &[[f32; 64]], labels: &[u8]) {
    let mut seed = 0;
    for _ in 0..EPOCHS {
        for (pixels, &label) in samples.iter().zip(labels) {
            seed += 1;
            train_step(net, grads, pixels, label as usize, seed);
        }
    }
}

network! {
    /// A streaming denoiser for audio or sensor samples: one value in, one out, per step.
    pub struct Denoiser<f32> {
        input: Seq(64, 1),
        gru: Gru(16),
        out: Dense(1),
    }
}

/// A denoiser with fixed, non-zero weights spread over [-0.25, 0.25) (a real device would compile trained ones
/// in with `#[weights]`); computed with integers, so the host and the device start from the same values.
pub fn denoiser() -> Denoiser {
    let mut net = Denoiser::zeroed();
    let mut k = 0usize;
    net.visit_mut(|t| {
        for v in t.data.iter_mut() {
            k += 1;
            *v = ((k * 7919 % 200) as f32 - 100.0) / 400.0;
        }
    });
    net
}

/// Samples of the stream the firmware denoises: a sawtooth in [-1, 1].
pub fn stream_sample(i: usize) -> f32 {
    ((i * 37 % 29) as f32 - 14.0) / 14.0
}

/// Steps of the stream the firmware checks.
pub const STREAM: usize = 64;

/// The denoiser's outputs for the first [`STREAM`] samples of the stream, from a fresh state.
pub fn denoise_stream(net: &Denoiser) -> [f32; STREAM] {
    let mut state = DenoiserState::new();
    core::array::from_fn(|i| net.step(&mut state, &Vector::from([stream_sample(i)]))[0])
}

network! {
    /// The sine model of the TinyML tutorials and of microflow (`examples/sine.rs` trains it): 1-16-16-1, ReLU.
    #[weights = "../../../examples/assets/sine-mlp.safetensors"]
    pub struct Sine<f32> {
        input: 1,
        hidden1: Dense(16), Relu,
        hidden2: Dense(16), Relu,
        out: Dense(1),
    }
}

/// The trained sine model in read-only memory.
pub static SINE: Sine = Sine::TRAINED;

/// Points at which the firmware evaluates the sine model: `x = 2π i / SINE_POINTS`.
pub const SINE_POINTS: usize = 32;

/// The sine model's outputs at its [`SINE_POINTS`] points.
pub fn sine_curve(net: &Sine) -> [f32; SINE_POINTS] {
    core::array::from_fn(|i| net.forward(&Vector::from([i as f32 * core::f32::consts::TAU / SINE_POINTS as f32]))[0])
}

network! {
    /// The keyword spotter of TensorFlow Lite Micro's `micro_speech` and microflow's `speech`, in `f32`: 49 frames
    /// of 40 spectral features, eight 10x8 filters at stride 2 (the output of TFLite's `SAME` padding, 25x20),
    /// ReLU, four logits (silence, unknown, "yes", "no"). No speech data is bundled, so its weights are drawn
    /// from `seeded_rng(SPEECH_SEED)` (`tests/firmware.rs` checks the file against that draw): what it measures
    /// is the cost of the architecture, which does not depend on the weights' values.
    #[weights = "../../../examples/assets/speech-random.safetensors"]
    pub struct Speech<f32> {
        input: [1, 49, 40],
        conv: Conv2d(8, kernel = (10, 8), stride = 2, padding = (5, 3)), Relu,
        Flatten,
        fc: Dense(4),
    }
}

/// The seed of the keyword spotter's weights.
pub const SPEECH_SEED: u64 = 3;

/// The keyword spotter in read-only memory.
pub static SPEECH: Speech = Speech::TRAINED;

/// A fixed input for the keyword spotter: features in [0, 1) computed with integers.
pub fn speech_features() -> [f32; 1960] {
    core::array::from_fn(|i| ((i * 7919 + 13) % 256) as f32 / 256.0)
}

/// The keyword spotter's logits for [`speech_features`].
pub fn spot(net: &Speech) -> [f32; 4] {
    let y = net.forward(&Vector::from(speech_features()));
    [y[0], y[1], y[2], y[3]]
}

network! {
    /// Every int8 layer kind (convolution, depthwise convolution, pooling, dense, softmax) in TFLite's scheme:
    /// the fixture network of `tests/fixtures/tflite/chain.tflite`, whose outputs from TFLite's reference
    /// kernels are in `chain.txt`.
    #[int8]
    #[weights = "../../fixtures/tflite/chain.safetensors"]
    pub struct Chain {
        input: [3, 12, 10],
        conv1: Conv2d(6, kernel = 3, stride = 2, padding = same), Relu,
        conv2: Conv2d(12, kernel = 3, padding = same, groups = 6), Relu6,
        AvgPool2d(2),
        Flatten,
        fc1: Dense(5),
        Softmax,
    }
}

/// The int8 network, compiled in.
pub static CHAIN: Chain = Chain::TRAINED;

/// TFLite's inputs and outputs for [`CHAIN`]: `x: ...` and `y: ...` lines.
pub const CHAIN_SAMPLES: &str = include_str!("../../fixtures/tflite/chain.txt");

/// Runs [`CHAIN`] on every sample of [`CHAIN_SAMPLES`]: how many outputs equal TFLite's, of how many.
pub fn chain_check() -> (usize, usize) {
    fn values<const N: usize>(line: &str) -> [i8; N] {
        let mut out = [0i8; N];
        for (o, v) in out.iter_mut().zip(line.split(' ')) {
            *o = v.parse().unwrap_or(0);
        }
        out
    }
    let (mut equal, mut total) = (0, 0);
    let mut x = [0i8; 360];
    for line in CHAIN_SAMPLES.lines() {
        if let Some(v) = line.strip_prefix("x: ") {
            x = values(v);
        } else if let Some(v) = line.strip_prefix("y: ") {
            let want: [i8; 5] = values(v);
            let y = CHAIN.forward(&x);
            total += 5;
            equal += y.iter().zip(&want).filter(|(a, b)| a == b).count();
        }
    }
    (equal, total)
}
