//! The convolution cases of `benches/conv.rs` as ONNX graphs run by [tract](tract_onnx), with the weights of the
//! generated networks.
//!
//! Each [`Case`] lists its layers as [`Op`]s, in the order `benches/peers/onnxruntime_conv.py` builds the same
//! graph (same names, same operators). [`onnx_model`] writes a case as an ONNX `ModelProto` with
//! `tract_onnx::pb`'s types, taking the weights and biases of every `Conv` and `Gemm` from a generated network
//! or layer ([`onnx_tensors`]); [`tract_plan`] loads, optimises and plans it; [`run_tract`] runs one sample.
//! The networks [`Mnist`], [`VggCifar`], [`Depthwise`] and [`MobileBlocks`] are declared again here, as
//! `benches/conv.rs` declares them.

use crate::row_major;
use nn_core::prelude::*;
use nn_core::Parameters;
use nn_core::params::Layout;
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto, type_proto,
};
use tract_onnx::prelude::{
    Arc, Framework, InferenceModelExt, IntoRunnable, TValue, Tensor, TractResult, TypedRunnableModel, tvec,
};
use tract_onnx::tract_core::internal::ensure;

// These four declarations must match `benches/conv.rs` and the graphs of `benches/peers/onnxruntime_conv.py`.

network! {
    /// The MNIST CNN of `benches/conv.rs` (LeNet-style): [1, 28, 28] -> conv 8@5x5 -> max pool -> conv 16@5x5
    /// -> max pool -> 120 -> 84 -> 10 logits. Must match `benches/conv.rs` and `onnxruntime_conv.py`.
    pub struct Mnist<f32> {
        input: [1, 28, 28],
        conv1: Conv2d(8, kernel = 5), Relu,
        MaxPool2d(2),
        conv2: Conv2d(16, kernel = 5), Relu,
        MaxPool2d(2),
        Flatten,
        fc1: Dense(120), Relu, Dropout(0.3),
        fc2: Dense(84), Relu, Dropout(0.3),
        fc3: Dense(10),
    }
}

network! {
    /// The VGG-style CIFAR network of `benches/conv.rs`: VGG-11's eight 3x3 convolutions, 64 to 512 channels,
    /// on 3x32x32, then 512 -> 512 -> 10. Must match `benches/conv.rs` and `onnxruntime_conv.py`.
    pub struct VggCifar<f32> {
        input: [3, 32, 32],
        Conv2d(64, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(128, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(256, kernel = 3, padding = 1), Relu, Conv2d(256, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(512, kernel = 3, padding = 1), Relu, Conv2d(512, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(512, kernel = 3, padding = 1), Relu, Conv2d(512, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Flatten,
        Dense(512), Relu,
        Dense(512), Relu,
        Dense(10),
    }
}

network! {
    /// One depthwise 3x3 convolution over 32 channels of 16x16 (one group per channel), as in `benches/conv.rs`
    /// and `onnxruntime_conv.py`.
    pub struct Depthwise<f32> {
        input: [32, 16, 16],
        Conv2d(32, kernel = 3, padding = 1, groups = 32),
    }
}

network! {
    /// The MobileNet-style stack of `benches/conv.rs`: depthwise 3x3 and pointwise 1x1 convolutions, the second
    /// depthwise one at stride 2, then global average pooling and a classifier. Must match `benches/conv.rs` and
    /// `onnxruntime_conv.py`.
    pub struct MobileBlocks<f32> {
        input: [32, 16, 16],
        Conv2d(32, kernel = 3, padding = 1, groups = 32), Relu,
        Conv2d(64, kernel = 1), Relu,
        Conv2d(64, kernel = 3, stride = 2, padding = 1, groups = 64), Relu,
        Conv2d(128, kernel = 1), Relu,
        GlobalAvgPool2d,
        Dense(10),
    }
}

/// One layer of a sequential ONNX graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `Conv` with a bias: square `kernel`, the same zero `padding` on every side, square `stride`, `groups`
    /// groups; weights `[outputs, inputs / groups, kernel, kernel]`.
    Conv {
        /// Input channels.
        inputs: usize,
        /// Output channels.
        outputs: usize,
        /// Kernel height and width.
        kernel: usize,
        /// Zero padding on every side.
        padding: usize,
        /// Stride along both axes.
        stride: usize,
        /// Groups (the input channels for a depthwise convolution).
        groups: usize,
    },
    /// `Relu`.
    Relu,
    /// `MaxPool` over 2x2 windows at stride 2.
    MaxPool,
    /// `GlobalAveragePool` followed by `Flatten`: `[1, C, H, W]` to `[1, C]`.
    GlobalAveragePool,
    /// `Flatten`: `[1, C, H, W]` to `[1, C H W]`, channel-major as the generated networks flatten.
    Flatten,
    /// `Gemm` with `transB = 1` and a bias: weights `[outputs, inputs]`.
    Dense {
        /// Input features.
        inputs: usize,
        /// Output features.
        outputs: usize,
    },
}

impl Op {
    /// A convolution with stride 1 and one group.
    pub const fn conv(inputs: usize, outputs: usize, kernel: usize, padding: usize) -> Self {
        Op::Conv { inputs, outputs, kernel, padding, stride: 1, groups: 1 }
    }

    /// A dense layer.
    pub const fn dense(inputs: usize, outputs: usize) -> Self {
        Op::Dense { inputs, outputs }
    }
}

/// A benchmarked model: its name (as `onnxruntime_conv.py` and the criterion groups spell it), its input
/// `[C, H, W]` (batch 1) and its layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Case {
    /// The case's name, e.g. `conv_layer/1x28x28->8@5x5`.
    pub name: &'static str,
    /// Channels, height and width of the one input sample.
    pub input: [usize; 3],
    /// The layers, input first.
    pub ops: &'static [Op],
}

impl Case {
    /// Values in one input sample.
    pub const fn input_len(&self) -> usize {
        self.input[0] * self.input[1] * self.input[2]
    }
}

/// A single convolution layer: 1 to 8 channels, 5x5, on 28x28.
pub const CASE_CONV_1X28X28_8K5: Case =
    Case { name: "conv_layer/1x28x28->8@5x5", input: [1, 28, 28], ops: &[Op::conv(1, 8, 5, 0)] };

/// A single convolution layer: 16 to 32 channels, 3x3, padding 1, on 14x14.
pub const CASE_CONV_16X14X14_32K3P1: Case =
    Case { name: "conv_layer/16x14x14->32@3x3p1", input: [16, 14, 14], ops: &[Op::conv(16, 32, 3, 1)] };

/// A single convolution layer: 64 to 64 channels, 3x3, padding 1, on 8x8.
pub const CASE_CONV_64X8X8_64K3P1: Case =
    Case { name: "conv_layer/64x8x8->64@3x3p1", input: [64, 8, 8], ops: &[Op::conv(64, 64, 3, 1)] };

/// A single pointwise convolution layer: 64 to 128 channels, 1x1, on 8x8.
pub const CASE_CONV_64X8X8_128K1: Case =
    Case { name: "conv_layer/64x8x8->128@1x1", input: [64, 8, 8], ops: &[Op::conv(64, 128, 1, 0)] };

/// [`Depthwise`]: a depthwise 3x3 convolution, padding 1, over 32 channels of 16x16.
pub const CASE_DEPTHWISE: Case = Case {
    name: "depthwise/32x16x16@3x3",
    input: [32, 16, 16],
    ops: &[Op::Conv { inputs: 32, outputs: 32, kernel: 3, padding: 1, stride: 1, groups: 32 }],
};

/// [`MobileBlocks`].
pub const CASE_MOBILE_BLOCKS: Case = Case {
    name: "mobile_blocks/forward/sample",
    input: [32, 16, 16],
    ops: &[
        Op::Conv { inputs: 32, outputs: 32, kernel: 3, padding: 1, stride: 1, groups: 32 },
        Op::Relu,
        Op::conv(32, 64, 1, 0),
        Op::Relu,
        Op::Conv { inputs: 64, outputs: 64, kernel: 3, padding: 1, stride: 2, groups: 64 },
        Op::Relu,
        Op::conv(64, 128, 1, 0),
        Op::Relu,
        Op::GlobalAveragePool,
        Op::dense(128, 10),
    ],
};

/// [`Mnist`] (its dropout layers are the identity at inference and have no ONNX node).
pub const CASE_MNIST_CNN: Case = Case {
    name: "mnist_cnn/forward/sample",
    input: [1, 28, 28],
    ops: &[
        Op::conv(1, 8, 5, 0),
        Op::Relu,
        Op::MaxPool,
        Op::conv(8, 16, 5, 0),
        Op::Relu,
        Op::MaxPool,
        Op::Flatten,
        Op::dense(256, 120),
        Op::Relu,
        Op::dense(120, 84),
        Op::Relu,
        Op::dense(84, 10),
    ],
};

/// [`VggCifar`].
pub const CASE_VGG_CIFAR: Case = Case {
    name: "vgg_cifar/forward/sample",
    input: [3, 32, 32],
    ops: &[
        Op::conv(3, 64, 3, 1),
        Op::Relu,
        Op::MaxPool,
        Op::conv(64, 128, 3, 1),
        Op::Relu,
        Op::MaxPool,
        Op::conv(128, 256, 3, 1),
        Op::Relu,
        Op::conv(256, 256, 3, 1),
        Op::Relu,
        Op::MaxPool,
        Op::conv(256, 512, 3, 1),
        Op::Relu,
        Op::conv(512, 512, 3, 1),
        Op::Relu,
        Op::MaxPool,
        Op::conv(512, 512, 3, 1),
        Op::Relu,
        Op::conv(512, 512, 3, 1),
        Op::Relu,
        Op::MaxPool,
        Op::Flatten,
        Op::dense(512, 512),
        Op::Relu,
        Op::dense(512, 512),
        Op::Relu,
        Op::dense(512, 10),
    ],
};

/// Every case, in the order of `onnxruntime_conv.py`.
pub const CASES: [Case; 8] = [
    CASE_CONV_1X28X28_8K5,
    CASE_CONV_16X14X14_32K3P1,
    CASE_CONV_64X8X8_64K3P1,
    CASE_CONV_64X8X8_128K1,
    CASE_DEPTHWISE,
    CASE_MOBILE_BLOCKS,
    CASE_MNIST_CNN,
    CASE_VGG_CIFAR,
];

/// One parameter tensor in ONNX's layout: its dimensions and its elements, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct OnnxTensor {
    /// The dimensions: `[out, in / groups, kh, kw]` for a convolution kernel, `[out, in]` for a dense weight,
    /// `[out]` for a bias.
    pub dims: Vec<usize>,
    /// The elements, row-major.
    pub data: Vec<f32>,
}

/// The parameter tensors of a generated network or layer, in declaration order, in ONNX's layout (PyTorch's:
/// convolution kernels `[out, in / groups, kh, kw]`, dense weights `[out, in]`, biases `[out]`).
///
/// # Panics
///
/// On a 1-D convolution kernel, which no case has.
pub fn onnx_tensors<P: Parameters<f32>>(params: &P) -> Vec<OnnxTensor> {
    let mut tensors = Vec::new();
    params.visit(|t| {
        let data = match t.layout {
            Layout::Vector => t.data.to_vec(),
            // The columns of a kernel are `[in / groups, kh, kw]` row-major, so the row-major matrix is OIHW.
            Layout::Matrix | Layout::Kernel2d { .. } => row_major(t.rows, t.cols, t.data),
            Layout::Kernel1d { .. } => panic!("{}: a 1-D convolution kernel", t.name),
        };
        tensors.push(OnnxTensor { dims: t.layout.shape(t.rows, t.cols).dims().to_vec(), data });
    });
    tensors
}

/// An attribute holding one integer.
fn int_attribute(name: &str, value: usize) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: AttributeType::Int as i32, i: value as i64, ..Default::default() }
}

/// An attribute holding a list of integers.
fn ints_attribute(name: &str, values: &[usize]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: values.iter().map(|&v| v as i64).collect(),
        ..Default::default()
    }
}

/// A float tensor declaration of the graph's interface, with a fixed shape or none.
fn value_info(name: &str, shape: Option<&[usize]>) -> ValueInfoProto {
    let shape = shape.map(|dims| TensorShapeProto {
        dim: dims
            .iter()
            .map(|&d| Dimension { value: Some(dimension::Value::DimValue(d as i64)), ..Default::default() })
            .collect(),
    });
    let tensor = type_proto::Tensor { elem_type: DataType::Float as i32, shape };
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto { value: Some(type_proto::Value::TensorType(tensor)), ..Default::default() }),
        ..Default::default()
    }
}

/// A sequential ONNX graph under construction: nodes, initializers and the name of the last output.
struct GraphBuilder<'p> {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    last: String,
    count: usize,
    params: std::slice::Iter<'p, OnnxTensor>,
}

impl GraphBuilder<'_> {
    /// A fresh name for a node output or an initializer.
    fn name(&mut self, kind: &str) -> String {
        self.count += 1;
        format!("{kind}{}", self.count)
    }

    /// The next parameter tensor as an initializer named `name`, checked against the dimensions the op implies.
    fn initializer(&mut self, name: String, dims: &[usize]) -> String {
        let t = self.params.next().unwrap_or_else(|| panic!("{name}: the network has no more tensors"));
        assert_eq!(t.dims, dims, "{name}: the network's tensor has another shape");
        self.initializers.push(TensorProto {
            name: name.clone(),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: DataType::Float as i32,
            raw_data: t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
        name
    }

    /// Appends a node reading the last output (then `inputs`) and makes its output the last one.
    fn node(&mut self, op: &str, inputs: Vec<String>, attribute: Vec<AttributeProto>) {
        let output = self.name(&op.to_lowercase());
        let input = std::iter::once(std::mem::replace(&mut self.last, output.clone())).chain(inputs).collect();
        self.nodes.push(NodeProto { input, output: vec![output], op_type: op.into(), attribute, ..Default::default() });
    }

    fn op(&mut self, op: &Op) {
        match *op {
            Op::Conv { inputs, outputs, kernel, padding, stride, groups } => {
                let w = self.name("w");
                let b = format!("{w}b");
                let w = self.initializer(w, &[outputs, inputs / groups, kernel, kernel]);
                let b = self.initializer(b, &[outputs]);
                let attributes = vec![
                    ints_attribute("kernel_shape", &[kernel, kernel]),
                    ints_attribute("pads", &[padding; 4]),
                    ints_attribute("strides", &[stride, stride]),
                    int_attribute("group", groups),
                ];
                self.node("Conv", vec![w, b], attributes);
            }
            Op::Relu => self.node("Relu", vec![], vec![]),
            Op::MaxPool => {
                let attributes = vec![ints_attribute("kernel_shape", &[2, 2]), ints_attribute("strides", &[2, 2])];
                self.node("MaxPool", vec![], attributes);
            }
            Op::GlobalAveragePool => {
                self.node("GlobalAveragePool", vec![], vec![]);
                self.node("Flatten", vec![], vec![]);
            }
            Op::Flatten => self.node("Flatten", vec![], vec![]),
            Op::Dense { inputs, outputs } => {
                let w = self.name("d");
                let b = format!("{w}b");
                let w = self.initializer(w, &[outputs, inputs]);
                let b = self.initializer(b, &[outputs]);
                self.node("Gemm", vec![w, b], vec![int_attribute("transB", 1)]);
            }
        }
    }
}

/// The case as an ONNX model (operator set 17): input `x` of shape `[1, C, H, W]`, one node per [`Op`] (two for
/// [`Op::GlobalAveragePool`]), the weights and biases `tensors` as initializers in order, as
/// `onnxruntime_conv.py` builds the graph.
///
/// # Panics
///
/// If `tensors` do not have the shapes the case's layers imply, in order, or are too many.
pub fn onnx_model(case: &Case, tensors: &[OnnxTensor]) -> ModelProto {
    let mut g = GraphBuilder {
        nodes: Vec::new(),
        initializers: Vec::new(),
        last: "x".into(),
        count: 0,
        params: tensors.iter(),
    };
    for op in case.ops {
        g.op(op);
    }
    assert!(g.params.next().is_none(), "{}: the network has more tensors than the graph uses", case.name);
    let [c, h, w] = case.input;
    let graph = GraphProto {
        name: "bench".into(),
        input: vec![value_info("x", Some(&[1, c, h, w]))],
        output: vec![value_info(&g.last, None)],
        node: g.nodes,
        initializer: g.initializers,
        ..Default::default()
    };
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 17 }],
        graph: Some(graph),
        ..Default::default()
    }
}

/// A planned tract model, ready to run.
pub type TractPlan = Arc<TypedRunnableModel>;

/// The case with the parameters of `params` (a generated network or layer), loaded by tract's ONNX front end,
/// optimised (`into_optimized`) and planned (`into_runnable`).
///
/// # Panics
///
/// As [`onnx_model`].
pub fn tract_plan<P: Parameters<f32>>(case: &Case, params: &P) -> TractResult<TractPlan> {
    tract_plan_with(case, &onnx_tensors(params))
}

/// The case with the given parameter tensors (as [`onnx_tensors`] lists them), loaded, optimised and planned
/// by tract as [`tract_plan`] does.
///
/// # Panics
///
/// As [`onnx_model`].
pub fn tract_plan_with(case: &Case, tensors: &[OnnxTensor]) -> TractResult<TractPlan> {
    let proto = onnx_model(case, tensors);
    tract_onnx::onnx().model_for_proto_model(&proto)?.into_optimized()?.into_runnable()
}

/// One input sample of the case as a tract value `[1, C, H, W]`; `x` holds it channel-major (the generated
/// networks' layout).
pub fn tract_input(case: &Case, x: &[f32]) -> TractResult<TValue> {
    let [c, h, w] = case.input;
    Ok(Tensor::from_shape(&[1, c, h, w], x)?.into())
}

/// The elements of a model's one output, row-major.
pub fn tract_output(outputs: &[TValue]) -> TractResult<Vec<f32>> {
    ensure!(outputs.len() == 1, "one output, got {}", outputs.len());
    Ok(outputs[0].to_plain_array_view::<f32>()?.iter().copied().collect())
}

/// Runs the plan once on the input sample `x` (channel-major) and returns its output, row-major.
pub fn run_tract(plan: &TractPlan, case: &Case, x: &[f32]) -> TractResult<Vec<f32>> {
    tract_output(&plan.run(tvec!(tract_input(case, x)?))?)
}

/// How far tract may differ from the generated network per output element, relatively and absolutely: `|tract -
/// generated| <= TRACT_TOLERANCE * (1 + |generated|)`.
pub const TRACT_TOLERANCE: f32 = 1e-3;

/// The largest `|got - want| / (1 + |want|)` over equally long slices: at most [`TRACT_TOLERANCE`] when they
/// agree.
///
/// # Panics
///
/// If the lengths differ.
pub fn max_scaled_diff(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len(), "lengths");
    got.iter().zip(want).map(|(g, w)| (g - w).abs() / (1.0 + w.abs())).fold(0.0, f32::max)
}
