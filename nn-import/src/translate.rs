//! From an ONNX graph to a `network!` declaration and its weights.
//!
//! The graph is read from its input as a chain: each node takes the value the node before it produced, plus
//! constants (initializers and `Constant` nodes). Where a value feeds several nodes, each starts a branch, and the
//! branches must meet again at one node: an `Add` with the value itself is `Residual`, an `Add` of two branches
//! `Sum`, a `Concat` along the channels (or of vectors) `Concat`, with `[]` for the value itself; the exact GELU
//! written out (`x * (1 + erf(x / sqrt 2)) * 0.5`) is `Gelu`. Layers inside blocks take `network!`'s default
//! names (`conv3`, `bn2`), which the weights file follows. Operators, from opset 13 on:
//!
//! | ONNX | `network!` |
//! |---|---|
//! | `Gemm` (`transA = 0`, `alpha = beta = 1`), `MatMul` by a constant (and an `Add` of a bias) | `Dense` |
//! | `Conv` (1-D and 2-D, symmetric `pads`, `strides`, `dilations`, `group`) | `Conv1d`, `Conv2d` |
//! | `ConvTranspose` (1-D and 2-D, one group, symmetric `pads`, `output_padding`) | `ConvTranspose1d/2d` |
//! | `BatchNormalization` (inference, `epsilon` 1e-5) | `BatchNorm` |
//! | `MaxPool`, `AveragePool` (symmetric pads, the average's with `count_include_pad`; `ceil_mode = 0`) | `MaxPool1d/2d`, `AvgPool1d/2d` |
//! | `GlobalAveragePool` | `GlobalAvgPool1d/2d` |
//! | `Flatten` (`axis = 1`), `Reshape` to a vector or planes | `Flatten`, `Reshape` |
//! | `Relu`, `Sigmoid`, `Tanh`, `Softplus`, `LeakyRelu`, `Elu`, `Gelu`, `Softmax` (last axis) | the same |
//! | `HardSigmoid` (`beta = 0.5`), `Clip` to `[-1, 1]`, `[0, 6]` or `[0, inf)` | `HardSigmoid`, `HardTanh`, `Relu6`, `Relu` |
//! | `Identity`, `Dropout` (inference) | nothing |
//! | `LSTM`, `GRU` (`linear_before_reset = 1`), `RNN` (tanh or ReLU), forward, zero initial state | `Lstm`, `Gru`, `Rnn` |
//! | `Squeeze` of their direction axis, `Transpose` between batch-first and sequence-first, `Gather` of the last step | `output = last` |
//!
//! A sequence input is `[steps, batch, features]` read by a recurrent node, or `[batch, steps, features]`
//! transposed first (PyTorch's `batch_first`); the gates are reordered from ONNX's (i, o, f, c and z, r, h) to
//! PyTorch's (i, f, g, o and r, z, n). `MatMul` (+ `Add`) on a sequence is a dense layer on every step.
//!
//! Shape arithmetic is evaluated while importing: `Shape` of a value (with a batch of one) and `Gather`,
//! `Unsqueeze`, `Squeeze`, `Concat`, `Slice`, `Cast`, `ConstantOfShape` and integer `Add`, `Sub`, `Mul`, `Div` of
//! constants, as exporters write a dynamic batch (`x.view(x.size(0), -1)`, a zero initial state per batch).
//!
//! Any other operator, attribute value or structure is an [`ImportError`] naming the node.

use crate::onnx::{self, AttributeProto, ModelProto, NodeProto, TensorProto, attribute_type, data_type};
use crate::{ImportError, Imported, Options};
use std::collections::HashMap;
use std::fmt::Write as _;

/// A constant tensor of the graph.
#[derive(Clone, Debug)]
struct Const {
    dims: Vec<usize>,
    data: Data,
}

/// A constant's values.
#[derive(Clone, Debug)]
enum Data {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

/// A float constant's shape and values.
type Values<'c> = (&'c [usize], &'c [f32]);

/// The shape of the values flowing between layers, one sample (the batch dimension dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// A vector.
    Flat(usize),
    /// Channels of 1-D planes.
    Planes1(usize, usize),
    /// Channels of 2-D planes.
    Planes2(usize, usize, usize),
    /// A sequence of steps of features (time-major).
    Seq(usize, usize),
}

impl Shape {
    fn count(self) -> usize {
        match self {
            Shape::Flat(n) => n,
            Shape::Planes1(c, l) => c * l,
            Shape::Planes2(c, h, w) => c * h * w,
            Shape::Seq(t, f) => t * f,
        }
    }

    fn channels(self) -> usize {
        match self {
            Shape::Flat(n) | Shape::Seq(_, n) => n,
            Shape::Planes1(c, _) | Shape::Planes2(c, _, _) => c,
        }
    }

    fn describe(self) -> String {
        match self {
            Shape::Flat(n) => format!("a vector of {n}"),
            Shape::Planes1(c, l) => format!("{c} channels of length {l}"),
            Shape::Planes2(c, h, w) => format!("{c} channels of {h}x{w}"),
            Shape::Seq(t, f) => format!("a sequence of {t} steps of {f}"),
        }
    }

    /// The input shape as `network!` writes it.
    fn declaration(self) -> String {
        match self {
            Shape::Flat(n) => n.to_string(),
            Shape::Planes1(c, l) => format!("[{c}, {l}]"),
            Shape::Planes2(c, h, w) => format!("[{c}, {h}, {w}]"),
            Shape::Seq(t, f) => format!("Seq({t}, {f})"),
        }
    }
}

/// A layer of the declaration.
struct Layer {
    /// `name: ` or nothing.
    name: Option<String>,
    /// The layer as written (`Dense(10)`).
    text: String,
    /// Its tensors: the suffix after the name (`weight`), the shape and the row-major values.
    tensors: Vec<(&'static str, Vec<usize>, Vec<f32>)>,
    /// A dense layer from `MatMul` that an `Add` may still give a bias.
    awaiting_bias: bool,
    /// For `Residual`, `Sum` and `Concat`: the head and the branches (`text` is then unused).
    block: Option<(&'static str, Vec<Vec<Layer>>)>,
}

impl Layer {
    /// The macro's counter for the layer's default name (`fc` for `fc3`), for layers it counts.
    fn counter(&self) -> Option<&'static str> {
        if let Some((head, _)) = &self.block {
            return Some(if *head == "Residual" { "residual" } else { "merge" });
        }
        [("Dense", "fc"), ("Conv", "conv"), ("BatchNorm", "bn"), ("Lstm", "lstm"), ("Gru", "gru"), ("Rnn", "rnn")]
            .into_iter()
            .find(|(p, _)| self.text.starts_with(p))
            .map(|(_, c)| c)
    }

    /// The layer as the declaration writes it, without its name.
    fn written(&self) -> String {
        match &self.block {
            None => self.text.clone(),
            Some(("Residual", branches)) => {
                let inner: Vec<String> = branches[0].iter().map(Layer::written).collect();
                format!("Residual({})", inner.join(", "))
            }
            Some((head, branches)) => {
                let each: Vec<String> = branches
                    .iter()
                    .map(|b| format!("[{}]", b.iter().map(Layer::written).collect::<Vec<_>>().join(", ")))
                    .collect();
                format!("{head}({})", each.join(", "))
            }
        }
    }
}

/// Gives the layers inside blocks the names `network!` gives them (`fc3`, `bn2`: they cannot be named there), by
/// counting as the macro does, in declaration order; a top-level name that one of those takes gets a suffix.
fn name_inner_layers(layers: &mut [Layer]) {
    fn count(layers: &mut [Layer], counters: &mut Vec<(&'static str, usize)>, inside: bool, taken: &mut Vec<String>) {
        for l in layers {
            if let Some(c) = l.counter() {
                let n = match counters.iter_mut().find(|(k, _)| *k == c) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        counters.push((c, 1));
                        1
                    }
                };
                if inside && l.block.is_none() {
                    l.name = Some(format!("{c}{n}"));
                    taken.push(format!("{c}{n}"));
                }
            }
            if let Some((_, branches)) = &mut l.block {
                for b in branches {
                    count(b, counters, true, taken);
                }
            }
        }
    }
    let mut taken = Vec::new();
    count(layers, &mut Vec::new(), false, &mut taken);
    for l in layers.iter_mut() {
        if let Some(name) = &mut l.name
            && taken.contains(name)
        {
            name.push_str("_layer");
        }
    }
}

/// The translation's state.
struct Translator<'a> {
    consts: HashMap<String, Const>,
    layers: Vec<Layer>,
    used_names: Vec<String>,
    /// The value the chain has reached and its shape.
    current: String,
    shape: Shape,
    /// After a recurrent layer: its last hidden state (`Y_h`, a vector), which the chain may take instead of
    /// every step (`Y`); and the axis of ONNX's direction dimension the `Squeeze` that follows removes.
    last_step: Option<String>,
    squeeze: Option<i64>,
    /// Whether a sequence is in PyTorch's batch-first layout at this point (after a `Transpose`), for `Shape`.
    batch_first: bool,
    node: &'a NodeProto,
    index: usize,
    /// The graph's nodes, which values each feeds, and which are translated.
    nodes: &'a [NodeProto],
    consumers: HashMap<String, Vec<usize>>,
    done: Vec<bool>,
}

/// Every operator [`translate`] reads.
pub const OPERATORS: &[&str] = &[
    "LSTM",
    "GRU",
    "RNN",
    "Squeeze",
    "Transpose",
    "Gather",
    "Gemm",
    "MatMul",
    "Add",
    "Conv",
    "ConvTranspose",
    "BatchNormalization",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "Flatten",
    "Reshape",
    "Relu",
    "Sigmoid",
    "Tanh",
    "Softplus",
    "LeakyRelu",
    "Elu",
    "Gelu",
    "HardSigmoid",
    "Clip",
    "Softmax",
    "Identity",
    "Dropout",
    "Constant",
];

/// Translates a decoded model.
pub fn translate(model: &ModelProto, options: &Options) -> Result<Imported, ImportError> {
    let model_err = |m: String| ImportError::Model(m);
    let graph = model.graph.as_ref().ok_or_else(|| model_err("the model has no graph".to_string()))?;
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .ok_or_else(|| model_err("the model imports no opset of the default domain".to_string()))?;
    if opset < 13 {
        return Err(model_err(format!("the model uses opset {opset}; the importer reads opset 13 and later")));
    }

    let mut consts = HashMap::new();
    for t in &graph.initializer {
        consts.insert(t.name.clone(), constant(t).map_err(|m| model_err(format!("initializer `{}`: {m}", t.name)))?);
    }
    let inputs: Vec<&onnx::ValueInfoProto> = graph.input.iter().filter(|i| !consts.contains_key(&i.name)).collect();
    let [input] = inputs.as_slice() else {
        return Err(model_err(format!("the graph has {} inputs; `network!` takes one", inputs.len())));
    };
    let [output] = graph.output.as_slice() else {
        return Err(model_err(format!("the graph has {} outputs; `network!` gives one", graph.output.len())));
    };
    // The node that says how to read the input: the first reader other than shape arithmetic.
    let first = graph.node.iter().find(|n| n.input.first() == Some(&input.name) && n.op_type != "Shape");
    let shape = input_shape(input, first)?;

    let dummy = NodeProto::default();
    let mut consumers: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, n) in graph.node.iter().enumerate() {
        for input in n.input.iter().filter(|v| !v.is_empty()) {
            let list = consumers.entry(input.clone()).or_default();
            if !list.contains(&i) {
                list.push(i);
            }
        }
    }
    let mut t = Translator {
        consts,
        layers: Vec::new(),
        used_names: Vec::new(),
        current: input.name.clone(),
        shape,
        last_step: None,
        squeeze: None,
        batch_first: false,
        node: &dummy,
        index: 0,
        nodes: &graph.node,
        consumers,
        done: vec![false; graph.node.len()],
    };
    // Constants first (they have no inputs), then the chain from the input, branching where values fork.
    for (index, node) in graph.node.iter().enumerate() {
        if node.op_type == "Constant" {
            t.visit(index)?;
        }
    }
    t.follow()?;
    if let Some(index) = t.done.iter().position(|d| !d) {
        t.node = &graph.node[index];
        t.index = index;
        return Err(t.err(
            "it is not on the chain from the input (a graph `network!` declares is a chain with branches that merge)",
        ));
    }
    if t.last_step.as_ref() == Some(&output.name) {
        t.take_last_step()?;
    }
    if t.current != output.name {
        return Err(model_err(format!(
            "the graph's output `{}` is not the end of the chain of nodes (`{}`); `network!` declares chains",
            output.name, t.current
        )));
    }
    if t.layers.is_empty() {
        return Err(model_err("the graph has no layers `network!` can declare".to_string()));
    }
    name_inner_layers(&mut t.layers);
    Ok(Imported { source: source(model, options, shape, &t.layers, opset), weights: weights(&t.layers)? })
}

/// The input's shape without its batch dimension.
/// A sequence is `[steps, batch, features]` read by a recurrent node (ONNX's layout), or `[batch, steps, features]`
/// transposed first (PyTorch's `batch_first`).
fn input_shape(input: &onnx::ValueInfoProto, first: Option<&NodeProto>) -> Result<Shape, ImportError> {
    let err = |m: String| ImportError::Model(format!("input `{}`: {m}", input.name));
    let tensor =
        input.r#type.as_ref().and_then(|t| t.tensor_type.as_ref()).ok_or_else(|| err("not a tensor".into()))?;
    if tensor.elem_type != data_type::FLOAT {
        return Err(err(format!("element type {} (the importer reads float models)", tensor.elem_type)));
    }
    let dims = tensor.shape.as_ref().map(|s| s.dim.as_slice()).unwrap_or_default();
    let fixed = |i: usize| match dims.get(i).and_then(|d| d.dim_value) {
        Some(v) if v > 0 => usize::try_from(v).map_err(|_| err(format!("dimension {i} is {v}"))),
        _ => Err(err(format!("dimension {i} has no fixed size; `network!` sizes are known at compile time"))),
    };
    let first_op = first.map_or("", |n| n.op_type.as_str());
    if dims.len() == 3 && matches!(first_op, "LSTM" | "GRU" | "RNN") {
        return Ok(Shape::Seq(fixed(0)?, fixed(2)?));
    }
    if dims.len() == 3 && first_op == "Transpose" {
        return Ok(Shape::Seq(fixed(1)?, fixed(2)?));
    }
    let mut sizes = Vec::new();
    for (i, d) in dims.iter().enumerate().skip(1) {
        match d.dim_value {
            Some(v) if v > 0 => sizes.push(usize::try_from(v).map_err(|_| err(format!("dimension {i} is {v}")))?),
            _ => {
                return Err(err(format!(
                    "dimension {i} has no fixed size; `network!` sizes are known at compile time"
                )));
            }
        }
    }
    if sizes.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).is_none() {
        return Err(err(format!(
            "its {} values overflow",
            sizes.iter().map(ToString::to_string).collect::<Vec<_>>().join(" x ")
        )));
    }
    match (dims.len(), sizes.as_slice()) {
        (_, [n]) => Ok(Shape::Flat(*n)),
        (_, [c, l]) => Ok(Shape::Planes1(*c, *l)),
        (_, [c, h, w]) => Ok(Shape::Planes2(*c, *h, *w)),
        (n, _) => Err(err(format!(
            "{n} dimensions; expected [batch, features], [batch, channels, length] or [batch, channels, height, width]"
        ))),
    }
}

/// Reads an initializer or constant.
fn constant(t: &TensorProto) -> Result<Const, String> {
    if t.data_location == 1 {
        return Err("its data is in an external file; export with the weights inside the model".to_string());
    }
    let dims: Vec<usize> =
        t.dims.iter().map(|&d| usize::try_from(d).map_err(|_| format!("dimension {d}"))).collect::<Result<_, _>>()?;
    let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or("its size overflows")?;
    let from_raw = |width: usize| -> Result<Option<Vec<[u8; 8]>>, String> {
        if t.raw_data.is_empty() {
            return Ok(None);
        }
        if t.raw_data.len() != count.saturating_mul(width) {
            return Err(format!("{} bytes of data for {count} values", t.raw_data.len()));
        }
        Ok(Some(
            t.raw_data
                .chunks_exact(width)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b[..width].copy_from_slice(c);
                    b
                })
                .collect(),
        ))
    };
    let data = match t.data_type {
        data_type::FLOAT => Data::F32(match from_raw(4)? {
            Some(raw) => raw.iter().map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            None => t.float_data.clone(),
        }),
        data_type::INT64 => Data::I64(match from_raw(8)? {
            Some(raw) => raw.iter().map(|b| i64::from_le_bytes(*b)).collect(),
            None => t.int64_data.clone(),
        }),
        data_type::INT32 => Data::I64(match from_raw(4)? {
            Some(raw) => raw.iter().map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))).collect(),
            None => t.int32_data.iter().map(|&v| i64::from(v)).collect(),
        }),
        other => return Err(format!("element type {other} (the importer reads float weights and integer shapes)")),
    };
    let len = match &data {
        Data::F32(v) => v.len(),
        Data::I64(v) => v.len(),
    };
    if len != count {
        return Err(format!("{len} values for shape {dims:?}"));
    }
    Ok(Const { dims, data })
}

impl Translator<'_> {
    /// An error about the current node.
    fn err(&self, what: impl Into<String>) -> ImportError {
        let node = if self.node.name.is_empty() { format!("#{}", self.index) } else { self.node.name.clone() };
        ImportError::Node { node, op: self.node.op_type.clone(), what: what.into() }
    }

    /// The node's attribute `name`, checked against the attributes it may have.
    fn attr(&self, name: &str) -> Option<&AttributeProto> {
        self.node.attribute.iter().find(|a| a.name == name)
    }

    /// Refuses attributes other than `allowed`.
    fn only_attributes(&self, allowed: &[&str]) -> Result<(), ImportError> {
        match self.node.attribute.iter().find(|a| !allowed.contains(&a.name.as_str())) {
            Some(a) => Err(self.err(format!("attribute `{}` is not supported", a.name))),
            None => Ok(()),
        }
    }

    fn int(&self, name: &str, default: i64) -> Result<i64, ImportError> {
        match self.attr(name) {
            None => Ok(default),
            Some(a) if a.r#type == attribute_type::INT => Ok(a.i),
            Some(_) => Err(self.err(format!("attribute `{name}` is not an integer"))),
        }
    }

    fn float(&self, name: &str, default: f32) -> Result<f32, ImportError> {
        match self.attr(name) {
            None => Ok(default),
            Some(a) if a.r#type == attribute_type::FLOAT => Ok(a.f),
            Some(_) => Err(self.err(format!("attribute `{name}` is not a float"))),
        }
    }

    fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, ImportError> {
        match self.attr(name) {
            None => Ok(None),
            Some(a) if a.r#type == attribute_type::INTS => Ok(Some(a.ints.clone())),
            Some(_) => Err(self.err(format!("attribute `{name}` is not a list of integers"))),
        }
    }

    fn string(&self, name: &str) -> Result<Option<String>, ImportError> {
        match self.attr(name) {
            None => Ok(None),
            Some(a) if a.r#type == attribute_type::STRING => Ok(Some(String::from_utf8_lossy(&a.s).into_owned())),
            Some(_) => Err(self.err(format!("attribute `{name}` is not a string"))),
        }
    }

    /// The node's input `i`, which must be a constant.
    fn constant(&self, i: usize, what: &str) -> Result<&Const, ImportError> {
        let name = self.node.input.get(i).filter(|n| !n.is_empty()).ok_or_else(|| self.err(format!("no {what}")))?;
        self.consts.get(name).ok_or_else(|| {
            self.err(format!("its {what} `{name}` is computed, not a constant; `network!` layers hold their weights"))
        })
    }

    /// The node's input `i` as `f32` values of one of the `shapes`, if present.
    fn weights(&self, i: usize, what: &str) -> Result<Option<Values<'_>>, ImportError> {
        if self.node.input.get(i).is_none_or(String::is_empty) {
            return Ok(None);
        }
        match self.constant(i, what)? {
            Const { dims, data: Data::F32(v) } => Ok(Some((dims, v))),
            _ => Err(self.err(format!("its {what} is not float"))),
        }
    }

    /// Checks that the node reads the chain's current value as its input `i`.
    fn reads_current(&mut self, i: usize) -> Result<(), ImportError> {
        if self.last_step.is_some() && self.node.input.get(i) == self.last_step.as_ref() {
            self.take_last_step()?;
        }
        if let Some(axis) = self.squeeze
            && self.node.op_type != "Squeeze"
        {
            return Err(self.err(format!(
                "a recurrent layer's output must lose its direction axis ({axis}) by a `Squeeze` first"
            )));
        }
        match self.node.input.get(i) {
            Some(n) if *n == self.current => Ok(()),
            Some(n) => Err(self.err(format!(
                "it reads `{n}`, not `{}` (the output of the node before): the graph is not a chain `network!` can \
                 declare",
                self.current
            ))),
            None => Err(self.err("it has no input")),
        }
    }

    /// The node's result becomes the chain's current value.
    fn advance(&mut self, shape: Shape) -> Result<(), ImportError> {
        let out = self.node.output.first().ok_or_else(|| self.err("it has no output"))?;
        self.current = out.clone();
        self.shape = shape;
        Ok(())
    }

    /// A name for a layer with weights: the prefix of its weight's name (`fc1.weight` -> `fc1`), else the node's
    /// name, made a Rust identifier and unique.
    fn name_for(&mut self, weight: Option<&str>) -> Option<String> {
        // `fc1.weight` -> `fc1`, `dense/kernel` -> `dense`; names PyTorch makes up (`onnx::MatMul_12`) say nothing.
        let from_weight =
            weight.filter(|w| !w.starts_with("onnx::")).and_then(|w| w.rsplit_once(['.', '/'])).map(|(p, _)| p);
        // `/fc1/Gemm` -> `fc1`.
        let mut parts: Vec<&str> = self.node.name.split('/').filter(|p| !p.is_empty()).collect();
        if parts.len() > 1 && parts.last() == Some(&self.node.op_type.as_str()) {
            parts.pop();
        }
        let from_node = parts.join("_");
        let fallback = format!("layer{}", self.index);
        let from = [from_weight.unwrap_or_default(), from_node.as_str(), fallback.as_str()]
            .into_iter()
            .find(|f| f.chars().any(|c| c.is_ascii_alphanumeric()))
            .unwrap_or("layer");
        let mut name: String = from
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .collect::<String>()
            .split('_')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        if name.is_empty() {
            return None;
        }
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            name.insert_str(0, "layer_");
        }
        if ["input", "self", "super", "crate", "type", "fn", "mod", "use", "let", "loop", "match", "move", "ref"]
            .contains(&name.as_str())
        {
            name.push('_');
        }
        let base = name.clone();
        let mut k = 2;
        while self.used_names.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.used_names.push(name.clone());
        Some(name)
    }

    fn push(&mut self, name: Option<String>, text: String, tensors: Vec<(&'static str, Vec<usize>, Vec<f32>)>) {
        self.layers.push(Layer { name, text, tensors, awaiting_bias: false, block: None });
    }

    /// The current value's shape as ONNX sees it, with a batch of one: `[1, n]`, `[1, c, h, w]`, `[t, 1, f]`.
    fn onnx_shape(&self) -> Vec<i64> {
        let d = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        match self.shape {
            Shape::Flat(n) => vec![1, d(n)],
            Shape::Planes1(c, l) => vec![1, d(c), d(l)],
            Shape::Planes2(c, h, w) => vec![1, d(c), d(h), d(w)],
            Shape::Seq(t, f) if self.batch_first => vec![1, d(t), d(f)],
            Shape::Seq(t, f) => vec![d(t), 1, d(f)],
        }
    }

    /// Evaluates what can be computed before run time: `Shape` of the current value (a batch of one), and the
    /// shape arithmetic exporters build on it (`Gather`, `Unsqueeze`, `Squeeze`, `Concat`, `Slice`, `Cast`,
    /// `ConstantOfShape`, integer `Add`, `Sub`, `Mul`, `Div`, `Identity`) when every input is a constant, as PyTorch
    /// writes `x.view(x.size(0), -1)` or a zero initial state for a dynamic batch.
    fn fold(&mut self) -> Result<(), ImportError> {
        loop {
            let mut progress = false;
            for index in 0..self.nodes.len() {
                if self.done[index] {
                    continue;
                }
                let node = &self.nodes[index];
                let inputs: Vec<&String> = node.input.iter().filter(|v| !v.is_empty()).collect();
                let value = if node.op_type == "Shape" && inputs.len() == 1 && *inputs[0] == self.current {
                    self.node = node;
                    self.index = index;
                    self.only_attributes(&["start", "end"])?;
                    let full = self.onnx_shape();
                    let rank = full.len() as i64;
                    let clampi = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
                    let (a, b) = (clampi(self.int("start", 0)?), clampi(self.int("end", rank)?));
                    let dims = full.get(a..b.max(a)).unwrap_or_default().to_vec();
                    Some(Const { dims: vec![dims.len()], data: Data::I64(dims) })
                } else if matches!(
                    node.op_type.as_str(),
                    "Gather"
                        | "Unsqueeze"
                        | "Squeeze"
                        | "Concat"
                        | "Slice"
                        | "Cast"
                        | "ConstantOfShape"
                        | "Add"
                        | "Sub"
                        | "Mul"
                        | "Div"
                        | "Identity"
                ) && !inputs.is_empty()
                    && inputs.iter().all(|v| self.consts.contains_key(*v))
                {
                    self.node = node;
                    self.index = index;
                    Some(self.evaluate()?)
                } else {
                    None
                };
                if let Some(c) = value {
                    let out = node.output.first().cloned().unwrap_or_default();
                    self.consts.insert(out, c);
                    self.done[index] = true;
                    progress = true;
                }
            }
            if !progress {
                return Ok(());
            }
        }
    }

    /// One constant node of [`Translator::fold`]'s set, on constant inputs.
    fn evaluate(&self) -> Result<Const, ImportError> {
        let c = |i: usize| -> Result<&Const, ImportError> { self.constant(i, "input") };
        let ints = |i: usize| -> Result<Vec<i64>, ImportError> {
            match c(i)? {
                Const { data: Data::I64(v), .. } => Ok(v.clone()),
                Const { data: Data::F32(v), .. } => Ok(v.iter().map(|&x| x as i64).collect()),
            }
        };
        let op = self.node.op_type.as_str();
        let vector = |v: Vec<i64>| Const { dims: vec![v.len()], data: Data::I64(v) };
        match op {
            "Identity" => Ok(c(0)?.clone()),
            "Cast" => {
                let input = c(0)?;
                let values: Vec<f64> = match &input.data {
                    Data::I64(v) => v.iter().map(|&x| x as f64).collect(),
                    Data::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
                };
                let data = match i32::try_from(self.int("to", 0)?).unwrap_or(0) {
                    data_type::FLOAT | data_type::DOUBLE => Data::F32(values.iter().map(|&x| x as f32).collect()),
                    data_type::INT64 | data_type::INT32 => Data::I64(values.iter().map(|&x| x as i64).collect()),
                    t => return Err(self.err(format!("a cast to element type {t} is not supported"))),
                };
                Ok(Const { dims: input.dims.clone(), data })
            }
            "ConstantOfShape" => {
                let dims: Vec<usize> = ints(0)?.iter().map(|&d| usize::try_from(d).unwrap_or(0)).collect();
                let n = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).filter(|&n| n <= 1 << 24);
                let n = n.ok_or_else(|| self.err("its shape is too large"))?;
                let fill =
                    self.attr("value").and_then(|a| a.t.as_ref()).map(constant).transpose().map_err(|m| self.err(m))?;
                let data = match fill.map(|f| f.data) {
                    Some(Data::I64(v)) => Data::I64(vec![v.first().copied().unwrap_or(0); n]),
                    Some(Data::F32(v)) => Data::F32(vec![v.first().copied().unwrap_or(0.0); n]),
                    None => Data::F32(vec![0.0; n]),
                };
                Ok(Const { dims, data })
            }
            "Unsqueeze" | "Squeeze" => {
                let input = c(0)?;
                let axes = if self.node.input.len() > 1 { ints(1)? } else { Vec::new() };
                let mut dims = input.dims.clone();
                if op == "Unsqueeze" {
                    let rank = (dims.len() + axes.len()) as i64;
                    let mut axes: Vec<usize> =
                        axes.iter().map(|&a| (if a < 0 { a + rank } else { a }) as usize).collect();
                    axes.sort_unstable();
                    for a in axes {
                        dims.insert(a.min(dims.len()), 1);
                    }
                } else {
                    let rank = dims.len() as i64;
                    let axes: Vec<usize> = axes.iter().map(|&a| (if a < 0 { a + rank } else { a }) as usize).collect();
                    dims = dims
                        .iter()
                        .enumerate()
                        .filter(|(i, d)| !(**d == 1 && (axes.is_empty() || axes.contains(i))))
                        .map(|(_, d)| *d)
                        .collect();
                }
                Ok(Const { dims, data: input.data.clone() })
            }
            "Gather" => {
                let data = ints(0)?;
                if c(0)?.dims.len() > 1 || self.int("axis", 0)? != 0 {
                    return Err(self.err("only gathers from a vector of constants are evaluated"));
                }
                let n = data.len() as i64;
                let idx = c(1)?;
                let mut out = Vec::new();
                for i in ints(1)? {
                    let k = if i < 0 { i + n } else { i };
                    out.push(
                        *usize::try_from(k)
                            .ok()
                            .and_then(|k| data.get(k))
                            .ok_or_else(|| self.err(format!("index {i} is out of range")))?,
                    );
                }
                Ok(Const { dims: idx.dims.clone(), data: Data::I64(out) })
            }
            "Concat" => {
                let mut out = Vec::new();
                for i in 0..self.node.input.len() {
                    out.extend(ints(i)?);
                }
                Ok(vector(out))
            }
            "Slice" => {
                let data = ints(0)?;
                let n = data.len() as i64;
                let (start, end) = (ints(1)?.first().copied().unwrap_or(0), ints(2)?.first().copied().unwrap_or(n));
                let step = if self.node.input.len() > 4 { ints(4)?.first().copied().unwrap_or(1) } else { 1 };
                if step != 1 {
                    return Err(self.err("only slices with step 1 are evaluated"));
                }
                let at = |v: i64| (if v < 0 { v + n } else { v }).clamp(0, n) as usize;
                Ok(vector(data.get(at(start)..at(end).max(at(start))).unwrap_or_default().to_vec()))
            }
            _ => {
                let (a, b) = (ints(0)?, ints(1)?);
                let (long, len) = if a.len() >= b.len() { (&a, a.len()) } else { (&b, b.len()) };
                let at = |v: &Vec<i64>, i: usize| if v.len() == 1 { v[0] } else { v.get(i).copied().unwrap_or(0) };
                let mut out = Vec::with_capacity(len);
                for i in 0..len {
                    let (x, y) = (at(&a, i), at(&b, i));
                    out.push(match op {
                        "Add" => x.wrapping_add(y),
                        "Sub" => x.wrapping_sub(y),
                        "Mul" => x.wrapping_mul(y),
                        _ if y == 0 => return Err(self.err("a division by zero")),
                        _ => x.wrapping_div(y),
                    });
                }
                let dims = if long.len() == a.len() { c(0)?.dims.clone() } else { c(1)?.dims.clone() };
                Ok(Const { dims, data: Data::I64(out) })
            }
        }
    }

    /// Translates node `index`.
    fn visit(&mut self, index: usize) -> Result<(), ImportError> {
        self.node = &self.nodes[index];
        self.index = index;
        self.done[index] = true;
        let node = self.node;
        self.node_(node)
    }

    /// The untranslated nodes reading `value`, in graph order.
    fn readers(&self, value: &str) -> Vec<usize> {
        self.consumers.get(value).map_or_else(Vec::new, |c| c.iter().copied().filter(|&i| !self.done[i]).collect())
    }

    /// Whether node `index` merges branches: an `Add`, `Concat` or `Mul` of two or more computed values.
    fn merges(&self, index: usize) -> bool {
        let n = &self.nodes[index];
        matches!(n.op_type.as_str(), "Add" | "Concat" | "Mul" | "Sum")
            && n.input.iter().filter(|v| !v.is_empty() && !self.consts.contains_key(*v)).count() >= 2
    }

    /// Follows the chain from the current value until nothing reads it or a merge (which the fork that opened
    /// the branches translates) is next.
    fn follow(&mut self) -> Result<(), ImportError> {
        loop {
            self.fold()?;
            let mut next = self.readers(&self.current);
            if next.is_empty()
                && let Some(last) = self.last_step.clone()
                && !self.readers(&last).is_empty()
            {
                self.take_last_step()?;
                next = self.readers(&self.current);
            }
            match next.as_slice() {
                [] => return Ok(()),
                [n] if self.merges(*n) => return Ok(()),
                [n] => self.visit(*n)?,
                _ => self.fork(next)?,
            }
        }
    }

    /// The current value feeds several nodes: each starts a branch, and the branches must meet at one merge (an
    /// identity branch reads the value there directly). `Add` is `Residual` (with an identity branch) or `Sum`,
    /// `Concat` along the channels is `Concat`; the exact GELU written out (`x * (1 + erf(x / sqrt 2)) / 2`, as
    /// PyTorch exports it before opset 20) is `Gelu`.
    fn fork(&mut self, readers: Vec<usize>) -> Result<(), ImportError> {
        let start = (self.current.clone(), self.shape);
        if let Some(()) = self.gelu(&readers)? {
            return Ok(());
        }
        let outer = std::mem::take(&mut self.layers);
        let mut branches: Vec<(String, Vec<Layer>, Shape)> = Vec::new();
        let mut merge: Option<usize> = None;
        let mut meet = |t: &Self, m: usize| -> Result<(), ImportError> {
            match merge {
                None => {
                    merge = Some(m);
                    Ok(())
                }
                Some(k) if k == m => Ok(()),
                Some(k) => Err(ImportError::Node {
                    node: t.nodes[k].name.clone(),
                    op: t.nodes[k].op_type.clone(),
                    what: "branches from one value meet at different nodes; `network!` merges them at one".into(),
                }),
            }
        };
        for r in readers {
            (self.current, self.shape) = (start.0.clone(), start.1);
            if self.merges(r) {
                meet(self, r)?;
                continue;
            }
            self.visit(r)?;
            self.follow()?;
            let end = self.readers(&self.current);
            match end.as_slice() {
                [m] if self.merges(*m) => meet(self, *m)?,
                _ => {
                    return Err(self.err(format!(
                        "the branch through it does not end in a merge of the branches from `{}`",
                        start.0
                    )));
                }
            }
            branches.push((self.current.clone(), std::mem::take(&mut self.layers), self.shape));
        }
        self.layers = outer;
        let Some(m) = merge else { return Err(self.err("the branches never merge")) };
        self.node = &self.nodes[m];
        self.index = m;
        self.done[m] = true;
        let node = self.node;
        // Each input of the merge is a branch's end or the fork's value itself.
        let mut ordered: Vec<(Vec<Layer>, Shape)> = Vec::new();
        for input in &node.input {
            if *input == start.0 {
                ordered.push((Vec::new(), start.1));
            } else if let Some(i) = branches.iter().position(|(end, _, _)| end == input) {
                let (_, layers, shape) = branches.remove(i);
                ordered.push((layers, shape));
            } else {
                return Err(self.err(format!("it reads `{input}`, which is no branch from `{}`", start.0)));
            }
        }
        if !branches.is_empty() {
            return Err(self.err("a branch ends elsewhere than this merge"));
        }
        let shape = match node.op_type.as_str() {
            "Add" | "Sum" => {
                self.only_attributes(&[])?;
                let first = ordered[0].1;
                if ordered.iter().any(|(_, s)| *s != first) {
                    return Err(self.err("it adds branches of different shapes"));
                }
                first
            }
            "Concat" => {
                self.only_attributes(&["axis"])?;
                let axis = self.int("axis", 1)?;
                let channels: usize = ordered.iter().map(|(_, s)| s.channels()).sum();
                match (ordered[0].1, axis) {
                    (Shape::Flat(_), 1 | -1) if ordered.iter().all(|(_, s)| matches!(s, Shape::Flat(_))) => {
                        Shape::Flat(channels)
                    }
                    (Shape::Planes2(_, h, w), 1)
                        if ordered.iter().all(|(_, s)| matches!(s, Shape::Planes2(_, a, b) if (*a, *b) == (h, w))) =>
                    {
                        Shape::Planes2(channels, h, w)
                    }
                    (Shape::Planes1(_, l), 1)
                        if ordered.iter().all(|(_, s)| matches!(s, Shape::Planes1(_, a) if *a == l)) =>
                    {
                        Shape::Planes1(channels, l)
                    }
                    _ => {
                        return Err(
                            self.err(format!("concatenation along axis {axis} is not supported (only channels)"))
                        );
                    }
                }
            }
            other => return Err(self.err(format!("branches merged by `{other}` are not supported"))),
        };
        let identity = ordered.iter().position(|(b, _)| b.is_empty());
        let block = match (node.op_type.as_str(), identity, ordered.len()) {
            ("Add" | "Sum", Some(i), 2) => ("Residual", vec![ordered.remove(1 - i).0]),
            ("Add" | "Sum", None, _) => ("Sum", ordered.into_iter().map(|(b, _)| b).collect()),
            ("Concat", _, _) => ("Concat", ordered.into_iter().map(|(b, _)| b).collect()),
            _ => return Err(self.err("it adds the same value more than once")),
        };
        self.layers.push(Layer {
            name: None,
            text: String::new(),
            tensors: Vec::new(),
            awaiting_bias: false,
            block: Some(block),
        });
        self.current = start.0;
        self.advance(shape)
    }

    /// `x * (1 + erf(x / sqrt 2)) * 0.5` written out (`Div`, `Erf`, `Add`, `Mul`, `Mul`, in PyTorch's order) from
    /// the fork's readers: `Gelu`, if that is what they are.
    fn gelu(&mut self, readers: &[usize]) -> Result<Option<()>, ImportError> {
        let x = self.current.clone();
        let op = |i: usize| self.nodes[i].op_type.as_str();
        let [div, mul] = *readers else { return Ok(None) };
        let (div, mul) = if op(div) == "Div" { (div, mul) } else { (mul, div) };
        let only =
            |v: &str| -> Option<usize> { self.readers(v).first().copied().filter(|_| self.readers(v).len() == 1) };
        let scalar = |v: &str| match self.consts.get(v) {
            Some(Const { data: Data::F32(d), .. }) if d.len() == 1 => Some(d[0]),
            _ => None,
        };
        let out = |i: usize| self.nodes[i].output.first().cloned().unwrap_or_default();
        let input = |i: usize, k: usize| self.nodes[i].input.get(k).cloned().unwrap_or_default();
        if op(div) != "Div" || op(mul) != "Mul" || input(div, 0) != x {
            return Ok(None);
        }
        let root2 = scalar(&input(div, 1)).is_some_and(|v| (v - core::f32::consts::SQRT_2).abs() < 1e-6);
        let Some(erf) = only(&out(div)).filter(|&e| op(e) == "Erf") else { return Ok(None) };
        let Some(add) = only(&out(erf)).filter(|&a| op(a) == "Add") else { return Ok(None) };
        let one = [input(add, 0), input(add, 1)].iter().any(|v| scalar(v) == Some(1.0));
        let Some(product) = only(&out(add)).filter(|&p| p == mul) else { return Ok(None) };
        let Some(half) = only(&out(product)).filter(|&h| op(h) == "Mul") else { return Ok(None) };
        let halved = [input(half, 0), input(half, 1)].iter().any(|v| scalar(v) == Some(0.5));
        if !(root2 && one && halved) {
            return Ok(None);
        }
        for i in [div, erf, add, mul, half] {
            self.done[i] = true;
        }
        self.node = &self.nodes[half];
        self.index = half;
        self.push(None, "Gelu".to_string(), Vec::new());
        self.advance(self.shape)?;
        Ok(Some(()))
    }

    /// Translates one node.
    fn node_(&mut self, node: &NodeProto) -> Result<(), ImportError> {
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(self.err(format!("operator domain `{}` is not supported (only ONNX's own)", node.domain)));
        }
        match node.op_type.as_str() {
            "Constant" => self.constant_node(),
            "Identity" | "Dropout" => self.pass_through(),
            "Gemm" => self.gemm(),
            "MatMul" => self.matmul(),
            "Add" => self.add(),
            "Conv" => self.conv(),
            "ConvTranspose" => self.conv_transpose(),
            "BatchNormalization" => self.batch_norm(),
            "MaxPool" | "AveragePool" => self.pool(),
            "GlobalAveragePool" => self.global_pool(),
            "Flatten" => self.flatten(),
            "LSTM" | "GRU" | "RNN" => self.recurrent(),
            "Squeeze" => self.squeeze_node(),
            "Transpose" => self.transpose_node(),
            "Gather" => self.gather(),
            "Reshape" => self.reshape(),
            "Relu" | "Sigmoid" | "Tanh" | "Softplus" | "LeakyRelu" | "Elu" | "Gelu" | "HardSigmoid" | "Clip"
            | "Softmax" => self.activation(),
            other => Err(self.err(format!(
                "operator `{other}` is not supported; the importer reads {}",
                OPERATORS.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    fn constant_node(&mut self) -> Result<(), ImportError> {
        self.only_attributes(&["value"])?;
        let value = self.attr("value").and_then(|a| a.t.as_ref()).ok_or_else(|| self.err("no tensor `value`"))?;
        let c = constant(value).map_err(|m| self.err(m))?;
        let out = self.node.output.first().ok_or_else(|| self.err("it has no output"))?;
        self.consts.insert(out.clone(), c);
        Ok(())
    }

    fn pass_through(&mut self) -> Result<(), ImportError> {
        self.reads_current(0)?;
        if self.node.op_type == "Dropout" {
            self.only_attributes(&["seed"])?;
            // Opset 12+: an optional `training_mode` input, which must be false for inference.
            if self.node.input.get(2).is_some_and(|n| !n.is_empty()) {
                match self.constant(2, "training mode")? {
                    Const { data: Data::I64(v), .. } if v.iter().all(|&b| b == 0) => {}
                    _ => return Err(self.err("it runs in training mode; export the model in eval mode")),
                }
            }
        } else {
            self.only_attributes(&[])?;
        }
        self.advance(self.shape)
    }

    fn gemm(&mut self) -> Result<(), ImportError> {
        self.only_attributes(&["alpha", "beta", "transA", "transB"])?;
        self.reads_current(0)?;
        if self.int("transA", 0)? != 0 {
            return Err(self.err("`transA = 1` (the input transposed) is not a dense layer"));
        }
        let (alpha, beta) = (self.float("alpha", 1.0)?, self.float("beta", 1.0)?);
        if alpha != 1.0 || beta != 1.0 {
            return Err(self.err(format!("`alpha = {alpha}`, `beta = {beta}`: a dense layer has 1 and 1")));
        }
        let trans_b = self.int("transB", 0)? != 0;
        let (dims, w) = self.weights(1, "weight")?.ok_or_else(|| self.err("no weight"))?;
        let [r, c] = *dims else { return Err(self.err(format!("its weight has shape {dims:?}, not a matrix"))) };
        let (out, inputs) = if trans_b { (r, c) } else { (c, r) };
        let weight = if trans_b { w.to_vec() } else { transpose(w, r, c) };
        let weight_name = self.node.input[1].clone();
        let bias = match self.weights(2, "bias")? {
            Some((d, b)) if b.len() == out && d.iter().product::<usize>() == out => Some(b.to_vec()),
            Some((d, _)) => return Err(self.err(format!("its bias has shape {d:?}; a dense layer's is [{out}]"))),
            None => None,
        };
        self.dense(&weight_name, inputs, out, weight, bias, false)
    }

    fn matmul(&mut self) -> Result<(), ImportError> {
        self.only_attributes(&[])?;
        self.reads_current(0)?;
        let (dims, w) = self.weights(1, "weight")?.ok_or_else(|| self.err("no weight"))?;
        let [inputs, out] = *dims else {
            return Err(self.err(format!("it multiplies by shape {dims:?}; a dense layer's weight is a matrix")));
        };
        let weight = transpose(w, inputs, out);
        let weight_name = self.node.input[1].clone();
        self.dense(&weight_name, inputs, out, weight, None, true)
    }

    fn dense(
        &mut self,
        weight_name: &str,
        inputs: usize,
        out: usize,
        weight: Vec<f32>,
        bias: Option<Vec<f32>>,
        awaiting_bias: bool,
    ) -> Result<(), ImportError> {
        // On a sequence (a `MatMul` only), it applies to every step, as `network!`'s `Dense` does.
        let out_shape = match self.shape {
            Shape::Flat(n) if n == inputs => Shape::Flat(out),
            Shape::Seq(t, f) if f == inputs && awaiting_bias => Shape::Seq(t, out),
            _ => {
                return Err(self.err(format!(
                    "it takes a vector of {inputs} values, and receives {}{}",
                    self.shape.describe(),
                    if matches!(self.shape, Shape::Planes1(..) | Shape::Planes2(..)) {
                        " (no Flatten before it)"
                    } else {
                        ""
                    }
                )));
            }
        };
        let name = self.name_for(Some(weight_name));
        let mut tensors = vec![("weight", vec![out, inputs], weight)];
        let text = match bias {
            Some(b) => {
                tensors.push(("bias", vec![out], b));
                format!("Dense({out})")
            }
            None => format!("Dense({out}, bias = false)"),
        };
        self.push(name, text, tensors);
        if let Some(last) = self.layers.last_mut() {
            last.awaiting_bias = awaiting_bias;
        }
        self.advance(out_shape)
    }

    /// `Add` of a constant vector right after a `MatMul`: the dense layer's bias.
    fn add(&mut self) -> Result<(), ImportError> {
        self.only_attributes(&[])?;
        let other = match (self.node.input.first(), self.node.input.get(1)) {
            (Some(a), Some(_)) if *a == self.current => 1,
            (Some(_), Some(b)) if *b == self.current => 0,
            _ => return self.reads_current(0),
        };
        let (Shape::Flat(out) | Shape::Seq(_, out)) = self.shape else {
            return Err(self.err("it adds to planes; only a dense layer's bias can be added"));
        };
        let awaiting = self.layers.last().is_some_and(|l| l.awaiting_bias);
        let (dims, b) = self.weights(other, "addend")?.ok_or_else(|| self.err("no addend"))?;
        if !awaiting || b.len() != out || dims.iter().product::<usize>() != out {
            return Err(self.err(format!(
                "it adds a constant of shape {dims:?}; `network!` adds only a bias of {out} right after a `MatMul`"
            )));
        }
        let b = b.to_vec();
        if let Some(last) = self.layers.last_mut() {
            last.tensors.push(("bias", vec![out], b));
            last.text = format!("Dense({out})");
            last.awaiting_bias = false;
        }
        self.advance(self.shape)
    }

    fn conv(&mut self) -> Result<(), ImportError> {
        self.only_attributes(&["kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"])?;
        self.reads_current(0)?;
        self.no_auto_pad()?;
        let (dims, w) = self.weights(1, "weight")?.ok_or_else(|| self.err("no weight"))?;
        let (dims, w) = (dims.to_vec(), w.to_vec());
        let weight_name = self.node.input[1].clone();
        let groups =
            usize::try_from(self.int("group", 1)?).ok().filter(|&g| g > 0).ok_or_else(|| self.err("group < 1"))?;
        let (two_d, c_in) = match self.shape {
            Shape::Planes2(c, ..) => (true, c),
            Shape::Planes1(c, _) => (false, c),
            Shape::Flat(_) | Shape::Seq(..) => {
                return Err(self.err(format!("it convolves {}; `network!` convolves planes", self.shape.describe())));
            }
        };
        let rank = if two_d { 2 } else { 1 };
        if dims.len() != rank + 2 {
            return Err(self.err(format!("its weight has shape {dims:?} for {}", self.shape.describe())));
        }
        let out = dims[0];
        if dims[1].checked_mul(groups) != Some(c_in) {
            return Err(self.err(format!("its weight has shape {dims:?} for {c_in} input channels in {groups} groups")));
        }
        let kernel: Vec<usize> = dims[2..].to_vec();
        if let Some(k) = self.ints("kernel_shape")?
            && k.iter().map(|&v| usize::try_from(v).unwrap_or(0)).collect::<Vec<_>>() != kernel
        {
            return Err(self.err(format!("`kernel_shape` {k:?} differs from its weight's {kernel:?}")));
        }
        let strides = self.per_axis("strides", rank, 1)?;
        let dilations = self.per_axis("dilations", rank, 1)?;
        let pads = self.pads(rank)?;
        let bias = match self.weights(2, "bias")? {
            Some((_, b)) if b.len() == out => b.to_vec(),
            Some((d, _)) => return Err(self.err(format!("its bias has shape {d:?}; expected [{out}]"))),
            None => vec![0.0; out],
        };
        let (h, w_in) = match self.shape {
            Shape::Planes2(_, h, w) => (h, w),
            Shape::Planes1(_, l) => (1, l),
            Shape::Flat(_) | Shape::Seq(..) => (1, 1),
        };
        let axis = |n: usize, i: usize| nn_shapes::conv_out(n, kernel[i], strides[i], pads[i], dilations[i]);
        let shape =
            if two_d { Shape::Planes2(out, axis(h, 0), axis(w_in, 1)) } else { Shape::Planes1(out, axis(w_in, 0)) };
        if shape.count() == 0 {
            return Err(self.err(format!("its kernel {kernel:?} does not fit {}", self.shape.describe())));
        }
        let mut text = format!("Conv{}d({out}, kernel = {}", rank, pair(&kernel));
        for (key, values, default) in [("stride", &strides, 1), ("padding", &pads, 0), ("dilation", &dilations, 1)] {
            if values.iter().any(|&v| v != default) {
                let _ = write!(text, ", {key} = {}", pair(values));
            }
        }
        if groups > 1 {
            let _ = write!(text, ", groups = {groups}");
        }
        text.push(')');
        let name = self.name_for(Some(&weight_name));
        self.push(name, text, vec![("weight", dims, w), ("bias", vec![out], bias)]);
        self.advance(shape)
    }

    /// The chain takes the last recurrent layer's last hidden state (`Y_h`) instead of every step (`Y`): the layer
    /// becomes `output = last`.
    fn take_last_step(&mut self) -> Result<(), ImportError> {
        let Some(name) = self.last_step.take() else { return Ok(()) };
        let Some(layer) = self.layers.last_mut() else { return Err(self.err("no recurrent layer before")) };
        layer.text = layer.text.replacen(')', ", output = last)", 1);
        self.current = name;
        self.shape = Shape::Flat(self.shape.channels());
        // `Y_h` is `[directions, batch, hidden]`: the direction axis is the first.
        self.squeeze = Some(0);
        Ok(())
    }

    /// `LSTM`, `GRU` and `RNN` (one direction, ONNX's default activations, PyTorch's GRU with
    /// `linear_before_reset = 1`): `Lstm`, `Gru` and `Rnn` with PyTorch's gate order.
    fn recurrent(&mut self) -> Result<(), ImportError> {
        let op = self.node.op_type.clone();
        self.only_attributes(&[
            "hidden_size",
            "direction",
            "activations",
            "layout",
            "linear_before_reset",
            "clip",
            "input_forget",
        ])?;
        self.reads_current(0)?;
        let Shape::Seq(steps, features) = self.shape else {
            return Err(self.err(format!(
                "it runs over {}; `network!` runs recurrent layers over sequences",
                self.shape.describe()
            )));
        };
        if self.string("direction")?.is_some_and(|d| d != "forward") {
            return Err(self.err("only the forward direction is supported"));
        }
        if self.int("layout", 0)? != 0 || self.int("input_forget", 0)? != 0 || self.attr("clip").is_some() {
            return Err(self.err("`layout`, `input_forget` and `clip` are not supported"));
        }
        let activations: Vec<String> = self
            .attr("activations")
            .map(|a| a.strings.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect())
            .unwrap_or_default();
        let (gates, order, kind): (usize, &[usize], String) = match op.as_str() {
            // ONNX keeps the LSTM's gates as i, o, f, c and the GRU's as z, r, h; PyTorch as i, f, g, o and r, z, n.
            "LSTM" if activations.is_empty() || activations == ["Sigmoid", "Tanh", "Tanh"] => {
                (4, &[0, 2, 3, 1], "Lstm".into())
            }
            "GRU" if activations.is_empty() || activations == ["Sigmoid", "Tanh"] => {
                if self.int("linear_before_reset", 0)? != 1 {
                    return Err(self.err("`linear_before_reset = 0`: `network!`'s GRU is PyTorch's (1)"));
                }
                (3, &[1, 0, 2], "Gru".into())
            }
            "RNN" if activations.is_empty() || activations == ["Tanh"] => (1, &[0], "Rnn".into()),
            "RNN" if activations == ["Relu"] => (1, &[0], "Rnn, activation = Relu".into()),
            _ => return Err(self.err(format!("activations {activations:?} are not supported"))),
        };
        let hidden = usize::try_from(self.int("hidden_size", 0)?)
            .ok()
            .filter(|&h| h > 0)
            .ok_or_else(|| self.err("no `hidden_size`"))?;
        let rows = gates.checked_mul(hidden).ok_or_else(|| self.err("`hidden_size` overflows"))?;
        let (w_dims, w) = self.weights(1, "input weights")?.ok_or_else(|| self.err("no input weights"))?;
        if w_dims != [1, rows, features] {
            return Err(self.err(format!("its input weights have shape {w_dims:?}, not [1, {rows}, {features}]")));
        }
        let w = reorder(w, hidden, features, order);
        let (r_dims, r) = self.weights(2, "hidden weights")?.ok_or_else(|| self.err("no hidden weights"))?;
        if r_dims != [1, rows, hidden] {
            return Err(self.err(format!("its hidden weights have shape {r_dims:?}, not [1, {rows}, {hidden}]")));
        }
        let r = reorder(r, hidden, hidden, order);
        let (b_ih, b_hh) = match self.weights(3, "biases")? {
            Some((d, b)) if d == [1, 2 * rows] => {
                (reorder(&b[..rows], hidden, 1, order), reorder(&b[rows..], hidden, 1, order))
            }
            Some((d, _)) => return Err(self.err(format!("its biases have shape {d:?}, not [1, {}]", 2 * rows))),
            None => (vec![0.0; rows], vec![0.0; rows]),
        };
        if self.node.input.get(4).is_some_and(|n| !n.is_empty()) {
            return Err(self.err("`sequence_lens` is not supported: every sequence has the declared steps"));
        }
        for (i, what) in [(5, "initial hidden state"), (6, "initial cell state")] {
            if self.node.input.get(i).is_some_and(|n| !n.is_empty()) {
                let zero = matches!(self.weights(i, what)?, Some((_, v)) if v.iter().all(|&x| x == 0.0));
                if !zero {
                    return Err(self.err(format!("a non-zero {what} is not supported")));
                }
            }
        }
        if self.node.input.get(7).is_some_and(|n| !n.is_empty()) {
            return Err(self.err("peephole weights are not supported"));
        }
        let name = self.name_for(None);
        let text = match kind.split_once(", ") {
            Some((k, option)) => format!("{k}({hidden}, {option})"),
            None => format!("{kind}({hidden})"),
        };
        let tensors = vec![
            ("weight_ih_l0", vec![rows, features], w),
            ("weight_hh_l0", vec![rows, hidden], r),
            ("bias_ih_l0", vec![rows], b_ih),
            ("bias_hh_l0", vec![rows], b_hh),
        ];
        self.push(name, text, tensors);
        // `Y` (`[steps, directions, batch, hidden]`) continues the chain; `Y_h` may be taken instead.
        self.last_step = self.node.output.get(1).filter(|n| !n.is_empty()).cloned();
        self.advance(Shape::Seq(steps, hidden))?;
        self.squeeze = Some(1);
        Ok(())
    }

    /// The `Squeeze` of the direction axis after a recurrent layer.
    fn squeeze_node(&mut self) -> Result<(), ImportError> {
        self.only_attributes(&[])?;
        self.reads_current(0)?;
        let axes = match self.constant(1, "axes")? {
            Const { data: Data::I64(v), .. } => v.clone(),
            _ => return Err(self.err("its axes are not integers")),
        };
        match self.squeeze.take() {
            Some(axis) if axes == [axis] => self.advance(self.shape),
            _ => Err(self.err(format!("it removes axes {axes:?}; only a recurrent layer's direction axis can go"))),
        }
    }

    /// A `Transpose` between PyTorch's batch-first layout and ONNX's sequence-first one: nothing moves in a sample.
    fn transpose_node(&mut self) -> Result<(), ImportError> {
        self.only_attributes(&["perm"])?;
        self.reads_current(0)?;
        match (self.shape, self.ints("perm")?.as_deref()) {
            (Shape::Seq(..), Some([1, 0, 2])) => {
                self.batch_first = !self.batch_first;
                self.advance(self.shape)
            }
            (shape, perm) => Err(self.err(format!("transposing {} by {perm:?} is not supported", shape.describe()))),
        }
    }

    /// `Gather` of the last step right after a recurrent layer: its `output = last`.
    fn gather(&mut self) -> Result<(), ImportError> {
        self.only_attributes(&["axis"])?;
        self.reads_current(0)?;
        let Shape::Seq(steps, _) = self.shape else {
            return Err(self.err("it gathers from something other than a sequence"));
        };
        let index = match self.constant(1, "indices")? {
            Const { dims, data: Data::I64(v) } if dims.is_empty() && v.len() == 1 => v[0],
            _ => return Err(self.err("it gathers by other than one constant index")),
        };
        let last = index == -1 || usize::try_from(index).ok() == Some(steps - 1);
        let after_recurrent = self.layers.last().is_some_and(|l| l.tensors.iter().any(|t| t.0 == "weight_hh_l0"));
        let axis = self.int("axis", 0)?;
        if !(last && after_recurrent && (axis == 0 || axis == 1)) {
            return Err(
                self.err("it takes a step of a sequence; `network!` takes only the last step of a recurrent layer")
            );
        }
        if let Some(layer) = self.layers.last_mut() {
            layer.text = layer.text.replacen(')', ", output = last)", 1);
        }
        self.last_step = None;
        self.advance(Shape::Flat(self.shape.channels()))
    }

    /// `ConvTranspose` (1-D and 2-D, one group, symmetric `pads`, `output_padding`, no `output_shape`).
    fn conv_transpose(&mut self) -> Result<(), ImportError> {
        self.only_attributes(&["kernel_shape", "strides", "pads", "dilations", "group", "output_padding", "auto_pad"])?;
        self.reads_current(0)?;
        self.no_auto_pad()?;
        if self.int("group", 1)? != 1 {
            return Err(self.err("grouped transposed convolutions are not supported"));
        }
        let (dims, w) = self.weights(1, "weight")?.ok_or_else(|| self.err("no weight"))?;
        let (dims, w) = (dims.to_vec(), w.to_vec());
        let weight_name = self.node.input[1].clone();
        let (rank, c_in, h, w_in) = match self.shape {
            Shape::Planes2(c, h, w) => (2, c, h, w),
            Shape::Planes1(c, l) => (1, c, 1, l),
            Shape::Flat(_) | Shape::Seq(..) => {
                return Err(self.err(format!("it convolves {}; `network!` convolves planes", self.shape.describe())));
            }
        };
        // PyTorch's layout, as ONNX's: [in, out, kernel...].
        if dims.len() != rank + 2 || dims[0] != c_in {
            return Err(self.err(format!("its weight has shape {dims:?} for {}", self.shape.describe())));
        }
        let out = dims[1];
        let kernel: Vec<usize> = dims[2..].to_vec();
        let strides = self.per_axis("strides", rank, 1)?;
        let dilations = self.per_axis("dilations", rank, 1)?;
        let pads = self.pads(rank)?;
        let output_padding = match self.ints("output_padding")? {
            None => vec![0; rank],
            Some(v) if v.len() == rank && v.iter().all(|&p| p >= 0) => v.iter().map(|&p| p as usize).collect(),
            Some(v) => return Err(self.err(format!("`output_padding` {v:?} must hold {rank} values"))),
        };
        if output_padding.iter().zip(&strides).any(|(p, s)| p >= s) {
            return Err(self.err("`output_padding` must be below the stride"));
        }
        let bias = match self.weights(2, "bias")? {
            Some((_, b)) if b.len() == out => b.to_vec(),
            Some((d, _)) => return Err(self.err(format!("its bias has shape {d:?}; expected [{out}]"))),
            None => vec![0.0; out],
        };
        let axis = |n: usize, i: usize| {
            nn_shapes::conv_transpose_out(n, kernel[i], strides[i], pads[i], dilations[i], output_padding[i])
        };
        let shape =
            if rank == 2 { Shape::Planes2(out, axis(h, 0), axis(w_in, 1)) } else { Shape::Planes1(out, axis(w_in, 0)) };
        if shape.count() == 0 {
            return Err(self.err("its padding removes the whole output"));
        }
        let mut text = format!("ConvTranspose{rank}d({out}, kernel = {}", pair(&kernel));
        for (key, values, default) in [
            ("stride", &strides, 1),
            ("padding", &pads, 0),
            ("output_padding", &output_padding, 0),
            ("dilation", &dilations, 1),
        ] {
            if values.iter().any(|&v| v != default) {
                let _ = write!(text, ", {key} = {}", pair(values));
            }
        }
        text.push(')');
        let name = self.name_for(Some(&weight_name));
        self.push(name, text, vec![("weight", dims, w), ("bias", vec![out], bias)]);
        self.advance(shape)
    }

    /// `auto_pad` absent, `NOTSET`, or `VALID` without pads: the padding is the explicit `pads`.
    fn no_auto_pad(&self) -> Result<(), ImportError> {
        let unpadded = self.ints("pads")?.is_none_or(|p| p.iter().all(|&v| v == 0));
        match self.string("auto_pad")?.as_deref() {
            None | Some("NOTSET") => Ok(()),
            Some("VALID") if unpadded => Ok(()),
            Some(other) => Err(self.err(format!("`auto_pad = {other}` is not supported; export with explicit pads"))),
        }
    }

    /// An attribute with one value per spatial axis (`strides`, `dilations`), positive.
    fn per_axis(&self, name: &str, rank: usize, default: usize) -> Result<Vec<usize>, ImportError> {
        let Some(values) = self.ints(name)? else { return Ok(vec![default; rank]) };
        let values: Vec<usize> = values.iter().filter_map(|&v| usize::try_from(v).ok().filter(|&v| v > 0)).collect();
        if values.len() != rank {
            return Err(self.err(format!("`{name}` must hold {rank} positive values")));
        }
        Ok(values)
    }

    /// `pads` (`[begin..., end...]`), equal at both ends of each axis as `network!` pads.
    fn pads(&self, rank: usize) -> Result<Vec<usize>, ImportError> {
        let Some(pads) = self.ints("pads")? else { return Ok(vec![0; rank]) };
        let pads: Vec<usize> = pads.iter().filter_map(|&v| usize::try_from(v).ok()).collect();
        if pads.len() != 2 * rank {
            return Err(self.err(format!("`pads` must hold {} values", 2 * rank)));
        }
        let (begin, end) = pads.split_at(rank);
        if begin != end {
            return Err(self
                .err(format!("`pads` {pads:?} differ at the two ends of an axis; `network!` pads both ends equally")));
        }
        Ok(begin.to_vec())
    }

    fn batch_norm(&mut self) -> Result<(), ImportError> {
        self.only_attributes(&["epsilon", "momentum", "training_mode"])?;
        self.reads_current(0)?;
        if self.int("training_mode", 0)? != 0 {
            return Err(self.err("it runs in training mode; export the model in eval mode"));
        }
        let eps = self.float("epsilon", 1e-5)?;
        if (f64::from(eps) - 1e-5).abs() > 1e-9 {
            return Err(self.err(format!("`epsilon = {eps}`; `network!`'s batch norm uses 1e-5 (PyTorch's default)")));
        }
        let c = self.shape.channels();
        let mut tensors = Vec::new();
        for (i, suffix) in [(1, "weight"), (2, "bias"), (3, "running_mean"), (4, "running_var")] {
            let (d, v) = self.weights(i, suffix)?.ok_or_else(|| self.err(format!("no {suffix}")))?;
            if v.len() != c {
                return Err(self.err(format!("its {suffix} has shape {d:?} for {c} channels")));
            }
            tensors.push((suffix, vec![c], v.to_vec()));
        }
        let weight_name = self.node.input[1].clone();
        let name = self.name_for(Some(&weight_name));
        self.push(name, "BatchNorm".to_string(), tensors);
        self.advance(self.shape)
    }

    fn pool(&mut self) -> Result<(), ImportError> {
        let max = self.node.op_type == "MaxPool";
        let allowed: &[&str] = if max {
            &["kernel_shape", "strides", "pads", "dilations", "ceil_mode", "storage_order", "auto_pad"]
        } else {
            &["kernel_shape", "strides", "pads", "ceil_mode", "count_include_pad", "auto_pad", "dilations"]
        };
        self.only_attributes(allowed)?;
        self.reads_current(0)?;
        self.no_auto_pad()?;
        if self.node.output.len() > 1 && !self.node.output[1].is_empty() {
            return Err(self.err("its indices output is not supported"));
        }
        let (rank, h, w) = match self.shape {
            Shape::Planes2(_, h, w) => (2, h, w),
            Shape::Planes1(_, l) => (1, 1, l),
            Shape::Flat(_) | Shape::Seq(..) => {
                return Err(self.err(format!("it pools {}; `network!` pools planes", self.shape.describe())));
            }
        };
        let kernel = self.per_axis("kernel_shape", rank, 0)?;
        let strides = self.per_axis("strides", rank, 1)?;
        if self.per_axis("dilations", rank, 1)?.iter().any(|&d| d != 1) {
            return Err(self.err("dilated pooling is not supported"));
        }
        let pads = self.pads(rank)?;
        if !max && pads.iter().any(|&p| p != 0) && self.int("count_include_pad", 0)? != 1 {
            return Err(self.err(
                "padded average pooling without `count_include_pad = 1`: `network!` counts the padding as zeros, as \
                 PyTorch does",
            ));
        }
        if pads.iter().zip(&kernel).any(|(&p, &k)| 2 * p > k) {
            return Err(self.err(format!("`pads` {pads:?} exceed half the window {kernel:?}")));
        }
        if self.int("ceil_mode", 0)? != 0 {
            return Err(self.err("`ceil_mode = 1` is not supported"));
        }
        let axis = |n: usize, i: usize| nn_shapes::conv_out(n, kernel[i], strides[i], pads[i], 1);
        let c = self.shape.channels();
        let shape = if rank == 2 { Shape::Planes2(c, axis(h, 0), axis(w, 1)) } else { Shape::Planes1(c, axis(w, 0)) };
        if shape.count() == 0 {
            return Err(self.err(format!("its window {kernel:?} does not fit {}", self.shape.describe())));
        }
        let mut text = format!("{}Pool{rank}d({}", if max { "Max" } else { "Avg" }, pair(&kernel));
        if strides != kernel {
            let _ = write!(text, ", stride = {}", pair(&strides));
        }
        if pads.iter().any(|&p| p != 0) {
            let _ = write!(text, ", padding = {}", pair(&pads));
        }
        text.push(')');
        self.push(None, text, Vec::new());
        self.advance(shape)
    }

    fn global_pool(&mut self) -> Result<(), ImportError> {
        self.only_attributes(&[])?;
        self.reads_current(0)?;
        let (text, c) = match self.shape {
            Shape::Planes2(c, ..) => ("GlobalAvgPool2d", c),
            Shape::Planes1(c, _) => ("GlobalAvgPool1d", c),
            Shape::Flat(_) | Shape::Seq(..) => {
                return Err(self.err(format!("it pools {}; `network!` pools planes", self.shape.describe())));
            }
        };
        self.push(None, text.to_string(), Vec::new());
        // ONNX keeps `[N, C, 1, 1]`; the layer gives the vector of channels, which a `Flatten` after keeps.
        self.advance(Shape::Flat(c))
    }

    fn flatten(&mut self) -> Result<(), ImportError> {
        self.only_attributes(&["axis"])?;
        self.reads_current(0)?;
        if self.int("axis", 1)? != 1 {
            return Err(self.err("only `axis = 1` (keeping the batch) is supported"));
        }
        if matches!(self.shape, Shape::Seq(..)) {
            return Err(self.err("flattening a sequence is not supported (ONNX keeps its batch axis second)"));
        }
        self.flatten_values()
    }

    /// The values seen as a vector: `Flatten` on planes, nothing on a vector.
    fn flatten_values(&mut self) -> Result<(), ImportError> {
        let n = self.shape.count();
        if !matches!(self.shape, Shape::Flat(_)) {
            self.push(None, "Flatten".to_string(), Vec::new());
        }
        self.advance(Shape::Flat(n))
    }

    fn reshape(&mut self) -> Result<(), ImportError> {
        self.only_attributes(&["allowzero"])?;
        self.reads_current(0)?;
        let target = match self.constant(1, "shape")? {
            Const { data: Data::I64(v), .. } => v.clone(),
            _ => return Err(self.err("its shape is not an integer tensor")),
        };
        if matches!(self.shape, Shape::Seq(..)) {
            return Err(self.err("reshaping a sequence is not supported (ONNX keeps its batch axis second)"));
        }
        let n = self.shape.count();
        // The batch dimension first (0 copies it, -1 infers it, or the batch of 1 of the export), then the rest.
        let Some((_, rest)) = target.split_first() else { return Err(self.err("it reshapes to a scalar")) };
        let known = rest
            .iter()
            .filter(|&&d| d > 0)
            .try_fold(1usize, |a, &d| a.checked_mul(usize::try_from(d).ok()?))
            .ok_or_else(|| self.err(format!("shape {target:?} overflows")))?;
        let mut dims = Vec::new();
        for &d in rest {
            match d {
                -1 if known > 0 && n.is_multiple_of(known) => dims.push(n / known),
                d if d > 0 => dims.push(d as usize),
                _ => return Err(self.err(format!("shape {target:?} is not supported"))),
            }
        }
        if dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(n) {
            return Err(self.err(format!("shape {target:?} does not hold the {n} values of {}", self.shape.describe())));
        }
        match dims.as_slice() {
            [_] => self.flatten_values(),
            [c, l] => {
                self.push(None, format!("Reshape([{c}, {l}])"), Vec::new());
                self.advance(Shape::Planes1(*c, *l))
            }
            [c, h, w] => {
                self.push(None, format!("Reshape([{c}, {h}, {w}])"), Vec::new());
                self.advance(Shape::Planes2(*c, *h, *w))
            }
            _ => Err(self.err(format!("shape {target:?}: `network!` reshapes to a vector or 1-D or 2-D planes"))),
        }
    }

    fn activation(&mut self) -> Result<(), ImportError> {
        self.reads_current(0)?;
        let op = self.node.op_type.clone();
        let text = match op.as_str() {
            "Relu" | "Sigmoid" | "Tanh" | "Softplus" => {
                self.only_attributes(&[])?;
                op.clone()
            }
            "LeakyRelu" => {
                self.only_attributes(&["alpha"])?;
                format!("LeakyRelu({:?})", self.float("alpha", 0.01)?)
            }
            "Elu" => {
                self.only_attributes(&["alpha"])?;
                format!("Elu({:?})", self.float("alpha", 1.0)?)
            }
            "Gelu" => {
                self.only_attributes(&["approximate"])?;
                match self.string("approximate")?.as_deref() {
                    None | Some("none") => "Gelu".to_string(),
                    Some(a) => return Err(self.err(format!("`approximate = {a}`: `network!`'s GELU is the exact one"))),
                }
            }
            "HardSigmoid" => {
                self.only_attributes(&["alpha", "beta"])?;
                let (alpha, beta) = (self.float("alpha", 0.2)?, self.float("beta", 0.5)?);
                if beta != 0.5 || alpha <= 0.0 {
                    return Err(self.err(format!(
                        "`alpha = {alpha}`, `beta = {beta}`: `network!`'s `HardSigmoid(SLOPE)` is SLOPE x + 0.5"
                    )));
                }
                if alpha == 0.25 { "HardSigmoid".to_string() } else { format!("HardSigmoid({alpha:?})") }
            }
            "Clip" => self.clip()?,
            "Softmax" => {
                self.only_attributes(&["axis"])?;
                let axis = self.int("axis", -1)?;
                let last_axis = match self.shape {
                    Shape::Flat(_) => axis == -1 || axis == 1,
                    // Per step, over the features: the last axis of `[steps, batch, features]`.
                    Shape::Seq(..) => axis == -1 || axis == 2,
                    _ => false,
                };
                if !last_axis {
                    return Err(self.err(format!(
                        "softmax over axis {axis} of {}: `network!`'s `Softmax` normalises a vector",
                        self.shape.describe()
                    )));
                }
                "Softmax".to_string()
            }
            other => return Err(self.err(format!("operator `{other}` is not an activation"))),
        };
        self.push(None, text, Vec::new());
        self.advance(self.shape)
    }

    /// `Clip` with constant bounds: `[-1, 1]` is `HardTanh`, `[0, 6]` is `Relu6`, `[0, inf)` is `Relu`.
    fn clip(&self) -> Result<String, ImportError> {
        self.only_attributes(&["min", "max"])?;
        let bound = |i: usize, default: f32| -> Result<f32, ImportError> {
            match self.weights(i, if i == 1 { "min" } else { "max" })? {
                Some((_, [v])) => Ok(*v),
                Some(_) => Err(self.err("its bounds are not scalars")),
                None => Ok(default),
            }
        };
        let (lo, hi) = (bound(1, f32::NEG_INFINITY)?, bound(2, f32::INFINITY)?);
        match (lo, hi) {
            (-1.0, 1.0) => Ok("HardTanh".to_string()),
            (0.0, 6.0) => Ok("Relu6".to_string()),
            (0.0, f32::INFINITY) => Ok("Relu".to_string()),
            _ => Err(self.err(format!(
                "clips to [{lo}, {hi}]; `network!` has `HardTanh` ([-1, 1]), `Relu6` ([0, 6]) and `Relu`"
            ))),
        }
    }
}

/// `k` or `(h, w)` as `network!` writes sizes of one or two axes.
fn pair(values: &[usize]) -> String {
    match values {
        [a, b] if a != b => format!("({a}, {b})"),
        [a, ..] => a.to_string(),
        [] => String::new(),
    }
}

/// A matrix of gate blocks of `hidden` rows (`cols` values each) with the blocks in `order`: block `k` of the
/// result is block `order[k]` of `v`.
fn reorder(v: &[f32], hidden: usize, cols: usize, order: &[usize]) -> Vec<f32> {
    let block = hidden * cols;
    order.iter().flat_map(|&k| v[k * block..(k + 1) * block].iter().copied()).collect()
}

/// A row-major `rows x cols` matrix transposed.
fn transpose(v: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    (0..cols).flat_map(|c| (0..rows).map(move |r| v[r * cols + c])).collect()
}

/// The generated module.
fn source(model: &ModelProto, options: &Options, input: Shape, layers: &[Layer], opset: i64) -> String {
    let producer = match (model.producer_name.as_str(), model.producer_version.as_str()) {
        ("", _) => String::new(),
        (p, "") => format!(", made by {p}"),
        (p, v) => format!(", made by {p} {v}"),
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// `{}`: a network imported from `{}` (ONNX opset {opset}{producer}).",
        options.name, options.source
    );
    let _ = writeln!(s, "// The declaration is ordinary `network!` source: edit it as any other.");
    let _ = writeln!(s, "use nn_core::prelude::*;\n");
    let _ = writeln!(s, "network! {{");
    let _ = writeln!(s, "    /// Imported from `{}`; its weights are in `{}`.", options.source, options.weights_file);
    let _ = writeln!(s, "    #[weights = \"{}\"]", options.weights_file);
    let _ = writeln!(s, "    pub struct {}<f32> {{", options.name);
    let _ = writeln!(s, "        input: {},", input.declaration());
    for l in layers {
        match (&l.name, &l.block) {
            (Some(n), None) => {
                let _ = writeln!(s, "        {n}: {},", l.written());
            }
            _ => {
                let _ = writeln!(s, "        {},", l.written());
            }
        }
    }
    let _ = writeln!(s, "    }}\n}}");
    s
}

/// The weights as safetensors, each layer's tensors under its name. Layers without a name get the macro's
/// default names, so every layer with weights is named here.
fn weights(layers: &[Layer]) -> Result<Vec<u8>, ImportError> {
    fn flat<'l>(layers: &'l [Layer], out: &mut Vec<&'l Layer>) {
        for l in layers {
            out.push(l);
            for b in l.block.iter().flat_map(|(_, b)| b) {
                flat(b, out);
            }
        }
    }
    let mut all = Vec::new();
    flat(layers, &mut all);
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for l in all.into_iter().filter(|l| !l.tensors.is_empty()) {
        let Some(name) = &l.name else {
            return Err(ImportError::Model(format!("a `{}` layer has weights but no name", l.text)));
        };
        for (suffix, shape, values) in &l.tensors {
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            owned.push((format!("{name}.{suffix}"), shape.clone(), bytes));
        }
    }
    let views: Result<Vec<_>, _> = owned
        .iter()
        .map(|(n, shape, b)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), b).map(|v| (n.as_str(), v))
        })
        .collect();
    let views = views.map_err(|e| ImportError::Model(format!("writing the weights: {e}")))?;
    safetensors::serialize(views, None).map_err(|e| ImportError::Model(format!("writing the weights: {e}")))
}
