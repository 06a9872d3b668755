//! Interop of recurrent networks with PyTorch-layout files written by another implementation:
//! `fixtures/make_recurrent_interop.py` builds the batch_first PyTorch model `lstm = LSTM(3, 8)`,
//! `gru = GRU(8, 5)`, `rnn = RNN(5, 4)` (tanh), `out = Linear(4, 2)` on every step with numpy, writes its
//! `state_dict` as safetensors in float32 and float64, and computes every step's output for four sequences of six
//! steps in float64. Loading those files strictly here (at run time, and at build time with `#[weights]`) must
//! reproduce the script's outputs: to 1e-12 in f64 and 1e-6 in f32, for the whole sequence and one step at a time.

use nn_core::io::{LoadReport, Policy, WeightsError, load};
use nn_core::prelude::*;

network! {
    /// `lstm = LSTM(3, 8)`, `gru = GRU(8, 5)`, `rnn = RNN(5, 4)`, `out = Linear(4, 2)` on every step.
    struct Stack32<f32> {
        input: Seq(6, 3),
        lstm: Lstm(8),
        gru: Gru(5),
        rnn: Rnn(4),
        out: Dense(2),
    }
}

network! {
    struct Stack64<f64> {
        input: Seq(6, 3),
        lstm: Lstm(8),
        gru: Gru(5),
        rnn: Rnn(4),
        out: Dense(2),
    }
}

/// The same declarations with the fixtures compiled in.
mod compiled {
    use nn_core::network;

    network! {
        #[weights = "fixtures/recurrent_interop_f32.safetensors"]
        pub struct Stack32<f32> {
            input: Seq(6, 3),
            lstm: Lstm(8),
            gru: Gru(5),
            rnn: Rnn(4),
            out: Dense(2),
        }
    }

    network! {
        #[weights = "fixtures/recurrent_interop_f64.safetensors"]
        pub struct Stack64<f64> {
            input: Seq(6, 3),
            lstm: Lstm(8),
            gru: Gru(5),
            rnn: Rnn(4),
            out: Dense(2),
        }
    }
}

static TRAINED32: compiled::Stack32 = compiled::Stack32::TRAINED;
static TRAINED64: compiled::Stack64 = compiled::Stack64::TRAINED;

network! {
    /// The model with one hidden unit too few in the LSTM.
    struct Narrow<f32> {
        input: Seq(6, 3),
        lstm: Lstm(7),
        gru: Gru(5),
        rnn: Rnn(4),
        out: Dense(2),
    }
}

const F32_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/recurrent_interop_f32.safetensors");
const F64_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/recurrent_interop_f64.safetensors");
const EXPECTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/recurrent_interop_expected.csv");

const STEPS: usize = 6;
const IN: usize = 3;
const OUT: usize = 2;

/// The references are float64 results, so an f64 network may differ only by its own rounding.
const TOLERANCE_F64: f64 = 1e-12;
/// An f32 network rounds at every operation (unit roundoff 6e-8) along 6 steps of three stacked recurrent
/// layers. The outputs are below 1 in magnitude and the accumulated error is about 1e-7; 1e-6 (as in
/// `tests/interop.rs`) leaves room for another platform's `expf`/`tanhf` while a wrong gate order, bias placement
/// or transposed weight moves the outputs by more than 1e-3.
const TOLERANCE_F32: f64 = 1e-6;

/// The `state_dict` of the PyTorch model, with its shapes.
const STATE_DICT: [(&str, &[usize]); 14] = [
    ("lstm.weight_ih_l0", &[32, 3]),
    ("lstm.weight_hh_l0", &[32, 8]),
    ("lstm.bias_ih_l0", &[32]),
    ("lstm.bias_hh_l0", &[32]),
    ("gru.weight_ih_l0", &[15, 8]),
    ("gru.weight_hh_l0", &[15, 5]),
    ("gru.bias_ih_l0", &[15]),
    ("gru.bias_hh_l0", &[15]),
    ("rnn.weight_ih_l0", &[4, 5]),
    ("rnn.weight_hh_l0", &[4, 4]),
    ("rnn.bias_ih_l0", &[4]),
    ("rnn.bias_hh_l0", &[4]),
    ("out.weight", &[2, 4]),
    ("out.bias", &[2]),
];

/// One line of `recurrent_interop_expected.csv`: a sequence and the script's output for every step, time-major.
struct Case {
    x: [f64; STEPS * IN],
    y: [f64; STEPS * OUT],
}

/// The cases of one dtype (`"f32"` or `"f64"`) from `recurrent_interop_expected.csv`
/// (`dtype,x0_0..x5_2,y0_0..y5_1`; `#` comments).
fn cases(dtype: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(EXPECTED).unwrap();
    let cases: Vec<Case> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            assert_eq!(fields.len(), 1 + STEPS * (IN + OUT), "malformed line {line:?}");
            if fields[0] != dtype {
                return None;
            }
            let v: Vec<f64> = fields[1..].iter().map(|f| f.parse().unwrap_or_else(|e| panic!("{f:?}: {e}"))).collect();
            let (x, y) = v.split_at(STEPS * IN);
            Some(Case { x: x.try_into().unwrap(), y: y.try_into().unwrap() })
        })
        .collect();
    assert_eq!(cases.len(), 4, "{dtype} cases in {EXPECTED}");
    cases
}

/// Asserts every output of `forward` (every step of every sequence) is within `tolerance` of the script's, and
/// returns the largest difference.
fn max_error(dtype: &str, what: &str, tolerance: f64, mut forward: impl FnMut(&[f64; STEPS * IN]) -> Vec<f64>) -> f64 {
    let mut max = 0.0f64;
    for (k, case) in cases(dtype).iter().enumerate() {
        let y = forward(&case.x);
        assert_eq!(y.len(), STEPS * OUT);
        for (o, (&got, &want)) in y.iter().zip(&case.y).enumerate() {
            let err = (got - want).abs();
            assert!(
                err <= tolerance,
                "{dtype} {what}, sequence {k}, step {} output {}: got {got}, the script computed {want}",
                o / OUT,
                o % OUT
            );
            max = max.max(err);
        }
    }
    eprintln!("{dtype} {what}: max abs difference from the script's outputs {max:e}");
    max
}

/// Every tensor's name and external shape, in the network's order.
fn names<T: Float, P: Parameters<T>>(net: &P) -> Vec<(String, Vec<usize>)> {
    let mut names = Vec::new();
    net.visit(|t| names.push((t.name.to_string(), t.layout.shape(t.rows, t.cols).dims().to_vec())));
    names
}

/// Every tensor's values, in the network's order.
fn values<T: Float, P: Parameters<T>>(net: &P) -> Vec<Vec<T>> {
    let mut values = Vec::new();
    net.visit(|t| values.push(t.data.to_vec()));
    values
}

fn assert_full_load(report: &LoadReport) {
    assert_eq!(report.loaded, STATE_DICT.len(), "{report:?}");
    assert!(report.missing.is_empty() && report.unexpected.is_empty(), "{report:?}");
}

fn state_dict() -> Vec<(String, Vec<usize>)> {
    STATE_DICT.iter().map(|(n, s)| (n.to_string(), s.to_vec())).collect()
}

#[test]
fn the_fixtures_are_pytorch_state_dicts_with_the_declared_layer_names() {
    assert_eq!(names(&*Stack32::boxed_zeroed()), state_dict());
    assert_eq!(names(&*Stack64::boxed_zeroed()), state_dict());
    assert_eq!((Stack32::STEPS, Stack32::STEP_INPUTS, Stack32::STEP_OUTPUTS), (STEPS, IN, OUT));
    for (path, dtype) in [(F32_FILE, safetensors::Dtype::F32), (F64_FILE, safetensors::Dtype::F64)] {
        let bytes = std::fs::read(path).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut in_file: Vec<(String, Vec<usize>)> =
            file.tensors().iter().map(|(n, t)| (n.clone(), t.shape().to_vec())).collect();
        in_file.sort();
        let mut expected = state_dict();
        expected.sort();
        assert_eq!(in_file, expected, "{path}");
        assert!(file.tensors().iter().all(|(_, t)| t.dtype() == dtype), "{path}");
    }
}

#[test]
fn f32_file_reproduces_the_scripts_outputs() {
    let mut net = Stack32::boxed_zeroed();
    let report = load(&mut *net, F32_FILE, Policy::Strict).unwrap();
    assert_full_load(&report);
    // The inputs are on a 1/64 grid, so `as f32` is exact.
    max_error("f32", "load", TOLERANCE_F32, |x| {
        let y = net.forward(&Vector::from(x.map(|v| v as f32)));
        y.iter().map(|&v| f64::from(v)).collect()
    });
}

#[test]
fn f64_file_reproduces_the_scripts_outputs() {
    let mut net = Stack64::boxed_zeroed();
    let report = load(&mut *net, F64_FILE, Policy::Strict).unwrap();
    assert_full_load(&report);
    max_error("f64", "load", TOLERANCE_F64, |x| net.forward(&Vector::from(*x)).iter().copied().collect());
}

#[test]
fn streaming_one_step_at_a_time_reproduces_the_scripts_outputs() {
    let mut net32 = Stack32::boxed_zeroed();
    load(&mut *net32, F32_FILE, Policy::Strict).unwrap();
    max_error("f32", "step", TOLERANCE_F32, |x| {
        let mut state = Stack32State::new();
        x.chunks_exact(IN)
            .flat_map(|s| {
                let y = net32.step(&mut state, &Vector::from([s[0] as f32, s[1] as f32, s[2] as f32]));
                [f64::from(y[0]), f64::from(y[1])]
            })
            .collect()
    });

    let mut net64 = Stack64::boxed_zeroed();
    load(&mut *net64, F64_FILE, Policy::Strict).unwrap();
    // One state through all four sequences, reset between them.
    let mut state = Stack64State::new();
    max_error("f64", "step", TOLERANCE_F64, |x| {
        state.reset();
        x.chunks_exact(IN)
            .flat_map(|s| {
                let y = net64.step(&mut state, &Vector::from([s[0], s[1], s[2]]));
                [y[0], y[1]]
            })
            .collect()
    });
}

#[test]
fn compiled_in_weights_equal_the_loaded_ones() {
    let mut net32 = Stack32::boxed_zeroed();
    load(&mut *net32, F32_FILE, Policy::Strict).unwrap();
    let mut net64 = Stack64::boxed_zeroed();
    load(&mut *net64, F64_FILE, Policy::Strict).unwrap();
    assert_eq!(names(&TRAINED32), state_dict());
    assert_eq!(names(&TRAINED64), state_dict());
    // Bit for bit: both read the same numbers from the same file.
    assert_eq!(values(&TRAINED32), values(&*net32));
    assert_eq!(values(&TRAINED64), values(&*net64));

    // The same parameters and the same code give the same outputs, bit for bit, and so the script's.
    max_error("f32", "TRAINED", TOLERANCE_F32, |x| {
        let x = Vector::from(x.map(|v| v as f32));
        let y = TRAINED32.forward(&x);
        assert_eq!(y, net32.forward(&x));
        y.iter().map(|&v| f64::from(v)).collect()
    });
    max_error("f64", "TRAINED", TOLERANCE_F64, |x| {
        let x = Vector::from(*x);
        let y = TRAINED64.forward(&x);
        assert_eq!(y, net64.forward(&x));
        y.iter().copied().collect()
    });
}

#[test]
fn a_mismatched_hidden_size_is_refused_naming_the_tensor() {
    let mut net = Narrow::boxed_zeroed();
    let err = load(&mut *net, F32_FILE, Policy::Strict).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("lstm.weight_ih_l0"), "{message}");
    match err {
        WeightsError::Shape { name, expected, found } => {
            assert_eq!((name.as_str(), expected, found), ("lstm.weight_ih_l0", vec![28, 3], vec![32, 3]));
        }
        other => panic!("expected a shape error, got {other:?}"),
    }
    // Nothing was loaded.
    assert!(values(&*net).iter().flatten().all(|&v| v == 0.0));
    // Leniency does not help: the tensors are there, with the wrong shape.
    assert!(load(&mut *net, F32_FILE, Policy::Lenient).is_err());
}
