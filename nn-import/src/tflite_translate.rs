//! An int8 TFLite model as an `#[int8]` `network!` declaration and its int8 weights file.
//!
//! The graph must be a chain from its one input to its one output of `CONV_2D`, `DEPTHWISE_CONV_2D`,
//! `FULLY_CONNECTED`, `AVERAGE_POOL_2D`, `MAX_POOL_2D`, `RESHAPE` and a final `SOFTMAX`, in int8 with per-tensor
//! activations and symmetric (per-tensor or per-channel) weights, as TFLite's converter writes them for full
//! integer quantisation. Fused `RELU`, `RELU6` and `RELU_N1_TO_1` become `Relu`, `Relu6` and `HardTanh` after the
//! layer. Anything else is an [`ImportError::Node`] naming the operator, its position and what is unsupported.
//!
//! TFLite's activations are `NHWC`; the declaration's planes are written `[channels, height, width]` and an
//! `#[int8]` network keeps them channel-last, so no data moves. Weights are written in PyTorch's layouts
//! (`[out, in, kh, kw]`), which the macro turns back into the kernels' layouts while it expands.

use crate::tflite::{self, Activation, Model, Operator, Options as Opts, Padding, Tensor, TensorType};
use crate::{ImportError, Imported, Options};
use std::fmt::Write as _;

/// The shape of the values between layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// A vector of `n`.
    Flat(usize),
    /// `h x w x c`, channel-last.
    Planes(usize, usize, usize),
}

impl Shape {
    fn len(self) -> usize {
        match self {
            Shape::Flat(n) => n,
            Shape::Planes(h, w, c) => h * w * c,
        }
    }

    /// As `network!` writes an input shape.
    fn declaration(self) -> String {
        match self {
            Shape::Flat(n) => n.to_string(),
            Shape::Planes(h, w, c) => format!("[{c}, {h}, {w}]"),
        }
    }
}

/// A tensor's per-tensor quantisation, `(scale, zero point)`.
type QParams = (f32, i32);

/// A layer with weights, ready for the file.
struct Weights {
    name: String,
    /// `I8`, PyTorch's layout.
    weight: (Vec<usize>, Vec<i8>),
    scales: Vec<f32>,
    bias: Vec<i32>,
    output: QParams,
}

/// What the chain of operators becomes.
struct Translation {
    input: Shape,
    input_params: QParams,
    /// Declaration lines (without indentation or trailing comma) and the operator they came from.
    lines: Vec<(String, String)>,
    weights: Vec<Weights>,
}

fn node_err(op: &Operator, what: impl Into<String>) -> ImportError {
    ImportError::Node { node: format!("operator {}", op.index), op: tflite::op_name(op.code), what: what.into() }
}

/// A tensor by an operator's input or output index, checked.
fn tensor<'m>(m: &'m Model, op: &Operator, index: i32, role: &str) -> Result<(usize, &'m Tensor), ImportError> {
    usize::try_from(index)
        .ok()
        .and_then(|i| m.tensors.get(i).map(|t| (i, t)))
        .ok_or_else(|| node_err(op, format!("has no {role} tensor")))
}

/// Per-tensor int8 parameters of an activation tensor.
fn activation_params(t: &Tensor, op: &Operator, role: &str) -> Result<QParams, ImportError> {
    if t.dtype != TensorType::Int8 {
        return Err(node_err(op, format!("its {role} `{}` is {}, not INT8", t.name, t.dtype.name())));
    }
    let q = t.quant.as_ref().ok_or_else(|| node_err(op, format!("its {role} `{}` is not quantised", t.name)))?;
    match (q.scale.as_slice(), q.zero_point.as_slice()) {
        ([s], [z]) if s.is_finite() && *s > 0.0 && (-128..=127).contains(z) => Ok((*s, *z as i32)),
        ([_], [_]) => Err(node_err(op, format!("its {role} `{}` has a scale or zero point out of range", t.name))),
        _ => Err(node_err(
            op,
            format!("its {role} `{}` is quantised per channel; activations must be quantised per tensor", t.name),
        )),
    }
}

/// A shape from TFLite dims (batch 1): `[1, n]` or `[1, h, w, c]`.
fn shape_of(t: &Tensor, op: Option<&Operator>) -> Result<Shape, ImportError> {
    let dims: Option<Vec<usize>> = t.shape.iter().map(|&d| usize::try_from(d).ok().filter(|&d| d > 0)).collect();
    let err = |what: String| match op {
        Some(op) => node_err(op, what),
        None => ImportError::Model(what),
    };
    match dims.as_deref() {
        Some([1, n]) => Ok(Shape::Flat(*n)),
        Some([1, h, w, c]) => Ok(Shape::Planes(*h, *w, *c)),
        _ => Err(err(format!(
            "tensor `{}` has shape {:?}; `network!` takes one sample of [1, n] or [1, h, w, c]",
            t.name, t.shape
        ))),
    }
}

/// A weight tensor's shape, bytes and one scale per output channel.
type WeightData<'m> = (Vec<usize>, &'m [u8], Vec<f32>);

/// The weights of a layer: int8, symmetric, one scale per output channel or one for all.
fn weight_tensor<'m>(m: &'m Model, op: &Operator, dims: usize, qdim: i32) -> Result<WeightData<'m>, ImportError> {
    let (_, w) = tensor(m, op, *op.inputs.get(1).unwrap_or(&-1), "weight")?;
    if w.dtype != TensorType::Int8 {
        return Err(node_err(op, format!("its weights `{}` are {}, not INT8", w.name, w.dtype.name())));
    }
    let shape: Option<Vec<usize>> = w.shape.iter().map(|&d| usize::try_from(d).ok().filter(|&d| d > 0)).collect();
    let shape = shape.filter(|s| s.len() == dims).ok_or_else(|| {
        node_err(op, format!("its weights `{}` have shape {:?}, expected {dims} dimensions", w.name, w.shape))
    })?;
    let data = w.data.as_deref().ok_or_else(|| node_err(op, format!("its weights `{}` are not constant", w.name)))?;
    if data.len() != shape.iter().product::<usize>() {
        return Err(node_err(op, format!("its weights `{}` hold {} bytes for shape {shape:?}", w.name, data.len())));
    }
    let q = w.quant.as_ref().ok_or_else(|| node_err(op, format!("its weights `{}` are not quantised", w.name)))?;
    let channels = shape[qdim as usize];
    if q.zero_point.iter().any(|&z| z != 0) {
        return Err(node_err(op, format!("its weights `{}` are asymmetric (a zero point is not 0)", w.name)));
    }
    let scales = match q.scale.len() {
        1 => vec![q.scale[0]; channels],
        n if n == channels && q.quantized_dimension == qdim => q.scale.clone(),
        n => {
            return Err(node_err(
                op,
                format!(
                    "its weights `{}` have {n} scales along dimension {}; expected 1, or {channels} along \
                     dimension {qdim}",
                    w.name, q.quantized_dimension
                ),
            ));
        }
    };
    if let Some(s) = scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(node_err(op, format!("its weights `{}` have the scale {s}", w.name)));
    }
    Ok((shape, data, scales))
}

/// The bias: `INT32` of `n` values, or zeros when the operator has none.
fn bias(m: &Model, op: &Operator, n: usize) -> Result<Vec<i32>, ImportError> {
    match op.inputs.get(2) {
        None | Some(-1) => Ok(vec![0; n]),
        Some(&i) => {
            let (_, b) = tensor(m, op, i, "bias")?;
            let data =
                b.data.as_deref().ok_or_else(|| node_err(op, format!("its bias `{}` is not constant", b.name)))?;
            if b.dtype != TensorType::Int32 || data.len() != 4 * n {
                return Err(node_err(
                    op,
                    format!(
                        "its bias `{}` is {} of shape {:?}; expected {n} INT32 values",
                        b.name,
                        b.dtype.name(),
                        b.shape
                    ),
                ));
            }
            Ok(data.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
        }
    }
}

/// The activation line after a layer, if its fused activation needs one.
fn fused(op: &Operator, a: Activation) -> Result<Option<String>, ImportError> {
    match a {
        Activation::None => Ok(None),
        Activation::Relu => Ok(Some("Relu".into())),
        Activation::Relu6 => Ok(Some("Relu6".into())),
        Activation::ReluN1To1 => Ok(Some("HardTanh".into())),
        other => Err(node_err(op, format!("its fused activation {other:?} has no int8 form in `network!`"))),
    }
}

/// `k` or `(h, w)`.
fn pair(h: usize, w: usize) -> String {
    if h == w { h.to_string() } else { format!("({h}, {w})") }
}

/// A positive `i32` option.
fn positive(op: &Operator, v: i32, what: &str) -> Result<usize, ImportError> {
    usize::try_from(v).ok().filter(|&v| v > 0).ok_or_else(|| node_err(op, format!("its {what} is {v}")))
}

/// Whether SAME padding pads anything along an axis of `n` with `o` outputs: `(o - 1) s + eff > n`.
fn pads(n: usize, o: usize, k: usize, s: usize, d: usize) -> bool {
    let eff = (k - 1).saturating_mul(d).saturating_add(1);
    o.saturating_sub(1).saturating_mul(s).saturating_add(eff) > n
}

/// TFLite's output size: `ceil(n / s)` for SAME, `(n - eff) / s + 1` for VALID (0 when nothing fits).
fn out_size(n: usize, k: usize, s: usize, d: usize, p: Padding) -> usize {
    let eff = (k - 1).saturating_mul(d).saturating_add(1);
    match p {
        Padding::Same => n.div_ceil(s),
        Padding::Valid if eff <= n => (n - eff) / s + 1,
        Padding::Valid => 0,
    }
}

fn translate(m: &Model) -> Result<Translation, ImportError> {
    if m.subgraphs != 1 {
        return Err(ImportError::Model(format!("the model has {} subgraphs; `network!` takes one", m.subgraphs)));
    }
    let (&[input], &[output]) = (m.inputs.as_slice(), m.outputs.as_slice()) else {
        return Err(ImportError::Model(format!(
            "the model has {} inputs and {} outputs; `network!` takes one of each",
            m.inputs.len(),
            m.outputs.len()
        )));
    };
    let it = &m.tensors[input];
    let input_params = match activation_params(it, &dummy(), "input") {
        Ok(p) => p,
        Err(_) => {
            return Err(ImportError::Model(format!(
                "the input `{}` is {} without per-tensor int8 quantisation; import int8 models (full integer \
                 quantisation)",
                it.name,
                it.dtype.name()
            )));
        }
    };
    let mut shape = shape_of(it, None)?;
    let mut current = input;
    let mut params = input_params;
    let mut lines: Vec<(String, String)> = Vec::new();
    let mut weights: Vec<Weights> = Vec::new();
    let (mut convs, mut fcs) = (0, 0);
    let mut input_shape = shape;
    for (k, op) in m.operators.iter().enumerate() {
        let (x, _) = tensor(m, op, *op.inputs.first().unwrap_or(&-1), "input")?;
        if x != current {
            return Err(node_err(
                op,
                format!(
                    "reads `{}`, not the output of the operator before it: `network!` takes a chain",
                    m.tensors[x].name
                ),
            ));
        }
        let [out] = op.outputs.as_slice() else {
            return Err(node_err(op, format!("has {} outputs; `network!` layers have one", op.outputs.len())));
        };
        let (y, yt) = tensor(m, op, *out, "output")?;
        let from = format!("{} `{}`", tflite::op_name(op.code), yt.name);
        let name = tflite::op_name(op.code);
        match (name.as_str(), &op.options) {
            ("RESHAPE", _) => {
                let to = shape_of(yt, Some(op))?;
                if to.len() != shape.len() {
                    return Err(node_err(op, format!("reshapes {} values into {}", shape.len(), to.len())));
                }
                if activation_params(yt, op, "output")? != params {
                    return Err(node_err(op, "changes the quantisation; int8 reshapes keep it"));
                }
                match (k, to) {
                    // A reshape first: the network's input is declared in its shape.
                    (0, _) => input_shape = to,
                    (_, Shape::Flat(_)) if matches!(shape, Shape::Planes(..)) => {
                        lines.push(("Flatten".into(), from));
                    }
                    (_, Shape::Flat(n)) => lines.push((format!("Reshape({n})"), from)),
                    (_, Shape::Planes(h, w, c)) => lines.push((format!("Reshape([{c}, {h}, {w}])"), from)),
                }
                shape = to;
            }
            ("FULLY_CONNECTED", Opts::FullyConnected { activation, weights_format, keep_num_dims }) => {
                if *weights_format != 0 || *keep_num_dims {
                    return Err(node_err(op, "shuffled weights or keep_num_dims have no `network!` form"));
                }
                let (wshape, data, scales) = weight_tensor(m, op, 2, 0)?;
                let (o, i) = (wshape[0], wshape[1]);
                if i != shape.len() {
                    return Err(node_err(op, format!("takes {i} inputs, the layer before gives {}", shape.len())));
                }
                if let Shape::Planes(..) = shape {
                    lines.push(("Flatten".into(), "FULLY_CONNECTED flattens its input".into()));
                }
                let out_params = activation_params(yt, op, "output")?;
                if shape_of(yt, Some(op))? != Shape::Flat(o) {
                    return Err(node_err(op, format!("writes shape {:?}, expected [1, {o}]", yt.shape)));
                }
                fcs += 1;
                let layer = format!("fc{fcs}");
                lines.push((format!("{layer}: Dense({o})"), from));
                if let Some(a) = fused(op, *activation)? {
                    lines.push((a, String::new()));
                }
                weights.push(Weights {
                    name: layer,
                    weight: (vec![o, i], data.iter().map(|&b| b as i8).collect()),
                    scales,
                    bias: bias(m, op, o)?,
                    output: out_params,
                });
                (shape, params) = (Shape::Flat(o), out_params);
            }
            ("CONV_2D", Opts::Conv2d { padding: p, stride_w, stride_h, activation, dilation_w, dilation_h })
            | (
                "DEPTHWISE_CONV_2D",
                Opts::DepthwiseConv2d { padding: p, stride_w, stride_h, activation, dilation_w, dilation_h, .. },
            ) => {
                let depthwise = name == "DEPTHWISE_CONV_2D";
                let Shape::Planes(h, w, c) = shape else {
                    return Err(node_err(op, "convolves a vector; its input must be [1, h, w, c]"));
                };
                let (ws, data, scales) = weight_tensor(m, op, 4, if depthwise { 3 } else { 0 })?;
                let (sh, sw) = (positive(op, *stride_h, "stride")?, positive(op, *stride_w, "stride")?);
                let (dh, dw) = (positive(op, *dilation_h, "dilation")?, positive(op, *dilation_w, "dilation")?);
                let (o, kh, kw) = if depthwise { (ws[3], ws[1], ws[2]) } else { (ws[0], ws[1], ws[2]) };
                if depthwise && (ws[0] != 1 || o % c != 0) {
                    return Err(node_err(op, format!("its weights have shape {ws:?} for {c} input channels")));
                }
                if !depthwise && ws[3] != c {
                    return Err(node_err(op, format!("its weights take {} channels, the input has {c}", ws[3])));
                }
                let (oh, ow) = (out_size(h, kh, sh, dh, *p), out_size(w, kw, sw, dw, *p));
                if shape_of(yt, Some(op))? != Shape::Planes(oh, ow, o) || oh == 0 || ow == 0 {
                    return Err(node_err(op, format!("writes shape {:?}, expected [1, {oh}, {ow}, {o}]", yt.shape)));
                }
                let out_params = activation_params(yt, op, "output")?;
                convs += 1;
                let layer = format!("conv{convs}");
                let mut decl = format!("{layer}: Conv2d({o}, kernel = {}", pair(kh, kw));
                if (sh, sw) != (1, 1) {
                    let _ = write!(decl, ", stride = {}", pair(sh, sw));
                }
                if *p == Padding::Same && (pads(h, oh, kh, sh, dh) || pads(w, ow, kw, sw, dw)) {
                    decl.push_str(", padding = same");
                }
                if (dh, dw) != (1, 1) {
                    let _ = write!(decl, ", dilation = {}", pair(dh, dw));
                }
                // Depthwise over one channel is an ordinary convolution with one input channel.
                if depthwise && c > 1 {
                    let _ = write!(decl, ", groups = {c}");
                }
                decl.push(')');
                lines.push((decl, from));
                if let Some(a) = fused(op, *activation)? {
                    lines.push((a, String::new()));
                }
                // PyTorch layouts: [o, c, kh, kw], or [o, 1, kh, kw] for depthwise.
                let weight = if depthwise {
                    let v = (0..o).flat_map(|oc| (0..kh * kw).map(move |t| data[t * o + oc] as i8)).collect();
                    (vec![o, 1, kh, kw], v)
                } else {
                    let v = (0..o)
                        .flat_map(|oc| {
                            (0..c)
                                .flat_map(move |ci| (0..kh * kw).map(move |t| data[(oc * kh * kw + t) * c + ci] as i8))
                        })
                        .collect();
                    (vec![o, c, kh, kw], v)
                };
                weights.push(Weights { name: layer, weight, scales, bias: bias(m, op, o)?, output: out_params });
                (shape, params) = (Shape::Planes(oh, ow, o), out_params);
            }
            (
                "AVERAGE_POOL_2D" | "MAX_POOL_2D",
                Opts::Pool2d { padding: p, stride_w, stride_h, filter_w, filter_h, activation },
            ) => {
                let Shape::Planes(h, w, c) = shape else {
                    return Err(node_err(op, "pools a vector; its input must be [1, h, w, c]"));
                };
                let (kh, kw) = (positive(op, *filter_h, "filter height")?, positive(op, *filter_w, "filter width")?);
                let (sh, sw) = (positive(op, *stride_h, "stride")?, positive(op, *stride_w, "stride")?);
                let (oh, ow) = (out_size(h, kh, sh, 1, *p), out_size(w, kw, sw, 1, *p));
                if shape_of(yt, Some(op))? != Shape::Planes(oh, ow, c) || oh == 0 || ow == 0 {
                    return Err(node_err(op, format!("writes shape {:?}, expected [1, {oh}, {ow}, {c}]", yt.shape)));
                }
                if activation_params(yt, op, "output")? != params {
                    return Err(node_err(op, "changes the quantisation; int8 pooling keeps it"));
                }
                let kind = if name == "MAX_POOL_2D" { "MaxPool2d" } else { "AvgPool2d" };
                let mut decl = format!("{kind}({}", pair(kh, kw));
                if (sh, sw) != (kh, kw) {
                    let _ = write!(decl, ", stride = {}", pair(sh, sw));
                }
                if *p == Padding::Same && (pads(h, oh, kh, sh, 1) || pads(w, ow, kw, sw, 1)) {
                    decl.push_str(", padding = same");
                }
                decl.push(')');
                lines.push((decl, from));
                if let Some(a) = fused(op, *activation)? {
                    lines.push((a, String::new()));
                }
                shape = Shape::Planes(oh, ow, c);
            }
            ("SOFTMAX", Opts::Softmax { beta }) => {
                if *beta != 1.0 {
                    return Err(node_err(op, format!("has beta {beta}; `network!`'s softmax has beta 1")));
                }
                if y != output {
                    return Err(node_err(op, "is not the last operator; an int8 softmax ends the network"));
                }
                let out_params = activation_params(yt, op, "output")?;
                if out_params != (1.0 / 256.0, -128) {
                    return Err(node_err(op, "writes with a scale other than 1/256 or a zero point other than -128"));
                }
                let Shape::Flat(_) = shape else {
                    return Err(node_err(op, "normalises planes; `network!`'s int8 softmax takes a vector"));
                };
                lines.push(("Softmax".into(), from));
                params = out_params;
            }
            (
                "FULLY_CONNECTED" | "CONV_2D" | "DEPTHWISE_CONV_2D" | "AVERAGE_POOL_2D" | "MAX_POOL_2D" | "SOFTMAX",
                _,
            ) => return Err(node_err(op, "its options are missing or malformed")),
            _ => {
                return Err(node_err(
                    op,
                    "has no `network!` int8 form (supported: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, \
                     AVERAGE_POOL_2D, MAX_POOL_2D, RESHAPE, SOFTMAX)",
                ));
            }
        }
        current = y;
    }
    if current != output {
        return Err(ImportError::Model("the operators do not lead from the input to the output".into()));
    }
    if lines.iter().all(|(l, _)| l.starts_with("Reshape") || l == "Flatten") {
        return Err(ImportError::Model("the model has no layer `network!` can declare".into()));
    }
    let _ = params;
    Ok(Translation { input: input_shape, input_params, lines, weights })
}

/// An operator standing for "the model" in messages about the input.
fn dummy() -> Operator {
    Operator {
        index: 0,
        code: -1,
        custom: None,
        version: 1,
        inputs: Vec::new(),
        outputs: Vec::new(),
        options: Opts::None,
    }
}

/// The int8 weights file.
fn weights_file(t: &Translation) -> Result<Vec<u8>, ImportError> {
    let mut owned: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = vec![
        ("input.scale".into(), safetensors::Dtype::F32, vec![], t.input_params.0.to_le_bytes().to_vec()),
        ("input.zero_point".into(), safetensors::Dtype::I32, vec![], t.input_params.1.to_le_bytes().to_vec()),
    ];
    for w in &t.weights {
        let n = |s: &str| format!("{}.{s}", w.name);
        let (shape, values) = &w.weight;
        owned.push((n("weight"), safetensors::Dtype::I8, shape.clone(), values.iter().map(|&v| v as u8).collect()));
        owned.push((
            n("weight_scale"),
            safetensors::Dtype::F32,
            vec![w.scales.len()],
            w.scales.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ));
        owned.push((
            n("bias"),
            safetensors::Dtype::I32,
            vec![w.bias.len()],
            w.bias.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ));
        owned.push((n("output_scale"), safetensors::Dtype::F32, vec![], w.output.0.to_le_bytes().to_vec()));
        owned.push((n("output_zero_point"), safetensors::Dtype::I32, vec![], w.output.1.to_le_bytes().to_vec()));
    }
    let views: Result<Vec<_>, _> = owned
        .iter()
        .map(|(n, d, s, b)| safetensors::tensor::TensorView::new(*d, s.clone(), b).map(|v| (n.as_str(), v)))
        .collect();
    let views = views.map_err(|e| ImportError::Model(format!("writing the weights: {e}")))?;
    safetensors::serialize(views, None).map_err(|e| ImportError::Model(format!("writing the weights: {e}")))
}

/// The generated module.
fn source(m: &Model, options: &Options, t: &Translation) -> String {
    let mut s = String::new();
    let described = m.description.as_deref().filter(|d| !d.is_empty()).map_or(String::new(), |d| format!(", \"{d}\""));
    let _ = writeln!(
        s,
        "// `{}`: an int8 network imported from `{}` (TFLite schema version {}{described}).",
        options.name, options.source, m.version
    );
    let _ = writeln!(s, "// The declaration is ordinary `network!` source: edit it as any other.");
    let _ = writeln!(s, "use nn_core::prelude::*;\n");
    let _ = writeln!(s, "network! {{");
    let _ = writeln!(
        s,
        "    /// Imported from `{}` (int8, TFLite's quantisation); its weights are in `{}`.",
        options.source, options.weights_file
    );
    let _ = writeln!(s, "    #[int8]");
    let _ = writeln!(s, "    #[weights = \"{}\"]", options.weights_file);
    let _ = writeln!(s, "    pub struct {} {{", options.name);
    let _ = writeln!(s, "        input: {},", t.input.declaration());
    for (line, from) in &t.lines {
        if from.is_empty() {
            let _ = writeln!(s, "        {line},");
        } else {
            let _ = writeln!(s, "        {line}, // {from}");
        }
    }
    let _ = writeln!(s, "    }}\n}}");
    s
}

/// Imports an int8 TFLite model (the bytes of a `.tflite` file).
pub fn import(bytes: &[u8], options: &Options) -> Result<Imported, ImportError> {
    let m = tflite::read(bytes).map_err(|e| ImportError::NotTflite(e.to_string()))?;
    let t = translate(&m)?;
    Ok(Imported { source: source(&m, options, &t), weights: weights_file(&t)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tflite");

    fn import_fixture(name: &str) -> Result<Imported, ImportError> {
        let bytes = std::fs::read(format!("{FIXTURES}/{name}.tflite")).unwrap();
        import(&bytes, &Options::new("Net", &format!("{name}.tflite")))
    }

    #[test]
    fn every_operator_fixture_becomes_a_declaration() {
        let cases = [
            ("fc_relu", "input: 24,\n        fc1: Dense(10), // FULLY_CONNECTED `y`\n        Relu,\n"),
            ("fc_relu6_per_channel", "fc1: Dense(12), // FULLY_CONNECTED `y`\n        Relu6,\n"),
            (
                "conv_same_s2_relu",
                "input: [3, 9, 11],\n        conv1: Conv2d(5, kernel = 3, stride = 2, padding = same),",
            ),
            ("conv_valid_dilated", "conv1: Conv2d(6, kernel = (3, 2), dilation = (2, 3)),"),
            ("conv_same_even_kernel", "conv1: Conv2d(4, kernel = (4, 2), stride = (1, 2), padding = same),"),
            ("depthwise_mult2_relu6", "conv1: Conv2d(6, kernel = 3, padding = same, groups = 3),"),
            ("depthwise_speech_like", "conv1: Conv2d(8, kernel = (5, 4), stride = 2, padding = same),"),
            ("avgpool_same_s2", "AvgPool2d(3, stride = 2, padding = same),"),
            ("maxpool_valid_relu6", "MaxPool2d(3, stride = (1, 2)), // MAX_POOL_2D `y`\n        Relu6,"),
            ("softmax10", "input: 10,\n        Softmax,"),
        ];
        for (name, expected) in cases {
            let imported = import_fixture(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(imported.source.contains(expected), "{name}:\n{}", imported.source);
            assert!(imported.source.contains("#[int8]\n    #[weights = \"net.safetensors\"]\n    pub struct Net {"));
        }
        // The weights: PyTorch's layout, one scale per output channel even when the file has one per tensor.
        let chain = import_fixture("chain").unwrap();
        let file = safetensors::SafeTensors::deserialize(&chain.weights).unwrap();
        assert_eq!(file.tensor("conv1.weight").unwrap().shape(), [6, 3, 3, 3]);
        assert_eq!(file.tensor("conv2.weight").unwrap().shape(), [12, 1, 3, 3]);
        assert_eq!(file.tensor("fc1.weight_scale").unwrap().shape(), [5]);
        assert_eq!(file.tensor("input.zero_point").unwrap().data(), (-7i32).to_le_bytes());
        // Byte for byte the tensors the fixture script wrote for the same network.
        let script = std::fs::read(format!("{FIXTURES}/chain.safetensors")).unwrap();
        let script = safetensors::SafeTensors::deserialize(&script).unwrap();
        let mut names = script.names();
        names.sort_unstable();
        let mut ours = file.names();
        ours.sort_unstable();
        assert_eq!(names, ours);
        for n in names {
            let (a, b) = (script.tensor(n).unwrap(), file.tensor(n).unwrap());
            assert_eq!((a.dtype(), a.shape(), a.data()), (b.dtype(), b.shape(), b.data()), "{n}");
        }
    }

    #[test]
    fn what_network_cannot_express_is_an_error_naming_the_operator() {
        let err = |name: &str| import_fixture(name).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            err("refuse_tanh"),
            "node `operator 0` (TANH): has no `network!` int8 form (supported: CONV_2D, DEPTHWISE_CONV_2D, \
             FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, RESHAPE, SOFTMAX)"
        );
        assert_eq!(
            err("refuse_float"),
            "the input `x` is FLOAT32 without per-tensor int8 quantisation; import int8 models (full integer \
             quantisation)"
        );
        assert_eq!(
            err("refuse_branch"),
            "node `operator 1` (ADD): reads `x`, not the output of the operator before it: `network!` takes a chain"
        );
        let onnx = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/onnx/mlp_gemm.onnx")).unwrap();
        let e = import(&onnx, &Options::new("Net", "m.onnx")).unwrap_err().to_string();
        assert!(e.starts_with("not a readable TFLite model: not a TFLite model"), "{e}");
    }

    #[test]
    fn mutated_models_are_errors_or_declarations_never_panics() {
        // A seeded xorshift: flipped bytes, overwritten 32-bit words and truncations of every fixture.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut ok, mut err) = (0, 0);
        let mut names: Vec<_> = std::fs::read_dir(FIXTURES)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".tflite").map(str::to_string))
            .collect();
        names.sort();
        for name in &names {
            let original = std::fs::read(format!("{FIXTURES}/{name}.tflite")).unwrap();
            for _ in 0..400 {
                let mut bytes = original.clone();
                for _ in 0..1 + next() % 3 {
                    if bytes.is_empty() {
                        break;
                    }
                    let at = (next() % bytes.len() as u64) as usize;
                    match next() % 4 {
                        0 => bytes[at] ^= 1 << (next() % 8),
                        1 => bytes[at] = next() as u8,
                        2 if at + 4 <= bytes.len() => {
                            let v = [0u32, 1, 0x7fff_ffff, 0xffff_ffff, next() as u32][(next() % 5) as usize];
                            bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
                        }
                        _ => bytes.truncate(at),
                    }
                }
                let result = std::panic::catch_unwind(|| import(&bytes, &Options::new("Net", "m.tflite")));
                match result {
                    Ok(Ok(_)) => ok += 1,
                    Ok(Err(_)) => err += 1,
                    Err(_) => panic!("{name}: a mutated model made the importer panic"),
                }
            }
        }
        assert!(ok > 100 && err > 100, "{ok} imported, {err} refused");
    }
}
