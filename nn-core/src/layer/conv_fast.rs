//! The convolution's forward kernel: an implicit GEMM over panels of output positions.
//!
//! `y[co, p] += Σ_k W[co, k] X[k, p]`, where `X` is the lowered input ("im2col", `K = C_in KH KW` rows, one
//! column per output position) that is never built whole. For each panel of `PB` consecutive output positions,
//! at most `KC` rows of `X` at a time are gathered into a small buffer on the stack (`KC x PB` values, 16 KiB in
//! `f32`), and a register-blocked micro-kernel multiplies `MR` weight rows by it: `MR x PB` accumulators stay
//! in registers while `k` runs over the buffer's rows, each step one broadcast weight per row and one load of
//! `PB` input values. The weights need no packing: `W` is column-major, so rows `co..co + MR` of column `k` are
//! contiguous.
//!
//! Gathering a panel costs `KC x PB` loads and stores against `CO x KC x PB` multiply-adds, so it is cheap from
//! a few output channels on; it walks the receptive field with counters (no division per element), which is
//! what made the first lowering (four positions per tile, an index computed per element) run at a few percent
//! of the machine's multiply-add rate. With `std` the kernel is compiled for AVX-512, for AVX2 with FMA and for
//! the build target, and the widest the CPU has is picked at run time, as for the dense kernels: the panel width
//! and the number of rows per block are chosen per instruction set so that the accumulators fill the vector
//! registers without spilling.

use super::conv::Geometry;
use crate::float::Float;

#[cfg(feature = "std")]
mod winograd;

/// Output channels a micro-kernel's sums hold per position at most.
const ACC: usize = 64;

/// Rows of `X` gathered per pass over the weights (bounds the stack buffer).
const KC: usize = 256;

/// Rows of the first chunk when there are more than twice as many: the rows of each chunk after the first are
/// prefetched while the chunk before is multiplied, and the first chunk's arrive only as they are needed.
const FIRST: usize = 32;

/// The chunks of `rows` rows of `X` (start and length) that the kernels multiply in turn: one of [`FIRST`] rows,
/// then of [`KC`].
fn chunks(rows: usize) -> impl Iterator<Item = (usize, usize)> {
    let first = if rows > 2 * FIRST { FIRST } else { KC };
    let mut k0 = 0;
    core::iter::from_fn(move || {
        let kn = (if k0 == 0 { first } else { KC }).min(rows - k0);
        let chunk = (k0, kn);
        k0 += kn;
        (kn > 0).then_some(chunk)
    })
}

/// `y += conv(x)` (no bias) for one sample: `w` is `CO x K` column-major, `x` holds `g.inputs()` values and `y`
/// `CO g.positions()`.
#[inline]
pub(super) fn conv_forward_fast<T: Float>(w: &[T], g: &Geometry, x: &[T], y: &mut [T]) {
    let co = w.len().checked_div(g.receptive()).unwrap_or(0);
    conv_forward_rows(w, co, co, g, x, y);
}

/// [`conv_forward_fast`] for `count` output channels whose weights are rows of a larger column-major matrix
/// with `stride` rows (one group of a grouped convolution): row `i` of column `k` is `w[k * stride + i]`, and `y`
/// holds the `count` output planes.
#[inline]
pub(super) fn conv_forward_rows<T: Float>(w: &[T], stride: usize, count: usize, g: &Geometry, x: &[T], y: &mut [T]) {
    conv_forward_rows_then(w, stride, count, g, x, y, |_: &mut [T]| {});
}

/// [`conv_forward_rows`], then `epilogue` on every value of `y`, each piece of an output plane as soon as its
/// sums are complete (while it is in cache): how a following activation is fused into the convolution.
#[inline]
pub(super) fn conv_forward_rows_then<T: Float>(
    w: &[T],
    stride: usize,
    count: usize,
    g: &Geometry,
    x: &[T],
    y: &mut [T],
    epilogue: impl Fn(&mut [T]),
) {
    let k = g.receptive();
    assert!(count <= stride && (k == 0 || count == 0 || (k - 1) * stride + count <= w.len()));
    debug_assert!(x.len() >= g.inputs() && y.len() >= count * g.positions());
    #[cfg(feature = "std")]
    {
        // Both paths read a zero-padded copy of the input (windows and panels read straight from it run up to
        // sixteen values past its end).
        let mut padded = g.channels * (g.h + 2 * g.ph) * (g.w + 2 * g.pw) + 16;
        if winograd::applies::<T>(g, count) {
            padded = padded.max(winograd::scratch(g, count));
        }
        crate::scratch::with_buffers(padded, count * g.positions(), |xpad: &mut [T], yt: &mut [T]| {
            dispatch::<T>(w, stride, count, g, x, y, xpad, yt, &epilogue);
        });
    }
    #[cfg(not(feature = "std"))]
    {
        dispatch::<T>(w, stride, count, g, x, y);
        epilogue(&mut y[..count * g.positions()]);
    }
}

/// Whether [`windows`] runs the convolution: unit strides, and few enough virtual positions dropped (the
/// `(kw - 1) dw` at the end of each padded row) for the output channels. Dropped positions waste `dropped / wp`
/// of the multiply-adds, `co` per input value; gathering costs about sixteen of them per value on the short
/// runs of small planes (64x8x8 -> 64 @3x3 spent 46% of its time gathering). So windows, unless that waste is
/// larger.
#[cfg(feature = "std")]
fn uses_windows(g: &Geometry, co: usize) -> bool {
    let (wp, dropped) = (g.w + 2 * g.pw, (g.kw - 1) * g.dw);
    g.sh == 1 && g.sw == 1 && dropped * co <= wp * 16 && g.positions() > 0
}

/// Whether `x86::planes` runs the convolution: unit strides, at most 64 rows of the lowered input (a few
/// input channels: the first layer of an image network), and output rows that fill at least three quarters of
/// the vectors of sixteen positions they take. With channels in the vectors, such a layer spent more time
/// outside its micro-kernel than in it (3x32x32 -> 64 @3x3: 31% in the micro-kernel, the rest in clearing,
/// adding and transposing the position-major sums), because each sum takes only `K` multiply-adds.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
fn uses_planes(g: &Geometry) -> bool {
    let ow = g.out_w();
    g.sh == 1 && g.sw == 1 && g.receptive() <= 64 && ow > 0 && g.positions() > 0 && ow.div_ceil(16) * 16 * 3 <= ow * 4
}

/// Where the micro-kernels' sums go: output channel `c`, position `p` is `y[c channel + p position]`. The
/// output planes themselves (`channel` = positions, `position` = 1), or a position-major scratch copy
/// (`channel` = 1, `position` = channels) that takes each block's sums as whole vectors.
struct Out<'a, T> {
    y: &'a mut [T],
    channel: usize,
    position: usize,
}

#[cfg(feature = "std")]
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
#[allow(clippy::too_many_arguments)]
fn dispatch<T: Float>(
    w: &[T],
    stride: usize,
    co: usize,
    g: &Geometry,
    x: &[T],
    y: &mut [T],
    xpad: &mut [T],
    yt: &mut [T],
    epilogue: &dyn Fn(&mut [T]),
) {
    // Decided at compile time for each clone: 32 registers of 16 `f32` with AVX-512, 16 of 8 with AVX2, 16 of
    // 4 without. The accumulators take `MR x PB / lanes` registers.
    const AVX512: bool = multiversion::target::selected_target!().supports_feature_str("avx512f");
    const FMA: bool = multiversion::target::selected_target!().supports_feature_str("fma");
    let p = g.positions();
    // Few input channels over wide planes: positions in the vectors, straight into the output planes.
    #[cfg(target_arch = "x86_64")]
    if AVX512 && core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>() && uses_planes(g) {
        let (hp, wp) = (g.h + 2 * g.ph, g.w + 2 * g.pw);
        pad_planes::<T, AVX512>(g, x, xpad);
        let y32: &mut [f32] = bytemuck::cast_slice_mut(y);
        x86::planes(bytemuck::cast_slice(w), stride, co, g, bytemuck::cast_slice(xpad), (hp, wp), y32, &|piece| {
            epilogue(bytemuck::cast_slice_mut(piece))
        });
        return;
    }
    // The sums go to a position-major copy first, a block's channels contiguous: added straight into the
    // planes, sixteen or thirty-two channels of one position are that many planes apart, and with planes of a
    // multiple of 1024 values every one of them falls in the same set of the first-level cache (3x32x32 -> 64
    // @3x3 ran at 5 GFLOP/s, 88% of it in those additions). One transposing pass adds the copy into `y`.
    yt.fill(T::zero());
    // Large planes over many channels: Winograd's F(2x2, 3x3), 2.25 times fewer multiply-adds (see
    // `winograd` for where it wins, measured).
    if winograd::applies::<T>(g, co) {
        let tiles = g.out_h().div_ceil(2) * g.out_w().div_ceil(2);
        if AVX512 && tiles.div_ceil(8) * 8 < tiles.div_ceil(12) * 12 {
            winograd::forward::<T, 8, 4, FMA, { Isa::Avx512 as u8 }>(w, stride, co, g, x, xpad, yt);
        } else if AVX512 {
            winograd::forward::<T, 12, 4, FMA, { Isa::Avx512 as u8 }>(w, stride, co, g, x, xpad, yt);
        } else if FMA {
            winograd::forward::<T, 6, 4, FMA, { Isa::Avx2 as u8 }>(w, stride, co, g, x, xpad, yt);
        } else {
            winograd::forward::<T, 6, 4, FMA, { Isa::Portable as u8 }>(w, stride, co, g, x, xpad, yt);
        }
        transpose_add::<T, AVX512>(yt, co, p, y, epilogue);
        return;
    }
    let mut out = Out { y: yt, channel: 1, position: co };
    if uses_windows(g, co) {
        let (hp, wp) = (g.h + 2 * g.ph, g.w + 2 * g.pw);
        pad_planes::<T, AVX512>(g, x, xpad);
        if AVX512 {
            windows::<T, 12, FMA, { Isa::Avx512 as u8 }>(w, stride, co, g, xpad, (hp, wp), &mut out);
        } else if FMA {
            windows::<T, 6, FMA, { Isa::Avx2 as u8 }>(w, stride, co, g, xpad, (hp, wp), &mut out);
        } else {
            windows::<T, 6, FMA, { Isa::Portable as u8 }>(w, stride, co, g, xpad, (hp, wp), &mut out);
        }
    } else {
        let (hp, wp) = (g.h + 2 * g.ph, g.w + 2 * g.pw);
        pad_planes::<T, AVX512>(g, x, xpad);
        let (x, padded) = (&*xpad, Some((hp, wp)));
        // The panel width that wastes the fewest lanes on the last, partial panel (ties to the wider): a 2x2
        // plane in panels of 12 would compute three times the work it keeps. Narrower panels cost nothing
        // else here: the micro-kernel stays bound by its multiply-adds down to four positions.
        let slots = |width: usize| p.div_ceil(width) * width;
        // Up to sixteen positions over many channels (the late layers of a VGG-style network), all positions
        // go in one panel, so that each weight is read once: sixteen positions by sixteen channels (every input
        // value broadcast), eight by thirty-two, or four by sixty-four. 512x4x4 -> 512 @3x3 in four panels of
        // four ran at 63-75 GFLOP/s with its weights in the last-level cache (each panel after the first read
        // them again, and the first stalled on them), and at 94 in one panel of sixteen; from memory, 1.48 ->
        // 1.13 ms.
        let few = p <= 16 && co >= 64;
        if AVX512 {
            let width = if few {
                p.next_power_of_two().max(4)
            } else {
                [12, 8, 4].into_iter().min_by_key(|&w| slots(w)).unwrap_or(12)
            };
            match width {
                16 => panels::<T, 16, 1, FMA, { Isa::Avx512 as u8 }>(w, stride, co, g, x, padded, &mut out),
                4 => panels::<T, 4, 4, FMA, { Isa::Avx512 as u8 }>(w, stride, co, g, x, padded, &mut out),
                8 => panels::<T, 8, 2, FMA, { Isa::Avx512 as u8 }>(w, stride, co, g, x, padded, &mut out),
                _ => panels::<T, 12, 2, FMA, { Isa::Avx512 as u8 }>(w, stride, co, g, x, padded, &mut out),
            }
        } else if FMA {
            if slots(4) < slots(6) {
                panels::<T, 4, 2, FMA, { Isa::Avx2 as u8 }>(w, stride, co, g, x, padded, &mut out);
            } else {
                panels::<T, 6, 2, FMA, { Isa::Avx2 as u8 }>(w, stride, co, g, x, padded, &mut out);
            }
        } else {
            panels::<T, 6, 2, FMA, { Isa::Portable as u8 }>(w, stride, co, g, x, padded, &mut out);
        }
    }
    transpose_add::<T, AVX512>(yt, co, p, y, epilogue);
}

/// `y[c p_count + p] += yt[p channels + c]`: the position-major sums added into the output planes, in tiles of
/// 16 x 16 so that both sides are read and written a cache line at a time; `epilogue` runs on each block of
/// sixteen finished planes (one call per block: on pieces of sixteen values, the activation's handling of
/// short runs cost more than the pass it saves).
#[cfg(feature = "std")]
#[inline(always)]
fn transpose_add<T: Float, const AVX512: bool>(
    yt: &[T],
    channels: usize,
    positions: usize,
    y: &mut [T],
    epilogue: &dyn Fn(&mut [T]),
) {
    const TILE: usize = 16;
    for c0 in (0..channels).step_by(TILE) {
        let cn = TILE.min(channels - c0);
        // With AVX-512, each tile is transposed in registers: element by element, a library call copying each
        // row of sixteen sums took 1.8% of the VGG-style network's time.
        #[cfg(target_arch = "x86_64")]
        if AVX512 && core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>() {
            let (yt32, y32): (&[f32], &mut [f32]) = (bytemuck::cast_slice(yt), bytemuck::cast_slice_mut(y));
            for p0 in (0..positions).step_by(TILE) {
                x86::transpose_add_tile(yt32, channels, positions, c0, p0, y32);
            }
            epilogue(&mut y[c0 * positions..(c0 + cn) * positions]);
            continue;
        }
        for p0 in (0..positions).step_by(TILE) {
            let pn = TILE.min(positions - p0);
            let mut tile = [[T::zero(); TILE]; TILE];
            for (pp, row) in tile.iter_mut().enumerate().take(pn) {
                row[..cn].copy_from_slice(&yt[(p0 + pp) * channels + c0..][..cn]);
            }
            for cc in 0..cn {
                let plane = &mut y[(c0 + cc) * positions + p0..][..pn];
                for (pp, v) in plane.iter_mut().enumerate() {
                    *v += tile[pp][cc];
                }
            }
        }
        epilogue(&mut y[c0 * positions..(c0 + cn) * positions]);
    }
}

/// Copies the input into zero-padded planes of `(h + 2 ph) x (w + 2 pw)` in `xpad`.
#[cfg(feature = "std")]
#[inline(always)]
fn pad_planes<T: Float, const AVX512: bool>(g: &Geometry, x: &[T], xpad: &mut [T]) {
    let (hp, wp) = (g.h + 2 * g.ph, g.w + 2 * g.pw);
    let plane = hp * wp;
    xpad.fill(T::zero());
    // Rows of a few values copied with masked vectors: one library call per row of two to eight values (the
    // late layers of a VGG-style network copy thousands) took 1.5% of its time.
    #[cfg(target_arch = "x86_64")]
    if AVX512 && core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>() {
        let (x, xpad): (&[f32], &mut [f32]) = (bytemuck::cast_slice(x), bytemuck::cast_slice_mut(xpad));
        for c in 0..g.channels {
            for (r, row) in x[c * g.h * g.w..(c + 1) * g.h * g.w].chunks_exact(g.w).enumerate() {
                let start = c * plane + (r + g.ph) * wp + g.pw;
                x86::copy(row, &mut xpad[start..start + g.w]);
            }
        }
        return;
    }
    for c in 0..g.channels {
        for (r, row) in x[c * g.h * g.w..(c + 1) * g.h * g.w].chunks_exact(g.w).enumerate() {
            let start = c * plane + (r + g.ph) * wp + g.pw;
            xpad[start..start + g.w].copy_from_slice(row);
        }
    }
}

#[cfg(not(feature = "std"))]
#[inline(always)]
fn dispatch<T: Float>(w: &[T], stride: usize, co: usize, g: &Geometry, x: &[T], y: &mut [T]) {
    let positions = g.positions();
    panels::<T, 6, 2, false, { Isa::Portable as u8 }>(
        w,
        stride,
        co,
        g,
        x,
        None,
        &mut Out { y, channel: positions, position: 1 },
    );
}

/// The instruction set a clone of the kernel is compiled for.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
enum Isa {
    /// Whatever the build target has; the micro-kernel is plain Rust.
    Portable,
    /// AVX2 with FMA: `f32` blocks of 8 or 16 channels in 256-bit registers.
    Avx2,
    /// AVX-512: `f32` blocks of 16 or 32 channels in 512-bit registers.
    Avx512,
}

/// A run of a panel's lanes that lie on one output row: lanes `lane..lane + len` are positions
/// `(oy, ox..ox + len)`. A panel of `PB` positions has at most `PB` runs (fewer when rows are long).
#[derive(Clone, Copy, Default)]
struct Run {
    lane: usize,
    len: usize,
    oy: usize,
    ox: usize,
}

/// The rows a micro-kernel multiplies: row `kk` is `base[offsets[kk]..][..PB]`, either a gathered panel or a
/// window straight into a padded input.
struct Rows<'a, T> {
    base: &'a [T],
    offsets: &'a [usize],
}

/// One panel of positions for the micro-kernels: its rows, and the output position each lane's sums go to.
struct Panel<'a, T, const PB: usize> {
    rows: Rows<'a, T>,
    targets: [Option<usize>; PB],
}

/// Panels processed together: each block of output channels runs over all of them before the next block, so
/// its slice of the weights is read from memory once per group rather than once per panel. The late layers of
/// a VGG-style network hold megabytes of weights over a few positions; there the weights' traffic, not the
/// arithmetic, sets the time.
#[cfg(feature = "std")]
const GROUP: usize = 4;

/// The kernel for one instruction set: panels of `PB` positions gathered along output rows, `GATHERED` of them
/// at a time on the stack (`GATHERED x PB x KC` values: 24 KiB in `f32` for two panels of twelve) and run as
/// one group (see [`GROUP`]).
#[inline(always)]
fn panels<T: Float, const PB: usize, const GATHERED: usize, const FMA: bool, const ISA: u8>(
    w: &[T],
    stride: usize,
    channels_out: usize,
    g: &Geometry,
    x: &[T],
    padded: Option<(usize, usize)>,
    out: &mut Out<'_, T>,
) {
    let (positions, ow, rows) = (g.positions(), g.out_w(), g.receptive());
    if positions == 0 || channels_out == 0 || rows == 0 {
        return;
    }
    let mut buf = [[[T::zero(); PB]; KC]; GATHERED];
    let mut offsets = [0; KC];
    for (kk, o) in offsets.iter_mut().enumerate() {
        *o = kk * PB;
    }
    let mut windows = [[0; KC]; GATHERED];
    let (mut oy, mut ox) = (0, 0);
    let mut p0 = 0;
    while p0 < positions {
        // The group's panels as runs along output rows, and where each lane's sums go.
        let mut runs = [([Run::default(); PB], 0); GATHERED];
        let mut targets = [[None; PB]; GATHERED];
        // With a padded input, where each lane's window starts in a padded plane (lanes past the last position
        // read the plane's first value, which nothing keeps).
        let mut starts = [[0; PB]; GATHERED];
        let mut count = 0;
        while count < GATHERED && p0 < positions {
            let lanes = PB.min(positions - p0);
            let (panel_runs, n) = &mut runs[count];
            let mut lane = 0;
            while lane < lanes {
                let len = (ow - ox).min(lanes - lane);
                panel_runs[*n] = Run { lane, len, oy, ox };
                if let Some((_, wp)) = padded {
                    for (t, start) in starts[count][lane..lane + len].iter_mut().enumerate() {
                        *start = oy * g.sh * wp + (ox + t) * g.sw;
                    }
                }
                (*n, lane, ox) = (*n + 1, lane + len, ox + len);
                if ox == ow {
                    (oy, ox) = (oy + 1, 0);
                }
            }
            for (t, target) in targets[count].iter_mut().enumerate().take(lanes) {
                *target = Some(p0 + t);
            }
            (count, p0) = (count + 1, p0 + lanes);
        }
        // A panel on one output row at unit stride is a window of the padded planes: its rows are read where
        // they are, not gathered (on 8x8 planes in panels of eight, gathering took 6% of 128x8x8 -> 256 @3x3).
        let direct: [bool; GATHERED] = core::array::from_fn(|j| padded.is_some() && g.sw == 1 && runs[j].1 == 1);
        for (k0, kn) in chunks(rows) {
            for (j, (panel_buf, (panel_runs, n))) in buf.iter_mut().zip(&runs).enumerate().take(count) {
                match padded {
                    Some(planes) if direct[j] => tap_offsets(g, planes, k0, starts[j][0], &mut windows[j][..kn]),
                    Some(planes) => gather_padded(g, x, planes, &starts[j], k0, &mut panel_buf[..kn]),
                    None => gather(g, x, &panel_runs[..*n], k0, &mut panel_buf[..kn]),
                }
            }
            let group: [Panel<'_, T, PB>; GATHERED] = core::array::from_fn(|j| Panel {
                rows: if direct[j] {
                    Rows { base: x, offsets: &windows[j][..kn] }
                } else {
                    Rows { base: buf[j][..kn].as_flattened(), offsets: &offsets[..kn] }
                },
                targets: targets[j],
            });
            channel_blocks::<T, PB, FMA, ISA>(w, stride, channels_out, k0, &group[..count], out);
        }
    }
}

/// The kernel for unit strides with the input zero-padded into `xpad` (planes of `hp x wp`): "virtual"
/// positions `q = oy wp + ox` run over whole padded rows, so tap `(c, ky, kx)` of positions `q..q + PB` is the
/// contiguous window `xpad[c hp wp + ky dh wp + kx dw + q..]`, and nothing is gathered. The `(kw - 1) dw`
/// virtual positions at the end of each row are not outputs and are dropped.
#[cfg(feature = "std")]
#[inline(always)]
fn windows<T: Float, const PB: usize, const FMA: bool, const ISA: u8>(
    w: &[T],
    stride: usize,
    channels_out: usize,
    g: &Geometry,
    xpad: &[T],
    (hp, wp): (usize, usize),
    out: &mut Out<'_, T>,
) {
    let (positions, oh, ow, rows) = (g.positions(), g.out_h(), g.out_w(), g.receptive());
    if positions == 0 || channels_out == 0 || rows == 0 {
        return;
    }
    let mut taps = [0; KC];
    let mut offsets = [[0; KC]; GROUP];
    let virtual_positions = (oh - 1) * wp + ow;
    // Chunks of rows outside, groups of panels inside: each row's tap offset is worked out once, and lanes are
    // mapped to outputs with counters (a division per row and per lane cost the MNIST CNN's first layer a fifth
    // of its time).
    let (mut c, mut ky, mut kx) = (0, 0, 0);
    for (k0, kn) in chunks(rows) {
        for tap in taps[..kn].iter_mut() {
            *tap = c * hp * wp + ky * g.dh * wp + kx * g.dw;
            kx += 1;
            if kx == g.kw {
                (kx, ky) = (0, ky + 1);
                if ky == g.kh {
                    (ky, c) = (0, c + 1);
                }
            }
        }
        let (mut q0, mut oy, mut ox) = (0, 0, 0);
        while q0 < virtual_positions {
            let count = GROUP.min(virtual_positions.div_ceil(PB) - q0 / PB);
            let mut targets = [[None; PB]; GROUP];
            for (j, panel_targets) in targets.iter_mut().enumerate().take(count) {
                for (t, target) in panel_targets.iter_mut().enumerate() {
                    if q0 + j * PB + t < virtual_positions && ox < ow {
                        *target = Some(oy * ow + ox);
                    }
                    ox += 1;
                    if ox == wp {
                        (ox, oy) = (0, oy + 1);
                    }
                }
            }
            for (j, panel_offsets) in offsets.iter_mut().enumerate().take(count) {
                for (o, &tap) in panel_offsets[..kn].iter_mut().zip(&taps[..kn]) {
                    *o = tap + q0 + j * PB;
                }
            }
            let group: [Panel<'_, T, PB>; GROUP] = core::array::from_fn(|j| Panel {
                rows: Rows { base: xpad, offsets: &offsets[j][..kn] },
                targets: targets[j],
            });
            channel_blocks::<T, PB, FMA, ISA>(w, stride, channels_out, k0, &group[..count], out);
            q0 += count * PB;
        }
    }
}

/// All output channels over a group of panels and one chunk of rows `k0..`: blocks of the widest micro-kernel
/// that fits, then of eight, then one by one, each block over every panel of the group.
#[inline(always)]
fn channel_blocks<T: Float, const PB: usize, const FMA: bool, const ISA: u8>(
    w: &[T],
    stride: usize,
    cout: usize,
    k0: usize,
    panels: &[Panel<'_, T, PB>],
    out: &mut Out<'_, T>,
) {
    let mut acc = [[T::zero(); ACC]; PB];
    let mut co = 0;
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if ISA != Isa::Portable as u8 && core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>() {
        let w32: &[f32] = bytemuck::cast_slice(w);
        let mut acc32 = [[0.0f32; ACC]; PB];
        let wide = if ISA == Isa::Avx512 as u8 { 32 } else { 16 };
        // Eight channels in one 256-bit register (AVX-512 implies AVX2 and FMA).
        const AVX2: u8 = Isa::Avx2 as u8;
        // Sixty-four channels with AVX-512 on panels of at most four positions (sixteen accumulators): the
        // weights' rows are read in runs of four cache lines, which is what bounds the late layers of a VGG-style
        // network (512 channels over 2x2 or 4x4 planes).
        let widest = if ISA == Isa::Avx512 as u8 && PB <= 4 { 64 } else { cout + 1 };
        // The rows of the next chunk, asked for in order while this one is multiplied (see `x86::Ahead`).
        let kn = panels.first().map_or(0, |panel| panel.rows.offsets.len());
        let next = w32.get((k0 + kn) * stride..).unwrap_or(&[]);
        let next = &next[..next.len().min(KC * stride)];
        let mut ahead = x86::Ahead::new(next, kn, cout);
        // Panels of sixteen take one vector of channels: two would need 32 accumulators, every register.
        let two = if PB > 12 { cout + 1 } else { wide };
        for (vectors, width, isa) in [(4, widest, ISA), (2, two, ISA), (1, wide / 2, ISA), (1, 8, AVX2)] {
            while co + width <= cout {
                let share = ahead.take(width);
                for (j, panel) in panels.iter().enumerate() {
                    let rows = Rows { base: bytemuck::cast_slice(panel.rows.base), offsets: panel.rows.offsets };
                    let a = if j == 0 { share } else { x86::Ahead::NONE };
                    match (vectors, isa == Isa::Avx512 as u8) {
                        (4, true) => {
                            x86::block::<PB, 4, { Isa::Avx512 as u8 }>(w32, stride, k0, co, &rows, a, &mut acc32)
                        }
                        (2, true) => {
                            x86::block::<PB, 2, { Isa::Avx512 as u8 }>(w32, stride, k0, co, &rows, a, &mut acc32)
                        }
                        (1, true) => {
                            x86::block::<PB, 1, { Isa::Avx512 as u8 }>(w32, stride, k0, co, &rows, a, &mut acc32)
                        }
                        (2, false) => x86::block::<PB, 2, AVX2>(w32, stride, k0, co, &rows, a, &mut acc32),
                        _ => x86::block::<PB, 1, AVX2>(w32, stride, k0, co, &rows, a, &mut acc32),
                    }
                    let out32 =
                        &mut Out { y: bytemuck::cast_slice_mut(out.y), channel: out.channel, position: out.position };
                    scatter(&acc32, width, &panel.targets, out32, co);
                }
                co += width;
            }
        }
    }
    while co + 8 <= cout {
        for panel in panels {
            block::<T, 8, PB, FMA>(w, stride, &panel.rows, k0, co, &mut acc);
            scatter(&acc, 8, &panel.targets, out, co);
        }
        co += 8;
    }
    while co < cout {
        for panel in panels {
            block::<T, 1, PB, FMA>(w, stride, &panel.rows, k0, co, &mut acc);
            scatter(&acc, 1, &panel.targets, out, co);
        }
        co += 1;
    }
}

/// Adds the first `channels` sums of each lane into `out` at output channels `co..` and the lane's target
/// position.
#[inline(always)]
fn scatter<T: Float, const PB: usize>(
    acc: &[[T; ACC]; PB],
    channels: usize,
    targets: &[Option<usize>; PB],
    out: &mut Out<'_, T>,
    co: usize,
) {
    for (a, target) in acc.iter().zip(targets) {
        if let Some(p) = *target {
            if out.channel == 1 {
                for (v, &s) in out.y[p * out.position + co..][..channels].iter_mut().zip(&a[..channels]) {
                    *v += s;
                }
            } else {
                for (i, &s) in a[..channels].iter().enumerate() {
                    out.y[(co + i) * out.channel + p * out.position] += s;
                }
            }
        }
    }
}

/// The `f32` micro-kernels with AVX2 and AVX-512 intrinsics: plain Rust left the compiler a choice of loops to
/// vectorise, and it picked the wrong one (gathers and scatters through accumulators in memory).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86 {
    use super::{ACC, Isa, Rows};
    use core::arch::x86_64::*;

    /// Rows of weights ahead of the one being multiplied that the micro-kernels ask the first-level cache for.
    const PREFETCH: usize = 8;

    /// Prefetches the `NV` vectors of `width` channels at row `PREFETCH` after row `kk` (at `p`) of `n`, rows
    /// being `stride` values apart, into the first-level cache (the next chunk's rows are on their way to the
    /// second-level cache: see [`Ahead`]). A block of channels reads a short piece of each row, `stride` values
    /// apart, which the hardware prefetchers do not follow: 256x8x8 -> 256 @3x3 ran at 72 GFLOP/s with its
    /// weights in the last-level cache, 96 with this (115 is the core's peak).
    #[inline(always)]
    #[allow(unsafe_code)]
    unsafe fn prefetch_rows<const NV: usize>(p: *const f32, stride: usize, kk: usize, n: usize, width: usize) {
        // SAFETY: prefetches of addresses inside the weights (the rows exist: `kk + PREFETCH < n`); they read
        // nothing and cannot fault.
        unsafe {
            if kk + PREFETCH < n {
                let ahead = p.add(PREFETCH * stride);
                for v in 0..NV {
                    _mm_prefetch::<_MM_HINT_T0>(ahead.add(width * v) as *const i8);
                }
            }
        }
    }

    /// Cache lines of weights that a block asks the second-level cache for, a few per row it multiplies: the
    /// rows of the next chunk, in address order, each block of channels taking its share, so that the whole
    /// next chunk arrives while this one is multiplied. Read in the micro-kernels' order (a short piece of
    /// each row, rows 2 KiB apart), weights came from memory at 10-12 GB/s and the first panel of each group
    /// stalled on them while the others ran from cache.
    #[derive(Clone, Copy)]
    pub(super) struct Ahead<'a> {
        /// What remains to be asked for.
        next: &'a [f32],
        /// Rows each block multiplies.
        rows: usize,
        /// Lines to ask for per row, per sixteen channels of the block.
        per_row: usize,
    }

    impl<'a> Ahead<'a> {
        /// Nothing to prefetch.
        pub(super) const NONE: Self = Self { next: &[], rows: 0, per_row: 0 };

        /// The lines of `next`, to be shared among blocks that multiply `rows` rows each over `channels`
        /// output channels in all.
        pub(super) fn new(next: &'a [f32], rows: usize, channels: usize) -> Self {
            // Rounded up, so that the shares cover the whole of `next`.
            let per_row = next.len().div_ceil(16).div_ceil((rows * channels.div_ceil(16)).max(1));
            Self { next, rows, per_row }
        }

        /// The share of a block of `width` channels; the rest stays for the next blocks.
        pub(super) fn take(&mut self, width: usize) -> Self {
            let per_row = self.per_row * width.div_ceil(16);
            let (share, rest) = self.next.split_at(self.next.len().min(per_row * self.rows * 16));
            self.next = rest;
            Self { next: share, rows: self.rows, per_row }
        }

        /// Asks for the lines of row `kk`'s share.
        #[inline(always)]
        fn row(&self, kk: usize) {
            let first = kk * self.per_row * 16;
            for j in 0..self.per_row {
                let i = first + 16 * j;
                if i >= self.next.len() {
                    break;
                }
                // SAFETY: a prefetch of an address inside `next` (`i < next.len()`); it reads nothing and cannot
                // fault.
                #[allow(unsafe_code)]
                unsafe {
                    _mm_prefetch::<_MM_HINT_T1>(self.next.as_ptr().add(i) as *const i8)
                };
            }
        }
    }

    /// `y[(c0 + c) positions + p0 + t] += yt[(p0 + t) channels + c0 + c]` for up to sixteen channels `c` and
    /// sixteen positions `t` (fewer at the ends): the tile is loaded a position per register, transposed in
    /// registers (pairs, then quarters of each 128-bit lane, then lanes across registers) and added a channel
    /// per register.
    #[inline(always)]
    pub(super) fn transpose_add_tile(
        yt: &[f32],
        channels: usize,
        positions: usize,
        c0: usize,
        p0: usize,
        y: &mut [f32],
    ) {
        let (cn, pn) = (16.min(channels - c0), 16.min(positions - p0));
        // Every read and write below is inside `yt` and `y`.
        assert!(cn > 0 && pn > 0);
        assert!((p0 + pn - 1) * channels + c0 + cn <= yt.len() && (c0 + cn - 1) * positions + p0 + pn <= y.len());
        // SAFETY: called only from the clones compiled for AVX-512, which the dispatcher picked because the CPU
        // has it; the masked loads and stores touch only the lanes the assertions above bound.
        #[allow(unsafe_code)]
        unsafe {
            transpose_add_avx512(
                yt.as_ptr().add(p0 * channels + c0),
                channels,
                y.as_mut_ptr().add(c0 * positions + p0),
                positions,
                cn,
                pn,
            )
        }
    }

    #[allow(unsafe_code)]
    #[target_feature(enable = "avx512f")]
    unsafe fn transpose_add_avx512(
        yt: *const f32,
        channels: usize,
        y: *mut f32,
        positions: usize,
        cn: usize,
        pn: usize,
    ) {
        // SAFETY: the caller bounds rows `t < pn` of `cn` values at `yt + t channels`, and rows `c < cn` of
        // `pn` values at `y + c positions`; masked-off lanes are not accessed.
        unsafe {
            let (cmask, pmask) = (((1u32 << cn) - 1) as __mmask16, ((1u32 << pn) - 1) as __mmask16);
            let mut r = [_mm512_setzero_ps(); 16];
            for (t, row) in r.iter_mut().enumerate().take(pn) {
                *row = _mm512_maskz_loadu_ps(cmask, yt.add(t * channels));
            }
            let mut a = [_mm512_setzero_ps(); 16];
            for i in 0..8 {
                a[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
                a[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
            }
            // b[4i + j], lane l: channel 4l + j of positions 4i..4i + 4.
            let mut b = [_mm512_setzero_ps(); 16];
            for i in 0..4 {
                b[4 * i] = _mm512_shuffle_ps::<0x44>(a[4 * i], a[4 * i + 2]);
                b[4 * i + 1] = _mm512_shuffle_ps::<0xEE>(a[4 * i], a[4 * i + 2]);
                b[4 * i + 2] = _mm512_shuffle_ps::<0x44>(a[4 * i + 1], a[4 * i + 3]);
                b[4 * i + 3] = _mm512_shuffle_ps::<0xEE>(a[4 * i + 1], a[4 * i + 3]);
            }
            for j in 0..4 {
                let d0 = _mm512_shuffle_f32x4::<0x88>(b[j], b[4 + j]);
                let d1 = _mm512_shuffle_f32x4::<0xDD>(b[j], b[4 + j]);
                let d2 = _mm512_shuffle_f32x4::<0x88>(b[8 + j], b[12 + j]);
                let d3 = _mm512_shuffle_f32x4::<0xDD>(b[8 + j], b[12 + j]);
                let columns = [
                    _mm512_shuffle_f32x4::<0x88>(d0, d2),
                    _mm512_shuffle_f32x4::<0x88>(d1, d3),
                    _mm512_shuffle_f32x4::<0xDD>(d0, d2),
                    _mm512_shuffle_f32x4::<0xDD>(d1, d3),
                ];
                for (l, &column) in columns.iter().enumerate() {
                    let c = 4 * l + j;
                    if c < cn {
                        let out = y.add(c * positions);
                        let sum = _mm512_add_ps(_mm512_maskz_loadu_ps(pmask, out), column);
                        _mm512_mask_storeu_ps(out, pmask, sum);
                    }
                }
            }
        }
    }

    /// `to.copy_from_slice(from)` in masked vectors of sixteen, without a library call.
    #[inline(always)]
    pub(super) fn copy(from: &[f32], to: &mut [f32]) {
        assert_eq!(from.len(), to.len());
        // SAFETY: called only from the clones compiled for AVX-512, which the dispatcher picked because the CPU
        // has it; each vector covers values `i..i + lanes` of both slices, under a mask of `lanes` lanes.
        #[allow(unsafe_code)]
        unsafe {
            copy_avx512(from, to)
        }
    }

    #[allow(unsafe_code)]
    #[target_feature(enable = "avx512f")]
    unsafe fn copy_avx512(from: &[f32], to: &mut [f32]) {
        let mut i = 0;
        while i < from.len() {
            let lanes = 16.min(from.len() - i);
            let mask = ((1u32 << lanes) - 1) as __mmask16;
            // SAFETY: lanes `i..i + lanes` of both slices exist (equal lengths); the rest are masked off.
            unsafe {
                let v = _mm512_maskz_loadu_ps(mask, from.as_ptr().add(i));
                _mm512_mask_storeu_ps(to.as_mut_ptr().add(i), mask, v);
            }
            i += lanes;
        }
    }

    /// Vectors of positions per block of [`planes`].
    const NV_PLANES: usize = 3;

    /// The convolution with positions in the vectors: `y[c, p] += Σ_k W[c, k] X[k, p]` for sixteen positions of
    /// one output row per vector, each lowered row of them a window of the zero-padded planes `xpad`
    /// (`hp x wp`, unit strides), added into the output planes `y` (which hold the biases); then `epilogue`
    /// on each block of finished planes. Blocks of eight channels (then four, then one) by three vectors of
    /// positions keep 24 sums in registers; each weight is broadcast.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn planes(
        w: &[f32],
        stride: usize,
        cout: usize,
        g: &super::Geometry,
        xpad: &[f32],
        (hp, wp): (usize, usize),
        y: &mut [f32],
        epilogue: &dyn Fn(&mut [f32]),
    ) {
        let (oh, ow, rows, positions) = (g.out_h(), g.out_w(), g.receptive(), g.positions());
        assert!(g.sh == 1 && g.sw == 1 && y.len() >= cout * positions);
        // The vectors: where each starts in a padded plane and among the outputs, and its lanes.
        let per_row = ow.div_ceil(16);
        let total = oh * per_row;
        let vector = |i: usize| {
            let (oy, ox) = (i / per_row, i % per_row * 16);
            (oy * wp + ox, oy * ow + ox, 16.min(ow - ox))
        };
        let mut taps = [0; super::KC];
        let mut co = 0;
        for mr in [8, 4, 1] {
            while co + mr <= cout {
                for v0 in (0..total).step_by(NV_PLANES) {
                    let vs: [(usize, usize, usize); NV_PLANES] =
                        core::array::from_fn(|v| if v0 + v < total { vector(v0 + v) } else { (0, 0, 0) });
                    for (k0, kn) in super::chunks(rows) {
                        super::tap_offsets(g, (hp, wp), k0, 0, &mut taps[..kn]);
                        match mr {
                            8 => plane_block::<8>(w, stride, co, k0, &taps[..kn], xpad, &vs, positions, y),
                            4 => plane_block::<4>(w, stride, co, k0, &taps[..kn], xpad, &vs, positions, y),
                            _ => plane_block::<1>(w, stride, co, k0, &taps[..kn], xpad, &vs, positions, y),
                        }
                    }
                }
                epilogue(&mut y[co * positions..(co + mr) * positions]);
                co += mr;
            }
        }
    }

    /// Channels `co..co + MR` over the vectors `vs` (start in a padded plane, first output position, lanes;
    /// none for zero lanes) and lowered rows `k0..` (at `taps` in `xpad`).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn plane_block<const MR: usize>(
        w: &[f32],
        stride: usize,
        co: usize,
        k0: usize,
        taps: &[usize],
        xpad: &[f32],
        vs: &[(usize, usize, usize); NV_PLANES],
        positions: usize,
        y: &mut [f32],
    ) {
        let n = taps.len();
        // Every read and write below is inside `w`, `xpad` and `y`.
        assert!(n == 0 || (k0 + n - 1) * stride + co + MR <= w.len());
        let last_tap = taps.iter().copied().max().unwrap_or(0);
        for &(start, first, lanes) in vs {
            assert!(last_tap + start + 16 <= xpad.len());
            assert!(lanes <= 16 && (lanes == 0 || (co + MR - 1) * positions + first + lanes <= y.len()));
        }
        // SAFETY: called only from the clones compiled for AVX-512, which the dispatcher picked because the CPU
        // has it; every access stays inside the slices by the assertions above (masked-off lanes are not
        // accessed).
        #[allow(unsafe_code)]
        unsafe {
            plane_block_avx512::<MR>(
                w.as_ptr().add(k0 * stride + co),
                stride,
                taps,
                xpad.as_ptr(),
                vs,
                positions,
                y.as_mut_ptr().add(co * positions),
            )
        }
    }

    #[allow(unsafe_code)]
    #[target_feature(enable = "avx512f")]
    unsafe fn plane_block_avx512<const MR: usize>(
        w: *const f32,
        stride: usize,
        taps: &[usize],
        xpad: *const f32,
        vs: &[(usize, usize, usize); NV_PLANES],
        positions: usize,
        y: *mut f32,
    ) {
        // SAFETY: the caller bounds every weight row, window and masked output row read or written here.
        unsafe {
            let masks: [__mmask16; NV_PLANES] = core::array::from_fn(|v| ((1u32 << vs[v].2) - 1) as __mmask16);
            let mut acc = [[_mm512_setzero_ps(); NV_PLANES]; MR];
            for (kk, &tap) in taps.iter().enumerate() {
                let x: [__m512; NV_PLANES] = core::array::from_fn(|v| _mm512_loadu_ps(xpad.add(tap + vs[v].0)));
                let wr = w.add(kk * stride);
                for (i, a) in acc.iter_mut().enumerate() {
                    let wb = _mm512_set1_ps(*wr.add(i));
                    for (av, &xv) in a.iter_mut().zip(&x) {
                        *av = _mm512_fmadd_ps(wb, xv, *av);
                    }
                }
            }
            for (i, a) in acc.iter().enumerate() {
                for (v, &av) in a.iter().enumerate() {
                    let out = y.add(i * positions + vs[v].1);
                    let sum = _mm512_add_ps(_mm512_maskz_loadu_ps(masks[v], out), av);
                    _mm512_mask_storeu_ps(out, masks[v], sum);
                }
            }
        }
    }

    /// `NV` vectors of output channels from `co` (AVX-512: 16 lanes each, AVX2: 8) over rows `k0..` of one
    /// panel: `acc[t][i] = Σ_kk W[co + i, k0 + kk] rows[kk][t]`.
    #[inline(always)]
    pub(super) fn block<const PB: usize, const NV: usize, const ISA: u8>(
        w: &[f32],
        co_stride: usize,
        k0: usize,
        co: usize,
        rows: &Rows<'_, f32>,
        ahead: Ahead<'_>,
        acc: &mut [[f32; ACC]; PB],
    ) {
        let width = if ISA == Isa::Avx512 as u8 { 16 } else { 8 };
        let n = rows.offsets.len();
        // Every weight read below is inside `w`; the input rows are sliced with bounds checks.
        assert!(n == 0 || (k0 + n - 1) * co_stride + co + NV * width <= w.len());
        let w = &w[k0 * co_stride + co..];
        // SAFETY: the caller runs this only in the clone compiled for the instruction set `ISA` names, which the
        // dispatcher selected because the CPU has it; the weight reads stay in `w` by the assertion above.
        #[allow(unsafe_code)]
        unsafe {
            if ISA == Isa::Avx512 as u8 {
                avx512::<PB, NV>(w, co_stride, rows, ahead, acc);
            } else {
                avx2::<PB, NV>(w, co_stride, rows, ahead, acc);
            }
        }
    }

    #[allow(unsafe_code)]
    #[target_feature(enable = "avx512f")]
    unsafe fn avx512<const PB: usize, const NV: usize>(
        w: &[f32],
        stride: usize,
        rows: &Rows<'_, f32>,
        ahead: Ahead<'_>,
        out: &mut [[f32; ACC]; PB],
    ) {
        // SAFETY: the caller checked that `w` holds `NV` vectors at every row `kk * stride` read here.
        unsafe {
            let mut acc = [[_mm512_setzero_ps(); NV]; PB];
            let n = rows.offsets.len();
            for (kk, &offset) in rows.offsets.iter().enumerate() {
                let xr = &rows.base[offset..offset + PB];
                let p = w.as_ptr().add(kk * stride);
                prefetch_rows::<NV>(p, stride, kk, n, 16);
                ahead.row(kk);
                let mut wv = [_mm512_setzero_ps(); NV];
                for (v, wr) in wv.iter_mut().enumerate() {
                    *wr = _mm512_loadu_ps(p.add(16 * v));
                }
                for (a, &x) in acc.iter_mut().zip(xr) {
                    let xv = _mm512_set1_ps(x);
                    for (av, &wr) in a.iter_mut().zip(&wv) {
                        *av = _mm512_fmadd_ps(wr, xv, *av);
                    }
                }
            }
            for (o, a) in out.iter_mut().zip(&acc) {
                for (v, &av) in a.iter().enumerate() {
                    _mm512_storeu_ps(o.as_mut_ptr().add(16 * v), av);
                }
            }
        }
    }

    #[allow(unsafe_code)]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn avx2<const PB: usize, const NV: usize>(
        w: &[f32],
        stride: usize,
        rows: &Rows<'_, f32>,
        ahead: Ahead<'_>,
        out: &mut [[f32; ACC]; PB],
    ) {
        // SAFETY: the caller checked that `w` holds `NV` vectors at every row `kk * stride` read here.
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); NV]; PB];
            let n = rows.offsets.len();
            for (kk, &offset) in rows.offsets.iter().enumerate() {
                let xr = &rows.base[offset..offset + PB];
                let p = w.as_ptr().add(kk * stride);
                prefetch_rows::<NV>(p, stride, kk, n, 8);
                ahead.row(kk);
                let mut wv = [_mm256_setzero_ps(); NV];
                for (v, wr) in wv.iter_mut().enumerate() {
                    *wr = _mm256_loadu_ps(p.add(8 * v));
                }
                for (a, &x) in acc.iter_mut().zip(xr) {
                    let xv = _mm256_set1_ps(x);
                    for (av, &wr) in a.iter_mut().zip(&wv) {
                        *av = _mm256_fmadd_ps(wr, xv, *av);
                    }
                }
            }
            for (o, a) in out.iter_mut().zip(&acc) {
                for (v, &av) in a.iter().enumerate() {
                    _mm256_storeu_ps(o.as_mut_ptr().add(8 * v), av);
                }
            }
        }
    }
}

/// `offsets[kk]`: where row `k0 + kk` of the lowered input starts in the padded planes (`hp x wp`) for the
/// position whose window starts at `start` in each plane.
#[inline(always)]
fn tap_offsets(g: &Geometry, (hp, wp): (usize, usize), k0: usize, start: usize, offsets: &mut [usize]) {
    let taps = g.kh * g.kw;
    let (mut c, r) = (k0 / taps, k0 % taps);
    let (mut ky, mut kx) = (r / g.kw, r % g.kw);
    for o in offsets.iter_mut() {
        *o = c * hp * wp + ky * g.dh * wp + kx * g.dw + start;
        kx += 1;
        if kx == g.kw {
            (kx, ky) = (0, ky + 1);
            if ky == g.kh {
                (ky, c) = (0, c + 1);
            }
        }
    }
}

/// [`gather`] from the input zero-padded into planes of `hp x wp` ([`pad_planes`]): lane `t`'s window starts at
/// `starts[t]` in each padded plane, so every value is one load at a fixed offset from the tap's, without the
/// comparisons for the padding. Gathering with those took 4-5% of the VGG-style network's time.
#[inline(always)]
fn gather_padded<T: Float, const PB: usize>(
    g: &Geometry,
    xpad: &[T],
    (hp, wp): (usize, usize),
    starts: &[usize; PB],
    k0: usize,
    buf: &mut [[T; PB]],
) {
    let taps = g.kh * g.kw;
    let (mut c, r) = (k0 / taps, k0 % taps);
    let (mut ky, mut kx) = (r / g.kw, r % g.kw);
    let last = starts.iter().copied().max().unwrap_or(0);
    for row in buf.iter_mut() {
        let tap = c * hp * wp + ky * g.dh * wp + kx * g.dw;
        let window = &xpad[tap..=tap + last];
        for (v, &start) in row.iter_mut().zip(starts) {
            *v = window[start];
        }
        kx += 1;
        if kx == g.kw {
            (kx, ky) = (0, ky + 1);
            if ky == g.kh {
                (ky, c) = (0, c + 1);
            }
        }
    }
}

/// Fills `buf[kk][t]` with `X[k0 + kk, p0 + t]`: row `k = (c, ky, kx)` of the lowered input at each lane's
/// position (zero in the padding and past the last position). Along a run of one output row the input is read
/// at a fixed stride (contiguously at stride 1), with one unsigned comparison per value for the padding.
#[inline(always)]
fn gather<T: Float, const PB: usize>(g: &Geometry, x: &[T], runs: &[Run], k0: usize, buf: &mut [[T; PB]]) {
    let taps = g.kh * g.kw;
    let plane = g.h * g.w;
    let (mut c, r) = (k0 / taps, k0 % taps);
    let (mut ky, mut kx) = (r / g.kw, r % g.kw);
    for row in buf.iter_mut() {
        *row = [T::zero(); PB];
        let channel = &x[c * plane..(c + 1) * plane];
        for run in runs {
            // Input row of this tap for the run's output row, wrapping to a huge value in the top padding.
            let iy = (run.oy * g.sh + ky * g.dh).wrapping_sub(g.ph);
            if iy >= g.h {
                continue;
            }
            let line = &channel[iy * g.w..(iy + 1) * g.w];
            let ix0 = (run.ox * g.sw + kx * g.dw).wrapping_sub(g.pw);
            let out = &mut row[run.lane..run.lane + run.len];
            if g.sw == 1 {
                for (t, v) in out.iter_mut().enumerate() {
                    let ix = ix0.wrapping_add(t);
                    if ix < g.w {
                        *v = line[ix];
                    }
                }
            } else {
                for (t, v) in out.iter_mut().enumerate() {
                    let ix = ix0.wrapping_add(t * g.sw);
                    if ix < g.w {
                        *v = line[ix];
                    }
                }
            }
        }
        // The next tap: along the kernel row, then down, then the next channel.
        kx += 1;
        if kx == g.kw {
            (kx, ky) = (0, ky + 1);
            if ky == g.kh {
                (ky, c) = (0, c + 1);
            }
        }
    }
}

/// `MR` output channels from `co` over rows `k0..` of one panel, in plain Rust (any scalar, any target):
/// `acc[t][i] = Σ_kk W[co + i, k0 + kk] rows[kk][t]`.
///
/// The vectors run along the output channels, a contiguous piece of each weight column, and every position's
/// input value is broadcast: the pattern of the dense kernels' row strips.
#[inline(always)]
fn block<T: Float, const MR: usize, const PB: usize, const FMA: bool>(
    w: &[T],
    co_stride: usize,
    rows: &Rows<'_, T>,
    k0: usize,
    co: usize,
    out: &mut [[T; ACC]; PB],
) {
    let mut acc = [[T::zero(); MR]; PB];
    for (kk, &offset) in rows.offsets.iter().enumerate() {
        let xr = &rows.base[offset..offset + PB];
        let wc = &w[(k0 + kk) * co_stride + co..][..MR];
        for (a, &xv) in acc.iter_mut().zip(xr) {
            for (av, &wv) in a.iter_mut().zip(wc) {
                *av = if FMA { wv.mul_add(xv, *av) } else { wv * xv + *av };
            }
        }
    }
    for (o, a) in out.iter_mut().zip(&acc) {
        o[..MR].copy_from_slice(a);
    }
}

/// Taps up to which the depthwise kernel keeps every tap's weight and offset in registers (a 7x7 kernel has 49).
#[cfg(feature = "std")]
const DEPTHWISE_TAPS: usize = 64;

/// `y += conv(x)` for a convolution whose groups have one input channel each (depthwise, with `CO / groups`
/// outputs per channel): `w` is `CO x KH KW` column-major, `g` one group's geometry (`channels = 1`), `x` the
/// `groups` input planes and `y` the `CO` output planes of one sample.
///
/// With `std`, each input plane is copied once into zero-padded "phase" planes (for a column stride `s`, the
/// padded columns `j s + ph` of phase `ph`), so that every tap of every output row reads a contiguous run:
/// output `(oy, ox)` sees tap `(ky, kx)` at phase `(kx dw) % s`, row `oy sh + ky dh`, column `ox + (kx dw) / s`.
/// Each output row is then summed over all taps sixteen values at a time in registers and added into `y` once:
/// nine loads and multiply-adds per sixteen outputs for a 3x3 kernel. The first form (one pass over the whole
/// plane per tap, in the build target's SSE2) read and wrote the sums once per tap and spent 15.7 us on 32x16x16
/// @3x3; the bound is now the loads: there is one multiply-add per value loaded, too little arithmetic for the
/// implicit GEMM's blocking to pay.
pub(super) fn depthwise_forward<T: Float>(w: &[T], groups: usize, g: &Geometry, x: &[T], y: &mut [T]) {
    let (oh, ow, taps) = (g.out_h(), g.out_w(), g.kh * g.kw);
    let (plane, positions) = (g.h * g.w, oh * ow);
    if positions == 0 || groups == 0 {
        return;
    }
    let co = w.len() / taps.max(1);
    let per = co / groups;
    #[cfg(feature = "std")]
    if taps <= DEPTHWISE_TAPS {
        return depthwise_phases(w, co, per, g, x, y);
    }
    // The valid output columns of tap column `kx`: those whose input column `ox sw + kx dw - pw` is inside.
    let span = |kx: usize| -> (usize, usize, isize) {
        let shift = (kx * g.dw) as isize - g.pw as isize;
        let lo = if shift >= 0 { 0 } else { ((-shift) as usize).div_ceil(g.sw) };
        let hi = if (g.w as isize) <= shift { 0 } else { ((g.w as isize - shift) as usize).div_ceil(g.sw).min(ow) };
        (lo, hi.max(lo), shift)
    };
    for o in 0..co {
        let input = &x[(o / per.max(1)) * plane..][..plane];
        let out = &mut y[o * positions..][..positions];
        for (oy, row) in out.chunks_exact_mut(ow).enumerate() {
            for ky in 0..g.kh {
                let iy = (oy * g.sh + ky * g.dh).wrapping_sub(g.ph);
                if iy >= g.h {
                    continue;
                }
                let line = &input[iy * g.w..(iy + 1) * g.w];
                for kx in 0..g.kw {
                    let weight = w[o + (ky * g.kw + kx) * co];
                    let (lo, hi, shift) = span(kx);
                    if g.sw == 1 {
                        let start = (lo as isize + shift) as usize;
                        let source = &line[start..start + (hi - lo)];
                        for (v, &xv) in row[lo..hi].iter_mut().zip(source) {
                            *v += weight * xv;
                        }
                    } else {
                        for (ox, v) in row.iter_mut().enumerate().take(hi).skip(lo) {
                            *v += weight * line[(ox as isize * g.sw as isize + shift) as usize];
                        }
                    }
                }
            }
        }
    }
}

/// [`depthwise_forward`] through zero-padded phase planes in per-thread scratch.
#[cfg(feature = "std")]
fn depthwise_phases<T: Float>(w: &[T], co: usize, per: usize, g: &Geometry, x: &[T], y: &mut [T]) {
    let (hp, wp, s) = (g.h + 2 * g.ph, g.w + 2 * g.pw, g.sw);
    crate::scratch::with_buffers(s * hp * wp.div_ceil(s), 0, |padded: &mut [T], _| {
        // The padding stays zero: every plane writes the same interior positions.
        padded.fill(T::zero());
        depthwise_planes(w, co, per, g, x, y, padded);
    });
}

/// The body of [`depthwise_phases`], the instruction set picked at run time (a closure would not inherit it).
#[cfg(feature = "std")]
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn depthwise_planes<T: Float>(w: &[T], co: usize, per: usize, g: &Geometry, x: &[T], y: &mut [T], padded: &mut [T]) {
    const FMA: bool = multiversion::target::selected_target!().supports_feature_str("fma");
    let (oh, ow, taps) = (g.out_h(), g.out_w(), g.kh * g.kw);
    let (plane, positions) = (g.h * g.w, oh * ow);
    let (hp, wp, s) = (g.h + 2 * g.ph, g.w + 2 * g.pw, g.sw);
    // Each phase's columns.
    let pw = wp.div_ceil(s);
    let phase = hp * pw;
    // Where tap t of output (oy, 0) starts, less `oy sh pw`.
    let mut offsets = [0usize; DEPTHWISE_TAPS];
    for (t, o) in offsets.iter_mut().enumerate().take(taps) {
        let (ky, kx) = (t / g.kw, t % g.kw);
        let (ph, col) = ((kx * g.dw) % s, (kx * g.dw) / s);
        *o = ph * phase + ky * g.dh * pw + col;
    }
    let offsets = &offsets[..taps];
    let mut channel = usize::MAX;
    let mut weights = [T::zero(); DEPTHWISE_TAPS];
    for o in 0..co {
        let c = o / per.max(1);
        if c != channel {
            channel = c;
            for (r, row) in x[c * plane..][..plane].chunks_exact(g.w).enumerate() {
                let base = (r + g.ph) * pw;
                if s == 1 {
                    padded[base + g.pw..base + g.pw + g.w].copy_from_slice(row);
                } else {
                    // Padded column `j = i + pw` goes to phase `j % s`, column `j / s`: phase by phase, every
                    // `s`-th input value from the first that lands in it.
                    for first in 0..s.min(g.w) {
                        let j = first + g.pw;
                        let dest = &mut padded[(j % s) * phase + base + j / s..][..(g.w - first).div_ceil(s)];
                        for (d, &v) in dest.iter_mut().zip(row[first..].iter().step_by(s)) {
                            *d = v;
                        }
                    }
                }
            }
        }
        for (t, wt) in weights.iter_mut().enumerate().take(taps) {
            *wt = w[o + t * co];
        }
        let weights = &weights[..taps];
        // Four output rows at a time: four independent sums per run of sixteen cover the multiply-add's latency
        // (one row's taps form a single chain, which ran at a quarter of the rate).
        let out = &mut y[o * positions..][..positions];
        let step = g.sh * pw;
        let mut rows = out.chunks_exact_mut(4 * ow);
        for (block, four) in rows.by_ref().enumerate() {
            depthwise_rows::<T, 4, FMA>(weights, offsets, &padded[4 * block * step..], step, four);
        }
        let done = oh / 4 * 4;
        for (r, row) in rows.into_remainder().chunks_exact_mut(ow).enumerate() {
            depthwise_rows::<T, 1, FMA>(weights, offsets, &padded[(done + r) * step..], step, row);
        }
    }
}

/// `R` output rows (`out`, `R` rows of equal length, contiguous): row `r`'s value `i` gains
/// `Σ_t weights[t] source[r step + offsets[t] + i]`, sixteen (then eight, then four) values of each row at a
/// time with their sums in registers.
#[cfg(feature = "std")]
#[inline(always)]
fn depthwise_rows<T: Float, const R: usize, const FMA: bool>(
    weights: &[T],
    offsets: &[usize],
    source: &[T],
    step: usize,
    out: &mut [T],
) {
    let n = out.len() / R;
    let mut i = depthwise_runs::<T, R, 16, FMA>(weights, offsets, source, step, out, n, 0);
    i = depthwise_runs::<T, R, 8, FMA>(weights, offsets, source, step, out, n, i);
    i = depthwise_runs::<T, R, 4, FMA>(weights, offsets, source, step, out, n, i);
    depthwise_runs::<T, R, 1, FMA>(weights, offsets, source, step, out, n, i);
}

/// The runs of `L` values from `i` of [`depthwise_rows`] (rows of `n`) that fit; returns where they end.
#[cfg(feature = "std")]
#[inline(always)]
fn depthwise_runs<T: Float, const R: usize, const L: usize, const FMA: bool>(
    weights: &[T],
    offsets: &[usize],
    source: &[T],
    step: usize,
    out: &mut [T],
    n: usize,
    mut i: usize,
) -> usize {
    while i + L <= n {
        let mut acc = [[T::zero(); L]; R];
        for (&wt, &off) in weights.iter().zip(offsets) {
            for (r, a) in acc.iter_mut().enumerate() {
                let start = r * step + off + i;
                let run: &[T; L] = source[start..start + L].try_into().expect("a run of L values");
                for (a, &v) in a.iter_mut().zip(run) {
                    *a = if FMA { wt.mul_add(v, *a) } else { wt * v + *a };
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            for (o, &a) in out[r * n + i..r * n + i + L].iter_mut().zip(a) {
                *o += a;
            }
        }
        i += L;
    }
    i
}

/// Fills `col` (`K` rows of `P` values) with one sample's lowered input: row `k = (c, ky, kx)`, column `p = (oy,
/// ox)` holds the input value tap `(ky, kx)` of channel `c` sees at output position `p` (zero in the padding).
#[cfg(feature = "std")]
fn lower<T: Float>(g: &Geometry, x: &[T], col: &mut [T]) {
    let (oh, ow, positions) = (g.out_h(), g.out_w(), g.positions());
    let plane = g.h * g.w;
    let (mut c, mut ky, mut kx) = (0, 0, 0);
    for row in col.chunks_exact_mut(positions.max(1)).take(g.receptive()) {
        let channel = &x[c * plane..(c + 1) * plane];
        for (oy, out) in row.chunks_exact_mut(ow.max(1)).take(oh).enumerate() {
            let iy = (oy * g.sh + ky * g.dh).wrapping_sub(g.ph);
            if iy >= g.h {
                out.fill(T::zero());
                continue;
            }
            let line = &channel[iy * g.w..(iy + 1) * g.w];
            let ix0 = (kx * g.dw).wrapping_sub(g.pw);
            for (ox, v) in out.iter_mut().enumerate() {
                let ix = ix0.wrapping_add(ox * g.sw);
                *v = if ix < g.w { line[ix] } else { T::zero() };
            }
        }
        kx += 1;
        if kx == g.kw {
            (kx, ky) = (0, ky + 1);
            if ky == g.kh {
                (ky, c) = (0, c + 1);
            }
        }
    }
}

/// The weight gradient of `samples` samples of a convolution of `groups` groups (`g` is one group's geometry):
/// `dw += scale Σ_b dY_b colᵀ_b` group by group, `dw` being `CO x K` column-major, `dys` `CO` planes per sample
/// and `xs` the inputs. Each sample's lowered input is built once per group in per-thread scratch and
/// multiplied by the packed GEMM of [`crate::kernel`]. Returns `false`, having done nothing, where that GEMM
/// does not exist (a scalar other than `f32` and `f64`).
#[cfg(feature = "std")]
pub(super) fn conv_weight_gradient_fast<T: Float>(
    groups: usize,
    g: &Geometry,
    xs: &[T],
    dys: &[T],
    samples: usize,
    scale: T,
    dw: &mut [T],
) -> bool {
    let (k, p, ins) = (g.receptive(), g.positions(), g.inputs());
    if k == 0 || p == 0 || samples == 0 || groups == 0 {
        return true;
    }
    let co = dw.len() / k;
    let per_group = co / groups;
    crate::scratch::with_buffers(k * p, 0, |col: &mut [T], _| {
        for b in 0..samples {
            for i in 0..groups {
                let x = &xs[(b * groups + i) * ins..][..ins];
                lower(g, x, col);
                let dy = &dys[(b * co + i * per_group) * p..][..per_group * p];
                // This group's rows of dw (per_group x k, column stride co) += scale dy colᵀ, with dy read as a
                // row-major per_group x p matrix and col (k x p) with its strides swapped.
                let rows = &mut dw[i * per_group..];
                if !crate::kernel::blocked_gemm(per_group, p, k, dy, (p, 1), col, (1, p), (scale, T::one()), rows, co) {
                    return false;
                }
            }
        }
        true
    })
}

/// The input gradient of `samples` samples of a convolution of `groups` groups with unit strides (`g` is one
/// group's geometry), as the forward kernel on the output gradient: `dx = conv(dy, W')` group by group, where
/// `W'` maps the group's output channels to its input channels with every kernel flipped, and the padding is
/// the kernel's extent less the forward padding. `W'` is packed once per call in per-thread scratch. `dxs` is
/// added into. Returns `false`, having done nothing, for strides other than one or a padding wider than the
/// kernel's extent (the caller's other paths handle those).
#[cfg(feature = "std")]
pub(super) fn conv_input_gradient_fast<T: Float>(
    w: &[T],
    groups: usize,
    g: &Geometry,
    dys: &[T],
    samples: usize,
    dxs: &mut [T],
) -> bool {
    let (ci, taps) = (g.channels, g.kh * g.kw);
    let k = ci * taps;
    if g.sh != 1 || g.sw != 1 || g.ph > (g.kh - 1) * g.dh || g.pw > (g.kw - 1) * g.dw || k == 0 || groups == 0 {
        return false;
    }
    let co = w.len() / k;
    let per_group = co / groups;
    let (oh, ow) = (g.out_h(), g.out_w());
    let pad = ((g.kh - 1) * g.dh - g.ph, (g.kw - 1) * g.dw - g.pw);
    let flipped = Geometry::new2d(per_group, oh, ow, (g.kh, g.kw), (1, 1), pad, (g.dh, g.dw));
    crate::scratch::with_buffers(per_group * k, 0, |wt: &mut [T], _| {
        let (outs, ins) = (per_group * oh * ow, g.inputs());
        for i in 0..groups {
            // wt is C_in x (per_group KH KW), column `(o, ky, kx)` holding W[i per_group + o, :, KH - 1 - ky,
            // KW - 1 - kx].
            for o in 0..per_group {
                for tap in 0..taps {
                    let (ky, kx) = (tap / g.kw, tap % g.kw);
                    let source = (g.kh - 1 - ky) * g.kw + (g.kw - 1 - kx);
                    let column = &mut wt[(o * taps + tap) * ci..][..ci];
                    for (c, v) in column.iter_mut().enumerate() {
                        *v = w[i * per_group + o + (c * taps + source) * co];
                    }
                }
            }
            for b in 0..samples {
                let dy = &dys[(b * groups + i) * outs..][..outs];
                conv_forward_fast(wt, &flipped, dy, &mut dxs[(b * groups + i) * ins..][..ins]);
            }
        }
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    /// The textbook convolution in `f64`, straight from the definition.
    fn textbook(w: &[f32], co: usize, g: &Geometry, x: &[f32]) -> Vec<f64> {
        let (oh, ow) = (g.out_h(), g.out_w());
        let mut y = vec![0.0; co * oh * ow];
        for o in 0..co {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut s = 0.0;
                    for c in 0..g.channels {
                        for ky in 0..g.kh {
                            for kx in 0..g.kw {
                                let iy = (oy * g.sh + ky * g.dh) as isize - g.ph as isize;
                                let ix = (ox * g.sw + kx * g.dw) as isize - g.pw as isize;
                                if iy < 0 || ix < 0 || iy >= g.h as isize || ix >= g.w as isize {
                                    continue;
                                }
                                let k = (c * g.kh + ky) * g.kw + kx;
                                let v = x[c * g.h * g.w + iy as usize * g.w + ix as usize];
                                s += f64::from(w[k * co + o]) * f64::from(v);
                            }
                        }
                    }
                    y[(o * oh + oy) * ow + ox] = s;
                }
            }
        }
        y
    }

    /// The largest error of the fast `f32` kernel against the textbook one, relative to the sum of the
    /// products' magnitudes (the scale of the rounding error of any summation order).
    fn worst<const CO: usize, const K: usize>(g: Geometry) -> f64 {
        assert_eq!(K, g.receptive());
        let value = |i: usize, salt: u32| {
            ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(salt) >> 8) as f32 / 16_777_216.0 - 0.5
        };
        let w: Vec<f32> = (0..CO * K).map(|i| value(i, 7)).collect();
        let x: Vec<f32> = (0..g.inputs()).map(|i| value(i, 99)).collect();
        let mut y = vec![0.0f32; CO * g.positions()];
        conv_forward_fast::<f32>(&w, &g, &x, &mut y);
        // The portable kernel gathering from the unpadded input, as without `std`.
        let mut portable = vec![0.0f32; CO * g.positions()];
        let out = &mut Out { y: &mut portable, channel: g.positions(), position: 1 };
        panels::<f32, 6, 2, false, { Isa::Portable as u8 }>(&w, CO, CO, &g, &x, None, out);
        let abs_w: Vec<f32> = w.iter().map(|v| v.abs()).collect();
        let abs_x: Vec<f32> = x.iter().map(|v| v.abs()).collect();
        let (exact, scale) = (textbook(&w, CO, &g, &x), textbook(&abs_w, CO, &g, &abs_x));
        y.iter()
            .chain(&portable)
            .zip(exact.iter().zip(&scale).cycle())
            .map(|(&got, (&e, &s))| (f64::from(got) - e).abs() / s.max(1e-30))
            .fold(0.0, f64::max)
    }

    /// Every block width (32, 16, 8 and single channels), every panel width, panels that cross rows and end
    /// short, strides, padding, dilation and more receptive-field rows than one pass over the weights takes.
    #[test]
    fn the_f32_kernel_agrees_with_the_textbook_convolution() {
        let g2 = |c, h, w, k, s, p, d| Geometry::new2d(c, h, w, (k, k), (s, s), (p, p), (d, d));
        let errors = [
            worst::<8, 25>(g2(1, 28, 28, 5, 1, 0, 1)),
            worst::<32, 144>(g2(16, 14, 14, 3, 1, 1, 1)),
            worst::<1, 9>(g2(1, 5, 7, 3, 1, 1, 1)),
            worst::<5, 18>(g2(2, 9, 6, 3, 2, 1, 1)),
            worst::<13, 12>(g2(3, 7, 7, 2, 1, 0, 2)),
            worst::<24, 27>(g2(3, 11, 9, 3, 2, 2, 1)),
            worst::<56, 270>(g2(30, 6, 5, 3, 1, 1, 1)),
            worst::<40, 300>(Geometry::new1d(60, 17, 5, 1, 2, 1)),
            // Planes of 2x2 and 4x4: panels of four and eight positions.
            worst::<48, 72>(g2(8, 2, 2, 3, 1, 1, 1)),
            worst::<16, 36>(g2(4, 4, 4, 3, 1, 1, 1)),
            // Few positions over many channels, all in one panel: sixteen positions (blocks of 16, 8 and single
            // channels), four (blocks of 64, 32, 16, 8 and single channels), eight and one; planes of 4x4 and
            // 3x3 with more rows than one chunk, so that the next chunk's rows are prefetched.
            worst::<185, 90>(g2(10, 4, 4, 3, 1, 1, 1)),
            worst::<136, 270>(g2(30, 2, 2, 3, 1, 1, 1)),
            worst::<89, 360>(g2(40, 4, 4, 3, 1, 1, 1)),
            worst::<105, 621>(g2(69, 3, 3, 3, 1, 1, 1)),
            worst::<121, 99>(Geometry::new2d(11, 2, 3, (3, 3), (1, 1), (1, 1), (1, 1))),
            worst::<72, 9>(g2(1, 1, 1, 3, 1, 1, 1)),
            // Panels that are whole output rows (eight and twelve positions), read from the padded planes
            // without gathering.
            worst::<96, 360>(g2(40, 8, 8, 3, 1, 1, 1)),
            worst::<160, 180>(g2(20, 12, 12, 3, 1, 1, 1)),
            // Few input channels over wide planes: positions in the vectors (blocks of eight, four and single
            // channels; rows of two, one and a partial vector; dilated).
            worst::<64, 27>(g2(3, 32, 32, 3, 1, 1, 1)),
            worst::<13, 27>(g2(3, 16, 12, 3, 1, 1, 1)),
            worst::<5, 18>(g2(2, 30, 30, 3, 1, 2, 2)),
        ];
        for (i, e) in errors.iter().enumerate() {
            assert!(*e < 1e-6, "case {i}: relative error {e:e}");
        }
    }

    /// Winograd's F(2x2, 3x3) against the textbook convolution, within the direct form's bound: a block of
    /// channels and a tail of eight, outputs of odd height and width (partial tiles), input channels in two
    /// blocks, and paddings of 0, 1 and 2. The largest error seen is 1.7e-7 of `Σ|w||x|`.
    #[cfg(feature = "std")]
    #[test]
    fn winograd_agrees_with_the_textbook_convolution() {
        let g2 = |c, h, w, p| Geometry::new2d(c, h, w, (3, 3), (1, 1), (p, p), (1, 1));
        let cases =
            [(72, g2(64, 16, 16, 1)), (64, g2(70, 17, 31, 1)), (65, g2(64, 18, 18, 0)), (64, g2(64, 14, 14, 2))];
        for (co, g) in cases {
            assert!(winograd::applies::<f32>(&g, co) && !winograd::applies::<f64>(&g, co));
        }
        let errors = [
            worst::<72, 576>(cases[0].1),
            worst::<64, 630>(cases[1].1),
            worst::<65, 576>(cases[2].1),
            worst::<64, 576>(cases[3].1),
        ];
        for (i, e) in errors.iter().enumerate() {
            assert!(*e < 1e-6, "case {i}: relative error {e:e}");
        }
    }

    /// The depthwise kernel in `f32` against the textbook convolution of each channel, on rows long enough for
    /// whole runs of sixteen and a tail: unit and other strides (each a different set of phase planes), padding,
    /// dilation, two outputs per channel, and 1-d.
    #[test]
    fn the_depthwise_kernel_agrees_with_the_textbook_convolution() {
        let value = |i: usize, salt: u32| {
            ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(salt) >> 8) as f32 / 16_777_216.0 - 0.5
        };
        let g2 = |h, w, k: (usize, usize), s, p, d| Geometry::new2d(1, h, w, k, s, p, d);
        let cases = [
            (3, 1, g2(20, 37, (3, 3), (1, 1), (1, 1), (1, 1))),
            (4, 1, g2(19, 40, (3, 3), (2, 2), (1, 1), (1, 1))),
            (2, 2, g2(9, 53, (5, 3), (1, 3), (2, 1), (1, 2))),
            (3, 1, g2(12, 35, (3, 5), (2, 1), (0, 2), (2, 1))),
            (2, 1, Geometry::new1d(1, 70, 5, 2, 2, 1)),
        ];
        for (case, &(groups, per, g)) in cases.iter().enumerate() {
            let (co, taps, positions) = (groups * per, g.kh * g.kw, g.positions());
            let w: Vec<f32> = (0..co * taps).map(|i| value(i, 3)).collect();
            let x: Vec<f32> = (0..groups * g.inputs()).map(|i| value(i, 11)).collect();
            let mut y: Vec<f32> = (0..co * positions).map(|i| value(i, 5)).collect();
            let before = y.clone();
            depthwise_forward(&w, groups, &g, &x, &mut y);
            for o in 0..co {
                let column: Vec<f32> = (0..taps).map(|t| w[o + t * co]).collect();
                let c = o / per;
                let exact = textbook(&column, 1, &g, &x[c * g.inputs()..][..g.inputs()]);
                for (p, &e) in exact.iter().enumerate() {
                    let (got, want) = (f64::from(y[o * positions + p]), f64::from(before[o * positions + p]) + e);
                    assert!((got - want).abs() < 1e-5, "case {case}, output {o}, position {p}: {got} against {want}");
                }
            }
        }
    }
}
