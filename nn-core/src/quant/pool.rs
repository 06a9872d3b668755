//! Pooling in int8 (TFLite's `MAX_POOL_2D` and `AVERAGE_POOL_2D`): no requantisation, the output keeps the
//! input's scale and zero point.

use super::conv::Window;

/// What a pooling window computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
#[repr(u8)]
pub enum PoolKind {
    /// The largest value the window covers.
    Max = 0,
    /// The mean of the values the window covers inside the input (padding is not counted), rounded half away
    /// from zero.
    Average,
}

/// A pooling layer over channel-last int8 activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct QPool2d {
    /// Maximum or average.
    pub kind: PoolKind,
    /// The window (dilation 1).
    pub window: Window,
    /// Lower clamp of the output (a fused activation's, or -128).
    pub min: i8,
    /// Upper clamp of the output.
    pub max: i8,
}

impl QPool2d {
    /// Forward of one sample: `IN = h * w * channels`, `OUT = out_h * out_w * channels`.
    ///
    /// # Panics
    /// If the sizes disagree with the window.
    #[inline]
    pub fn forward<const IN: usize, const OUT: usize>(&self, x: &[i8; IN], y: &mut [i8; OUT]) {
        let g = &self.window;
        let c = g.channels;
        assert!(IN == g.inputs() && OUT == g.positions() * c);
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                // The taps inside the input: a window never lies wholly in the padding (the padding is less
                // than the window), so `count` is at least one.
                let y0 = (oy * g.sh) as isize - g.pad_top as isize;
                let x0 = (ox * g.sw) as isize - g.pad_left as isize;
                let (ky0, ky1) = ((-y0).max(0) as usize, (g.h as isize - y0).clamp(0, g.kh as isize) as usize);
                let (kx0, kx1) = ((-x0).max(0) as usize, (g.w as isize - x0).clamp(0, g.kw as isize) as usize);
                let count = ((ky1.saturating_sub(ky0)) * (kx1.saturating_sub(kx0))) as i32;
                let out = &mut y[(oy * g.out_w + ox) * c..][..c];
                for ch in 0..c {
                    let mut acc: i32 = if self.kind == PoolKind::Max { i32::from(i8::MIN) } else { 0 };
                    for ky in ky0..ky1 {
                        for kx in kx0..kx1 {
                            let iy = (y0 + ky as isize) as usize;
                            let ix = (x0 + kx as isize) as usize;
                            let v = i32::from(x[(iy * g.w + ix) * c + ch]);
                            acc = if self.kind == PoolKind::Max { acc.max(v) } else { acc + v };
                        }
                    }
                    if self.kind == PoolKind::Average && count > 0 {
                        acc = if acc > 0 { (acc + count / 2) / count } else { (acc - count / 2) / count };
                    }
                    out[ch] = acc.clamp(i32::from(self.min), i32::from(self.max)) as i8;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::Padding;

    #[test]
    fn average_rounds_half_away_and_ignores_padding() {
        let window = Window::new((2, 3, 1), (2, 2), (2, 2), (1, 1), Padding::Same).unwrap();
        assert_eq!((window.out_h, window.out_w, window.pad_top, window.pad_left), (1, 2, 0, 0));
        let avg = QPool2d { kind: PoolKind::Average, window, min: -128, max: 127 };
        let mut y = [0; 2];
        // Windows {1, 2, 4, 5} -> 12/4 = 3; {3, 6} (the rest is padding) -> 9/2 = 4.5 -> 5.
        avg.forward(&[1, 2, 3, 4, 5, 6], &mut y);
        assert_eq!(y, [3, 5]);
        avg.forward(&[-1, -2, -3, -4, -5, -6], &mut y);
        assert_eq!(y, [-3, -5]);
        let max = QPool2d { kind: PoolKind::Max, window, min: -128, max: 4 };
        max.forward(&[1, 2, 3, 4, 5, 6], &mut y);
        assert_eq!(y, [4, 4]);
        max.forward(&[-1, -2, -3, -4, -5, -6], &mut y);
        assert_eq!(y, [-1, -3]);
    }
}
