//! Int8 inference in TFLite's quantisation scheme, bit-exact with its reference kernels.
//!
//! Activations are `i8` with per-tensor affine parameters ([`QuantParams`]: `real = scale * (q - zero_point)`);
//! weights are `i8`, symmetric, per output channel or per tensor; biases are `i32` in the scale `s_in * s_w`.
//! A layer accumulates in `i32` and requantises with a fixed-point [`Multiplier`] (TFLite's
//! `MultiplyByQuantizedMultiplier`: rounding twice in convolutions, once in fully connected layers, as TFLite's
//! kernels do), adds the output's zero point and clamps to the fused
//! activation's range ([`Fused`]). Integer sums are exact, so any order of accumulation gives TFLite's result.
//!
//! Multi-dimensional activations are channel-last (`h x w x c`, TFLite's `NHWC` for one sample), unlike the
//! `f32` layers' channel-major layout; see [`Window`].
//!
//! ```
//! use nn_core::quant::{Fused, Multiplier, QDense, QuantParams};
//!
//! // y = relu(2 x0 - x1 + 1), inputs and outputs in steps of 0.5 around zero point 0.
//! let (input, output) = (QuantParams::new(0.5, 0), QuantParams::new(0.5, 0));
//! let w_scale = 1.0;
//! let (min, max) = Fused::Relu.range(output);
//! let layer = QDense::<2, 1> {
//!     weight: [[2, -1]],
//!     bias: [2], // 1.0 in the scale s_in * s_w = 0.5
//!     multiplier: [Multiplier::from_real(0.5 * w_scale / 0.5)],
//!     input_zero_point: input.zero_point,
//!     output_zero_point: output.zero_point,
//!     min,
//!     max,
//! };
//! let x = [input.quantize(1.5), input.quantize(1.0)];
//! let mut y = [0];
//! layer.forward(&x, &mut y);
//! assert_eq!(output.dequantize(y[0]), 3.0);
//! ```

mod arith;
mod calibrate;
mod conv;
mod dense;
#[cfg(feature = "alloc")]
mod file;
mod kernel;
mod pool;
mod softmax;

pub use arith::{
    Fused, Multiplier, QuantParams, requantize, requantize_once, round_f32, round_f64, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
};
#[cfg(feature = "alloc")]
pub use calibrate::quantize;
pub use calibrate::{Quantize, Stage, StageKind, to_channel_last};
pub use conv::{Padding, QConv2d, QDepthwiseConv2d, Window};
pub use dense::QDense;
#[cfg(feature = "alloc")]
pub use file::Int8File;
pub use kernel::rows_dot;
pub use pool::{PoolKind, QPool2d};
pub use softmax::QSoftmax;
