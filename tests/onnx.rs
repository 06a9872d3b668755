//! ONNX import: models built by `fixtures/onnx/make_fixtures.py` (every operator the importer reads) are imported by
//! the build script, compiled here with their `#[weights]`, and run on the fixture's input; the outputs equal ONNX
//! Runtime's within 1e-5. Models the importer must refuse are errors naming the node, and mutated model files are
//! errors or imports, never a panic.

use nn_core::prelude::*;
use nn_import::{ImportError, Options, import_onnx};

mod mlp_gemm {
    include!(concat!(env!("OUT_DIR"), "/onnx/mlp_gemm.rs"));
}
mod mlp_matmul {
    include!(concat!(env!("OUT_DIR"), "/onnx/mlp_matmul.rs"));
}
mod cnn {
    include!(concat!(env!("OUT_DIR"), "/onnx/cnn.rs"));
}
mod cnn_global {
    include!(concat!(env!("OUT_DIR"), "/onnx/cnn_global.rs"));
}
mod conv1d {
    include!(concat!(env!("OUT_DIR"), "/onnx/conv1d.rs"));
}
mod lstm_tagger {
    include!(concat!(env!("OUT_DIR"), "/onnx/lstm_tagger.rs"));
}
mod lstm_classifier {
    include!(concat!(env!("OUT_DIR"), "/onnx/lstm_classifier.rs"));
}
mod gru_rnn {
    include!(concat!(env!("OUT_DIR"), "/onnx/gru_rnn.rs"));
}
mod deconv {
    include!(concat!(env!("OUT_DIR"), "/onnx/deconv.rs"));
}
mod deconv1d {
    include!(concat!(env!("OUT_DIR"), "/onnx/deconv1d.rs"));
}
mod resnet {
    include!(concat!(env!("OUT_DIR"), "/onnx/resnet.rs"));
}
mod branches {
    include!(concat!(env!("OUT_DIR"), "/onnx/branches.rs"));
}
mod mobilenet {
    include!(concat!(env!("OUT_DIR"), "/onnx/mobilenet.rs"));
}
mod dynamic_view {
    include!(concat!(env!("OUT_DIR"), "/onnx/dynamic_view.rs"));
}
mod lstm_dynamic {
    include!(concat!(env!("OUT_DIR"), "/onnx/lstm_dynamic.rs"));
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/onnx");

/// The fixture's input and ONNX Runtime's output.
fn reference(name: &str) -> (Vec<f32>, Vec<f32>) {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}.txt")).unwrap();
    let mut lines = text.lines().map(|l| l.split(' ').map(|v| v.parse::<f32>().unwrap()).collect::<Vec<_>>());
    (lines.next().unwrap(), lines.next().unwrap())
}

/// Runs `forward` on the fixture's input and compares with ONNX Runtime: within 1e-5 relative (1e-6 absolute
/// near zero).
fn matches_onnx_runtime(name: &str, forward: impl Fn(&[f32]) -> Vec<f32>) {
    let (x, want) = reference(name);
    let got = forward(&x);
    assert_eq!(got.len(), want.len(), "{name}: outputs");
    let worst = got.iter().zip(&want).map(|(g, w)| (g - w).abs() / w.abs().max(1e-6)).fold(0.0, f32::max);
    eprintln!("{name}: largest relative difference {worst:e}");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!((g - w).abs() <= 1e-5 * w.abs() + 1e-6, "{name}[{i}]: {g} against ONNX Runtime's {w}");
    }
}

#[test]
fn a_pytorch_style_mlp_matches_onnx_runtime() {
    let net = mlp_gemm::MlpGemm::TRAINED;
    matches_onnx_runtime("mlp_gemm", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
    assert_eq!(net.fc1.weight.shape(), (16, 8));
}

#[test]
fn a_keras_style_mlp_with_every_activation_matches_onnx_runtime() {
    let net = mlp_matmul::MlpMatmul::TRAINED;
    matches_onnx_runtime("mlp_matmul", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
}

#[test]
fn a_convolutional_classifier_matches_onnx_runtime() {
    let net = Box::new(cnn::Cnn::TRAINED);
    matches_onnx_runtime("cnn", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
}

#[test]
fn rectangular_kernels_global_pooling_and_gelu_match_onnx_runtime() {
    let net = Box::new(cnn_global::CnnGlobal::TRAINED);
    matches_onnx_runtime("cnn_global", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
}

#[test]
fn one_dimensional_planes_match_onnx_runtime() {
    let net = Box::new(conv1d::Conv1d::TRAINED);
    matches_onnx_runtime("conv1d", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
}

#[test]
fn an_lstm_tagger_in_onnx_layout_matches_onnx_runtime() {
    let net = Box::new(lstm_tagger::LstmTagger::TRAINED);
    matches_onnx_runtime("lstm_tagger", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
    // Streaming one step at a time gives the first step's output.
    let (x, want) = reference("lstm_tagger");
    let mut state = lstm_tagger::LstmTaggerState::new();
    let first = net.step(&mut state, &Vector::from_column_slice(&x[..3]));
    assert!(first.iter().zip(&want[..4]).all(|(g, w)| (g - w).abs() <= 1e-5 * w.abs() + 1e-6));
}

#[test]
fn a_batch_first_stacked_lstm_classifier_matches_onnx_runtime() {
    let net = Box::new(lstm_classifier::LstmClassifier::TRAINED);
    matches_onnx_runtime("lstm_classifier", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
}

#[test]
fn an_rnn_and_a_gru_with_its_last_state_match_onnx_runtime() {
    let net = Box::new(gru_rnn::GruRnn::TRAINED);
    matches_onnx_runtime("gru_rnn", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
}

#[test]
fn transposed_convolutions_match_onnx_runtime() {
    let net = Box::new(deconv::Deconv::TRAINED);
    matches_onnx_runtime("deconv", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
    let net = Box::new(deconv1d::Deconv1d::TRAINED);
    matches_onnx_runtime("deconv1d", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
}

#[test]
fn residual_blocks_with_identity_and_projection_shortcuts_match_onnx_runtime() {
    let net = Box::new(resnet::Resnet::TRAINED);
    matches_onnx_runtime("resnet", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
}

#[test]
fn concatenated_branches_and_gelu_written_out_match_onnx_runtime() {
    let net = Box::new(branches::Branches::TRAINED);
    matches_onnx_runtime("branches", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
}

#[test]
fn a_mobilenet_style_stack_with_depthwise_convolution_and_relu6_matches_onnx_runtime() {
    let net = Box::new(mobilenet::Mobilenet::TRAINED);
    matches_onnx_runtime("mobilenet", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
}

#[test]
fn shape_arithmetic_of_a_dynamic_batch_is_evaluated_at_import() {
    let net = Box::new(dynamic_view::DynamicView::TRAINED);
    matches_onnx_runtime("dynamic_view", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
    let net = Box::new(lstm_dynamic::LstmDynamic::TRAINED);
    matches_onnx_runtime("lstm_dynamic", |x| net.forward(&Vector::from_column_slice(x)).as_slice().to_vec());
}

fn import(name: &str) -> Result<nn_import::Imported, ImportError> {
    let bytes = std::fs::read(format!("{FIXTURES}/{name}.onnx")).unwrap();
    import_onnx(&bytes, &Options::new("Net", &format!("{name}.onnx")))
}

#[test]
fn what_network_cannot_express_is_an_error_naming_the_node() {
    let node = |name: &str| match import(name) {
        Err(ImportError::Node { node, op, what }) => format!("{node} {op}: {what}"),
        other => panic!("{name}: {other:?}"),
    };
    assert!(node("refuse_operator").starts_with("/sin/Sin Sin: operator `Sin` is not supported"));
    assert_eq!(
        node("refuse_pads"),
        "/conv/Conv Conv: `pads` [1, 1, 0, 0] differ at the two ends of an axis; `network!` pads both ends equally"
    );
    assert_eq!(node("refuse_branch"), "/mul/Mul Mul: branches merged by `Mul` are not supported");
    let err = import("refuse_opset").unwrap_err();
    assert_eq!(err.to_string(), "the model uses opset 11; the importer reads opset 13 and later");
}

#[test]
fn mutated_model_files_are_errors_or_imports_never_a_panic() {
    // A small deterministic generator (xorshift64*).
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let (mut imported, mut refused) = (0, 0);
    // Every fixture, those the importer refuses included.
    let mut names: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".onnx").map(str::to_string))
        .collect();
    names.sort();
    assert!(names.len() >= 19, "{names:?}");
    for name in &names {
        let original = std::fs::read(format!("{FIXTURES}/{name}.onnx")).unwrap();
        for _ in 0..600 {
            let mut bytes = original.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                match next() % 4 {
                    0 => bytes[at] = next() as u8,
                    1 => bytes[at] ^= 1 << (next() % 8),
                    2 => bytes.truncate(at),
                    _ => bytes.insert(at, next() as u8),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            match import_onnx(&bytes, &Options::new("Net", "mutated.onnx")) {
                Ok(_) => imported += 1,
                Err(_) => refused += 1,
            }
        }
    }
    // Both outcomes occur: flipped weight bits still import, broken structure is refused.
    assert!(imported > 100 && refused > 100, "{imported} imported, {refused} refused");
}
