//! Softmax in int8, as TFLite's CPU kernels compute it: exponentials of the integer differences from a table
//! of 256 `f32` values, a float sum, and the probabilities rounded into the output's integers.

use super::arith::{QuantParams, round_f32};

/// A softmax over one vector of int8 logits. The output's parameters are TFLite's fixed ones for int8
/// softmax (scale 1/256, zero point -128), so probabilities 0..1 map to -128..127.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct QSoftmax {
    /// `exp(-beta * s_in * d)` at index `255 - d` for integer differences `d` in `0..=255`.
    pub table: [f32; 256],
    /// The output's parameters.
    pub output: QuantParams,
}

impl QSoftmax {
    /// The output parameters of every int8 softmax.
    pub const OUTPUT: QuantParams = QuantParams::new(1.0 / 256.0, -128);

    /// A softmax of `beta * x` for logits of scale `input_scale`.
    pub fn new(input_scale: f32, beta: f32) -> Self {
        let step = -input_scale * beta;
        let mut table = [0.0f32; 256];
        for d in 0..256 {
            table[255 - d] = exp(step * d as f32);
        }
        Self { table, output: Self::OUTPUT }
    }

    /// Forward of one vector.
    #[inline]
    pub fn forward<const N: usize>(&self, x: &[i8; N], y: &mut [i8; N]) {
        let max = x.iter().copied().max().map_or(0, i32::from);
        // `e(v) = table[255 - max + v]`, `exp(s_in * beta * (v - max))`.
        let e = |v: i8| self.table[(255 - max + i32::from(v)) as usize];
        let mut sum = 0.0f32;
        for &v in x {
            sum += e(v);
        }
        let inv = 1.0 / (sum * self.output.scale);
        for (o, &v) in y.iter_mut().zip(x) {
            let q = round_f32(e(v) * inv) as i32 + self.output.zero_point;
            *o = q.clamp(-128, 127) as i8;
        }
    }
}

#[inline]
fn exp(x: f32) -> f32 {
    #[cfg(all(feature = "std", not(feature = "libm")))]
    return x.exp();
    #[cfg(not(all(feature = "std", not(feature = "libm"))))]
    return libm::expf(x);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_gives_probabilities_in_256ths() {
        let s = QSoftmax::new(0.1, 1.0);
        let mut y = [0; 3];
        // Equal logits: a third each, 85.33/256 -> 85 - 128.
        s.forward(&[5, 5, 5], &mut y);
        assert_eq!(y, [-43; 3]);
        // 1.1 apart: e^-1.1 = 0.3329, sum 2.3329: 256 * [0.1427, 0.4287, 0.4287] = [36.5, 109.7, 109.7].
        s.forward(&[0, 11, 11], &mut y);
        assert_eq!(y, [-91, -18, -18]);
        // A dominant logit saturates at 127 (255/256 ~ 1).
        s.forward(&[-128, 127, -128], &mut y);
        assert_eq!(y, [-128, 127, -128]);
    }
}
