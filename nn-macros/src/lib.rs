//! The `network!` procedural macro. Use it through `nn_core::network!`, which documents the grammar.
//!
//! Three phases with a wall between them: `parse` reads tokens into a syntax tree and nothing else;
//! `model` validates that tree into a model where every layer has resolved shapes and a span, collecting
//! every error of the declaration; `codegen` writes Rust from the model without looking at syn types again.
//! The texts of the compile errors and `const` assertions that `model` and `embed` produce are in `messages`.

mod codegen;
mod embed;
mod errors;
#[cfg(test)]
mod hostile;
mod int8;
mod layers;
mod limits;
mod messages;
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
/// #[int8]?                           // optional: an int8 network, from an int8 weights file (see below)
/// VIS struct NAME <SCALAR>? {        // SCALAR: f32 (default) or f64
///     input: SHAPE,                  // first entry: N, [channels, length], [channels, height, width],
///                                    //   or Seq(steps, features): a sequence, time-major
///     (LAYER_NAME:)? LAYER,          // then one or more layers, comma-separated
///     ...
/// }
/// SIZE  := integer literal | const expression (`HIDDEN`, `{ 2 * HIDDEN }`); for convolutions, channels and
///          plane sizes may be `const`, kernel, stride, padding and dilation are literals
/// LAYER := Dense(OUT) | Dense(IN, OUT)      options `bias = true|false`,
///                                            `init = xavier_uniform|xavier_normal|he_normal|he_uniform|zeros`
///        | BatchNorm | BatchNorm(N) | Dropout(P)
///        | Conv2d(OUT_CHANNELS, KERNEL)     options `kernel`, `stride`, `padding`, `dilation` (a number or
///        | Conv1d(OUT_CHANNELS, KERNEL)       a pair `(height, width)` for 2-D layers), `groups` (dividing
///                                            both channel counts; depthwise when it equals them);
///                                            `padding = same`: `ceil(size / stride)` outputs, odd padding
///                                            after (TensorFlow's; uneven only in `#[int8]` networks);
///                                            `bias = false`: no bias, only `conv1.weight` (PyTorch's
///                                            `bias=False`; no int8 form)
///        | ConvTranspose2d(OUT_CHANNELS, KERNEL) | ConvTranspose1d(..)   also `output_padding` (not `groups`, `bias`)
///        | MaxPool2d(WINDOW) | AvgPool2d(WINDOW) | MaxPool1d(..) | AvgPool1d(..)   options `stride` (default: the
///                                   window) and `padding` (at most half the window: the maximum of what a window
///                                   covers, the average counting the padding as zeros, as PyTorch pools)
///        | GlobalAvgPool2d | GlobalAvgPool1d   the mean of each channel: planes to a vector of their channels
///        | GlobalMaxPool2d | GlobalMaxPool1d   the largest value of each channel (max over time on 1-D planes)
///        | LocalResponseNorm(SIZE)          AlexNet's normalisation across SIZE neighbouring channels; options
///                                   `alpha`, `beta`, `k` (PyTorch's defaults 1e-4, 0.75, 1)
///        | Flatten
///        | Reshape(N) | Reshape([C, L]) | Reshape([C, H, W])   the same values seen as another shape (nothing
///                                   moves); literal sizes, as many values as the input holds
///        | Residual(LAYER, ..., project = LAYER)   the branch's output is added to its input (or its projection)
///        | Concat([LAYER, ...], [LAYER, ...], ...)   two or more branches over the same input, joined: vectors end
///                                   to end, planes of one size along their channels; a branch `[]` passes the
///                                   input on unchanged
///        | Sum([LAYER, ...], [LAYER, ...], ...)   two or more branches over the same input, added: vectors or
///                                   planes of one shape
///        | LAYER_NAME: Network(TYPE)   another network declared with `network!`, on a vector; the name is
///                                   required and prefixes its parameters (`encoder.fc1.weight`); `TYPE::INPUTS`
///                                   and its scalar type are checked at compile time
///        | Rnn(HIDDEN) | Lstm(HIDDEN) | Gru(HIDDEN)  or (INPUTS_PER_STEP, HIDDEN); on a sequence; option
///                                   `output = sequence` (every step, the default) or `output = last`;
///                                   `layers = N` stacks N layers as PyTorch's `num_layers` (`lstm.weight_ih_l1`,
///                                   fields `lstm`, `lstm_l1`, ...);
///                                   `Rnn` also `activation = Tanh|Relu|...` (default parameter),
///                                   `Lstm` also `forget_bias = B` (the forget gate's initial bias, default 1);
///                                   `bidirectional = true` reads the sequence both ways, each step's two hidden
///                                   vectors joined (forward first), PyTorch's `_reverse` tensors; with
///                                   `output = last`, both directions' final states; no streaming `step`
///        | Embedding(VOCAB, DIM)            first layer only, after `input: STEPS` (one token id per step): each id's
///                                   learned vector (`embedding.weight` is VOCAB x DIM); `output = sequence`
///                                   (`Seq(STEPS, DIM)`, the default) or `output = channels` (`[DIM, STEPS]`, for
///                                   `Conv1d`); inputs that are not ids are refused by `check_input`,
///                                   `try_forward` and `Trainer::fit`
///        | Sigmoid | Tanh | Relu | LeakyRelu(SLOPE)? | Elu(ALPHA)? | Softplus | Swish(BETA)? | Gelu
///        | HardSigmoid(SLOPE)? | HardTanh | Relu6 | Identity | Softmax   (hard sigmoid: slope 0.25 by
///                                   default; PyTorch's is 1/6)
///        | Step(AT_ZERO)? | Sign(AT_ZERO)? | PiecewiseLinear   the perceptron's units (derivative zero almost
///                                   everywhere); the value at zero is 0.5 for `Step` and 0 for `Sign` by
///                                   default, `Step(1)` and `Sign(1)` as the first lecture's units
///        | NoisyRelu                        ReLU with noise of variance `sigmoid(x)` in training (seeded `rng`)
///        | Maxout(K)                        the largest of every K inputs (a multiple of K), one output each
/// ```
///
/// Multi-dimensional activations are channel-major columns (PyTorch's `NCHW` order for one sample), so `Flatten`
/// moves no data. Output sizes follow `floor((n + 2p - d(k - 1) - 1) / s) + 1` (and its transpose), computed by
/// the macro for literal sizes and emitted as `const` expressions with `const` assertions carrying the same
/// messages when a size is a `const` item; a kernel or
/// window larger than the padded input, a stride of 0, a residual branch whose output differs from its input and
/// a dense layer after planes without `Flatten` are compile errors naming the layer and the shapes.
///
/// On a sequence, `Dense` applies to every step (PyTorch's `Linear` on `[steps, features]`; `per_step = true` says
/// so explicitly and is refused where the input is no sequence), `Softmax` normalises each step and other
/// activations and `Dropout` work elementwise; `Flatten` turns the sequence into one vector. A recurrent layer
/// with `output = last` returns only its last hidden state, a vector. Recurrent weights follow PyTorch's `nn.RNN`,
/// `nn.LSTM` and `nn.GRU` (`weight_ih_l0` `[G*H, I]` with gates i, f, g, o or r, z, n, `weight_hh_l0`, `bias_ih_l0`,
/// `bias_hh_l0`).
///
/// ```
/// use nn_core::prelude::*;
///
/// network! {
///     /// Tags every step of a sequence of 20 two-value readings with one of three labels.
///     pub struct Tagger<f32> {
///         input: Seq(20, 2),
///         lstm: Lstm(16),          // every step: 20 x 16
///         tags: Dense(3), Softmax, // per step: 20 x 3
///     }
/// }
///
/// let net = Tagger::boxed_init(&mut seeded_rng(1));
/// let x = Vector::<f32, 40>::from_fn(|i, _| (i as f32 * 0.3).sin());
/// let y = net.forward(&x);                        // 20 steps of 3 probabilities
/// let mut state = TaggerState::new();             // streaming: one step at a time, no allocation
/// let first = net.step(&mut state, &Vector::from([x[0], x[1]]));
/// assert!((first - y.fixed_rows::<3>(0)).abs().max() < 1e-6);
/// assert_eq!((Tagger::STEPS, Tagger::STEP_INPUTS, Tagger::STEP_OUTPUTS), (20, 2, 3));
/// assert_eq!(net.tensor(0).unwrap().name.to_string(), "lstm.weight_ih_l0");
/// ```
///
/// Planes and blocks: convolutions and pooling over `[channels, height, width]`, a residual branch, two merges,
/// global pooling, `Reshape` back to planes, a 1-D convolution and a nested network, in one declaration.
///
/// ```
/// use nn_core::prelude::*;
///
/// network! {
///     /// Used below as a layer.
///     pub struct Encoder<f32> { input: 32, fc1: Dense(16), Relu }
/// }
///
/// network! {
///     pub struct Blocks<f32> {
///         input: [1, 8, 8],
///         Conv2d(4, kernel = 3, padding = 1), Relu,                // [4, 8, 8]
///         Residual(Conv2d(4, kernel = 3, padding = 1), Relu),      // the branch's output plus its input
///         Concat([Conv2d(2, kernel = 1)], [MaxPool2d(3, stride = 1, padding = 1)]), // channels 2 + 4
///         MaxPool2d(2),                                            // [6, 4, 4]
///         Sum([Conv2d(6, kernel = 1)], []),                        // a 1x1 convolution plus the input
///         GlobalAvgPool2d,                                         // 6: the mean of each channel
///         Dense(16), Reshape([4, 4]),                              // the 16 values as 4 channels of 4
///         Conv1d(2, kernel = 3), Flatten,                          // [2, 2], then 4
///         Dense(32), Tanh,
///         encoder: Network(Encoder),                               // 32 -> 16, `encoder.fc1.weight`
///         out: Dense(3),
///     }
/// }
///
/// let net = Blocks::boxed_init(&mut seeded_rng(1));
/// let y = net.forward(&Vector::<f32, 64>::repeat(0.5));
/// assert_eq!((Blocks::INPUTS, y.len()), (64, 3));
/// assert_eq!(
///     Blocks::SUMMARY,
///     "input [1, 8, 8] -> conv1 Conv [4, 8, 8] -> Relu -> residual1 Residual(conv2 Conv [4, 8, 8] -> Relu) \
///      -> concat1 Concat([conv3 Conv [2, 8, 8]], [MaxPool [4, 8, 8]]) -> MaxPool [6, 4, 4] \
///      -> sum2 Sum([conv4 Conv [6, 4, 4]], []) -> GlobalAvgPool (6) -> fc1 Dense 16 -> Reshape [4, 4] \
///      -> conv5 Conv [2, 2] -> Flatten -> fc2 Dense 32 -> Tanh -> encoder Encoder -> out Dense 3"
/// );
/// assert!(net.tensor_named("encoder.fc1.weight").is_some());
/// ```
///
/// Unnamed dense layers are called `fc1`, `fc2`, …, convolutions `conv1`, `conv2`, … and recurrent layers
/// `rnn1`, `lstm1`, `gru1`, … by their position among layers of their kind; names are the fields of the struct
/// and the keys of the parameters (`fc1.weight`, `conv1.bias`, in PyTorch's layouts). Without an `init` option a
/// dense layer followed by a ReLU-like activation starts with He (normal) weights, any other with Xavier
/// (uniform) weights; convolutions with He; biases at zero.
/// Recurrent layers start from PyTorch's `U(-1/sqrt(H), 1/sqrt(H))` with the LSTM's forget-gate and the GRU's
/// update-gate bias at 1.
///
/// `#[weights = "file.safetensors"]` (path relative to the declaring file, as `include_bytes!`) reads the file
/// while the macro expands, checks every tensor's name, shape and dtype against the declaration (each mismatch is
/// a compile error) and generates `NAME::TRAINED`, the network as constant data for a `static`.
///
/// `#[int8]` with `#[weights]` generates the network in int8 instead (TFLite's scheme, bit-exact with its
/// reference kernels; `nn_core::quant`): a struct of `QDense`, `QConv2d`, `QDepthwiseConv2d`, `QPool2d` and
/// `QSoftmax` layers, `NAME::TRAINED` from the file (`input.scale`, `input.zero_point`, and per layer `weight`
/// (`I8`, PyTorch's layout), `weight_scale`, `bias` (`I32`), `output_scale`, `output_zero_point`; `nn-import`
/// writes it for a `.tflite` model), `INPUT`/`OUTPUT` quantisation, `forward(&[i8; IN]) -> [i8; OUT]` (no
/// allocation), `quantize`, `dequantize` and `predict`. Activations are channel-last (TFLite's layout: a `Dense`
/// after `Flatten` reads `(h, w, c)` order); `Relu`, `Relu6` and `HardTanh` are fused into the layer before them;
/// `Softmax` comes last; average pooling leaves the padding out of the mean, as TFLite does. Other layers are a
/// compile error naming them.
///
/// # What it generates
///
/// - The struct, one public field per layer with parameters (`nn_core::layer::Dense`, `BatchNorm`, `Conv2d`, …),
///   with `INPUTS`, `OUTPUTS`, `SUMMARY` and `zeroed()`.
/// - `NAMECache<B>`, every layer's output for a batch of `B`, plus dropout masks, batch statistics and what the
///   recurrent layers keep of every step.
/// - For a network over a sequence: `STEPS`, `STEP_INPUTS`, `STEP_OUTPUTS`, and, when every layer can run one
///   step at a time, `NAMEState` (the recurrent layers' hidden and cell vectors, `new`, `reset`) and
///   `step(&self, &mut NAMEState, x_t) -> y_t`, streaming inference that allocates nothing.
/// - Implementations of `nn_core::Network` (one sample), `nn_core::BatchNetwork` (batches whose columns are
///   samples), `nn_core::Parameters` and `nn_core::Initialize` (and so `Boxed`).
///
/// # Large models
///
/// A network's parameters are fields of fixed-size arrays inside the struct, so the struct is as large as its
/// parameters (784-128-10: 407 KB in `f32`; VGG-11 for 3x32x32 images: 38 MB). What goes where:
///
/// - `NAME::zeroed()` and `NAME::TRAINED` build the network by value: on the stack, or in a `static` (flash on a
///   microcontroller). Use them for small networks, and `TRAINED` only in a `static`.
/// - `Boxed::boxed_zeroed()` and `Boxed::boxed_init(rng)` build it directly on the heap, never on the stack; the
///   gradients of a large network are a `NAME::boxed_zeroed()` too.
/// - `forward` keeps every layer's output in locals: about four bytes per activation value in `f32`, fine for
///   vectors of thousands. For larger activations (convolutions over images), `forward_in` writes them into a
///   cache allocated once on the heap (`nn_core::boxed_zeroed::<<NAME as Network>::Cache>()`) and reused.
/// - `Trainer` and `evaluate` keep their batch caches, the gradients and the optimizer's state on the heap.
///
/// With these, a 784-128-10 network builds, trains and infers on a test thread (2 MiB by default), and a VGG-11
/// (9.5 M parameters, 64 to 512 channels) builds, infers, backpropagates and trains with `Trainer::fit::<16>` on
/// a thread of 2 MiB (`tests/deep.rs`, full widths with `cargo test --release`).
///
/// # Errors
///
/// Every mistake is a compile error at the offending token, and one compile reports all of them: a missing
/// input, an unknown layer or option (with a suggestion), a zero size, a duplicate name, an explicit input size
/// that disagrees with the previous layer (checked by `const` assertions when sizes are `const` items), an
/// unsupported scalar type, sizes whose products or sums exceed `usize::MAX` (naming the layer and the factors),
/// and a declaration nested more than 64 brackets deep (blocks inside blocks, far beyond any network). No input
/// makes the macro panic: a test expands 20,000 mutated declarations.
///
/// One mistake reads as one error. After a mistake the checks go on: an entry that does not parse is skipped to
/// the next comma, an unknown layer name is checked on as the layer it most likely names (`Relux` as `Relu`,
/// `Linear(8)` as `Dense(8)`), and a layer whose input size is unknown after an earlier mistake takes its declared
/// input size. A rejected declaration still defines its struct, a stand-in with the declared scalar and sizes that
/// implements the generated traits, so the code that uses the network adds no errors of its own.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    // Paths in `#[weights = "..."]` are relative to the declaring file, as `include_bytes!` paths are.
    let base = proc_macro::Span::call_site()
        .local_file()
        .and_then(|f| f.parent().map(std::path::Path::to_path_buf))
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR").map(Into::into))
        .unwrap_or_default();
    expand(input.into(), &base).into()
}

/// The whole expansion of `network!` over `input`, with `#[weights]` paths relative to `base`: the generated
/// code, or the declaration's errors (and a stand-in struct). It never panics, whatever the input.
fn expand(input: proc_macro2::TokenStream, base: &std::path::Path) -> proc_macro2::TokenStream {
    // Deep nesting is refused before anything recursive (the parser, the model, code generation) sees it.
    if let Err(e) = limits::nesting(&input) {
        return e.into_compile_error();
    }
    let def = match syn::parse2::<parse::NetworkDef>(input) {
        Ok(def) => def,
        Err(e) => return e.into_compile_error(),
    };
    match model::Model::from_def(&def) {
        Ok(m) if m.int8 => {
            int8::expand(&m, base).unwrap_or_else(|e| codegen::fallback(&def, e, Some(&model::StandIn::of(&m))))
        }
        Ok(m) => match embed::read(&m, base) {
            Ok(w) => {
                let mut tokens = codegen::expand(&m, w.as_ref());
                tokens.extend(int8::quantize_impl(&m));
                tokens
            }
            Err(e) => codegen::fallback(&def, e, Some(&model::StandIn::of(&m))),
        },
        Err(r) => codegen::fallback(&def, r.errors, r.stand_in.as_deref()),
    }
}
