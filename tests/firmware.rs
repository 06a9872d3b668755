//! The outputs the firmware (`tests/no-std`, run on an emulated Cortex-M4F by `tests/no-std/run-qemu.sh`) must
//! reproduce, computed on the host from the same source (`tests/no-std/src/models.rs`) and the same compiled-in
//! weights: held-out digits with their logits and predictions, the denoiser's outputs over a stream, and the
//! loss before and after the on-device training. They are kept in `tests/no-std/src/expected.rs`, which the
//! firmware compiles in; this test fails when that file differs from what the host computes now, and rewrites it
//! when `NN_BLESS=1` is set.

#[path = "no-std/src/models.rs"]
#[allow(dead_code)]
mod models;

use models::{
    Digits, NET, SINE, SINE_POINTS, SPEECH, SPEECH_SEED, STREAM, Speech, classify, denoise_stream, denoiser, mean_loss,
    sine_curve, spot, train,
};
use nn_core::data::load_digits;
use std::fmt::Write as _;

/// Held-out digits the firmware classifies and trains on.
const SAMPLES: usize = 32;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits.csv.gz");
const EXPECTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/no-std/src/expected.rs");

/// `{:?}` of an `f32` is the shortest text that parses back to the same value, so the file is exact.
fn list(values: impl IntoIterator<Item = f32>) -> String {
    values.into_iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ")
}

fn generate() -> String {
    let data = load_digits(DATA).expect("the bundled digits load").shuffled(2026);
    let (_, test) = data.split(data.len() * 4 / 5);
    let samples: Vec<[f32; 64]> =
        (0..SAMPLES).map(|i| test.pixels(i).try_into().expect("64 pixels per digit")).collect();
    let labels = &test.labels()[..SAMPLES];
    let outputs: Vec<(usize, [f32; 10])> = samples.iter().map(|x| classify(&NET, x)).collect();
    let correct = outputs.iter().zip(labels).filter(|((p, _), l)| *p == **l as usize).count();
    assert!(correct >= SAMPLES * 9 / 10, "the compiled-in network gets {correct} of {SAMPLES} held-out digits");

    let mut net = Digits::TRAINED;
    let mut grads = Digits::TRAINED;
    let before = mean_loss(&net, &samples, labels);
    train(&mut net, &mut grads, &samples, labels);
    let after = mean_loss(&net, &samples, labels);
    assert!(after < before * 0.9, "training on the samples lowers their loss: {before} -> {after}");

    let curve = sine_curve(&SINE);
    for (i, y) in curve.iter().enumerate() {
        let x = i as f32 * std::f32::consts::TAU / SINE_POINTS as f32;
        assert!((y - x.sin()).abs() < 0.1, "the sine model at {x}: {y} against {}", x.sin());
    }

    let speech = spot(&SPEECH);

    let denoised = denoise_stream(&denoiser());
    assert!(denoised.iter().all(|v| v.is_finite()) && denoised.iter().any(|&v| v.abs() > 1e-3));

    let mut s = String::new();
    s.push_str(
        "//! What the host computes for the firmware's inputs (`tests/tests/firmware.rs` writes this file with\n",
    );
    s.push_str("//! `NN_BLESS=1 cargo test -p nn-tests --test firmware`; do not edit it by hand).\n\n");
    let _ = writeln!(s, "/// Held-out digits (8x8 pixels in [0, 1]) from `data/digits.csv.gz`.");
    let _ = writeln!(s, "pub const SAMPLES: [[f32; 64]; {SAMPLES}] = [");
    for x in &samples {
        let _ = writeln!(s, "    [{}],", list(x.iter().copied()));
    }
    let _ = writeln!(s, "];\n\n/// Their labels.");
    let _ = writeln!(s, "pub const LABELS: [u8; {SAMPLES}] = {labels:?};\n");
    let _ = writeln!(s, "/// The host's predictions for them with the compiled-in network.");
    let predictions: Vec<usize> = outputs.iter().map(|o| o.0).collect();
    let _ = writeln!(s, "pub const PREDICTIONS: [u8; {SAMPLES}] = {predictions:?};\n");
    let _ = writeln!(s, "/// The host's logits for them.");
    let _ = writeln!(s, "pub const LOGITS: [[f32; 10]; {SAMPLES}] = [");
    for (_, logits) in &outputs {
        let _ = writeln!(s, "    [{}],", list(logits.iter().copied()));
    }
    let _ = writeln!(s, "];\n\n/// The denoiser's outputs over the first {STREAM} samples of its stream.");
    let _ = writeln!(s, "pub const DENOISED: [f32; {STREAM}] = [{}];\n", list(denoised));
    let _ = writeln!(s, "/// The sine model's outputs at its {SINE_POINTS} points.");
    let _ = writeln!(s, "pub const SINE: [f32; {SINE_POINTS}] = [{}];\n", list(curve));
    let _ = writeln!(s, "/// The keyword spotter's logits for its fixed input.");
    let _ = writeln!(s, "pub const SPEECH: [f32; 4] = [{}];\n", list(speech));
    let _ = writeln!(s, "/// The mean loss over the samples before and after the on-device training.");
    let _ = writeln!(s, "pub const LOSS: [f32; 2] = [{before:?}, {after:?}];");
    s
}

#[test]
fn the_keyword_spotters_weights_are_the_seeded_draw() {
    use nn_core::prelude::*;
    let drawn = nn_core::io::to_bytes(&*Speech::boxed_init(&mut seeded_rng(SPEECH_SEED))).expect("serialises");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/assets/speech-random.safetensors");
    let kept = std::fs::read(path).expect("the keyword spotter's weights exist");
    assert!(kept == drawn, "{path} is not the draw of seeded_rng({SPEECH_SEED})");
}

#[test]
fn the_firmware_expects_what_the_host_computes() {
    let now = generate();
    if std::env::var_os("NN_BLESS").is_some() {
        std::fs::write(EXPECTED, &now).expect("expected.rs is writable");
    }
    let kept = std::fs::read_to_string(EXPECTED).expect("tests/no-std/src/expected.rs exists");
    // Numbers within a relative 1e-5 (another CPU's kernels may round the last bits differently), all else equal.
    let tokens = |s: &str| {
        s.split(|c: char| c.is_whitespace() || "[],;".contains(c))
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let (kept_tokens, now_tokens) = (tokens(&kept), tokens(&now));
    let same = kept_tokens.len() == now_tokens.len()
        && kept_tokens.iter().zip(&now_tokens).all(|(a, b)| match (a.parse::<f32>(), b.parse::<f32>()) {
            (Ok(x), Ok(y)) => (x - y).abs() <= 1e-5 * x.abs().max(y.abs()).max(1.0),
            _ => a == b,
        });
    assert!(
        same,
        "tests/no-std/src/expected.rs differs from what the host computes now; if the change is intended, run \
         `NN_BLESS=1 cargo test -p nn-tests --test firmware` and commit the file"
    );
}
