//! The `network!` procedural macro. Use it through `nn_core::network!`, which documents the grammar.
//!
//! Three phases with a wall between them: `parse` reads tokens into a syntax tree and nothing else;
//! `model` validates that tree into a model where every layer has resolved shapes and a span, collecting
//! every error of the declaration; `codegen` writes Rust from the model without looking at syn types again.

mod codegen;
mod embed;
mod errors;
mod model;
mod parse;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Declares a statically shaped network: a struct of nalgebra fixed-size parameters with a generated forward pass,
/// training forward and backward pass.
///
/// ```
/// use nn_core::prelude::*;
///
/// const HIDDEN: usize = 16;
///
/// network! {
///     /// Doc comments and attributes pass through to the struct.
///     #[derive(Clone, Debug)]
///     pub struct Classifier<f32> {
///         input: 8,
///         hidden: Dense(HIDDEN), Relu,
///         Dense(HIDDEN, 10, bias = false, init = xavier_uniform), LeakyRelu(0.05),
///         out: Dense(3),
///     }
/// }
///
/// let net = Classifier::boxed_zeroed();
/// let y: Vector<f32, 3> = net.forward(&Vector::zeros());
/// assert!(y.iter().all(|&v| v == 0.0));
/// assert_eq!((Classifier::INPUTS, Classifier::OUTPUTS), (8, 3));
/// assert_eq!(net.tensor(2).unwrap().name.to_string(), "fc2.weight");
/// assert_eq!(net.hidden.weight.shape(), (16, 8));
/// ```
///
/// # Grammar
///
/// ```text
/// #[weights = "file.safetensors"]?   // optional: weights compiled in as NAME::TRAINED (see below)
/// VIS struct NAME <SCALAR>? {        // SCALAR: f32 (default) or f64
///     input: SHAPE,                  // first entry: N, [channels, length] or [channels, height, width]
///     (LAYER_NAME:)? LAYER,          // then one or more layers, comma-separated
///     ...
/// }
/// SIZE  := integer literal | const expression (`HIDDEN`, `{ 2 * HIDDEN }`); for convolutions, channels and
///          plane sizes may be `const`, kernel, stride, padding and dilation are literals
/// LAYER := Dense(OUT) | Dense(IN, OUT)      options `bias = true|false`,
///                                            `init = xavier_uniform|xavier_normal|he_normal|he_uniform|zeros`
///        | BatchNorm | BatchNorm(N) | Dropout(P)
///        | Conv2d(OUT_CHANNELS, KERNEL)     options `kernel`, `stride`, `padding`, `dilation` (a number or
///        | Conv1d(OUT_CHANNELS, KERNEL)       a pair `(height, width)` for 2-D layers)
///        | ConvTranspose2d(OUT_CHANNELS, KERNEL) | ConvTranspose1d(..)   also `output_padding`
///        | MaxPool2d(WINDOW) | AvgPool2d(WINDOW) | MaxPool1d(..) | AvgPool1d(..)   option `stride` (default: the window)
///        | Flatten
///        | Residual(LAYER, ..., project = LAYER)   the branch's output is added to its input (or its projection)
///        | Sigmoid | Tanh | Relu | LeakyRelu(SLOPE)? | Elu(ALPHA)? | Softplus | Swish | Gelu
///        | HardSigmoid | HardTanh | Identity | Softmax
/// ```
///
/// Multi-dimensional activations are channel-major columns (PyTorch's `NCHW` order for one sample), so `Flatten`
/// moves no data. Output sizes follow `floor((n + 2p - d(k - 1) - 1) / s) + 1` (and its transpose), computed by
/// the macro for literal sizes and emitted as `const` expressions with `const` assertions carrying the same
/// messages when a size is a `const` item; a kernel or
/// window larger than the padded input, a stride of 0, a residual branch whose output differs from its input and
/// a dense layer after planes without `Flatten` are compile errors naming the layer and the shapes.
///
/// Unnamed dense layers are called `fc1`, `fc2`, … and convolutions `conv1`, `conv2`, … by their position
/// among layers of their kind; names are the fields of the struct and the keys of the parameters (`fc1.weight`,
/// `conv1.bias`, in PyTorch's layouts). Without an `init` option a dense layer followed by a ReLU-like activation
/// starts with He (normal) weights, any other with Xavier (uniform) weights; convolutions with He; biases at zero.
///
/// `#[weights = "file.safetensors"]` (path relative to the declaring file, as `include_bytes!`) reads the file
/// while the macro expands, checks every tensor's name, shape and dtype against the declaration (each mismatch is
/// a compile error) and generates `NAME::TRAINED`, the network as constant data for a `static`.
///
/// # What it generates
///
/// - The struct, one public field per layer with parameters (`nn_core::layer::Dense`, `BatchNorm`, `Conv2d`, …),
///   with `INPUTS`, `OUTPUTS`, `SUMMARY` and `zeroed()`.
/// - `NAMECache<B>`, every layer's output for a batch of `B`, plus dropout masks and batch statistics.
/// - Implementations of `nn_core::Network` (one sample), `nn_core::BatchNetwork` (batches whose columns are
///   samples), `nn_core::Parameters` and `nn_core::Initialize` (and so `Boxed`).
///
/// # Errors
///
/// Every mistake is a compile error at the offending token, and one compile reports all of them: a missing
/// input, an unknown layer or option (with a suggestion), a zero size, a duplicate name, an explicit input size
/// that disagrees with the previous layer (checked by `const` assertions when sizes are `const` items), an
/// unsupported scalar type.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let def = syn::parse_macro_input!(input as parse::NetworkDef);
    // Paths in `#[weights = "..."]` are relative to the declaring file, as `include_bytes!` paths are.
    let base = proc_macro::Span::call_site()
        .local_file()
        .and_then(|f| f.parent().map(std::path::Path::to_path_buf))
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR").map(Into::into))
        .unwrap_or_default();
    model::Model::from_def(&def)
        .and_then(|m| embed::read(&m, &base).map(|w| (m, w)))
        .map_or_else(|e| codegen::fallback(&def, e), |(m, w)| codegen::expand(&m, w.as_ref()))
        .into()
}
