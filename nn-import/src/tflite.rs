//! Reads TFLite models (`.tflite` files): the tensors, operators and weights of the first subgraph.
//!
//! A `.tflite` file is a FlatBuffer (identifier `TFL3`) of TensorFlow's `schema.fbs`. This reader is written by
//! hand from that schema: it reads the tables it needs at their fields' vtable slots, with the schema's defaults
//! for absent fields, and checks every offset, length and index against the file, so that a malformed or hostile
//! file is an [`Error`] saying what is wrong and where, never a panic or an outsized allocation.
//!
//! ```
//! let bytes = include_bytes!("../../tests/fixtures/tflite/fc_relu.tflite");
//! let model = nn_import::tflite::read(bytes).unwrap();
//! let op = &model.operators[0];
//! assert_eq!(nn_import::tflite::op_name(op.code), "FULLY_CONNECTED");
//! assert_eq!(model.tensors[1].shape, [10, 24]);
//! ```

use std::cell::Cell;
use std::fmt;

/// A model: the first subgraph's tensors and operators, in execution order.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The schema version the file was written for (3 today).
    pub version: u32,
    /// The model's description, when the file has one.
    pub description: Option<String>,
    /// The first subgraph's tensors; operators and [`Model::inputs`] name them by their index here.
    pub tensors: Vec<Tensor>,
    /// The first subgraph's operators, in execution order.
    pub operators: Vec<Operator>,
    /// The first subgraph's inputs (indices into [`Model::tensors`]).
    pub inputs: Vec<usize>,
    /// The first subgraph's outputs (indices into [`Model::tensors`]).
    pub outputs: Vec<usize>,
    /// How many subgraphs the file has (only the first is read).
    pub subgraphs: usize,
}

/// A tensor: an activation, or a constant with its data.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Its name (empty when the file gives none).
    pub name: String,
    /// Its shape (`-1` may stand for a dimension only known when running).
    pub shape: Vec<i32>,
    /// Its element type.
    pub dtype: TensorType,
    /// A constant's bytes, as stored (little-endian); `None` for activations.
    pub data: Option<Vec<u8>>,
    /// Its quantization, when it has scales.
    pub quant: Option<Quant>,
}

/// A quantized tensor's parameters: `real = scale * (q - zero_point)`, per tensor or per channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Quant {
    /// One scale, or one per channel along [`Quant::quantized_dimension`].
    pub scale: Vec<f32>,
    /// The zero points, as many as the scales in a well-formed model (not checked here).
    pub zero_point: Vec<i64>,
    /// The channels' dimension, for per-channel scales.
    pub quantized_dimension: i32,
}

/// A tensor's element type (the schema's `TensorType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorType {
    /// `FLOAT32` (0).
    Float32,
    /// `FLOAT16` (1).
    Float16,
    /// `INT32` (2).
    Int32,
    /// `UINT8` (3).
    UInt8,
    /// `INT64` (4).
    Int64,
    /// `INT8` (9).
    Int8,
    /// `INT16` (7).
    Int16,
    /// `BOOL` (6).
    Bool,
    /// Any other type, by its number in the schema (`STRING` = 5, `INT4` = 17, ...).
    Other(i8),
}

/// The schema's `TensorType` names, by value.
#[rustfmt::skip]
const TYPE_NAMES: [&str; 23] = [
    "FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64", "INT8", "FLOAT64",
    "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4", "BFLOAT16", "INT2", "UINT4",
    "FLOAT8_E4M3FN", "FLOAT8_E5M2",
];

impl TensorType {
    fn from_code(code: i8) -> Self {
        match code {
            0 => TensorType::Float32,
            1 => TensorType::Float16,
            2 => TensorType::Int32,
            3 => TensorType::UInt8,
            4 => TensorType::Int64,
            6 => TensorType::Bool,
            7 => TensorType::Int16,
            9 => TensorType::Int8,
            n => TensorType::Other(n),
        }
    }

    fn code(self) -> i8 {
        match self {
            TensorType::Float32 => 0,
            TensorType::Float16 => 1,
            TensorType::Int32 => 2,
            TensorType::UInt8 => 3,
            TensorType::Int64 => 4,
            TensorType::Bool => 6,
            TensorType::Int16 => 7,
            TensorType::Int8 => 9,
            TensorType::Other(n) => n,
        }
    }

    /// The schema's name (`FLOAT32`, `INT8`, ...; `STRING` for `Other(5)`), or `type N` for a number the schema
    /// does not know.
    pub fn name(&self) -> String {
        let code = self.code();
        match usize::try_from(code).ok().and_then(|i| TYPE_NAMES.get(i)) {
            Some(name) => name.to_string(),
            None => format!("type {code}"),
        }
    }
}

/// An operator of the first subgraph.
#[derive(Clone, Debug, PartialEq)]
pub struct Operator {
    /// Its position in the subgraph's operators.
    pub index: usize,
    /// Its `BuiltinOperator` code ([`op_name`] names it; 32 is `CUSTOM`).
    pub code: i32,
    /// A custom operator's name (its `custom_code`), for `CUSTOM` operators.
    pub custom: Option<String>,
    /// The operator's version (1 unless the file says otherwise).
    pub version: i32,
    /// Its input tensors (indices into [`Model::tensors`]; `-1` for an optional input left out).
    pub inputs: Vec<i32>,
    /// Its output tensors (indices into [`Model::tensors`]).
    pub outputs: Vec<i32>,
    /// Its builtin options, for the operators this reader knows.
    pub options: Options,
}

/// A convolution's or pooling's padding (the schema's `Padding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// `SAME` (0): the output has `ceil(input / stride)` positions, padded about evenly (the extra at the end).
    Same,
    /// `VALID` (1): no padding.
    Valid,
}

/// A fused activation (the schema's `ActivationFunctionType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `NONE` (0).
    None,
    /// `RELU` (1).
    Relu,
    /// `RELU_N1_TO_1` (2): clamps to `[-1, 1]`.
    ReluN1To1,
    /// `RELU6` (3).
    Relu6,
    /// `TANH` (4).
    Tanh,
    /// `SIGN_BIT` (5).
    SignBit,
    /// Any other value.
    Other(i8),
}

impl Activation {
    fn from_code(code: i8) -> Self {
        match code {
            0 => Activation::None,
            1 => Activation::Relu,
            2 => Activation::ReluN1To1,
            3 => Activation::Relu6,
            4 => Activation::Tanh,
            5 => Activation::SignBit,
            n => Activation::Other(n),
        }
    }
}

/// An operator's builtin options (the schema's `BuiltinOptions` union), with the schema's defaults for absent
/// fields.
#[derive(Clone, Debug, PartialEq)]
pub enum Options {
    /// No options: no table, or union type 0 (`NONE`).
    None,
    /// `Conv2DOptions` (union type 1).
    Conv2d {
        /// The padding.
        padding: Padding,
        /// The stride along the width.
        stride_w: i32,
        /// The stride along the height.
        stride_h: i32,
        /// The fused activation.
        activation: Activation,
        /// The dilation along the width (default 1).
        dilation_w: i32,
        /// The dilation along the height (default 1).
        dilation_h: i32,
    },
    /// `DepthwiseConv2DOptions` (union type 2).
    DepthwiseConv2d {
        /// The padding.
        padding: Padding,
        /// The stride along the width.
        stride_w: i32,
        /// The stride along the height.
        stride_h: i32,
        /// Output channels per input channel (0 when absent: TFLite infers it from the weights).
        depth_multiplier: i32,
        /// The fused activation.
        activation: Activation,
        /// The dilation along the width (default 1).
        dilation_w: i32,
        /// The dilation along the height (default 1).
        dilation_h: i32,
    },
    /// `FullyConnectedOptions` (union type 8).
    FullyConnected {
        /// The fused activation.
        activation: Activation,
        /// The weights' layout: 0 `DEFAULT`, 1 `SHUFFLED4x16INT8`.
        weights_format: i8,
        /// Whether the output keeps the input's leading dimensions (else it is 2-D).
        keep_num_dims: bool,
    },
    /// `Pool2DOptions` (union type 5), for average, max and L2 pooling.
    Pool2d {
        /// The padding.
        padding: Padding,
        /// The stride along the width.
        stride_w: i32,
        /// The stride along the height.
        stride_h: i32,
        /// The window's width.
        filter_w: i32,
        /// The window's height.
        filter_h: i32,
        /// The fused activation.
        activation: Activation,
    },
    /// `SoftmaxOptions` (union type 9).
    Softmax {
        /// The logits' factor (0.0 when absent, as in the schema).
        beta: f32,
    },
    /// `ReshapeOptions` (union type 17).
    Reshape {
        /// The new shape (empty when the table has none).
        new_shape: Vec<i32>,
    },
    /// Any other `BuiltinOptions` table, by its union type.
    Other(u8),
}

/// Why a file could not be read: what is wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The name of a `BuiltinOperator` code (`CONV_2D` for 3), or `operator code N` for a code the schema lacks.
pub fn op_name(code: i32) -> String {
    match usize::try_from(code).ok().and_then(|i| OP_NAMES.get(i)) {
        Some(name) => name.to_string(),
        None => format!("operator code {code}"),
    }
}

/// The schema's `BuiltinOperator` names, by code (0 to 209, without gaps).
#[rustfmt::skip]
const OP_NAMES: [&str; 210] = [
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
    "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU",
    "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
    "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB",
    "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2",
    "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM", "ARG_MAX",
    "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE", "SIN",
    "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT",
    "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT",
    "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL",
    "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
    "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU",
    "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
    "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM",
    "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D", "CONV_3D",
    "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL",
    "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM", "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN",
    "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT", "STABLEHLO_LOGISTIC", "STABLEHLO_ADD", "STABLEHLO_DIVIDE",
    "STABLEHLO_MULTIPLY", "STABLEHLO_MAXIMUM", "STABLEHLO_RESHAPE", "STABLEHLO_CLAMP", "STABLEHLO_CONCATENATE",
    "STABLEHLO_BROADCAST_IN_DIM", "STABLEHLO_CONVOLUTION", "STABLEHLO_SLICE", "STABLEHLO_CUSTOM_CALL",
    "STABLEHLO_REDUCE", "STABLEHLO_ABS", "STABLEHLO_AND", "STABLEHLO_COSINE", "STABLEHLO_EXPONENTIAL",
    "STABLEHLO_FLOOR", "STABLEHLO_LOG", "STABLEHLO_MINIMUM", "STABLEHLO_NEGATE", "STABLEHLO_OR", "STABLEHLO_POWER",
    "STABLEHLO_REMAINDER", "STABLEHLO_RSQRT", "STABLEHLO_SELECT", "STABLEHLO_SUBTRACT", "STABLEHLO_TANH",
    "STABLEHLO_SCATTER", "STABLEHLO_COMPARE", "STABLEHLO_CONVERT", "STABLEHLO_DYNAMIC_SLICE",
    "STABLEHLO_DYNAMIC_UPDATE_SLICE", "STABLEHLO_PAD", "STABLEHLO_IOTA", "STABLEHLO_DOT_GENERAL",
    "STABLEHLO_REDUCE_WINDOW", "STABLEHLO_SORT", "STABLEHLO_WHILE", "STABLEHLO_GATHER", "STABLEHLO_TRANSPOSE",
    "DILATE", "STABLEHLO_RNG_BIT_GENERATOR", "REDUCE_WINDOW", "STABLEHLO_COMPOSITE", "STABLEHLO_SHIFT_LEFT",
    "STABLEHLO_CBRT", "STABLEHLO_CASE",
];

/// `BuiltinOperator::CUSTOM`.
const CUSTOM: i32 = 32;

/// How many bytes of vectors, strings and data a file may decode to, per byte of file: tables that share a
/// vector (many tensors naming one buffer, say) must not make a small file decode to gigabytes.
const BUDGET_PER_BYTE: usize = 8;

/// Reads a TFLite model: the first subgraph's tensors (with their data and quantization) and operators (with
/// their options), every index checked.
pub fn read(bytes: &[u8]) -> Result<Model, Error> {
    let Some(id) = bytes.get(4..8) else {
        return Err(Error(format!("the file is {} bytes, too short for a TFLite model", bytes.len())));
    };
    if id != b"TFL3" {
        return Err(Error(format!("not a TFLite model: its identifier is `{}`, not `TFL3`", id.escape_ascii())));
    }
    let rd = Reader { bytes, spent: Cell::new(0), budget: bytes.len().saturating_mul(BUDGET_PER_BYTE) };
    let root = rd.u32(0).unwrap_or(u32::MAX) as usize;
    let model = rd.table(root, "the model".to_string())?;
    let version = model.u32(0, 0, "version")?;
    let codes = model.vector(1, "operator_codes", 4)?;
    let subgraphs = model.vector(2, "subgraphs", 4)?;
    let description = model.string(3, "description")?;
    let buffers = model.vector(4, "buffers", 4)?;
    if subgraphs.len == 0 {
        return Err(Error("the model has no subgraph".to_string()));
    }
    let sub = rd.element(subgraphs, 0, "subgraph 0".to_string())?;

    let tensor_vec = sub.vector(0, "tensors", 4)?;
    let mut tensors = Vec::new();
    for i in 0..tensor_vec.len {
        tensors.push(read_tensor(&rd, rd.element(tensor_vec, i, format!("tensor {i}"))?, buffers)?);
    }
    let n = tensors.len();
    let graph_indices = |slot: usize, what: &str| -> Result<Vec<usize>, Error> {
        let indices = sub.values(slot, what, i32::from_le_bytes)?;
        let checked = indices.iter().enumerate().map(|(k, &t)| {
            usize::try_from(t)
                .ok()
                .filter(|&t| t < n)
                .ok_or_else(|| sub.err(format!("{} {k} names tensor {t} of {n}", what.trim_end_matches('s'))))
        });
        checked.collect()
    };
    let inputs = graph_indices(1, "inputs")?;
    let outputs = graph_indices(2, "outputs")?;

    let op_vec = sub.vector(3, "operators", 4)?;
    let mut operators = Vec::new();
    for i in 0..op_vec.len {
        let op = rd.element(op_vec, i, format!("operator {i}"))?;
        operators.push(read_operator(&rd, op, i, codes, n)?);
    }
    Ok(Model { version, description, tensors, operators, inputs, outputs, subgraphs: subgraphs.len })
}

/// A `Tensor` table, its `Buffer` and `QuantizationParameters`.
fn read_tensor(rd: &Reader<'_>, mut t: Table<'_>, buffers: Vector) -> Result<Tensor, Error> {
    let name = t.string(3, "name")?.unwrap_or_default();
    t.ctx = format!("{} (`{name}`)", t.ctx);
    let shape = t.values(0, "shape", i32::from_le_bytes)?;
    let dtype = TensorType::from_code(t.i8(1, 0, "type")?);
    let buffer = t.u32(2, 0, "buffer")? as usize;
    let external = t.u32(10, 0, "external_buffer")?;
    if external != 0 {
        return Err(t.err(format!("its data is external buffer {external}, outside the file, which is not supported")));
    }
    let data = match buffer {
        0 => None,
        b if b >= buffers.len => return Err(t.err(format!("buffer {b} of {}", buffers.len))),
        b => {
            let buf = rd.element(buffers, b, format!("{}: buffer {b}", t.ctx))?;
            let offset = buf.u64(1, 0, "offset")?;
            let size = buf.u64(2, 0, "size")?;
            // Models over 2 GB keep the data after the flatbuffer, at `offset` (valid when > 1) from the start.
            let bytes = if offset > 1 {
                let range = usize::try_from(offset).ok().zip(usize::try_from(size).ok());
                let range = range.and_then(|(start, size)| Some(start..start.checked_add(size)?));
                range.and_then(|r| rd.bytes.get(r)).ok_or_else(|| {
                    buf.err(format!(
                        "its {size} bytes at byte {offset} run past the end of the file ({} bytes)",
                        rd.bytes.len()
                    ))
                })?
            } else {
                rd.slice(buf.vector(0, "data", 1)?)
            };
            rd.charge(bytes.len(), &buf.ctx)?;
            (!bytes.is_empty()).then(|| bytes.to_vec())
        }
    };
    let quant = match t.table(4, "quantization", format!("{}: quantization", t.ctx))? {
        None => None,
        Some(q) => {
            let scale = q.values(2, "scale", f32::from_le_bytes)?;
            let zero_point = q.values(3, "zero_point", i64::from_le_bytes)?;
            let quantized_dimension = q.i32(6, 0, "quantized_dimension")?;
            (!scale.is_empty()).then_some(Quant { scale, zero_point, quantized_dimension })
        }
    };
    Ok(Tensor { name, shape, dtype, data, quant })
}

/// An `Operator` table and its `OperatorCode`; `n` tensors.
fn read_operator(rd: &Reader<'_>, mut op: Table<'_>, index: usize, codes: Vector, n: usize) -> Result<Operator, Error> {
    let opcode = op.u32(0, 0, "opcode_index")? as usize;
    if opcode >= codes.len {
        return Err(op.err(format!("operator code {opcode} of {}", codes.len)));
    }
    let oc = rd.element(codes, opcode, format!("{}: operator code {opcode}", op.ctx))?;
    // Codes past 127 are in `builtin_code` only, older files have `deprecated_builtin_code` only: TFLite takes
    // the larger.
    let code = i32::from(oc.i8(0, 0, "deprecated_builtin_code")?).max(oc.i32(3, 0, "builtin_code")?);
    let custom = if code == CUSTOM { oc.string(1, "custom_code")? } else { None };
    let version = oc.i32(2, 1, "version")?;
    op.ctx = format!("{} ({})", op.ctx, op_name(code));

    let tensor_list = |slot: usize, what: &str| -> Result<Vec<i32>, Error> {
        let indices = op.values(slot, &format!("{what}s"), i32::from_le_bytes)?;
        for (k, &t) in indices.iter().enumerate() {
            if t != -1 && usize::try_from(t).map_or(true, |t| t >= n) {
                return Err(op.err(format!("{what} {k} names tensor {t} of {n}")));
            }
        }
        Ok(indices)
    };
    let inputs = tensor_list(1, "input")?;
    let outputs = tensor_list(2, "output")?;
    let options = read_options(&op)?;
    Ok(Operator { index, code, custom, version, inputs, outputs, options })
}

/// An operator's `builtin_options` (the union's type in slot 3, its table in slot 4).
fn read_options(op: &Table<'_>) -> Result<Options, Error> {
    let kind = op.u8(3, 0, "builtin_options_type")?;
    let Some(t) = op.table(4, "builtin_options", format!("{}: builtin_options", op.ctx))? else {
        return Ok(Options::None);
    };
    let padding = || match t.i8(0, 0, "padding")? {
        0 => Ok(Padding::Same),
        1 => Ok(Padding::Valid),
        p => Err(t.err(format!("padding {p} is neither SAME (0) nor VALID (1)"))),
    };
    let act = |slot| Ok::<_, Error>(Activation::from_code(t.i8(slot, 0, "fused_activation_function")?));
    Ok(match kind {
        0 => Options::None,
        1 => Options::Conv2d {
            padding: padding()?,
            stride_w: t.i32(1, 0, "stride_w")?,
            stride_h: t.i32(2, 0, "stride_h")?,
            activation: act(3)?,
            dilation_w: t.i32(4, 1, "dilation_w_factor")?,
            dilation_h: t.i32(5, 1, "dilation_h_factor")?,
        },
        2 => Options::DepthwiseConv2d {
            padding: padding()?,
            stride_w: t.i32(1, 0, "stride_w")?,
            stride_h: t.i32(2, 0, "stride_h")?,
            depth_multiplier: t.i32(3, 0, "depth_multiplier")?,
            activation: act(4)?,
            dilation_w: t.i32(5, 1, "dilation_w_factor")?,
            dilation_h: t.i32(6, 1, "dilation_h_factor")?,
        },
        5 => Options::Pool2d {
            padding: padding()?,
            stride_w: t.i32(1, 0, "stride_w")?,
            stride_h: t.i32(2, 0, "stride_h")?,
            filter_w: t.i32(3, 0, "filter_width")?,
            filter_h: t.i32(4, 0, "filter_height")?,
            activation: act(5)?,
        },
        8 => Options::FullyConnected {
            activation: act(0)?,
            weights_format: t.i8(1, 0, "weights_format")?,
            keep_num_dims: t.u8(2, 0, "keep_num_dims")? != 0,
        },
        9 => Options::Softmax { beta: f32::from_bits(t.u32(0, 0, "beta")?) },
        17 => Options::Reshape { new_shape: t.values(0, "new_shape", i32::from_le_bytes)? },
        other => Options::Other(other),
    })
}

/// The file, and how many bytes reading it has decoded so far.
struct Reader<'a> {
    bytes: &'a [u8],
    spent: Cell<usize>,
    budget: usize,
}

/// A vector's elements: `len` of them in `start..end`, inside the file.
#[derive(Clone, Copy, Default)]
struct Vector {
    start: usize,
    end: usize,
    len: usize,
}

/// A table whose vtable (`vt`, `vt_len` bytes) lies inside the file; `ctx` names it in errors.
struct Table<'a> {
    rd: &'a Reader<'a>,
    pos: usize,
    vt: usize,
    vt_len: usize,
    ctx: String,
}

impl<'a> Reader<'a> {
    fn array<const N: usize>(&self, pos: usize) -> Option<[u8; N]> {
        self.bytes.get(pos..pos.checked_add(N)?)?.try_into().ok()
    }

    fn u32(&self, pos: usize) -> Option<u32> {
        self.array(pos).map(u32::from_le_bytes)
    }

    /// The table at `pos`: its vtable (at `pos` minus the `i32` there) and inline fields must lie in the file.
    fn table(&'a self, pos: usize, ctx: String) -> Result<Table<'a>, Error> {
        let past = |what: String| Error(format!("{ctx}: its {what} runs past the end of the file"));
        let soffset = self.array(pos).map(i32::from_le_bytes).ok_or_else(|| past(format!("table at byte {pos}")))?;
        let vt = i64::try_from(pos).ok().and_then(|p| usize::try_from(p.checked_sub(i64::from(soffset))?).ok());
        let vt = vt
            .filter(|&vt| vt < self.bytes.len())
            .ok_or_else(|| Error(format!("{ctx}: its vtable at byte {pos} - {soffset} lies outside the file")))?;
        let header = self.array::<4>(vt).ok_or_else(|| past(format!("vtable at byte {vt}")))?;
        let (vt_len, inline) = (u16::from_le_bytes([header[0], header[1]]), u16::from_le_bytes([header[2], header[3]]));
        if vt_len < 4 {
            return Err(Error(format!(
                "{ctx}: its vtable at byte {vt} is {vt_len} bytes, less than its 4-byte header"
            )));
        }
        if self.bytes.get(vt..vt + usize::from(vt_len)).is_none() {
            return Err(past(format!("vtable at byte {vt} ({vt_len} bytes)")));
        }
        if self.bytes.get(pos..pos + usize::from(inline)).is_none() {
            return Err(past(format!("table at byte {pos} ({inline} bytes)")));
        }
        Ok(Table { rd: self, pos, vt, vt_len: usize::from(vt_len), ctx })
    }

    /// The table element `i` of a vector of tables (each element a `u32` offset from itself).
    fn element(&'a self, v: Vector, i: usize, ctx: String) -> Result<Table<'a>, Error> {
        let at = i.checked_mul(4).and_then(|o| v.start.checked_add(o)).filter(|&p| i < v.len && p + 4 <= v.end);
        let Some((at, offset)) = at.and_then(|at| Some((at, self.u32(at)?))) else {
            return Err(Error(format!("{ctx}: element {i} of a vector of {} tables is out of bounds", v.len)));
        };
        match at.checked_add(offset as usize).filter(|&p| p < self.bytes.len()) {
            Some(pos) => self.table(pos, ctx),
            None => Err(Error(format!("{ctx}: its table at byte {at} + {offset} lies past the end of the file"))),
        }
    }

    fn slice(&self, v: Vector) -> &'a [u8] {
        self.bytes.get(v.start..v.end).unwrap_or_default()
    }

    /// Counts `n` decoded bytes against the budget.
    fn charge(&self, n: usize, ctx: &str) -> Result<(), Error> {
        let spent = self.spent.get().saturating_add(n);
        self.spent.set(spent);
        if spent > self.budget {
            return Err(Error(format!(
                "{ctx}: the model's vectors and data come to more than {} bytes, {BUDGET_PER_BYTE} times the \
                 file's size (its tables share data over and over)",
                self.budget
            )));
        }
        Ok(())
    }
}

impl<'a> Table<'a> {
    fn err(&self, what: String) -> Error {
        Error(format!("{}: {what}", self.ctx))
    }

    /// Where field `slot` is, or `None` when absent (its vtable entry is 0 or past the vtable's end).
    fn field(&self, slot: usize) -> Option<usize> {
        let entry = 4 + 2 * slot;
        if entry + 2 > self.vt_len {
            return None;
        }
        let offset = u16::from_le_bytes(self.rd.array(self.vt + entry)?);
        (offset != 0).then(|| self.pos.checked_add(usize::from(offset))).flatten()
    }

    fn scalar<const N: usize>(&self, slot: usize, name: &str) -> Result<Option<[u8; N]>, Error> {
        let Some(pos) = self.field(slot) else { return Ok(None) };
        let value = self.rd.array(pos);
        value.map(Some).ok_or_else(|| self.err(format!("its {name} field runs past the end of the file")))
    }

    fn u8(&self, slot: usize, default: u8, name: &str) -> Result<u8, Error> {
        Ok(self.scalar::<1>(slot, name)?.map_or(default, u8::from_le_bytes))
    }

    fn i8(&self, slot: usize, default: i8, name: &str) -> Result<i8, Error> {
        Ok(self.scalar::<1>(slot, name)?.map_or(default, i8::from_le_bytes))
    }

    fn i32(&self, slot: usize, default: i32, name: &str) -> Result<i32, Error> {
        Ok(self.scalar::<4>(slot, name)?.map_or(default, i32::from_le_bytes))
    }

    fn u32(&self, slot: usize, default: u32, name: &str) -> Result<u32, Error> {
        Ok(self.scalar::<4>(slot, name)?.map_or(default, u32::from_le_bytes))
    }

    fn u64(&self, slot: usize, default: u64, name: &str) -> Result<u64, Error> {
        Ok(self.scalar::<8>(slot, name)?.map_or(default, u64::from_le_bytes))
    }

    /// Where the offset field `slot` points (inside the file), or `None` when absent.
    fn target(&self, slot: usize, name: &str) -> Result<Option<usize>, Error> {
        let Some(offset) = self.scalar::<4>(slot, name)?.map(u32::from_le_bytes) else { return Ok(None) };
        let pos = self.field(slot).and_then(|p| p.checked_add(offset as usize));
        match pos.filter(|&p| p < self.rd.bytes.len()) {
            Some(p) => Ok(Some(p)),
            None => Err(self.err(format!("its {name} offset {offset} points past the end of the file"))),
        }
    }

    fn table(&self, slot: usize, name: &str, ctx: String) -> Result<Option<Table<'a>>, Error> {
        self.target(slot, name)?.map(|pos| self.rd.table(pos, ctx)).transpose()
    }

    /// The vector in field `slot`, of `size`-byte elements (empty when absent).
    fn vector(&self, slot: usize, name: &str, size: usize) -> Result<Vector, Error> {
        let Some(pos) = self.target(slot, name)? else { return Ok(Vector::default()) };
        let past = |what: String| self.err(format!("its {name} {what} runs past the end of the file"));
        let len = self.rd.u32(pos).ok_or_else(|| past("vector".to_string()))? as usize;
        let start = pos + 4;
        let end = len.checked_mul(size).and_then(|n| start.checked_add(n)).filter(|&e| e <= self.rd.bytes.len());
        let end = end.ok_or_else(|| past(format!("vector of {len} elements")))?;
        Ok(Vector { start, end, len })
    }

    /// A vector of scalars, decoded (empty when absent).
    fn values<const N: usize, T>(&self, slot: usize, name: &str, decode: fn([u8; N]) -> T) -> Result<Vec<T>, Error> {
        let bytes = self.rd.slice(self.vector(slot, name, N)?);
        self.rd.charge(bytes.len(), &self.ctx)?;
        let mut values = Vec::with_capacity(bytes.len() / N);
        for chunk in bytes.chunks_exact(N) {
            if let Ok(value) = chunk.try_into() {
                values.push(decode(value));
            }
        }
        Ok(values)
    }

    fn string(&self, slot: usize, name: &str) -> Result<Option<String>, Error> {
        let Some(_) = self.field(slot) else { return Ok(None) };
        let bytes = self.rd.slice(self.vector(slot, name, 1)?);
        self.rd.charge(bytes.len(), &self.ctx)?;
        Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::PathBuf;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tflite");

    /// The fixtures' names and bytes, sorted by name.
    fn fixtures() -> Vec<(String, Vec<u8>)> {
        let mut names: Vec<String> = std::fs::read_dir(FIXTURES)
            .unwrap()
            .filter_map(|e| e.unwrap().file_name().to_str()?.strip_suffix(".tflite").map(String::from))
            .collect();
        names.sort();
        names.into_iter().map(|n| (n.clone(), std::fs::read(format!("{FIXTURES}/{n}.tflite")).unwrap())).collect()
    }

    /// MicroFlow's example models, when they are on this machine.
    fn microflow() -> Option<Vec<(String, Vec<u8>)>> {
        let root = std::env::var("MICROFLOW_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/peers/microflow").into());
        let dir = format!("{root}/models");
        if !PathBuf::from(&dir).is_dir() {
            eprintln!("skipping MicroFlow's models: no directory {dir}");
            return None;
        }
        let read = |n: &str| (n.to_string(), std::fs::read(format!("{dir}/{n}.tflite")).unwrap());
        Some(["sine", "speech", "person_detect"].map(read).into())
    }

    /// A fixture's parameters (`key: values`, the first line of each key).
    fn params(name: &str) -> HashMap<String, Vec<String>> {
        let text = std::fs::read_to_string(format!("{FIXTURES}/{name}.txt")).unwrap();
        let mut map = HashMap::new();
        for line in text.lines() {
            let (key, values) = line.split_once(": ").unwrap();
            map.entry(key.to_string()).or_insert_with(|| values.split(' ').map(String::from).collect());
        }
        map
    }

    #[test]
    fn fixtures_read_as_built() {
        let all = fixtures();
        assert!(all.len() >= 16, "{} fixtures", all.len());
        for (name, bytes) in &all {
            let m = read(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            // The models the importer refuses have no parameter file; reading them is enough here.
            if name.starts_with("refuse_") {
                continue;
            }
            if name == "chain" {
                check_chain(&m);
                continue;
            }
            let p = params(name);
            let num = |k: &str| -> Vec<f64> { p[k].iter().map(|v| v.parse().unwrap()).collect() };
            let int = |k: &str| -> Vec<i32> { num(k).iter().map(|&v| v as i32).collect() };
            let pair = |k: &str| -> [i32; 2] { int(k).try_into().unwrap() };
            let triple = |k: &str| -> [i32; 3] { int(k).try_into().unwrap() };
            let word = |k: &str| p.get(k).map(|v| v[0].as_str());
            assert_eq!((m.version, m.description.as_deref(), m.subgraphs), (3, Some("nn fixture"), 1), "{name}");
            let n = m.tensors.len();
            assert_eq!((&m.inputs[..], &m.outputs[..], m.operators.len()), (&[0][..], &[n - 1][..], 1), "{name}");
            let op = &m.operators[0];
            assert_eq!((op.index, op.version, &op.custom), (0, 1, &None), "{name}");
            assert_eq!((op.inputs.clone(), &op.outputs[..]), ((0..n as i32 - 1).collect(), &[n as i32 - 1][..]));
            // The activations: their names, types and per-tensor quantization.
            let (x, y) = (&m.tensors[0], &m.tensors[n - 1]);
            for (t, tensor_name, key) in [(x, "x", "input"), (y, "y", "output")] {
                let q = Quant {
                    scale: vec![num(key)[0] as f32],
                    zero_point: vec![num(key)[1] as i64],
                    quantized_dimension: 0,
                };
                assert_eq!(
                    (t.name.as_str(), t.dtype, &t.data, t.quant.as_ref()),
                    (tensor_name, TensorType::Int8, &None, Some(&q)),
                    "{name}"
                );
            }
            let act = word("act").map(|a| match a {
                "none" => Activation::None,
                "relu" => Activation::Relu,
                "relu6" => Activation::Relu6,
                other => panic!("{other}"),
            });
            let padding = word("padding").map(|p| if p == "same" { Padding::Same } else { Padding::Valid });
            // The weights and the bias: their bytes, shapes and per-channel scales (the bias's = input's * weight's).
            let constants = |w_shape: Vec<i32>, qdim: i32| {
                let (w, b) = (&m.tensors[1], &m.tensors[2]);
                let ws: Vec<f32> = num("weight_scale").iter().map(|&s| s as f32).collect();
                let zeros = vec![0; ws.len()];
                assert_eq!((w.name.as_str(), &w.shape, w.dtype), ("w", &w_shape, TensorType::Int8), "{name}");
                let weights: Vec<i32> = w.data.as_ref().unwrap().iter().map(|&v| i32::from(v as i8)).collect();
                assert_eq!(weights, int("weight"), "{name}");
                let wq = w.quant.as_ref().unwrap();
                assert_eq!((&wq.scale, &wq.zero_point, wq.quantized_dimension), (&ws, &zeros, qdim), "{name}");
                let co = int("bias").len() as i32;
                assert_eq!((b.name.as_str(), &b.shape[..], b.dtype), ("b", &[co][..], TensorType::Int32), "{name}");
                let bias: Vec<i32> =
                    b.data.as_ref().unwrap().chunks(4).map(|c| i32::from_le_bytes(c.try_into().unwrap())).collect();
                assert_eq!(bias, int("bias"), "{name}");
                let bs: Vec<f32> = ws.iter().map(|s| x.quant.as_ref().unwrap().scale[0] * s).collect();
                assert_eq!(
                    (&b.quant.as_ref().unwrap().scale, &b.quant.as_ref().unwrap().zero_point),
                    (&bs, &zeros),
                    "{name}"
                );
            };
            match name.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap() {
                "fc" => {
                    let [n_in, n_out] = pair("sizes");
                    assert_eq!(
                        (op_name(op.code).as_str(), n, &x.shape, &y.shape),
                        ("FULLY_CONNECTED", 4, &vec![1, n_in], &vec![1, n_out])
                    );
                    assert_eq!(
                        op.options,
                        Options::FullyConnected { activation: act.unwrap(), weights_format: 0, keep_num_dims: false }
                    );
                    constants(vec![n_out, n_in], 0);
                }
                family @ ("conv" | "depthwise") => {
                    let ([h, w, c], [oh, ow, co]) = (triple("hwc"), triple("out"));
                    let ([kh, kw], [sh, sw], [dh, dw]) = (pair("kernel"), pair("stride"), pair("dilation"));
                    assert_eq!((n, &x.shape, &y.shape), (4, &vec![1, h, w, c], &vec![1, oh, ow, co]), "{name}");
                    let (padding, activation) = (padding.unwrap(), act.unwrap());
                    if family == "depthwise" {
                        assert_eq!(op_name(op.code), "DEPTHWISE_CONV_2D");
                        let depth_multiplier = co / c;
                        assert_eq!(
                            op.options,
                            Options::DepthwiseConv2d {
                                padding,
                                stride_w: sw,
                                stride_h: sh,
                                depth_multiplier,
                                activation,
                                dilation_w: dw,
                                dilation_h: dh
                            }
                        );
                        constants(vec![1, kh, kw, co], 3);
                    } else {
                        assert_eq!(op_name(op.code), "CONV_2D");
                        assert_eq!(
                            op.options,
                            Options::Conv2d {
                                padding,
                                stride_w: sw,
                                stride_h: sh,
                                activation,
                                dilation_w: dw,
                                dilation_h: dh
                            }
                        );
                        constants(vec![co, kh, kw, c], 0);
                    }
                }
                family @ ("avgpool" | "maxpool") => {
                    let ([h, w, c], [oh, ow, _]) = (triple("hwc"), triple("out"));
                    let ([kh, kw], [sh, sw]) = (pair("kernel"), pair("stride"));
                    let code = if family == "avgpool" { "AVERAGE_POOL_2D" } else { "MAX_POOL_2D" };
                    assert_eq!(
                        (op_name(op.code).as_str(), n, &x.shape, &y.shape),
                        (code, 2, &vec![1, h, w, c], &vec![1, oh, ow, c])
                    );
                    let (padding, activation) = (padding.unwrap(), act.unwrap());
                    assert_eq!(
                        op.options,
                        Options::Pool2d { padding, stride_w: sw, stride_h: sh, filter_w: kw, filter_h: kh, activation }
                    );
                }
                "softmax" => {
                    let size = int("sizes")[0];
                    assert_eq!(
                        (op_name(op.code).as_str(), n, &x.shape, &y.shape),
                        ("SOFTMAX", 2, &vec![1, size], &vec![1, size])
                    );
                    assert_eq!(op.options, Options::Softmax { beta: num("beta")[0] as f32 });
                }
                other => panic!("a fixture of an unknown family: {other}"),
            }
        }
    }

    /// `chain.tflite`: six operators (their options partly left to the schema's defaults), checked against the
    /// safetensors file written beside it.
    fn check_chain(m: &Model) {
        let names: Vec<String> = m.operators.iter().map(|op| op_name(op.code)).collect();
        let expected = ["CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"];
        assert_eq!(names, expected);
        let tensors: Vec<&str> = m.tensors.iter().map(|t| t.name.as_str()).collect();
        let expected = ["input", "conv1/w", "conv1/b", "conv1", "conv2/w", "conv2/b", "conv2", "pool", "shape", "flat"];
        assert_eq!(tensors[..10], expected);
        assert_eq!(tensors[10..], ["fc1/w", "fc1/b", "fc1", "probabilities"]);
        for pair in m.operators.windows(2) {
            assert_eq!(pair[1].inputs[0], pair[0].outputs[0], "a chain");
        }
        let (padding, activation) = (Padding::Same, Activation::Relu);
        let conv = Options::Conv2d { padding, stride_w: 2, stride_h: 2, activation, dilation_w: 1, dilation_h: 1 };
        let activation = Activation::Relu6;
        let depthwise = Options::DepthwiseConv2d {
            padding,
            stride_w: 1,
            stride_h: 1,
            depth_multiplier: 2,
            activation,
            dilation_w: 1,
            dilation_h: 1,
        };
        let padding = Padding::Valid;
        let pool = Options::Pool2d {
            padding,
            stride_w: 2,
            stride_h: 2,
            filter_w: 2,
            filter_h: 2,
            activation: Activation::None,
        };
        let fc = Options::FullyConnected { activation: Activation::None, weights_format: 0, keep_num_dims: false };
        let options: Vec<&Options> = m.operators.iter().map(|op| &op.options).collect();
        let reshape = Options::Reshape { new_shape: vec![1, 72] };
        assert_eq!(options, [&conv, &depthwise, &pool, &reshape, &fc, &Options::Softmax { beta: 1.0 }]);
        let input = m.tensors[0].quant.as_ref().unwrap();
        assert_eq!((&input.scale[..], &input.zero_point[..]), (&[0.05f32][..], &[-7i64][..]));
        let shape = &m.tensors[8];
        assert_eq!(
            (shape.dtype, &shape.quant, shape.data.as_deref()),
            (TensorType::Int32, &None, Some(&[1, 0, 0, 0, 72, 0, 0, 0][..]))
        );
        let dw = &m.tensors[4];
        let q = dw.quant.as_ref().unwrap();
        assert_eq!((&dw.shape[..], q.scale.len(), q.quantized_dimension), (&[1, 3, 3, 12][..], 12, 3));
        let st = std::fs::read(format!("{FIXTURES}/chain.safetensors")).unwrap();
        let st = safetensors::SafeTensors::deserialize(&st).unwrap();
        let (w, b) = (&m.tensors[10], &m.tensors[11]);
        assert_eq!((&w.shape[..], w.quant.as_ref().unwrap().scale.len()), (&[5, 72][..], 1));
        assert_eq!(w.data.as_deref(), Some(st.tensor("fc1.weight").unwrap().data()));
        assert_eq!(b.data.as_deref(), Some(st.tensor("fc1.bias").unwrap().data()));
    }

    #[test]
    fn microflow_models_read() {
        let Some(models) = microflow() else { return };
        let model = |name: &str| read(&models.iter().find(|(n, _)| n == name).unwrap().1).unwrap();
        let names = |m: &Model| m.operators.iter().map(|op| op_name(op.code)).collect::<Vec<_>>();
        let sine = model("sine");
        assert_eq!(names(&sine), ["FULLY_CONNECTED"; 3]);
        let input = &sine.tensors[sine.inputs[0]];
        assert_eq!((input.dtype, &input.shape[..]), (TensorType::Int8, &[1, 1][..]));
        let speech = model("speech");
        assert_eq!(names(&speech), ["RESHAPE", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"]);
        assert_eq!(speech.operators[0].options, Options::Reshape { new_shape: vec![-1, 49, 40, 1] });
        let weights = &speech.tensors[speech.operators[1].inputs[1] as usize];
        let q = weights.quant.as_ref().unwrap();
        assert_eq!((q.scale.len(), q.zero_point.len(), q.quantized_dimension), (8, 8, 3));
        assert_eq!(weights.data.as_ref().map(Vec::len), Some(640));
        assert_eq!(model("person_detect").operators.len(), 31);
    }

    #[test]
    fn what_is_no_model_says_why() {
        let msg = |b: &[u8]| read(b).unwrap_err().to_string();
        assert_eq!(msg(&[]), "the file is 0 bytes, too short for a TFLite model");
        assert_eq!(msg(&[0; 7]), "the file is 7 bytes, too short for a TFLite model");
        let mut b = std::fs::read(format!("{FIXTURES}/fc_relu.tflite")).unwrap();
        b[4..8].copy_from_slice(b"TFL2");
        assert_eq!(msg(&b), "not a TFLite model: its identifier is `TFL2`, not `TFL3`");
        let onnx = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/onnx/mlp_gemm.onnx")).unwrap();
        assert!(msg(&onnx).starts_with("not a TFLite model: its identifier is `"), "{}", msg(&onnx));
        b[4..8].copy_from_slice(b"TFL3");
        b[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(msg(&b), "the model: its table at byte 4294967295 runs past the end of the file");
    }

    /// Where things are in `fc_relu.tflite` (4 tensors, 3 buffers), found with the reader's own parts:
    /// tensor 1's `buffer` field, tensor 0's shape vector, operator 0's inputs, the subgraph's outputs and tensors
    /// fields, and the `buffers` vector's elements.
    fn fc_layout(b: &[u8]) -> [usize; 6] {
        let rd = Reader { bytes: b, spent: Cell::new(0), budget: usize::MAX };
        let model = rd.table(rd.u32(0).unwrap() as usize, String::new()).unwrap();
        let sub = rd.element(model.vector(2, "", 4).unwrap(), 0, String::new()).unwrap();
        let tensors = sub.vector(0, "", 4).unwrap();
        let tensor = |i| rd.element(tensors, i, String::new()).unwrap();
        let op = rd.element(sub.vector(3, "", 4).unwrap(), 0, String::new()).unwrap();
        let shape = tensor(0).vector(0, "", 4).unwrap().start - 4;
        let [inputs, outputs] = [op.vector(1, "", 4).unwrap().start, sub.vector(2, "", 4).unwrap().start];
        [
            tensor(1).field(2).unwrap(),
            shape,
            inputs,
            outputs,
            sub.field(0).unwrap(),
            model.vector(4, "", 4).unwrap().start,
        ]
    }

    fn put(b: &mut [u8], at: usize, v: u32) {
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    #[test]
    fn bad_indices_and_lengths_say_where() {
        let orig = std::fs::read(format!("{FIXTURES}/fc_relu.tflite")).unwrap();
        let [buffer, shape, op_inputs, outputs, ..] = fc_layout(&orig);
        let cases: [(usize, u32, &str); 4] = [
            (buffer, 99, "tensor 1 (`w`): buffer 99 of 3"),
            (
                shape,
                0x7fff_ffff,
                "tensor 0 (`x`): its shape vector of 2147483647 elements runs past the end of the file",
            ),
            (op_inputs + 4, 99, "operator 0 (FULLY_CONNECTED): input 1 names tensor 99 of 4"),
            (outputs, 7, "subgraph 0: output 0 names tensor 7 of 4"),
        ];
        for (at, value, expected) in cases {
            let mut b = orig.clone();
            put(&mut b, at, value);
            assert_eq!(read(&b).unwrap_err().0, expected);
        }
        let mut b = orig.clone();
        put(&mut b, op_inputs + 8, u32::MAX);
        assert_eq!(read(&b).unwrap().operators[0].inputs, [0, 1, -1], "-1 is an optional input left out");
    }

    #[test]
    fn buffers_after_the_flatbuffer_are_read() {
        // Appends a `Buffer` table with `offset` and `size` (a >2 GB model's layout) and the data it points to,
        // and points `buffers[1]` (the weights) at it.
        let mut b = std::fs::read(format!("{FIXTURES}/fc_relu.tflite")).unwrap();
        let elements = fc_layout(&b)[5];
        let vtable = b.len().next_multiple_of(4);
        b.resize(vtable, 0);
        b.extend([10, 0, 20, 0, 0, 0, 4, 0, 12, 0, 0, 0]); // 3 slots: no data, offset at +4, size at +12
        let table = b.len();
        let data = table + 20;
        b.extend(12i32.to_le_bytes().iter().chain(&(data as u64).to_le_bytes()).chain(&240u64.to_le_bytes()));
        b.extend((0..240).map(|i| i as u8));
        put(&mut b, elements + 4, (table - elements - 4) as u32);
        let m = read(&b).unwrap();
        assert_eq!(m.tensors[1].data, Some((0..240).map(|i| i as u8).collect()));
        b.truncate(b.len() - 1);
        let err = read(&b).unwrap_err().0;
        assert_eq!(
            err,
            format!(
                "tensor 1 (`w`): buffer 1: its 240 bytes at byte {data} run past the end of the file ({} bytes)",
                b.len()
            )
        );
    }

    #[test]
    fn shared_tables_cannot_decode_to_gigabytes() {
        // A tensors vector of 2,000 elements, all one tensor naming the 240-byte weights buffer.
        let mut b = std::fs::read(format!("{FIXTURES}/fc_relu.tflite")).unwrap();
        let tensors_field = fc_layout(&b)[4];
        let vector = b.len().next_multiple_of(4);
        b.resize(vector, 0);
        let n = 2000;
        let vtable = vector + 4 + 4 * n;
        let table = vtable + 12;
        b.extend((n as u32).to_le_bytes());
        for i in 0..n {
            b.extend(((table - (vector + 4 + 4 * i)) as u32).to_le_bytes());
        }
        b.extend([10, 0, 8, 0, 0, 0, 0, 0, 4, 0, 0, 0]); // only `buffer`, at +4
        b.extend(12i32.to_le_bytes().iter().chain(&1u32.to_le_bytes()));
        put(&mut b, tensors_field, (vector - tensors_field) as u32);
        let err = read(&b).unwrap_err().0;
        assert!(err.contains("times the file's size (its tables share data over and over)"), "{err}");
    }

    /// xorshift64*.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// The positions outside the buffers' data: the structure, where mutations are most telling.
    fn structure(bytes: &[u8]) -> Vec<usize> {
        let rd = Reader { bytes, spent: Cell::new(0), budget: usize::MAX };
        let model = rd.table(rd.u32(0).unwrap() as usize, String::new()).unwrap();
        let buffers = model.vector(4, "", 4).unwrap();
        let mut data = vec![false; bytes.len()];
        for i in 0..buffers.len {
            let v = rd.element(buffers, i, String::new()).unwrap().vector(0, "", 1).unwrap();
            data[v.start..v.end].fill(true);
        }
        (0..bytes.len()).filter(|&i| !data[i]).collect()
    }

    /// One to three mutations: bit flips, random bytes, extreme `u32` and `u16` values, truncation, copied,
    /// deleted and duplicated slices.
    fn mutate(rng: &mut Rng, orig: &[u8], hot: &[usize]) -> Vec<u8> {
        let mut b = orig.to_vec();
        for _ in 0..1 + rng.below(3) {
            let len = b.len();
            if len < 8 {
                break;
            }
            let at = if rng.below(4) == 0 { rng.below(len) } else { hot[rng.below(hot.len())].min(len - 1) };
            match rng.below(7) {
                0 => b[at] ^= 1 << rng.below(8),
                1 => b[at] = rng.next() as u8,
                2 => {
                    let values =
                        [0, u32::MAX, 0x7fff_ffff, 0x8000_0000, rng.below(64) as u32, len as u32, rng.next() as u32];
                    let at = (at & !3).min(len - 4);
                    put(&mut b, at, values[rng.below(values.len())]);
                }
                3 => {
                    let values = [0, u16::MAX, 4, rng.below(32) as u16, rng.next() as u16];
                    let at = (at & !1).min(len - 2);
                    b[at..at + 2].copy_from_slice(&values[rng.below(values.len())].to_le_bytes());
                }
                4 => b.truncate(rng.below(len)),
                5 => {
                    let from = rng.below(len);
                    let n = (1 + rng.below(64)).min(len - from).min(len - at);
                    b.copy_within(from..from + n, at);
                }
                _ => {
                    let n = (1 + rng.below(16)).min(len - at);
                    if rng.below(2) == 0 {
                        b.drain(at..at + n);
                    } else {
                        let slice = b[at..at + n].to_vec();
                        b.splice(at..at, slice);
                    }
                }
            }
        }
        b
    }

    #[test]
    fn mutated_files_never_panic() {
        let mut files = fixtures();
        files.extend(microflow().unwrap_or_default());
        let mut total = [0; 3];
        for (k, (name, bytes)) in files.iter().enumerate() {
            let hot = structure(bytes);
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (k as u64 + 1));
            let mut counts = [0; 3]; // ok, err, panic
            // Person detection's 300 KB take long to read in a debug build: fewer rounds there.
            let rounds = if bytes.len() > 100_000 { 600 } else { 3000 };
            for i in 0..rounds {
                let m = mutate(&mut rng, bytes, &hot);
                match std::panic::catch_unwind(|| read(&m).is_ok()) {
                    Ok(true) => counts[0] += 1,
                    Ok(false) => counts[1] += 1,
                    Err(_) => {
                        eprintln!("{name}: mutation {i} panicked");
                        counts[2] += 1;
                    }
                }
            }
            eprintln!("{name}: {} ok, {} err, {} panics", counts[0], counts[1], counts[2]);
            assert_eq!(counts[2], 0, "{name}: mutated copies made the reader panic");
            assert!(counts[0] > 0 && counts[1] > 0, "{name}: the mutations are vacuous: {counts:?}");
            total.iter_mut().zip(counts).for_each(|(t, c)| *t += c);
        }
        eprintln!("all: {} ok, {} err, {} panics", total[0], total[1], total[2]);
    }
}
