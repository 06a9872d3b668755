//! Post-training quantisation of an `f32`/`f64` network into an int8 weights file, following TFLite's full
//! integer scheme: per-channel symmetric int8 weights, int32 biases, per-tensor asymmetric int8 activations
//! whose ranges are calibrated on samples, batch normalisation folded into the layer before it.

use super::arith::Fused;
use crate::network::BatchNetwork;

/// What a layer of a network becomes in int8 (the [`Quantize`] description `network!` generates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StageKind {
    /// A dense layer with a bias.
    Dense,
    /// A convolution: ordinary, or depthwise (one group per input channel); over 2-D planes or 1-D.
    Conv {
        /// One group per input channel.
        depthwise: bool,
        /// Over 2-D planes.
        two_d: bool,
    },
    /// Batch normalisation, folded into the dense or convolutional layer before it.
    BatchNorm,
    /// Max or average pooling: the output keeps the input's parameters.
    Pool,
    /// `Flatten`/`Reshape`: nothing changes but the shape.
    Reshape,
    /// An activation fused into the layer before it as a clamp.
    Clamp(Fused),
    /// Softmax: the output's parameters are fixed (1/256, -128).
    Softmax,
    /// Nothing at inference (dropout, identity).
    Identity,
}

/// One top-level layer of a network, as [`quantize`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stage {
    /// The layer's name (its parameters are `NAME.weight`, `NAME.bias`).
    pub name: &'static str,
    /// What it becomes.
    pub kind: StageKind,
    /// Values in, per sample.
    pub inputs: usize,
    /// Values out, per sample.
    pub outputs: usize,
    /// The planes arriving, `(channels, height, width)`, when they are planes.
    pub planes: Option<(usize, usize, usize)>,
    /// A convolution's kernel `(height, width)` (`(1, k)` over 1-D planes); `(0, 0)` for other layers.
    pub kernel: (usize, usize),
}

/// A network `network!` can quantise: every top-level layer has an int8 form. Generated for such networks.
pub trait Quantize: BatchNetwork {
    /// The layers, in order.
    const STAGES: &'static [Stage];

    /// Layer `i`'s output for the one sample of `cache`, after `forward_batch_in`.
    fn stage_output(cache: &Self::BatchCache<1>, i: usize) -> &[Self::Scalar];

    /// The input of the one sample of `cache`.
    fn stage_input(cache: &Self::BatchCache<1>) -> &[Self::Scalar];
}

/// Post-training quantisation: runs `net` on every calibration sample (inference mode), takes each activation's
/// range, and returns the int8 weights file an `#[int8]` declaration of the same layers compiles in (or
/// `NAME::load` reads at run time). Weights are quantised per output channel (`max |w| / 127`), biases to
/// `s_in * s_w`, batch normalisation folded into the layer before it, the columns of a dense layer after
/// `Flatten` reordered for channel-last planes. The int8 network takes its planes channel-last:
/// [`to_channel_last`] converts an input.
///
/// An error names a layer whose weights or calibrated range are not finite, or an empty calibration set.
#[cfg(feature = "alloc")]
pub fn quantize<'s, N>(
    net: &N,
    samples: impl IntoIterator<Item = &'s N::InputBatch<1>>,
) -> Result<alloc::vec::Vec<u8>, crate::io::WeightsError>
where
    N: Quantize,
    N::InputBatch<1>: 's,
{
    use super::arith::{QuantParams, round_f64};
    use crate::Float as _;
    use crate::io::WeightsError;
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::vec::Vec;
    use safetensors::tensor::Dtype;

    let stages = N::STAGES;
    // Ranges: the input's, then every layer's output, widened to include 0.
    let mut ranges = vec![(0.0f64, 0.0f64); stages.len() + 1];
    let mut cache: alloc::boxed::Box<N::BatchCache<1>> = bytemuck::zeroed_box();
    let mut count = 0usize;
    let widen = |r: &mut (f64, f64), values: &[N::Scalar]| {
        for v in values {
            let v = v.to_f64();
            if v.is_finite() {
                r.0 = r.0.min(v);
                r.1 = r.1.max(v);
            }
        }
    };
    for x in samples {
        net.forward_batch_in(x, &mut cache);
        widen(&mut ranges[0], N::stage_input(&cache));
        for (i, r) in ranges[1..].iter_mut().enumerate() {
            widen(r, N::stage_output(&cache, i));
        }
        count += 1;
    }
    if count == 0 {
        return Err(WeightsError::Quantization {
            name: "input".into(),
            what: "no calibration samples: activation ranges come from running the network".into(),
        });
    }
    let params = |(lo, hi): (f64, f64)| QuantParams::from_range(lo as f32, hi as f32);

    // Every tensor of the network by name, as f64 values in PyTorch's row-major layout.
    let tensor = |name: &str| -> Option<(usize, usize, Vec<f64>)> {
        let tensors = (0..N::TENSORS).filter_map(|i| net.tensor(i));
        let buffers = (0..N::BUFFERS).filter_map(|i| net.buffer(i));
        tensors.chain(buffers).find(|t| t.name.matches(name)).map(|t| {
            let (rows, cols) = (t.rows, t.cols);
            let v = (0..rows * cols).map(|k| t.data[(k % cols) * rows + k / cols].to_f64()).collect();
            (rows, cols, v)
        })
    };
    let missing = |name: &str| WeightsError::Missing { name: name.to_string() };

    let mut out: super::file::Tensors = Vec::new();
    let input = params(ranges[0]);
    out.push(("input.scale".into(), Dtype::F32, vec![], input.scale.to_le_bytes().to_vec()));
    out.push(("input.zero_point".into(), Dtype::I32, vec![], input.zero_point.to_le_bytes().to_vec()));
    let mut current = input;
    let mut i = 0;
    while i < stages.len() {
        let s = &stages[i];
        match s.kind {
            StageKind::Dense | StageKind::Conv { .. } => {
                let wname = alloc::format!("{}.weight", s.name);
                let bname = alloc::format!("{}.bias", s.name);
                let (rows, cols, mut w) = tensor(&wname).ok_or_else(|| missing(&wname))?;
                let mut b = tensor(&bname).ok_or_else(|| missing(&bname))?.2;
                // The layers after it that run in the same int8 layer: batch norm (folded), activations
                // (clamps), dropout; the output's range is the last one's.
                let mut j = i + 1;
                while j < stages.len()
                    && matches!(stages[j].kind, StageKind::BatchNorm | StageKind::Clamp(_) | StageKind::Identity)
                {
                    if stages[j].kind == StageKind::BatchNorm {
                        let get = |t: &str| {
                            let n = alloc::format!("{}.{t}", stages[j].name);
                            tensor(&n).map(|t| t.2).ok_or_else(|| missing(&n))
                        };
                        let (gamma, beta, mean, var) =
                            (get("weight")?, get("bias")?, get("running_mean")?, get("running_var")?);
                        for o in 0..rows {
                            let k = gamma[o] / (var[o] + crate::layer::BATCH_NORM_EPS).sqrt();
                            for v in &mut w[o * cols..(o + 1) * cols] {
                                *v *= k;
                            }
                            b[o] = (b[o] - mean[o]) * k + beta[o];
                        }
                    }
                    j += 1;
                }
                // A dense layer on flattened planes reads them channel-last in int8: (h, w, c) order.
                if s.kind == StageKind::Dense
                    && let Some((c, h, wd)) = s.planes
                {
                    let chw = w.clone();
                    for o in 0..rows {
                        for ci in 0..c {
                            for y in 0..h {
                                for x in 0..wd {
                                    w[o * cols + (y * wd + x) * c + ci] = chw[o * cols + (ci * h + y) * wd + x];
                                }
                            }
                        }
                    }
                }
                let output = params(ranges[j]);
                let mut q = Vec::with_capacity(w.len());
                let (mut scales, mut bias) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
                for o in 0..rows {
                    let row = &w[o * cols..(o + 1) * cols];
                    let max = row.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                    if !max.is_finite() || !b[o].is_finite() {
                        return Err(WeightsError::Quantization {
                            name: wname.clone(),
                            what: alloc::format!("output channel {o} has a weight or bias that is not finite"),
                        });
                    }
                    let scale = if max > 0.0 { (max / 127.0) as f32 } else { 1.0 };
                    q.extend(row.iter().map(|v| round_f64(v / f64::from(scale)).clamp(-127.0, 127.0) as i8 as u8));
                    let bias_scale = f64::from(current.scale) * f64::from(scale);
                    bias.push(round_f64(b[o] / bias_scale).clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32);
                    scales.push(scale);
                }
                let shape = match s.kind {
                    StageKind::Conv { depthwise, two_d } => {
                        let (c, _, _) = s.planes.unwrap_or((1, 1, 1));
                        let per_group = if depthwise { 1 } else { c };
                        let (kh, kw) = s.kernel;
                        if two_d { vec![rows, per_group, kh, kw] } else { vec![rows, per_group, kw] }
                    }
                    _ => vec![rows, cols],
                };
                let n = |t: &str| alloc::format!("{}.{t}", s.name);
                out.push((n("weight"), Dtype::I8, shape, q));
                out.push((
                    n("weight_scale"),
                    Dtype::F32,
                    vec![rows],
                    scales.iter().flat_map(|v| v.to_le_bytes()).collect(),
                ));
                out.push((n("bias"), Dtype::I32, vec![rows], bias.iter().flat_map(|v| v.to_le_bytes()).collect()));
                out.push((n("output_scale"), Dtype::F32, vec![], output.scale.to_le_bytes().to_vec()));
                out.push((n("output_zero_point"), Dtype::I32, vec![], output.zero_point.to_le_bytes().to_vec()));
                current = output;
                i = j;
            }
            StageKind::Softmax => {
                current = QuantParams::new(1.0 / 256.0, -128);
                i += 1;
            }
            // Pools, reshapes and clamps after them keep the parameters (a pool's output lies in its input's
            // range); batch norm elsewhere has no int8 form, which the declaration already refused.
            _ => i += 1,
        }
    }
    let _ = current;
    super::file::serialize(&out)
}

/// Planes of `channels x height x width` values stored channel-major (the `f32` networks' layout) rewritten
/// channel-last (the int8 networks' layout).
pub fn to_channel_last<T: Copy>(chw: &[T], channels: usize, height: usize, width: usize, hwc: &mut [T]) {
    for c in 0..channels {
        for y in 0..height {
            for x in 0..width {
                hwc[(y * width + x) * channels + c] = chw[(c * height + y) * width + x];
            }
        }
    }
}
