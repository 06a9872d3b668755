//! Fully connected layer in int8 (TFLite's `FULLY_CONNECTED`).

use super::arith::{Multiplier, requantize_once};

/// A dense layer on int8 activations: `y = clamp(zp_out + M (b + W (x - zp_in)))`, with int8 weights
/// (symmetric, zero point 0), int32 biases in the scale `s_in * s_w`, and one requantisation multiplier per
/// output (`M = s_in * s_w / s_out`; all equal when the weights are quantised per tensor), applied with one
/// rounding as TFLite's fully connected kernel does ([`Multiplier::apply_once`]).
///
/// `weight[o]` is row `o` of the `OUT x IN` matrix, PyTorch's and TFLite's `[out, in]` layout.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct QDense<const IN: usize, const OUT: usize> {
    /// Weights, one row per output.
    pub weight: [[i8; IN]; OUT],
    /// Biases in the accumulator's scale.
    pub bias: [i32; OUT],
    /// Requantisation multiplier per output.
    pub multiplier: [Multiplier; OUT],
    /// The input's zero point.
    pub input_zero_point: i32,
    /// The output's zero point.
    pub output_zero_point: i32,
    /// Lower clamp of the output (the fused activation's, or -128).
    pub min: i8,
    /// Upper clamp of the output.
    pub max: i8,
}

impl<const IN: usize, const OUT: usize> QDense<IN, OUT> {
    /// Forward of one sample.
    #[inline]
    pub fn forward(&self, x: &[i8; IN], y: &mut [i8; OUT]) {
        // The zero point subtracted once: `x - zp` lies in -255..=255.
        let zp = self.input_zero_point as i16;
        let xa: [i16; IN] = core::array::from_fn(|i| i16::from(x[i]) - zp);
        let mut acc = [0i32; OUT];
        super::kernel::rows_dot(self.weight.as_flattened(), &xa, &mut acc);
        for o in 0..OUT {
            let acc = acc[o];
            y[o] = requantize_once(
                self.bias[o].wrapping_add(acc),
                self.multiplier[o],
                self.output_zero_point,
                self.min,
                self.max,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::{Fused, QuantParams};

    #[test]
    fn dense_matches_a_hand_computed_requantisation() {
        // Input scale 0.5, zero point -1; weights scale 0.25; output scale 1, zero point 3.
        let (input, output) = (QuantParams::new(0.5, -1), QuantParams::new(1.0, 3));
        let m = Multiplier::from_real(0.5 * 0.25 / 1.0);
        let (min, max) = Fused::Relu.range(output);
        let layer = QDense::<3, 2> {
            weight: [[4, -8, 2], [-4, 0, 1]],
            bias: [8, -40],
            multiplier: [m; 2],
            input_zero_point: input.zero_point,
            output_zero_point: output.zero_point,
            min,
            max,
        };
        let mut y = [0; 2];
        layer.forward(&[3, 1, -1], &mut y);
        // Real inputs [2, 1, 0]; real weights [[1, -2, .5], [-1, 0, .25]]; real biases [1, -5]:
        // [2 - 2 + 0 + 1, -2 + 0 + 0 - 5] = [1, -7] -> ReLU -> [1, 0] -> + 3.
        assert_eq!(y, [4, 3]);
        layer.forward(&[7, -1, 9], &mut y);
        // Real inputs [4, 0, 5]: [4 + 2.5 + 1, -4 + 1.25 - 5] = [7.5, -7.75] -> [8 (ties away), 0] + 3.
        assert_eq!(y, [11, 3]);
    }
}
