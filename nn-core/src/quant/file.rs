//! Int8 weights files: read into the layers of an `#[int8]` network at run time, and written by
//! [`quantize`](super::quantize).
//!
//! The format is safetensors: `input.scale` (`F32`, shape `[]`), `input.zero_point` (`I32`, `[]`), and for every
//! dense or convolutional layer `L`: `L.weight` (`I8`, PyTorch's layout), `L.weight_scale` (`F32`, one per output
//! channel), `L.bias` (`I32`), `L.output_scale` (`F32`, `[]`), `L.output_zero_point` (`I32`, `[]`). `network!`
//! reads the same file at compile time for `#[int8] #[weights = ".."]`.

use super::arith::{Fused, Multiplier, QuantParams};
use super::conv::{QConv2d, QDepthwiseConv2d, Window};
use super::dense::QDense;
use crate::io::WeightsError;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use safetensors::tensor::{Dtype, SafeTensors};

/// An int8 weights file being read into a network: every tensor read is remembered, so that
/// [`Int8File::finish`] can refuse tensors the network does not have.
pub struct Int8File<'a> {
    file: SafeTensors<'a>,
    read: Vec<String>,
}

fn err_format(e: impl core::fmt::Display) -> WeightsError {
    WeightsError::Format(e.to_string())
}

impl<'a> Int8File<'a> {
    /// Parses the file.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WeightsError> {
        Ok(Self { file: SafeTensors::deserialize(bytes).map_err(err_format)?, read: Vec::new() })
    }

    /// The bytes of tensor `name`, checked to be `dtype` of `shape`.
    fn tensor(&mut self, name: &str, dtype: Dtype, shape: &[usize]) -> Result<&'a [u8], WeightsError> {
        let view = self.file.tensor(name).map_err(|_| WeightsError::Missing { name: name.to_string() })?;
        self.read.push(name.to_string());
        if view.shape() != shape {
            return Err(WeightsError::Shape {
                name: name.into(),
                expected: shape.to_vec(),
                found: view.shape().to_vec(),
            });
        }
        if view.dtype() != dtype {
            let (expected, found) = (alloc::format!("{dtype:?}"), alloc::format!("{:?}", view.dtype()));
            return Err(WeightsError::Dtype { name: name.into(), expected, found });
        }
        Ok(view.data())
    }

    fn scalar4(&mut self, name: &str, dtype: Dtype) -> Result<[u8; 4], WeightsError> {
        let b = self.tensor(name, dtype, &[])?;
        Ok([b[0], b[1], b[2], b[3]])
    }

    /// The parameters `PREFIX.scale`/`PREFIX.zero_point` (or `output_scale`/`output_zero_point`), checked.
    fn params(&mut self, scale: &str, zero_point: &str) -> Result<QuantParams, WeightsError> {
        let s = f32::from_le_bytes(self.scalar4(scale, Dtype::F32)?);
        let z = i32::from_le_bytes(self.scalar4(zero_point, Dtype::I32)?);
        check(scale, s, z)?;
        Ok(QuantParams::new(s, z))
    }

    /// The network input's parameters.
    pub fn input(&mut self) -> Result<QuantParams, WeightsError> {
        self.params("input.scale", "input.zero_point")
    }

    /// The tensors of layer `name` with `out` output channels and a weight of `shape`: the weight (row-major),
    /// the per-channel scales, the biases, the output parameters.
    #[allow(clippy::type_complexity)]
    fn layer(
        &mut self,
        name: &str,
        shape: &[usize],
    ) -> Result<(&'a [u8], Vec<f32>, Vec<i32>, QuantParams), WeightsError> {
        let out = shape[0];
        let w = self.tensor(&alloc::format!("{name}.weight"), Dtype::I8, shape)?;
        let scale_name = alloc::format!("{name}.weight_scale");
        let scales: Vec<f32> = self
            .tensor(&scale_name, Dtype::F32, &[out])?
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(s) = scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(WeightsError::Quantization {
                name: scale_name,
                what: alloc::format!("a weight scale is {s}; scales must be positive and finite"),
            });
        }
        let bias = self
            .tensor(&alloc::format!("{name}.bias"), Dtype::I32, &[out])?
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let output =
            self.params(&alloc::format!("{name}.output_scale"), &alloc::format!("{name}.output_zero_point"))?;
        Ok((w, scales, bias, output))
    }

    /// Reads dense layer `name` into `layer`, whose input has `input`'s parameters; returns the output's.
    pub fn dense<const IN: usize, const OUT: usize>(
        &mut self,
        name: &str,
        input: QuantParams,
        fused: Fused,
        layer: &mut QDense<IN, OUT>,
    ) -> Result<QuantParams, WeightsError> {
        let (w, scales, bias, output) = self.layer(name, &[OUT, IN])?;
        for (o, row) in layer.weight.iter_mut().enumerate() {
            for (i, v) in row.iter_mut().enumerate() {
                *v = w[o * IN + i] as i8;
            }
        }
        fill(&mut layer.bias, &mut layer.multiplier, &bias, &scales, input, output);
        (layer.input_zero_point, layer.output_zero_point) = (input.zero_point, output.zero_point);
        (layer.min, layer.max) = fused.range(output);
        Ok(output)
    }

    /// Reads convolution `name` (PyTorch weight `[CO, channels, kh, kw]`, or `[CO, channels, kw]` when not
    /// `two_d`) into `layer` over `window`; returns the output's parameters.
    #[allow(clippy::too_many_arguments)]
    pub fn conv<const CO: usize, const K: usize>(
        &mut self,
        name: &str,
        input: QuantParams,
        fused: Fused,
        window: Window,
        two_d: bool,
        layer: &mut QConv2d<CO, K>,
    ) -> Result<QuantParams, WeightsError> {
        let (c, taps) = (window.channels, window.kh * window.kw);
        let shape: &[usize] = if two_d { &[CO, c, window.kh, window.kw] } else { &[CO, c, window.kw] };
        let (w, scales, bias, output) = self.layer(name, shape)?;
        for (o, row) in layer.weight.iter_mut().enumerate() {
            for t in 0..taps {
                for ci in 0..c {
                    row[t * c + ci] = w[(o * c + ci) * taps + t] as i8;
                }
            }
        }
        fill(&mut layer.bias, &mut layer.multiplier, &bias, &scales, input, output);
        layer.window = window;
        (layer.input_zero_point, layer.output_zero_point) = (input.zero_point, output.zero_point);
        (layer.min, layer.max) = fused.range(output);
        Ok(output)
    }

    /// Reads depthwise convolution `name` (PyTorch weight `[CO, 1, kh, kw]`, or `[CO, 1, kw]`) into `layer`.
    #[allow(clippy::too_many_arguments)]
    pub fn depthwise<const CO: usize, const KK: usize>(
        &mut self,
        name: &str,
        input: QuantParams,
        fused: Fused,
        window: Window,
        two_d: bool,
        layer: &mut QDepthwiseConv2d<CO, KK>,
    ) -> Result<QuantParams, WeightsError> {
        let taps = window.kh * window.kw;
        let shape: &[usize] = if two_d { &[CO, 1, window.kh, window.kw] } else { &[CO, 1, window.kw] };
        let (w, scales, bias, output) = self.layer(name, shape)?;
        for (t, row) in layer.weight.iter_mut().enumerate() {
            for (o, v) in row.iter_mut().enumerate() {
                *v = w[o * taps + t] as i8;
            }
        }
        fill(&mut layer.bias, &mut layer.multiplier, &bias, &scales, input, output);
        layer.window = window;
        (layer.input_zero_point, layer.output_zero_point) = (input.zero_point, output.zero_point);
        (layer.min, layer.max) = fused.range(output);
        Ok(output)
    }

    /// Refuses tensors that no layer read.
    pub fn finish(self) -> Result<(), WeightsError> {
        let mut names = self.file.names();
        names.sort_unstable();
        match names.into_iter().find(|n| !self.read.iter().any(|r| r == *n)) {
            Some(n) => Err(WeightsError::Unexpected { name: n.to_string() }),
            None => Ok(()),
        }
    }
}

/// Biases and TFLite's per-channel multipliers `s_in * s_w / s_out`.
fn fill(
    bias: &mut [i32],
    multiplier: &mut [Multiplier],
    b: &[i32],
    scales: &[f32],
    input: QuantParams,
    output: QuantParams,
) {
    bias.copy_from_slice(b);
    for (m, &s) in multiplier.iter_mut().zip(scales) {
        *m = Multiplier::from_real(f64::from(input.scale) * f64::from(s) / f64::from(output.scale));
    }
}

/// A scale must be positive and finite, a zero point an `i8`.
fn check(name: &str, scale: f32, zero_point: i32) -> Result<(), WeightsError> {
    if scale.is_finite() && scale > 0.0 && (-128..=127).contains(&zero_point) {
        Ok(())
    } else {
        Err(WeightsError::Quantization {
            name: name.to_string(),
            what: alloc::format!(
                "scale {scale} and zero point {zero_point}: a scale must be positive and finite, a zero point \
                 within -128..=127"
            ),
        })
    }
}

/// Tensors to write: name, dtype, shape, little-endian bytes.
pub(crate) type Tensors = Vec<(String, Dtype, Vec<usize>, Vec<u8>)>;

/// The safetensors bytes of `tensors`.
pub(crate) fn serialize(tensors: &Tensors) -> Result<Vec<u8>, WeightsError> {
    let views: Result<Vec<_>, _> = tensors
        .iter()
        .map(|(n, d, s, b)| safetensors::tensor::TensorView::new(*d, s.clone(), b).map(|v| (n.as_str(), v)))
        .collect();
    safetensors::serialize(views.map_err(err_format)?, None).map_err(err_format)
}
