//! Winograd's minimal filtering F(2x2, 3x3) for 3x3 convolutions at unit stride and dilation.
//!
//! Each 2x2 block of outputs ("tile") of each output channel is computed from a 4x4 piece of each input plane
//! with 16 multiplications per input channel instead of 36: `Y = Aᵀ [Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B)] A`. In matrix
//! form that is 16 independent products, one per element `ξ` of the 4x4 transformed tile:
//! `M_ξ[co, t] = Σ_ci U_ξ[co, ci] V_ξ[ci, t]`, with `U = G g Gᵀ` the transformed weights and `V = Bᵀ d B` the
//! transformed input tiles. Those products run on the implicit GEMM's register-blocked micro-kernels
//! ([`super::channel_blocks`]), 2.25 times fewer multiply-adds than the direct form.
//!
//! The weights are transformed on every call, from the layer's own `[out, in, kh, kw]` weights, by blocks that
//! stay in the second-level cache: that costs about 30 additions per input and output channel pair against
//! `2 x 16 x tiles` multiply-adds in the products, and no transformed copy can go stale after an optimizer step
//! or a direct write to the weights.
//!
//! Where it runs, measured on one core against the direct implicit GEMM (AVX-512, weights in cache): 64x16x16
//! -> 128 (64 tiles) 415 -> 338 us. On fewer tiles the transforms, the sixteen products' short runs and their
//! sums cost more than the multiply-adds saved: 32x16x16 -> 32 57 -> 65 us, 64x8x8 -> 64 62 -> 80 us, 256x8x8
//! -> 256 765 -> 980 us. So it takes planes of at least 16x16 outputs over at least 64 channels each side.
//!
//! The rounding differs from the direct form's: every value passes through sums of up to four terms (and
//! halvings, which are exact) before and after the products, so the error grows by a small constant factor.
//! The tests bound the difference from the exact convolution by `1e-6 Σ|w||x|` per output in `f32`, the bound
//! the direct form's tests use; the largest seen is 1.7e-7.

use super::{KC, Out, Panel, Rows, channel_blocks};
use crate::float::Float;
use crate::layer::conv::Geometry;

/// Input channels and output channels from which the transforms pay for themselves.
const MIN_CHANNELS: usize = 64;

/// Input channels per block of transformed weights (at most [`KC`], the rows the products take at once).
const CIB: usize = 64;

/// Values between consecutive V_ξ (and M_ξ) beyond their sizes.
const SKEW: usize = 16;

/// Output channels per block of transformed weights.
const COB: usize = 64;

/// Tiles (2x2 output blocks) from which the transforms pay for themselves.
const MIN_TILES: usize = 64;

/// Whether a convolution of geometry `g` to `co` output channels runs through F(2x2, 3x3): `f32`, 3x3 kernels
/// at unit stride and dilation, and enough channels and tiles that the transforms are a small part of the
/// work.
pub(super) fn applies<T: 'static>(g: &Geometry, co: usize) -> bool {
    core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>()
        && (g.kh, g.kw, g.sh, g.sw, g.dh, g.dw) == (3, 3, 1, 1, 1, 1)
        && g.channels >= MIN_CHANNELS
        && co >= MIN_CHANNELS
        && Tiles::of(g, 1).count >= MIN_TILES
}

/// The tiling of a geometry's output.
#[derive(Clone, Copy)]
struct Tiles {
    /// Tile rows and columns.
    rows: usize,
    cols: usize,
    /// Tiles.
    count: usize,
    /// Tiles rounded up to whole panels (the transformed input's row length).
    padded: usize,
    /// The padded input planes' height and width: every tile's 4x4 piece lies inside.
    hp: usize,
    wp: usize,
}

impl Tiles {
    fn of(g: &Geometry, panel: usize) -> Self {
        let (rows, cols) = (g.out_h().div_ceil(2), g.out_w().div_ceil(2));
        let count = rows * cols;
        Self { rows, cols, count, padded: count.next_multiple_of(panel), hp: 2 * rows + 2, wp: 2 * cols + 2 }
    }
}

/// Scratch values [`forward`] needs for `co` output channels, with panels of at most sixteen tiles.
pub(super) fn scratch(g: &Geometry, co: usize) -> usize {
    let tiles = Tiles::of(g, 1);
    // Whole panels of any width up to sixteen.
    let padded = tiles.count + 16;
    let ci = g.channels;
    ci * tiles.hp * tiles.wp
        + 16 * (ci * padded + SKEW)
        + 16 * CIB * COB
        + 16 * (padded * co + SKEW)
        + 8 * (tiles.cols + 1)
}

/// Values the transforms work on at once (sixteen `f32` lanes of AVX-512).
const LANES: usize = 16;

/// Values the weight and output transforms take: one scalar, or a vector of lanes transformed elementwise.
trait Lanes: Copy {
    fn add(self, other: Self) -> Self;
    fn sub(self, other: Self) -> Self;
    fn half(self) -> Self;
}

impl<T: Float> Lanes for T {
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        self + other
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        self - other
    }
    #[inline(always)]
    fn half(self) -> Self {
        self * T::from_f64(0.5)
    }
}

impl<T: Float> Lanes for [T; LANES] {
    // Loops rather than `array::from_fn`, whose closures were left as calls outside the vectorised clone.
    #[inline(always)]
    fn add(mut self, other: Self) -> Self {
        for (a, b) in self.iter_mut().zip(other) {
            *a += b;
        }
        self
    }
    #[inline(always)]
    fn sub(mut self, other: Self) -> Self {
        for (a, b) in self.iter_mut().zip(other) {
            *a -= b;
        }
        self
    }
    #[inline(always)]
    fn half(mut self) -> Self {
        for a in self.iter_mut() {
            *a *= T::from_f64(0.5);
        }
        self
    }
}

/// `to[..n] = from[..n]`, `n <= LANES`: a whole vector when `n` is `LANES` (a copy of a length known only at
/// run time is a call to `memcpy`).
#[inline(always)]
fn copy<T: Copy>(to: &mut [T], from: &[T], n: usize) {
    if n == LANES {
        to[..LANES].copy_from_slice(&from[..LANES]);
    } else {
        for (t, &f) in to[..n].iter_mut().zip(&from[..n]) {
            *t = f;
        }
    }
}

/// `Bᵀ d B` for a 4x4 input piece `d`, row-major (what the input transform computes, row by row).
#[cfg(test)]
#[inline(always)]
fn input_tile<T: Float>(d: [[T; 4]; 4]) -> [[T; 4]; 4] {
    let mut s = [[T::zero(); 4]; 4];
    for j in 0..4 {
        s[0][j] = d[0][j] - d[2][j];
        s[1][j] = d[1][j] + d[2][j];
        s[2][j] = d[2][j] - d[1][j];
        s[3][j] = d[1][j] - d[3][j];
    }
    s.map(|r| [r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3]])
}

/// `G g Gᵀ` for a 3x3 kernel `g`, row-major.
#[inline(always)]
fn weight_tile<L: Lanes>(g: [[L; 3]; 3]) -> [[L; 4]; 4] {
    let expand = |a: L, b: L, c: L| [a, a.add(b).add(c).half(), a.sub(b).add(c).half(), c];
    let gg = [expand(g[0][0], g[1][0], g[2][0]), expand(g[0][1], g[1][1], g[2][1]), expand(g[0][2], g[1][2], g[2][2])];
    [
        expand(gg[0][0], gg[1][0], gg[2][0]),
        expand(gg[0][1], gg[1][1], gg[2][1]),
        expand(gg[0][2], gg[1][2], gg[2][2]),
        expand(gg[0][3], gg[1][3], gg[2][3]),
    ]
}

/// `Aᵀ m A` for a 4x4 product tile `m`: the 2x2 outputs.
#[inline(always)]
fn output_tile<L: Lanes>(m: [[L; 4]; 4]) -> [[L; 2]; 2] {
    let t0 = [m[0][0].add(m[1][0]).add(m[2][0]), m[1][0].sub(m[2][0]).sub(m[3][0])];
    let t1 = [m[0][1].add(m[1][1]).add(m[2][1]), m[1][1].sub(m[2][1]).sub(m[3][1])];
    let t2 = [m[0][2].add(m[1][2]).add(m[2][2]), m[1][2].sub(m[2][2]).sub(m[3][2])];
    let t3 = [m[0][3].add(m[1][3]).add(m[2][3]), m[1][3].sub(m[2][3]).sub(m[3][3])];
    [
        [t0[0].add(t1[0]).add(t2[0]), t1[0].sub(t2[0]).sub(t3[0])],
        [t0[1].add(t1[1]).add(t2[1]), t1[1].sub(t2[1]).sub(t3[1])],
    ]
}

/// `yt = conv(x)` (no bias), position-major (`yt[p co + o]`), through F(2x2, 3x3), for a geometry [`applies`]
/// accepts: `w` is `co` rows of a column-major matrix with `stride` rows (as [`super::conv_forward_rows`]
/// takes), `buf` holds [`scratch`] values. Panels of `PB` tiles, `GATHER` of them per group.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn forward<T: Float, const PB: usize, const GATHER: usize, const FMA: bool, const ISA: u8>(
    w: &[T],
    stride: usize,
    co: usize,
    g: &Geometry,
    x: &[T],
    buf: &mut [T],
    yt: &mut [T],
) {
    let tiles = Tiles::of(g, PB);
    let (ci, oh, ow) = (g.channels, g.out_h(), g.out_w());
    let (xpad, rest) = buf.split_at_mut(ci * tiles.hp * tiles.wp);
    // The sixteen V_ξ and M_ξ lie a few values more than a whole number of pages apart: at exact multiples, the
    // transforms' sixteen streams fell in the same sets of the first-level cache.
    let (vstride, mstride) = (ci * tiles.padded + SKEW, tiles.padded * co + SKEW);
    let (v, rest) = rest.split_at_mut(16 * vstride);
    let (u, rest) = rest.split_at_mut(16 * CIB * COB);
    let (m, split) = rest.split_at_mut(16 * mstride);

    // The input, zero-padded so that every tile's 4x4 piece lies inside.
    xpad.fill(T::zero());
    let plane = tiles.hp * tiles.wp;
    for c in 0..ci {
        for (r, row) in x[c * g.h * g.w..(c + 1) * g.h * g.w].chunks_exact(g.w).enumerate() {
            let start = c * plane + (r + g.ph) * tiles.wp + g.pw;
            xpad[start..start + g.w].copy_from_slice(row);
        }
    }
    // V_ξ[c, t], rows of `padded` tiles (zero past the last). `Bᵀ d` first, for a whole row of tiles at once
    // (four padded input rows in, four rows out), split into even and odd columns; then `(Bᵀ d) B` along the
    // row, each output of a tile a contiguous run over the tiles.
    let (even, odd) = split.split_at_mut(4 * (tiles.cols + 1));
    let half = tiles.cols + 1;
    for c in 0..ci {
        let p = &xpad[c * plane..(c + 1) * plane];
        for ty in 0..tiles.rows {
            let r = |i: usize| &p[(2 * ty + i) * tiles.wp..][..tiles.wp];
            let (r0, r1, r2, r3) = (r(0), r(1), r(2), r(3));
            for (parity, dest) in [(0, &mut *even), (1, &mut *odd)] {
                let (s0, rest) = dest.split_at_mut(half);
                let (s1, rest) = rest.split_at_mut(half);
                let (s2, s3) = rest.split_at_mut(half);
                for (k, (((a, b), c2), d)) in s0.iter_mut().zip(s1.iter_mut()).zip(s2.iter_mut()).zip(s3).enumerate() {
                    let x = 2 * k + parity;
                    (*a, *b, *c2, *d) = (r0[x] - r2[x], r1[x] + r2[x], r2[x] - r1[x], r1[x] - r3[x]);
                }
            }
            for i in 0..4 {
                let (e, o) = (&even[i * half..][..half], &odd[i * half..][..half]);
                let row = |j: usize| (4 * i + j) * vstride + c * tiles.padded + ty * tiles.cols;
                let n = tiles.cols;
                for (v, (a, b)) in v[row(0)..][..n].iter_mut().zip(e.iter().zip(&e[1..])) {
                    *v = *a - *b;
                }
                for (v, (a, b)) in v[row(1)..][..n].iter_mut().zip(o.iter().zip(&e[1..])) {
                    *v = *a + *b;
                }
                for (v, (a, b)) in v[row(2)..][..n].iter_mut().zip(e[1..].iter().zip(o)) {
                    *v = *a - *b;
                }
                for (v, (a, b)) in v[row(3)..][..n].iter_mut().zip(o.iter().zip(&o[1..])) {
                    *v = *a - *b;
                }
            }
        }
        for xi in 0..16 {
            v[xi * vstride + c * tiles.padded + tiles.count..xi * vstride + (c + 1) * tiles.padded].fill(T::zero());
        }
    }
    // M_ξ = U_ξ V_ξ, position-major (`M_ξ[t co + o]`): sixteen products on the micro-kernels, by blocks of
    // input channels and output channels whose transformed weights (`16 x CIB x COB` values, 256 KiB in `f32`)
    // stay in the second-level cache between their transform and the products. Transformed whole, the weights
    // of 256x8x8 -> 256 took 4 MiB, went to memory and back, and the layer ran at half the direct form's speed.
    m.fill(T::zero());
    let mut offsets = [[0; KC]; GATHER];
    for c0 in (0..ci).step_by(CIB) {
        let cn = CIB.min(ci - c0);
        for o0 in (0..co).step_by(COB) {
            let on = COB.min(co - o0);
            // U_ξ for this block, column-major `on x cn` as the micro-kernels read weights: `(ξ cn + c) on + o`.
            for c in 0..cn {
                for l0 in (0..on).step_by(LANES) {
                    let n = LANES.min(on - l0);
                    let mut kernel = [[[T::zero(); LANES]; 3]; 3];
                    for (k, tap) in kernel.as_flattened_mut().iter_mut().enumerate() {
                        copy(tap, &w[((c0 + c) * 9 + k) * stride + o0 + l0..], n);
                    }
                    for (xi, values) in weight_tile(kernel).as_flattened().iter().enumerate() {
                        copy(&mut u[(xi * cn + c) * on + l0..], values, n);
                    }
                }
            }
            for xi in 0..16 {
                let uxi = &u[xi * cn * on..16 * cn * on];
                let vxi = &v[xi * vstride..xi * vstride + ci * tiles.padded];
                let mxi = &mut m[xi * mstride..xi * mstride + tiles.padded * co];
                let out = &mut Out { y: &mut mxi[o0..], channel: 1, position: co };
                let mut t0 = 0;
                while t0 < tiles.count {
                    let count = GATHER.min((tiles.count - t0).div_ceil(PB));
                    for (j, panel_offsets) in offsets.iter_mut().enumerate().take(count) {
                        for (kk, o) in panel_offsets[..cn].iter_mut().enumerate() {
                            *o = (c0 + kk) * tiles.padded + t0 + j * PB;
                        }
                    }
                    let group: [Panel<'_, T, PB>; GATHER] = core::array::from_fn(|j| Panel {
                        rows: Rows { base: vxi, offsets: &offsets[j][..cn] },
                        targets: core::array::from_fn(|lane| {
                            let t = t0 + j * PB + lane;
                            (t < tiles.count).then_some(t)
                        }),
                    });
                    channel_blocks::<T, PB, FMA, ISA>(uxi, on, on, 0, &group[..count], out);
                    t0 += count * PB;
                }
            }
        }
    }
    // Y = Aᵀ M A for each tile, sixteen output channels at a time, into the position-major sums (each position
    // written once).
    for ty in 0..tiles.rows {
        for tx in 0..tiles.cols {
            let t = ty * tiles.cols + tx;
            for o0 in (0..co).step_by(LANES) {
                let n = LANES.min(co - o0);
                let mut mt = [[[T::zero(); LANES]; 4]; 4];
                for (xi, values) in mt.as_flattened_mut().iter_mut().enumerate() {
                    copy(values, &m[xi * mstride + t * co + o0..], n);
                }
                let y = output_tile(mt);
                for (a, row) in y.iter().enumerate() {
                    for (b, values) in row.iter().enumerate() {
                        let (oy, ox) = (2 * ty + a, 2 * tx + b);
                        if oy < oh && ox < ow {
                            copy(&mut yt[(oy * ow + ox) * co + o0..], values, n);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The transforms against their definitions: a convolution of one 4x4 piece by one kernel, through the
    /// three transforms, equals the direct 2x2 outputs exactly for small integers.
    #[test]
    fn one_tile_equals_the_direct_convolution() {
        let d: [[f64; 4]; 4] = core::array::from_fn(|i| core::array::from_fn(|j| ((i * 7 + j * 3) % 11) as f64 - 5.0));
        let k: [[f64; 3]; 3] = core::array::from_fn(|i| core::array::from_fn(|j| ((i * 5 + j * 2) % 7) as f64 - 3.0));
        let (v, u) = (input_tile(d), weight_tile(k));
        let m: [[f64; 4]; 4] = core::array::from_fn(|i| core::array::from_fn(|j| u[i][j] * v[i][j]));
        let y = output_tile(m);
        for a in 0..2 {
            for b in 0..2 {
                let direct: f64 =
                    (0..3).flat_map(|i| (0..3).map(move |j| (i, j))).map(|(i, j)| k[i][j] * d[a + i][b + j]).sum();
                assert_eq!(y[a][b], direct, "output ({a}, {b})");
            }
        }
    }
}
