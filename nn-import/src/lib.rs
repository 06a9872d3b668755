//! Imports a model trained anywhere that exports ONNX (PyTorch's `torch.onnx.export`, Keras through `tf2onnx`)
//! as a `network!` declaration and its weights: ordinary, readable source a user can commit and edit, and a
//! safetensors file in PyTorch's layout that `#[weights]` checks against the declaration at compile time.
//!
//! ```
//! // A PyTorch-style MLP (Gemm, ReLU, Gemm, Softmax), one of the test fixtures.
//! let bytes = include_bytes!("../../tests/fixtures/onnx/mlp_gemm.onnx");
//! let imported = nn_import::import_onnx(bytes, &nn_import::Options::new("Net", "mlp_gemm.onnx")).unwrap();
//! assert!(imported.source.contains("#[weights = \"net.safetensors\"]"));
//! assert!(imported.source.contains("fc1: Dense(16),\n        Relu,\n        fc2: Dense(4),\n        Softmax,"));
//! // Written beside each other, `net.rs` compiles in the weights of `net.safetensors`.
//! assert!(!imported.weights.is_empty());
//! ```
//!
//! The graph must be a chain of the operators [`translate`] lists (from opset 13 on); anything else is an
//! [`ImportError`] naming the node, its operator and what `network!` cannot express. Malformed files are errors
//! too, never a panic.
//!
//! An int8 TFLite model ([`import_tflite`]) becomes an `#[int8]` declaration and an int8 weights file
//! ([`tflite_translate`] lists the operators).

pub mod onnx;
pub mod tflite;
pub mod tflite_translate;
pub mod translate;

use std::fmt;

/// What to call the network and where it came from.
#[derive(Clone, Debug)]
pub struct Options {
    /// The struct's name (`Net`).
    pub name: String,
    /// The model file, as the generated documentation names it.
    pub source: String,
    /// The weights file the declaration's `#[weights]` names, relative to the generated source.
    pub weights_file: String,
}

impl Options {
    /// Options for a network `name` imported from `source`, its weights in `snake_name.safetensors`.
    pub fn new(name: &str, source: &str) -> Self {
        Options {
            name: name.to_string(),
            source: source.to_string(),
            weights_file: format!("{}.safetensors", snake(name)),
        }
    }
}

/// An imported network: the declaration's source and the weights it compiles in.
#[derive(Clone, Debug)]
pub struct Imported {
    /// A Rust module: `use nn_core::prelude::*;` and the `network!` declaration.
    pub source: String,
    /// The safetensors file (PyTorch's names and layouts, `f32`).
    pub weights: Vec<u8>,
}

/// Why a model could not be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// The bytes are not an ONNX model (the protobuf decoder's message).
    Decode(String),
    /// The bytes are not a readable TFLite model (the reader's message).
    NotTflite(String),
    /// The model as a whole: its opset, inputs, outputs or graph structure.
    Model(String),
    /// One node: its name, its operator and what is unsupported.
    Node {
        /// The node's name (or its position, for unnamed nodes).
        node: String,
        /// The operator.
        op: String,
        /// What `network!` cannot express, or what is malformed.
        what: String,
    },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Decode(m) => write!(f, "not an ONNX model: {m}"),
            ImportError::NotTflite(m) => write!(f, "not a readable TFLite model: {m}"),
            ImportError::Model(m) => write!(f, "{m}"),
            ImportError::Node { node, op, what } => write!(f, "node `{node}` ({op}): {what}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Imports an ONNX model (the bytes of a `.onnx` file).
pub fn import_onnx(bytes: &[u8], options: &Options) -> Result<Imported, ImportError> {
    let model = <onnx::ModelProto as prost::Message>::decode(bytes).map_err(|e| ImportError::Decode(e.to_string()))?;
    translate::translate(&model, options)
}

/// Imports an int8 TFLite model (the bytes of a `.tflite` file) as an `#[int8]` declaration and its int8
/// weights; see [`tflite_translate`].
pub fn import_tflite(bytes: &[u8], options: &Options) -> Result<Imported, ImportError> {
    tflite_translate::import(bytes, options)
}

/// Whether `bytes` look like a TFLite model (the flatbuffer identifier `TFL3` at offset 4).
pub fn is_tflite(bytes: &[u8]) -> bool {
    bytes.get(4..8) == Some(b"TFL3")
}

/// `CamelCase` as `snake_case` (`MnistCnn` -> `mnist_cnn`), for file names.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_file_names() {
        assert_eq!(snake("MnistCnn"), "mnist_cnn");
        assert_eq!(snake("Net"), "net");
        assert_eq!(Options::new("Lstm2", "m.onnx").weights_file, "lstm2.safetensors");
    }

    #[test]
    fn bytes_that_are_no_model_are_an_error() {
        let err = import_onnx(&[0xff, 0xff, 0xff], &Options::new("Net", "x.onnx")).unwrap_err();
        assert!(matches!(err, ImportError::Decode(_)), "{err}");
        let err = import_onnx(&[], &Options::new("Net", "x.onnx")).unwrap_err();
        assert_eq!(err, ImportError::Model("the model has no graph".to_string()));
    }
}
