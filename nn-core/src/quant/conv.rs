//! Convolutions in int8 (TFLite's `CONV_2D` and `DEPTHWISE_CONV_2D`) over channel-last activations.

use super::arith::{Multiplier, requantize};

/// The geometry of an int8 convolution or pooling window over one sample of `h x w x channels` values stored
/// channel-last (`(y, x, c)` at `(y * w + x) * channels + c`, TFLite's `NHWC` for one sample). Padding is
/// given by its top and left sides and the output size, so TFLite's `SAME` padding, which puts the odd pixel
/// at the bottom or right, is expressed exactly. A 1-D layer has `h = kh = out_h = 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Window {
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Input channels.
    pub channels: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Vertical stride.
    pub sh: usize,
    /// Horizontal stride.
    pub sw: usize,
    /// Vertical dilation.
    pub dh: usize,
    /// Horizontal dilation.
    pub dw: usize,
    /// Padding rows above the input.
    pub pad_top: usize,
    /// Padding columns left of the input.
    pub pad_left: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
}

/// How a window's padding is chosen (TFLite's `Padding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Padding {
    /// No padding: only windows that fit.
    Valid,
    /// `ceil(size / stride)` outputs, the padding split with the odd pixel at the bottom or right.
    Same,
}

impl Window {
    /// A window with TFLite's padding rule. `None` when no output fits or a size is zero.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        (h, w, channels): (usize, usize, usize),
        (kh, kw): (usize, usize),
        (sh, sw): (usize, usize),
        (dh, dw): (usize, usize),
        padding: Padding,
    ) -> Option<Self> {
        if [h, w, channels, kh, kw, sh, sw, dh, dw].contains(&0) {
            return None;
        }
        let (eh, ew) = ((kh - 1).checked_mul(dh)?.checked_add(1)?, (kw - 1).checked_mul(dw)?.checked_add(1)?);
        let (out_h, out_w, pad_top, pad_left) = match padding {
            Padding::Valid => {
                if eh > h || ew > w {
                    return None;
                }
                ((h - eh) / sh + 1, (w - ew) / sw + 1, 0, 0)
            }
            Padding::Same => {
                let (oh, ow) = (h.div_ceil(sh), w.div_ceil(sw));
                let total_h = ((oh - 1) * sh + eh).saturating_sub(h);
                let total_w = ((ow - 1) * sw + ew).saturating_sub(w);
                (oh, ow, total_h / 2, total_w / 2)
            }
        };
        Some(Self { h, w, channels, kh, kw, sh, sw, dh, dw, pad_top, pad_left, out_h, out_w })
    }

    /// Values per input sample.
    #[inline]
    pub const fn inputs(&self) -> usize {
        self.h * self.w * self.channels
    }

    /// Output positions.
    #[inline]
    pub const fn positions(&self) -> usize {
        self.out_h * self.out_w
    }

    /// The input row and column under kernel tap `(ky, kx)` at output `(oy, ox)`, or `None` in the padding.
    #[inline]
    fn tap(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let y = (oy * self.sh + ky * self.dh).checked_sub(self.pad_top)?;
        let x = (ox * self.sw + kx * self.dw).checked_sub(self.pad_left)?;
        (y < self.h && x < self.w).then_some((y, x))
    }
}

/// A convolution on int8 activations with `CO` output channels of `K = kh * kw * channels` weights each:
/// per-channel symmetric int8 weights, int32 biases, one multiplier per output channel. Padding stands for the
/// input's zero point (real zero), as in TFLite.
///
/// `weight[co]` is TFLite's `[co, kh, kw, c]` filter row-major (`OHWI`); a PyTorch `[co, c, kh, kw]` weight is
/// permuted into it when a network is quantised.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct QConv2d<const CO: usize, const K: usize> {
    /// The window over the input.
    pub window: Window,
    /// Weights, one `kh x kw x channels` row per output channel.
    pub weight: [[i8; K]; CO],
    /// Biases in the accumulator's scale.
    pub bias: [i32; CO],
    /// Requantisation multiplier per output channel.
    pub multiplier: [Multiplier; CO],
    /// The input's zero point.
    pub input_zero_point: i32,
    /// The output's zero point.
    pub output_zero_point: i32,
    /// Lower clamp of the output.
    pub min: i8,
    /// Upper clamp of the output.
    pub max: i8,
}

impl<const CO: usize, const K: usize> QConv2d<CO, K> {
    /// Forward of one sample: `IN = h * w * channels` inputs, `OUT = out_h * out_w * CO` outputs, channel-last.
    ///
    /// # Panics
    /// If the sizes disagree with the window (a declaration never lets them).
    #[inline]
    pub fn forward<const IN: usize, const OUT: usize>(&self, x: &[i8; IN], y: &mut [i8; OUT]) {
        let g = &self.window;
        assert!(IN == g.inputs() && OUT == g.positions() * CO && K == g.kh * g.kw * g.channels);
        let c = g.channels;
        let zp = self.input_zero_point as i16;
        // The receptive field of one output position, offset by the zero point (padding is 0 then).
        let mut col = [0i16; K];
        let mut acc = [0i32; CO];
        let row = g.kw * c;
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                for ky in 0..g.kh {
                    let dst = &mut col[ky * row..][..row];
                    let Some(iy) = (oy * g.sh + ky * g.dh).checked_sub(g.pad_top).filter(|&iy| iy < g.h) else {
                        dst.fill(0);
                        continue;
                    };
                    let x0 = (ox * g.sw).checked_sub(g.pad_left);
                    match x0 {
                        // The whole kernel row inside the input: one contiguous run of `kw * c` values.
                        Some(x0) if g.dw == 1 && x0 + g.kw <= g.w => {
                            for (d, &v) in dst.iter_mut().zip(&x[(iy * g.w + x0) * c..][..row]) {
                                *d = i16::from(v) - zp;
                            }
                        }
                        _ => {
                            for kx in 0..g.kw {
                                let d = &mut dst[kx * c..][..c];
                                match g.tap(oy, ox, ky, kx) {
                                    Some((iy, ix)) => {
                                        for (d, &v) in d.iter_mut().zip(&x[(iy * g.w + ix) * c..][..c]) {
                                            *d = i16::from(v) - zp;
                                        }
                                    }
                                    None => d.fill(0),
                                }
                            }
                        }
                    }
                }
                super::kernel::rows_dot(self.weight.as_flattened(), &col, &mut acc);
                let out = &mut y[(oy * g.out_w + ox) * CO..][..CO];
                for co in 0..CO {
                    let acc = acc[co];
                    out[co] = requantize(
                        self.bias[co].wrapping_add(acc),
                        self.multiplier[co],
                        self.output_zero_point,
                        self.min,
                        self.max,
                    );
                }
            }
        }
    }
}

/// A depthwise convolution on int8 activations: each input channel `c` is convolved with `CO / channels`
/// (the depth multiplier) kernels of its own, output channel `c * multiplier + m`. `KK = kh * kw` taps.
///
/// `weight[tap]` holds the `CO` weights of one kernel tap, TFLite's `[1, kh, kw, CO]` layout; a PyTorch
/// grouped weight `[CO, 1, kh, kw]` is transposed into it.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct QDepthwiseConv2d<const CO: usize, const KK: usize> {
    /// The window over the input.
    pub window: Window,
    /// Weights, one row of `CO` per kernel tap.
    pub weight: [[i8; CO]; KK],
    /// Biases in the accumulator's scale.
    pub bias: [i32; CO],
    /// Requantisation multiplier per output channel.
    pub multiplier: [Multiplier; CO],
    /// The input's zero point.
    pub input_zero_point: i32,
    /// The output's zero point.
    pub output_zero_point: i32,
    /// Lower clamp of the output.
    pub min: i8,
    /// Upper clamp of the output.
    pub max: i8,
}

impl<const CO: usize, const KK: usize> QDepthwiseConv2d<CO, KK> {
    /// Forward of one sample, channel-last.
    ///
    /// # Panics
    /// If the sizes disagree with the window or `CO` is not a multiple of the input channels.
    #[inline]
    pub fn forward<const IN: usize, const OUT: usize>(&self, x: &[i8; IN], y: &mut [i8; OUT]) {
        let g = &self.window;
        assert!(IN == g.inputs() && OUT == g.positions() * CO && KK == g.kh * g.kw && CO.is_multiple_of(g.channels));
        let (c, mult) = (g.channels, CO / g.channels);
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let mut acc = [0i32; CO];
                for ky in 0..g.kh {
                    for kx in 0..g.kw {
                        let Some((iy, ix)) = g.tap(oy, ox, ky, kx) else { continue };
                        let xs = &x[(iy * g.w + ix) * c..][..c];
                        let ws = &self.weight[ky * g.kw + kx];
                        for co in 0..CO {
                            acc[co] += i32::from(ws[co]) * (i32::from(xs[co / mult]) - self.input_zero_point);
                        }
                    }
                }
                let out = &mut y[(oy * g.out_w + ox) * CO..][..CO];
                for co in 0..CO {
                    out[co] = requantize(
                        self.bias[co].wrapping_add(acc[co]),
                        self.multiplier[co],
                        self.output_zero_point,
                        self.min,
                        self.max,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_the_odd_pixel_after() {
        // 49 x 40 input, 10 x 8 kernel, stride 2: 25 x 20 outputs, padding 9 rows (4 above) and 6 columns.
        let g = Window::new((49, 40, 1), (10, 8), (2, 2), (1, 1), Padding::Same).unwrap();
        assert_eq!((g.out_h, g.out_w, g.pad_top, g.pad_left), (25, 20, 4, 3));
        let v = Window::new((5, 5, 2), (3, 3), (2, 2), (1, 1), Padding::Valid).unwrap();
        assert_eq!((v.out_h, v.out_w, v.pad_top, v.pad_left), (2, 2, 0, 0));
        assert_eq!(Window::new((2, 2, 1), (3, 3), (1, 1), (1, 1), Padding::Valid), None);
        assert_eq!(Window::new((2, 2, 0), (1, 1), (1, 1), (1, 1), Padding::Valid), None);
    }

    #[test]
    fn padding_stands_for_the_input_zero_point() {
        // 2 x 2 x 1 input, 3 x 3 kernel of ones, SAME: every output sums the in-image values only.
        let window = Window::new((2, 2, 1), (3, 3), (1, 1), (1, 1), Padding::Same).unwrap();
        let conv = QConv2d::<1, 9> {
            window,
            weight: [[1; 9]],
            bias: [0],
            multiplier: [Multiplier::from_real(0.5)],
            input_zero_point: 5,
            output_zero_point: 0,
            min: -128,
            max: 127,
        };
        let mut y = [0; 4];
        conv.forward(&[7, 9, 11, 13], &mut y);
        // (2 + 4 + 6 + 8) / 2 everywhere.
        assert_eq!(y, [10; 4]);
        let dw = QDepthwiseConv2d::<2, 9> {
            window,
            weight: [[1, -1]; 9],
            bias: [0, 1],
            multiplier: [Multiplier::from_real(0.5); 2],
            input_zero_point: 5,
            output_zero_point: 0,
            min: -128,
            max: 127,
        };
        let mut y = [0; 8];
        dw.forward(&[7, 9, 11, 13], &mut y);
        // Depth multiplier 2: channel 0 sums, channel 1 negates: (1 - 20) / 2 = -9.5, a tie the fixed-point
        // multiplication rounds up, to -9.
        assert_eq!(y, [10, -9, 10, -9, 10, -9, 10, -9]);
    }
}
