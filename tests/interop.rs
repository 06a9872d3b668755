//! Interop with PyTorch-layout files written by another implementation: `fixtures/make_interop.py` builds the
//! eval-mode model `fc1 = Linear(5, 8)`, `bn1 = BatchNorm1d(8)`, ReLU, `fc2 = Linear(8, 4)`, Tanh,
//! `fc3 = Linear(4, 3, bias=False)` with numpy, writes its `state_dict` (with `bn1.num_batches_tracked`) as
//! safetensors in float32 and float64, and computes reference outputs. Loading those files here must reproduce
//! the script's outputs to 1e-6.

use nn_core::io::{LoadReport, Policy, load};
use nn_core::prelude::*;

network! {
    /// `fc1 = Linear(5, 8)`, `bn1 = BatchNorm1d(8)`, ReLU, `fc2 = Linear(8, 4)`, Tanh, `fc3 = Linear(4, 3, bias=False)`.
    struct Mlp32<f32> { input: 5, Dense(8), BatchNorm, Relu, Dense(4), Tanh, Dense(3, bias = false) }
}

network! {
    struct Mlp64<f64> { input: 5, Dense(8), BatchNorm, Relu, Dense(4), Tanh, Dense(3, bias = false) }
}

const F32_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mlp_f32.safetensors");
const F64_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mlp_f64.safetensors");
const EXPECTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mlp_expected.csv");

const TOLERANCE: f64 = 1e-6;

/// The `state_dict` of the PyTorch model, without `bn1.num_batches_tracked`.
const STATE_DICT: [&str; 9] = [
    "bn1.bias",
    "bn1.running_mean",
    "bn1.running_var",
    "bn1.weight",
    "fc1.bias",
    "fc1.weight",
    "fc2.bias",
    "fc2.weight",
    "fc3.weight",
];

/// One line of `mlp_expected.csv`: an input and the script's output for it.
struct Case {
    x: [f64; 5],
    y: [f64; 3],
}

/// The cases of one dtype (`"f32"` or `"f64"`) from `mlp_expected.csv` (`dtype,x0..x4,y0..y2`; `#` comments).
fn cases(dtype: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(EXPECTED).unwrap();
    let cases: Vec<Case> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            assert_eq!(fields.len(), 9, "malformed line {line:?}");
            if fields[0] != dtype {
                return None;
            }
            let v: Vec<f64> = fields[1..].iter().map(|f| f.parse().unwrap_or_else(|e| panic!("{f:?}: {e}"))).collect();
            Some(Case { x: v[..5].try_into().unwrap(), y: v[5..].try_into().unwrap() })
        })
        .collect();
    assert_eq!(cases.len(), 6, "{dtype} cases in {EXPECTED}");
    cases
}

/// Asserts every output of `forward` is within [`TOLERANCE`] of the script's, and prints the largest difference.
fn max_error(dtype: &str, forward: impl Fn(&[f64; 5]) -> [f64; 3]) {
    let mut max = 0.0f64;
    for (k, case) in cases(dtype).iter().enumerate() {
        let y = forward(&case.x);
        for (o, (&got, &want)) in y.iter().zip(&case.y).enumerate() {
            let err = (got - want).abs();
            assert!(err <= TOLERANCE, "{dtype} case {k} output {o}: got {got}, the script computed {want}");
            max = max.max(err);
        }
    }
    eprintln!("{dtype}: max abs difference from the script's outputs {max:e}");
}

fn names<T: Float, P: Parameters<T>>(net: &P) -> Vec<String> {
    let tensors = (0..P::TENSORS).filter_map(|i| net.tensor(i));
    let buffers = (0..P::BUFFERS).filter_map(|i| net.buffer(i));
    let mut names: Vec<String> = tensors.chain(buffers).map(|t| t.name.to_string()).collect();
    names.sort();
    names
}

fn assert_full_load(report: &LoadReport) {
    assert_eq!(report.loaded, 9, "{report:?}");
    assert!(report.missing.is_empty() && report.unexpected.is_empty(), "{report:?}");
}

#[test]
fn the_fixtures_are_pytorch_state_dicts_with_the_default_layer_names() {
    assert_eq!(names(&*Mlp32::boxed_zeroed()), STATE_DICT);
    assert_eq!(names(&*Mlp64::boxed_zeroed()), STATE_DICT);
    for (path, dtype) in [(F32_FILE, safetensors::Dtype::F32), (F64_FILE, safetensors::Dtype::F64)] {
        let bytes = std::fs::read(path).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut in_file = file.names();
        in_file.sort();
        let mut expected = STATE_DICT.to_vec();
        expected.push("bn1.num_batches_tracked");
        expected.sort();
        assert_eq!(in_file, expected);
        let counter = file.tensor("bn1.num_batches_tracked").unwrap();
        assert_eq!((counter.dtype(), counter.shape()), (safetensors::Dtype::I64, &[][..]));
        assert_eq!(file.tensor("fc1.weight").unwrap().shape(), &[8, 5]);
        assert_eq!(file.tensor("fc3.weight").unwrap().shape(), &[3, 4]);
        assert!(
            file.tensors().iter().filter(|(n, _)| !n.ends_with("num_batches_tracked")).all(|(_, t)| t.dtype() == dtype)
        );
    }
}

#[test]
fn f32_file_reproduces_the_scripts_float32_outputs() {
    let mut net = Mlp32::boxed_zeroed();
    // Strict: bn1.num_batches_tracked (int64, shape []) is in the file and must be ignored, not an error.
    let report = load(&mut *net, F32_FILE, Policy::Strict).unwrap();
    assert_full_load(&report);
    assert!(net.bn1.running_var.iter().all(|&v| v >= 0.5));
    // The inputs are on a 1/64 grid, so `as f32` is exact.
    max_error("f32", |x| {
        let y = net.forward(&Vector::from(x.map(|v| v as f32)));
        [0, 1, 2].map(|o| f64::from(y[o]))
    });
}

#[test]
fn f64_file_reproduces_the_scripts_float64_outputs() {
    let mut net = Mlp64::boxed_zeroed();
    let report = load(&mut *net, F64_FILE, Policy::Strict).unwrap();
    assert_full_load(&report);
    max_error("f64", |x| {
        let y = net.forward(&Vector::from(*x));
        [y[0], y[1], y[2]]
    });
}

#[test]
fn lenient_loading_does_not_report_num_batches_tracked() {
    let mut net = Mlp64::boxed_zeroed();
    let report = load(&mut *net, F64_FILE, Policy::Lenient).unwrap();
    assert_full_load(&report);
}
