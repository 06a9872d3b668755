//! The int8 kernels of `nn_core::quant` against TFLite's reference kernels: every fixture of
//! `fixtures/tflite/` (made by `make_fixtures.py`, run by `ai-edge-litert` with `BUILTIN_REF`) is one operator
//! with random int8 weights, per-tensor or per-channel scales, zero points, padding, strides, dilations and
//! fused activations, and twelve random inputs. Every output must be equal, not close.

use nn_core::quant::{
    Fused, Multiplier, Padding, PoolKind, QConv2d, QDense, QDepthwiseConv2d, QPool2d, QSoftmax, QuantParams, Window,
};
use std::collections::HashMap;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tflite");

/// One fixture: named numeric lines, named words, and the (input, output) samples.
struct Fixture {
    name: &'static str,
    numbers: HashMap<String, Vec<f64>>,
    words: HashMap<String, String>,
    samples: Vec<(Vec<i8>, Vec<i8>)>,
}

impl Fixture {
    fn load(name: &'static str) -> Self {
        let text = std::fs::read_to_string(format!("{FIXTURES}/{name}.txt")).unwrap();
        let (mut numbers, mut words, mut samples, mut x) = (HashMap::new(), HashMap::new(), Vec::new(), None);
        for line in text.lines() {
            let (key, rest) = line.split_once(": ").unwrap();
            let parsed: Result<Vec<f64>, _> = rest.split(' ').map(str::parse::<f64>).collect();
            match (key, parsed) {
                ("x", Ok(v)) => x = Some(v.iter().map(|&v| v as i8).collect::<Vec<i8>>()),
                ("y", Ok(v)) => samples.push((x.take().unwrap(), v.iter().map(|&v| v as i8).collect())),
                (_, Ok(v)) => drop(numbers.insert(key.to_string(), v)),
                (_, Err(_)) => drop(words.insert(key.to_string(), rest.to_string())),
            }
        }
        assert!(samples.len() >= 40, "{name}");
        Self { name, numbers, words, samples }
    }

    fn get(&self, key: &str) -> &[f64] {
        &self.numbers[key]
    }

    fn usizes<const N: usize>(&self, key: &str) -> [usize; N] {
        core::array::from_fn(|i| self.get(key)[i] as usize)
    }

    fn params(&self, key: &str) -> QuantParams {
        QuantParams::new(self.get(key)[0] as f32, self.get(key)[1] as i32)
    }

    fn fused(&self) -> Fused {
        match self.words["act"].as_str() {
            "none" => Fused::None,
            "relu" => Fused::Relu,
            "relu6" => Fused::Relu6,
            "relu_n1_to_1" => Fused::ReluN1To1,
            other => panic!("{}: activation {other}", self.name),
        }
    }

    /// TFLite's per-channel multipliers: `s_in * s_w[c] / s_out` in `f64` from the `f32` scales.
    fn multipliers<const N: usize>(&self) -> [Multiplier; N] {
        let (input, output, w) = (self.params("input"), self.params("output"), self.get("weight_scale"));
        core::array::from_fn(|c| {
            let s = w[if w.len() == 1 { 0 } else { c }];
            Multiplier::from_real(f64::from(input.scale) * s / f64::from(output.scale))
        })
    }

    fn weights<const R: usize, const C: usize>(&self) -> [[i8; C]; R] {
        let w = self.get("weight");
        assert_eq!(w.len(), R * C, "{}", self.name);
        core::array::from_fn(|r| core::array::from_fn(|c| w[r * C + c] as i8))
    }

    fn biases<const N: usize>(&self) -> [i32; N] {
        core::array::from_fn(|i| self.get("bias")[i] as i32)
    }

    fn window(&self) -> Window {
        let [h, w, c] = self.usizes("hwc");
        let [kh, kw] = self.usizes("kernel");
        let [sh, sw] = self.usizes("stride");
        let [dh, dw] = if self.numbers.contains_key("dilation") { self.usizes("dilation") } else { [1, 1] };
        let padding = if self.words["padding"] == "same" { Padding::Same } else { Padding::Valid };
        let window = Window::new((h, w, c), (kh, kw), (sh, sw), (dh, dw), padding).unwrap();
        let [oh, ow, _] = self.usizes("out");
        assert_eq!((window.out_h, window.out_w), (oh, ow), "{}", self.name);
        window
    }

    /// Runs `forward` on every sample and requires TFLite's outputs exactly.
    fn check<const IN: usize, const OUT: usize>(&self, forward: impl Fn(&[i8; IN], &mut [i8; OUT])) {
        for (i, (x, want)) in self.samples.iter().enumerate() {
            let mut y = [0i8; OUT];
            forward(x.as_slice().try_into().unwrap(), &mut y);
            assert_eq!(y.as_slice(), want.as_slice(), "{} sample {i}", self.name);
        }
    }
}

fn dense<const IN: usize, const OUT: usize>(name: &'static str) {
    let f = Fixture::load(name);
    let (input, output) = (f.params("input"), f.params("output"));
    let (min, max) = f.fused().range(output);
    let layer = QDense::<IN, OUT> {
        weight: f.weights(),
        bias: f.biases(),
        multiplier: f.multipliers(),
        input_zero_point: input.zero_point,
        output_zero_point: output.zero_point,
        min,
        max,
    };
    f.check(|x, y| layer.forward(x, y));
}

fn conv<const CO: usize, const K: usize, const IN: usize, const OUT: usize>(name: &'static str) {
    let f = Fixture::load(name);
    let (input, output) = (f.params("input"), f.params("output"));
    let (min, max) = f.fused().range(output);
    let layer = QConv2d::<CO, K> {
        window: f.window(),
        weight: f.weights(),
        bias: f.biases(),
        multiplier: f.multipliers(),
        input_zero_point: input.zero_point,
        output_zero_point: output.zero_point,
        min,
        max,
    };
    f.check::<IN, OUT>(|x, y| layer.forward(x, y));
}

fn depthwise<const CO: usize, const KK: usize, const IN: usize, const OUT: usize>(name: &'static str) {
    let f = Fixture::load(name);
    let (input, output) = (f.params("input"), f.params("output"));
    let (min, max) = f.fused().range(output);
    let layer = QDepthwiseConv2d::<CO, KK> {
        window: f.window(),
        weight: f.weights(),
        bias: f.biases(),
        multiplier: f.multipliers(),
        input_zero_point: input.zero_point,
        output_zero_point: output.zero_point,
        min,
        max,
    };
    f.check::<IN, OUT>(|x, y| layer.forward(x, y));
}

fn pool<const IN: usize, const OUT: usize>(name: &'static str, kind: PoolKind) {
    let f = Fixture::load(name);
    let (min, max) = f.fused().range(f.params("output"));
    let layer = QPool2d { kind, window: f.window(), min, max };
    f.check::<IN, OUT>(|x, y| layer.forward(x, y));
}

fn softmax<const N: usize>(name: &'static str) {
    let f = Fixture::load(name);
    let layer = QSoftmax::new(f.params("input").scale, f.get("beta")[0] as f32);
    assert_eq!(f.params("output"), QSoftmax::OUTPUT);
    f.check::<N, N>(|x, y| layer.forward(x, y));
}

#[test]
fn fully_connected_is_bit_exact() {
    dense::<24, 10>("fc_relu");
    dense::<40, 7>("fc_none");
    dense::<16, 12>("fc_relu6_per_channel");
    // Every int8 input of a one-input layer: outputs where rounding twice would be one off.
    dense::<1, 64>("fc_every_input");
}

#[test]
fn convolution_is_bit_exact() {
    conv::<5, 27, { 9 * 11 * 3 }, { 5 * 6 * 5 }>("conv_same_s2_relu");
    conv::<6, 24, { 10 * 9 * 4 }, { 6 * 6 * 6 }>("conv_valid_dilated");
    conv::<4, 16, { 7 * 8 * 2 }, { 7 * 4 * 4 }>("conv_same_even_kernel");
    conv::<4, 15, { 20 * 3 }, { 20 * 4 }>("conv1d_same");
}

#[test]
fn depthwise_convolution_is_bit_exact() {
    depthwise::<6, 9, { 8 * 7 * 3 }, { 8 * 7 * 6 }>("depthwise_mult2_relu6");
    depthwise::<4, 9, { 9 * 10 * 4 }, { 4 * 4 * 4 }>("depthwise_s2_valid");
    depthwise::<8, 20, { 13 * 12 }, { 7 * 6 * 8 }>("depthwise_speech_like");
}

#[test]
fn pooling_is_bit_exact() {
    pool::<{ 7 * 9 * 3 }, { 4 * 5 * 3 }>("avgpool_same_s2", PoolKind::Average);
    pool::<{ 6 * 6 * 2 }, { 3 * 2 * 2 }>("avgpool_valid_relu", PoolKind::Average);
    pool::<{ 5 * 7 * 4 }, { 3 * 4 * 4 }>("maxpool_same", PoolKind::Max);
    pool::<{ 6 * 8 * 2 }, { 4 * 3 * 2 }>("maxpool_valid_relu6", PoolKind::Max);
}

#[test]
fn softmax_is_bit_exact() {
    softmax::<10>("softmax10");
    softmax::<4>("softmax4_beta");
}

nn_core::network! {
    /// Every int8 layer kind in one network, compiled in from the file `make_fixtures.py` writes beside
    /// `chain.tflite`.
    #[int8]
    #[weights = "fixtures/tflite/chain.safetensors"]
    struct Chain {
        input: [3, 12, 10],
        conv1: Conv2d(6, kernel = 3, stride = 2, padding = same), Relu,
        conv2: Conv2d(12, kernel = 3, padding = same, groups = 6), Relu6,
        AvgPool2d(2),
        Flatten,
        fc1: Dense(5),
        Softmax,
    }
}

#[test]
fn an_int8_network_is_bit_exact_end_to_end() {
    let f = Fixture::load("chain");
    let net = Chain::TRAINED;
    f.check(|x, y| *y = net.forward(x));
    assert_eq!((Chain::INPUTS, Chain::OUTPUTS), (360, 5));
    assert_eq!(net.output_params, QSoftmax::OUTPUT);
    assert_eq!(net.conv1.window.pad_top, 0);
    let p = net.predict(&[0.1; 360]);
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 0.02, "{p:?}");
}

mod imported {
    include!(concat!(env!("OUT_DIR"), "/tflite/chain.rs"));
}

#[test]
fn the_importer_writes_the_same_network() {
    let f = Fixture::load("chain");
    let net = imported::ImportedChain::TRAINED;
    f.check(|x, y| *y = net.forward(x));
    // The same layers and parameters as the hand-written declaration over the script's file.
    assert_eq!(net.conv1.weight, Chain::TRAINED.conv1.weight);
    assert_eq!(net.conv2.multiplier, Chain::TRAINED.conv2.multiplier);
    assert_eq!(net.fc1.bias, Chain::TRAINED.fc1.bias);
}

/// microflow's TinyML models (sine, keyword spotting, person detection), imported from its directory, against
/// TFLite's reference kernels (`fixtures/tflite/microflow_expected.txt`, made by `make_microflow_references.py`).
#[cfg(microflow_models)]
mod microflow {
    use super::*;

    mod sine {
        include!(concat!(env!("OUT_DIR"), "/tflite/sine.rs"));
    }
    mod speech {
        include!(concat!(env!("OUT_DIR"), "/tflite/speech.rs"));
    }
    mod person_detect {
        include!(concat!(env!("OUT_DIR"), "/tflite/person_detect.rs"));
    }
    use {person_detect::PersonDetect, sine::Sine, speech::Speech};

    static PERSON_DETECT: PersonDetect = PersonDetect::TRAINED;

    /// The script's generator: the top byte of a 32-bit linear congruential sequence.
    fn lcg(seed: u32, n: usize) -> Vec<i8> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((state >> 24) as i32 - 128) as i8
            })
            .collect()
    }

    /// An int8 constant of microflow's sample files.
    fn features(file: &str, name: &str) -> Vec<i8> {
        let path = format!("{}/samples/features/{file}", env!("MICROFLOW_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let start = text.find(&format!("pub const {name}")).unwrap();
        let end = text[start + 1..].find("pub const").map_or(text.len(), |e| start + 1 + e);
        let body = &text[start..end];
        let body = &body[body.find("matrix!").unwrap()..];
        body.split(|c: char| !(c.is_ascii_digit() || c == '-'))
            .filter(|s| !s.is_empty() && *s != "-")
            .map(|s| s.parse::<i8>().unwrap())
            .collect()
    }

    fn expected(model: &str) -> Vec<Vec<i8>> {
        let text = std::fs::read_to_string(format!("{FIXTURES}/microflow_expected.txt")).unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix(&format!("{model}: ")))
            .map(|l| l.split(' ').map(|v| v.parse().unwrap()).collect())
            .collect()
    }

    #[test]
    fn sine_is_bit_exact_on_every_input() {
        let want = expected("sine");
        assert_eq!(want.len(), 256);
        for (x, want) in (-128..=127).zip(&want) {
            assert_eq!(Sine::TRAINED.forward(&[x]).as_slice(), want.as_slice(), "sine({x})");
        }
    }

    #[test]
    fn speech_is_bit_exact_on_its_samples_and_random_features() {
        let want = expected("speech");
        let mut inputs = vec![features("speech.rs", "YES"), features("speech.rs", "NO")];
        inputs.extend((1..=30).map(|seed| lcg(seed, 1960)));
        assert_eq!(want.len(), inputs.len());
        for (i, (x, want)) in inputs.iter().zip(&want).enumerate() {
            let y = Speech::TRAINED.forward(x.as_slice().try_into().unwrap());
            assert_eq!(y.as_slice(), want.as_slice(), "speech input {i}");
        }
        // `yes` is heard as yes, `no` as no (silence, unknown, yes, no).
        assert_eq!(
            nn_core::argmax(
                &Speech::TRAINED.dequantize(&Speech::TRAINED.forward(inputs[0].as_slice().try_into().unwrap()))
            ),
            2
        );
        assert_eq!(
            nn_core::argmax(
                &Speech::TRAINED.dequantize(&Speech::TRAINED.forward(inputs[1].as_slice().try_into().unwrap()))
            ),
            3
        );
    }

    #[test]
    fn person_detect_is_bit_exact_on_its_images_and_random_ones() {
        let want = expected("person_detect");
        let mut inputs = vec![features("person_detect.rs", "PERSON"), features("person_detect.rs", "NO_PERSON")];
        inputs.extend((1..=10).map(|seed| lcg(seed, 96 * 96)));
        assert_eq!(want.len(), inputs.len());
        for (i, (x, want)) in inputs.iter().zip(&want).enumerate() {
            let y = PERSON_DETECT.forward(x.as_slice().try_into().unwrap());
            assert_eq!(y.as_slice(), want.as_slice(), "person_detect input {i}");
        }
        // The person image is a person (class 1), the other not.
        assert!(want[0][1] > want[0][0] && want[1][0] > want[1][1]);
    }
}

#[cfg(not(microflow_models))]
#[test]
fn microflow_models() {
    eprintln!(
        "skipped: microflow's models are not here (set MICROFLOW_DIR to its directory, with models/ and \
         samples/features/)"
    );
}

nn_core::network! {
    /// `Chain`'s layers, read at run time.
    #[int8]
    struct ChainLoaded {
        input: [3, 12, 10],
        conv1: Conv2d(6, kernel = 3, stride = 2, padding = same), Relu,
        conv2: Conv2d(12, kernel = 3, padding = same, groups = 6), Relu6,
        AvgPool2d(2),
        Flatten,
        fc1: Dense(5),
        Softmax,
    }
}

#[test]
fn an_int8_network_loads_at_run_time_as_it_compiles_in() {
    let bytes = std::fs::read(format!("{FIXTURES}/chain.safetensors")).unwrap();
    let net = ChainLoaded::load(&bytes).unwrap();
    let f = Fixture::load("chain");
    f.check(|x, y| *y = net.forward(x));
    assert_eq!((net.conv1.weight, net.fc1.multiplier), (Chain::TRAINED.conv1.weight, Chain::TRAINED.fc1.multiplier));
    assert_eq!(net.softmax7.table, Chain::TRAINED.softmax7.table);
    // A file that is not this network's is an error naming the tensor.
    let other = std::fs::read(format!("{FIXTURES}/../tflite/chain.tflite")).unwrap();
    assert!(ChainLoaded::load(&other).unwrap_err().to_string().starts_with("not a valid safetensors file"));
    let imported = nn_import::import_tflite(
        &std::fs::read(format!("{FIXTURES}/fc_relu.tflite")).unwrap(),
        &nn_import::Options::new("Net", "fc_relu.tflite"),
    )
    .unwrap();
    let e = ChainLoaded::load(&imported.weights).unwrap_err().to_string();
    assert_eq!(e, "tensor `conv1.weight` is missing from the file");
}

nn_core::network! {
    /// A small f32 CNN of every layer the int8 form takes, batch norm included.
    struct Small<f32> {
        input: [2, 8, 8],
        conv1: Conv2d(4, kernel = 3, padding = 1), BatchNorm, Relu,
        MaxPool2d(2),
        conv2: Conv2d(8, kernel = 3, padding = 1, groups = 4), Relu6,
        AvgPool2d(2),
        Flatten,
        fc1: Dense(6), Relu, Dropout(0.2),
        fc2: Dense(3),
        Softmax,
    }
}

nn_core::network! {
    /// `Small` in int8 (its batch norm folded into `conv1` by the quantiser).
    #[int8]
    struct SmallInt8 {
        input: [2, 8, 8],
        conv1: Conv2d(4, kernel = 3, padding = 1), BatchNorm, Relu,
        MaxPool2d(2),
        conv2: Conv2d(8, kernel = 3, padding = 1, groups = 4), Relu6,
        AvgPool2d(2),
        Flatten,
        fc1: Dense(6), Relu, Dropout(0.2),
        fc2: Dense(3),
        Softmax,
    }
}

#[test]
fn a_quantised_network_follows_its_f32_original() {
    use nn_core::prelude::*;
    use nn_core::quant::{quantize, to_channel_last};
    let mut rng = seeded_rng(11);
    let mut net = Small::boxed_init(&mut rng);
    // Batch-norm statistics and scales that are not the identity.
    for c in 0..4 {
        net.bn1.running_mean[c] = 0.1 * c as f32 - 0.15;
        net.bn1.running_var[c] = 0.5 + 0.3 * c as f32;
        net.bn1.weight[c] = 1.0 + 0.2 * c as f32;
        net.bn1.bias[c] = 0.05 * c as f32;
    }
    let samples: Vec<Vector<f32, 128>> =
        (0..200).map(|k| Vector::from_fn(|i, _| ((i * 7 + k * 13) % 17) as f32 / 8.5 - 1.0)).collect();
    let bytes = quantize(&*net, &samples).unwrap();
    let q = SmallInt8::load(&bytes).unwrap();
    let (mut agree, mut worst) = (0, 0.0f32);
    for x in &samples {
        let y = net.forward(x);
        let mut hwc = [0.0f32; 128];
        to_channel_last(x.as_slice(), 2, 8, 8, &mut hwc);
        let p = q.predict(&hwc);
        worst = worst.max(y.iter().zip(&p).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max));
        agree += usize::from(nn_core::argmax(y.as_slice()) == nn_core::argmax(&p));
    }
    // Probabilities within a few 256ths; the same class almost always.
    assert!(worst < 0.06, "largest difference {worst}");
    assert!(agree >= 190, "{agree} of 200 agree");
    // No calibration data: an error, not a guess.
    let none: [Vector<f32, 128>; 0] = [];
    assert!(quantize(&*net, &none).unwrap_err().to_string().contains("no calibration samples"));
}
