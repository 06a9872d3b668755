//! Convolution, transposed convolution and pooling over channel-major activations.
//!
//! # Layout
//!
//! A multi-dimensional activation of one sample is a column vector holding `C` planes of `H x W` values,
//! channel-major and row-major within a plane: element `(c, h, w)` is at `c * H * W + h * W + w`, exactly
//! PyTorch's `NCHW` order for one sample. A batch is a matrix with one such column per sample. One-dimensional
//! layers are the same with `H = 1`. `Flatten` therefore moves no data.
//!
//! # Lowering
//!
//! A convolution is computed as matrix products over the lowered input ("im2col": one row per weight of an
//! output channel, `K = C_in * KH * KW`, one column per output position). The forward pass never builds it
//! whole: the implicit GEMM of `conv_fast` gathers panels of positions into a small buffer and multiplies
//! blocks of output channels by them in registers (AVX-512 or AVX2 micro-kernels for `f32`, picked at run
//! time). Backward works four output positions at a time: the receptive fields are gathered into a `K x 4`
//! tile, `dW += dY colᵀ`, `dcol = Wᵀ dY`, and `dcol` is added back into `dx` ("col2im"). A transposed
//! convolution is the same pair of operations with forward and backward exchanged. Nothing is allocated.

use crate::activation::ActivationLayer;
use crate::float::Float;
use crate::init::Init;
use crate::kernel;
use crate::layer::contract::{Layer, Sink};
use crate::params::{Layout, Parameters, Tensor, TensorMut};
use nalgebra::{SMatrix, SVector};
use rand::Rng;

/// Output positions per tile of the lowered product.
const TILE: usize = 4;

/// The geometry of a convolution (or pooling window) over `channels` planes of `h x w`: kernel `kh x kw`,
/// stride, zero padding and dilation per axis. One-dimensional layers use `h = kh = 1`, `sh = dh = 1`, `ph = 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    /// Input channels.
    pub channels: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Vertical stride.
    pub sh: usize,
    /// Horizontal stride.
    pub sw: usize,
    /// Vertical zero padding (each side).
    pub ph: usize,
    /// Horizontal zero padding (each side).
    pub pw: usize,
    /// Vertical dilation.
    pub dh: usize,
    /// Horizontal dilation.
    pub dw: usize,
}

// Output sizes, defined once for this crate and the `network!` macro, which computes them while it expands.
pub use nn_shapes::{conv_out, conv_transpose_out};

impl Geometry {
    /// A 2-D geometry.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub const fn new2d(
        channels: usize,
        h: usize,
        w: usize,
        k: (usize, usize),
        s: (usize, usize),
        p: (usize, usize),
        d: (usize, usize),
    ) -> Self {
        Self { channels, h, w, kh: k.0, kw: k.1, sh: s.0, sw: s.1, ph: p.0, pw: p.1, dh: d.0, dw: d.1 }
    }

    /// A 1-D geometry over `channels` rows of `len` values.
    #[inline]
    pub const fn new1d(channels: usize, len: usize, k: usize, s: usize, p: usize, d: usize) -> Self {
        Self { channels, h: 1, w: len, kh: 1, kw: k, sh: 1, sw: s, ph: 0, pw: p, dh: 1, dw: d }
    }

    /// Output height.
    #[inline]
    pub const fn out_h(&self) -> usize {
        conv_out(self.h, self.kh, self.sh, self.ph, self.dh)
    }

    /// Output width.
    #[inline]
    pub const fn out_w(&self) -> usize {
        conv_out(self.w, self.kw, self.sw, self.pw, self.dw)
    }

    /// Output positions per channel.
    #[inline]
    pub const fn positions(&self) -> usize {
        self.out_h() * self.out_w()
    }

    /// Values per input sample.
    #[inline]
    pub const fn inputs(&self) -> usize {
        self.channels * self.h * self.w
    }

    /// Rows of the lowered matrix: `channels * kh * kw`.
    #[inline]
    pub const fn receptive(&self) -> usize {
        self.channels * self.kh * self.kw
    }

    /// The input index feeding receptive-field row `k` at output position `p`, if not in the padding; `out_w` is
    /// [`Geometry::out_w`], computed once by the caller (these are the innermost loops of the lowering).
    #[inline]
    fn source(&self, k: usize, p: usize, out_w: usize) -> Option<usize> {
        let (c, r) = (k / (self.kh * self.kw), k % (self.kh * self.kw));
        let (ky, kx) = (r / self.kw, r % self.kw);
        let (oy, ox) = (p / out_w, p % out_w);
        let y = (oy * self.sh + ky * self.dh).checked_sub(self.ph)?;
        let x = (ox * self.sw + kx * self.dw).checked_sub(self.pw)?;
        (y < self.h && x < self.w).then(|| c * self.h * self.w + y * self.w + x)
    }
}

/// Gathers the receptive fields of output positions `p0..p0 + TILE` (zero past the last position).
#[inline]
fn im2col<T: Float, const K: usize>(g: &Geometry, x: &[T], p0: usize, col: &mut SMatrix<T, K, TILE>) {
    let (positions, ow) = (g.positions(), g.out_w());
    for t in 0..TILE {
        let p = p0 + t;
        for k in 0..K {
            col[(k, t)] = if p < positions { g.source(k, p, ow).map_or(T::zero(), |i| x[i]) } else { T::zero() };
        }
    }
}

/// Adds the receptive-field values `col` of positions `p0..` back into the input they came from.
#[inline]
fn col2im<T: Float, const K: usize>(g: &Geometry, col: &SMatrix<T, K, TILE>, p0: usize, dx: &mut [T]) {
    let (positions, ow) = (g.positions(), g.out_w());
    for t in 0..TILE.min(positions.saturating_sub(p0)) {
        for k in 0..K {
            if let Some(i) = g.source(k, p0 + t, ow) {
                dx[i] += col[(k, t)];
            }
        }
    }
}

/// Reads a `C x TILE` tile of channel-major planes of `positions` values, starting at position `p0`.
#[inline]
fn read_tile<T: Float, const C: usize>(plane: &[T], positions: usize, p0: usize) -> SMatrix<T, C, TILE> {
    SMatrix::from_fn(|c, t| if p0 + t < positions { plane[c * positions + p0 + t] } else { T::zero() })
}

/// Adds a `C x TILE` tile into channel-major planes of `positions` values at position `p0`.
#[inline]
fn add_tile<T: Float, const C: usize>(tile: &SMatrix<T, C, TILE>, plane: &mut [T], positions: usize, p0: usize) {
    for t in 0..TILE.min(positions.saturating_sub(p0)) {
        for c in 0..C {
            plane[c * positions + p0 + t] += tile[(c, t)];
        }
    }
}

/// Sets every plane of `y` (one sample, `positions` values per channel) to its channel's bias.
#[inline]
fn fill_bias<T: Float, const CO: usize>(bias: &SVector<T, CO>, positions: usize, y: &mut [T]) {
    if positions == 0 {
        return;
    }
    for (plane, &b) in y.chunks_exact_mut(positions).zip(bias.iter()) {
        plane.fill(b);
    }
}

/// [`conv_forward`] for a convolution of `groups` groups: group `i` maps input channels `i C_in / groups..` with
/// weight rows `i CO / groups..` to those output channels (`g` is one group's geometry).
#[inline]
fn conv_forward_groups<T: Float, const CO: usize, const K: usize>(
    w: &SMatrix<T, CO, K>,
    groups: usize,
    g: &Geometry,
    x: &[T],
    y: &mut [T],
) {
    if groups <= 1 {
        return conv_forward(w, g, x, y);
    }
    conv_forward_groups_then(w, groups, g, x, y, |_: &mut [T]| {});
}

/// [`conv_forward_groups`], then `epilogue` on every output value (fused into the kernel's last pass where the
/// kernel has one, after it otherwise).
#[inline]
fn conv_forward_groups_then<T: Float, const CO: usize, const K: usize>(
    w: &SMatrix<T, CO, K>,
    groups: usize,
    g: &Geometry,
    x: &[T],
    y: &mut [T],
    epilogue: impl Fn(&mut [T]),
) {
    if groups <= 1 {
        return super::conv_fast::conv_forward_rows_then(w.as_slice(), CO, CO, g, x, y, epilogue);
    }
    if g.channels == 1 {
        super::conv_fast::depthwise_forward(w.as_slice(), groups, g, x, y);
        return epilogue(&mut y[..CO * g.positions()]);
    }
    let (per_group, ins) = (CO / groups, g.inputs());
    let outs = per_group * g.positions();
    for i in 0..groups {
        let (xg, yg) = (&x[i * ins..(i + 1) * ins], &mut y[i * outs..(i + 1) * outs]);
        super::conv_fast::conv_forward_rows_then(&w.as_slice()[i * per_group..], CO, per_group, g, xg, yg, &epilogue);
    }
}

/// The backward pass of a grouped convolution straight from the definition, for what the fast kernels do not
/// cover (builds without `std`, and the input gradient of strides above one): adds `scale dL/dW` into `dw`
/// and `dL/dx` into `dx` for one sample. `w` (`CO x K`, column-major) is read only for `dx`, `x` only for `dw`.
fn grouped_backward_textbook<T: Float>(
    w: &[T],
    groups: usize,
    g: &Geometry,
    x: &[T],
    dy: &[T],
    mut dw: Option<(&mut [T], T)>,
    mut dx: Option<&mut [T]>,
) {
    let (oh, ow, plane) = (g.out_h(), g.out_w(), g.h * g.w);
    let co = dy.len() / (oh * ow).max(1);
    let per_group = co / groups.max(1);
    for o in 0..co {
        let group = o / per_group.max(1);
        for oy in 0..oh {
            for ox in 0..ow {
                let d = dy[(o * oh + oy) * ow + ox];
                for c in 0..g.channels {
                    for ky in 0..g.kh {
                        for kx in 0..g.kw {
                            let iy = (oy * g.sh + ky * g.dh).wrapping_sub(g.ph);
                            let ix = (ox * g.sw + kx * g.dw).wrapping_sub(g.pw);
                            if iy >= g.h || ix >= g.w {
                                continue;
                            }
                            let k = (c * g.kh + ky) * g.kw + kx;
                            let i = (group * g.channels + c) * plane + iy * g.w + ix;
                            if let Some((dw, scale)) = dw.as_mut() {
                                dw[o + k * co] += *scale * d * x[i];
                            }
                            if let Some(dx) = dx.as_deref_mut() {
                                dx[i] += w[o + k * co] * d;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `y = conv(x)` without bias, added into `y` (weight `CO x K`): the implicit GEMM of [`super::conv_fast`].
#[inline]
fn conv_forward<T: Float, const CO: usize, const K: usize>(w: &SMatrix<T, CO, K>, g: &Geometry, x: &[T], y: &mut [T]) {
    super::conv_fast::conv_forward_fast::<T>(w.as_slice(), g, x, y);
}

/// The conv's backward: `dw += dy colᵀ` and `dx += col2im(wᵀ dy)`.
fn conv_backward<T: Float, const CO: usize, const K: usize>(
    w: &SMatrix<T, CO, K>,
    g: &Geometry,
    x: &[T],
    dy: &[T],
    dw: Option<&mut SMatrix<T, CO, K>>,
    dx: &mut [T],
) {
    let positions = g.positions();
    let mut col = SMatrix::<T, K, TILE>::zeros();
    let mut dw = dw;
    for p0 in (0..positions).step_by(TILE) {
        let dy_tile: SMatrix<T, CO, TILE> = read_tile(dy, positions, p0);
        if let Some(dw) = dw.as_deref_mut() {
            im2col(g, x, p0, &mut col);
            kernel::ger_acc(&dy_tile, &col, dw);
        }
        let dcol = kernel::gemm_tn(w, &dy_tile);
        col2im(g, &dcol, p0, dx);
    }
}

/// The conv's weight gradient, scaled: `dw += scale dy colᵀ`.
fn conv_weight_gradient<T: Float, const CO: usize, const K: usize>(
    g: &Geometry,
    x: &[T],
    dy: &[T],
    scale: T,
    dw: &mut SMatrix<T, CO, K>,
) {
    let positions = g.positions();
    let mut col = SMatrix::<T, K, TILE>::zeros();
    for p0 in (0..positions).step_by(TILE) {
        let mut dy_tile: SMatrix<T, CO, TILE> = read_tile(dy, positions, p0);
        if scale != T::one() {
            dy_tile *= scale;
        }
        im2col(g, x, p0, &mut col);
        kernel::ger_acc(&dy_tile, &col, dw);
    }
}

/// A 2-D convolution with `CO` output channels and `K = C_in * KH * KW` weights per output channel. As a
/// [`Layer`] its geometry is part of the type: input planes `H x W`, strides `SH, SW`, zero padding `PH, PW`
/// and dilations `DH, DW` ([`Conv::GEOMETRY`]); the inherent methods take any [`Geometry`] instead. With
/// `BIAS` `false` it adds no bias (PyTorch's `bias=False`): its only parameter is `weight`.
///
/// `weight` is `CO x K`, row `co` holding PyTorch's `weight[co]` (`[C_in, KH, KW]`, row-major) so the external
/// layout is PyTorch's `[out, in, kh, kw]`.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Conv<
    T,
    const CO: usize,
    const K: usize,
    const KH: usize,
    const KW: usize,
    const D2: bool,
    const H: usize = 0,
    const W: usize = 0,
    const SH: usize = 1,
    const SW: usize = 1,
    const PH: usize = 0,
    const PW: usize = 0,
    const DH: usize = 1,
    const DW: usize = 1,
    const G: usize = 1,
    const BIAS: bool = true,
> where
    T: Float,
{
    /// Weights, `CO x K`.
    pub weight: SMatrix<T, CO, K>,
    /// Biases, one per output channel; zero, and not a parameter, when `BIAS` is `false`.
    pub bias: SVector<T, CO>,
}

/// A 2-D convolution: weight shape `[out, in, kh, kw]`; without bias when `BIAS` is `false`.
pub type Conv2d<
    T,
    const CO: usize,
    const K: usize,
    const KH: usize,
    const KW: usize,
    const H: usize = 0,
    const W: usize = 0,
    const SH: usize = 1,
    const SW: usize = 1,
    const PH: usize = 0,
    const PW: usize = 0,
    const DH: usize = 1,
    const DW: usize = 1,
    const G: usize = 1,
    const BIAS: bool = true,
> = Conv<T, CO, K, KH, KW, true, H, W, SH, SW, PH, PW, DH, DW, G, BIAS>;

/// A 1-D convolution: weight shape `[out, in, k]`; without bias when `BIAS` is `false`.
pub type Conv1d<
    T,
    const CO: usize,
    const K: usize,
    const KW: usize,
    const W: usize = 0,
    const SW: usize = 1,
    const PW: usize = 0,
    const DW: usize = 1,
    const G: usize = 1,
    const BIAS: bool = true,
> = Conv<T, CO, K, 1, KW, false, 1, W, 1, SW, 0, PW, 1, DW, G, BIAS>;

impl<
    T: Float,
    const CO: usize,
    const K: usize,
    const KH: usize,
    const KW: usize,
    const D2: bool,
    const H: usize,
    const W: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    const G: usize,
    const BIAS: bool,
> Conv<T, CO, K, KH, KW, D2, H, W, SH, SW, PH, PW, DH, DW, G, BIAS>
{
    /// The geometry of the type's parameters: `K / (KH KW)` channels of `H x W`.
    pub const GEOMETRY: Geometry = Geometry {
        channels: K / (KH * KW),
        h: H,
        w: W,
        kh: KH,
        kw: KW,
        sh: SH,
        sw: SW,
        ph: PH,
        pw: PW,
        dh: DH,
        dw: DW,
    };

    /// Fails to compile unless `G` (the groups) is at least one and divides the output channels.
    const GROUPS_DIVIDE_CHANNELS: () =
        assert!(G >= 1 && CO.is_multiple_of(G), "the groups must divide the output channels");

    /// A layer built from its weights and biases (a layer without bias ignores `bias`).
    pub const fn new(weight: SMatrix<T, CO, K>, bias: SVector<T, CO>) -> Self {
        Self { weight, bias }
    }

    /// A layer built from its weights, biases zero.
    pub const fn without_bias(weight: SMatrix<T, CO, K>) -> Self {
        Self { weight, bias: SMatrix::from_array_storage(nalgebra::ArrayStorage([[T::ZERO; CO]; 1])) }
    }

    /// Sets every plane of one sample's output `y` (`positions` values per channel) to its channel's bias, or
    /// to zero without bias.
    #[inline]
    fn start_output(&self, positions: usize, y: &mut [T]) {
        if BIAS {
            fill_bias(&self.bias, positions, y);
        } else {
            y.fill(T::zero());
        }
    }

    /// Forward on a batch: `IN = C_in * H * W` inputs and `OUT = CO * OH * OW` outputs per sample.
    #[inline]
    pub fn forward<const IN: usize, const OUT: usize, const B: usize>(
        &self,
        g: &Geometry,
        x: &SMatrix<T, IN, B>,
    ) -> SMatrix<T, OUT, B> {
        debug_assert!(IN == G * g.inputs() && OUT == CO * g.positions() && K == g.receptive());
        let mut y = SMatrix::<T, OUT, B>::zeros();
        for b in 0..B {
            let (xb, yb) = (&x.as_slice()[b * IN..(b + 1) * IN], &mut y.as_mut_slice()[b * OUT..(b + 1) * OUT]);
            self.start_output(g.positions(), yb);
            conv_forward_groups(&self.weight, G, g, xb, yb);
        }
        y
    }

    /// Backward: adds dL/dW and dL/db (summed over the batch; no dL/db without bias) into `grads`, returns
    /// dL/dx.
    #[inline]
    pub fn backward<const IN: usize, const OUT: usize, const B: usize>(
        &self,
        g: &Geometry,
        x: &SMatrix<T, IN, B>,
        dy: &SMatrix<T, OUT, B>,
        grads: &mut Self,
    ) -> SMatrix<T, IN, B> {
        let positions = g.positions().max(1);
        let mut dx = SMatrix::<T, IN, B>::zeros();
        for b in 0..B {
            let xb = &x.as_slice()[b * IN..(b + 1) * IN];
            let dyb = &dy.as_slice()[b * OUT..(b + 1) * OUT];
            if BIAS {
                for (r, &d) in dyb.iter().enumerate() {
                    grads.bias[r / positions] += d;
                }
            }
            let dxb = &mut dx.as_mut_slice()[b * IN..(b + 1) * IN];
            if G == 1 {
                conv_backward(&self.weight, g, xb, dyb, Some(&mut grads.weight), dxb);
            } else {
                let dw = Some((grads.weight.as_mut_slice(), T::one()));
                grouped_backward_textbook(self.weight.as_slice(), G, g, xb, dyb, dw, Some(dxb));
            }
        }
        dx
    }

    /// He or Xavier initialisation over fans `K` and `CO * KH * KW`; zero biases.
    pub fn init<R: Rng + ?Sized>(&mut self, init: Init, rng: &mut R) {
        init.fill(self.weight.as_mut_slice(), K, CO * KH * KW, rng);
        self.bias.fill(T::zero());
    }

    fn layout() -> Layout {
        if D2 { Layout::Kernel2d { kh: KH, kw: KW } } else { Layout::Kernel1d { kw: KW } }
    }
}

impl<
    T: Float,
    const CO: usize,
    const K: usize,
    const KH: usize,
    const KW: usize,
    const D2: bool,
    const H: usize,
    const W: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    const G: usize,
    const BIAS: bool,
> Parameters<T> for Conv<T, CO, K, KH, KW, D2, H, W, SH, SW, PH, PW, DH, DW, G, BIAS>
{
    const TENSORS: usize = if BIAS { 2 } else { 1 };

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        match index {
            0 => Some(Tensor { layout: Self::layout(), ..Tensor::matrix("weight", &self.weight) }),
            1 if BIAS => Some(Tensor::vector("bias", &self.bias)),
            _ => None,
        }
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        match index {
            0 => Some(TensorMut { layout: Self::layout(), ..TensorMut::matrix("weight", &mut self.weight) }),
            1 if BIAS => Some(TensorMut::vector("bias", &mut self.bias)),
            _ => None,
        }
    }
}

impl<
    T: Float,
    const CO: usize,
    const K: usize,
    const KH: usize,
    const KW: usize,
    const D2: bool,
    const H: usize,
    const W: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    const G: usize,
    const BIAS: bool,
    const IN: usize,
    const OUT: usize,
> Layer<T, IN, OUT> for Conv<T, CO, K, KH, KW, D2, H, W, SH, SW, PH, PW, DH, DW, G, BIAS>
{
    type Cache<const B: usize> = ();

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, IN, B>) -> SMatrix<T, OUT, B> {
        Conv::forward(self, &Self::GEOMETRY, x)
    }

    #[inline]
    fn forward_into<const B: usize>(&self, x: &SMatrix<T, IN, B>, y: &mut SMatrix<T, OUT, B>) {
        let g = &Self::GEOMETRY;
        let () = Self::GROUPS_DIVIDE_CHANNELS;
        debug_assert!(IN == G * g.inputs() && OUT == CO * g.positions() && K == g.receptive());
        for (xb, yb) in x.as_slice().chunks_exact(IN.max(1)).zip(y.as_mut_slice().chunks_exact_mut(OUT.max(1))) {
            self.start_output(g.positions(), yb);
            conv_forward_groups(&self.weight, G, g, xb, yb);
        }
    }

    /// The activation applied by the convolution's last pass over each block of finished output planes (an
    /// elementwise one; others after the convolution).
    ///
    /// Never inlined: inlined into a generated network's forward, its output (32-64 KiB in the MobileNet-style
    /// bench) was built in a temporary and copied to its place, which took the stack from 81 to 105 us; called,
    /// it writes the caller's slot (73 us).
    #[inline(never)]
    fn forward_activated<A: ActivationLayer<T>, const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        act: &A,
    ) -> SMatrix<T, OUT, B> {
        let g = &Self::GEOMETRY;
        let () = Self::GROUPS_DIVIDE_CHANNELS;
        debug_assert!(IN == G * g.inputs() && OUT == CO * g.positions() && K == g.receptive());
        let mut y = SMatrix::<T, OUT, B>::zeros();
        // An empty slice asks whether the activation is elementwise without changing anything.
        if act.map_slice(&mut []) {
            for (xb, yb) in x.as_slice().chunks_exact(IN.max(1)).zip(y.as_mut_slice().chunks_exact_mut(OUT.max(1))) {
                self.start_output(g.positions(), yb);
                conv_forward_groups_then(&self.weight, G, g, xb, yb, |piece: &mut [T]| {
                    act.map_slice(piece);
                });
            }
        } else {
            self.forward_into(x, &mut y);
            act.forward_in_place(&mut y);
        }
        y
    }

    #[inline]
    fn backward<const B: usize, S: Sink<T, Self>>(
        mut sink: S,
        x: &SMatrix<T, IN, B>,
        _y: &SMatrix<T, OUT, B>,
        _cache: &mut (),
        dy: &SMatrix<T, OUT, B>,
        dx: Option<&mut SMatrix<T, IN, B>>,
    ) {
        let g = &Self::GEOMETRY;
        if let Some(dx) = dx {
            dx.fill(T::zero());
            let w = &sink.weights().weight;
            #[cfg(feature = "std")]
            let done =
                super::conv_fast::conv_input_gradient_fast(w.as_slice(), G, g, dy.as_slice(), B, dx.as_mut_slice());
            #[cfg(not(feature = "std"))]
            let done = false;
            if !done {
                let columns = dy.as_slice().chunks_exact(OUT.max(1)).zip(dx.as_mut_slice().chunks_exact_mut(IN.max(1)));
                for (dyb, dxb) in columns {
                    if G == 1 {
                        conv_backward(w, g, &[], dyb, None, dxb);
                    } else {
                        grouped_backward_textbook(w.as_slice(), G, g, &[], dyb, None, Some(dxb));
                    }
                }
            }
        }
        if let Some((target, scale)) = sink.target() {
            let positions = g.positions().max(1);
            if BIAS {
                for dyb in dy.as_slice().chunks_exact(OUT.max(1)) {
                    for (plane, b) in dyb.chunks_exact(positions).zip(target.bias.iter_mut()) {
                        *b += scale * plane.iter().fold(T::zero(), |s, &d| s + d);
                    }
                }
            }
            #[cfg(feature = "std")]
            let done = super::conv_fast::conv_weight_gradient_fast(
                G,
                g,
                x.as_slice(),
                dy.as_slice(),
                B,
                scale,
                target.weight.as_mut_slice(),
            );
            #[cfg(not(feature = "std"))]
            let done = false;
            if !done {
                for (xb, dyb) in x.as_slice().chunks_exact(IN.max(1)).zip(dy.as_slice().chunks_exact(OUT.max(1))) {
                    if G == 1 {
                        conv_weight_gradient(g, xb, dyb, scale, &mut target.weight);
                    } else {
                        let dw = Some((target.weight.as_mut_slice(), scale));
                        grouped_backward_textbook(&[], G, g, xb, dyb, dw, None);
                    }
                }
            }
        }
    }
}

/// A transposed convolution from `CI` input channels, with `KT = C_out * KH * KW` weights per input channel; its
/// [`Geometry`] is that of the *forward* convolution it transposes (input = this layer's output).
///
/// `weight` is `CI x KT`, row `ci` holding PyTorch's `weight[ci]` (`[C_out, KH, KW]`), so the external layout
/// is PyTorch's `[in, out, kh, kw]`.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct ConvTranspose<
    T,
    const CI: usize,
    const KT: usize,
    const CO: usize,
    const KH: usize,
    const KW: usize,
    const D2: bool,
    const H: usize = 0,
    const W: usize = 0,
    const SH: usize = 1,
    const SW: usize = 1,
    const PH: usize = 0,
    const PW: usize = 0,
    const DH: usize = 1,
    const DW: usize = 1,
> where
    T: Float,
{
    /// Weights, `CI x KT`.
    pub weight: SMatrix<T, CI, KT>,
    /// Biases, one per output channel.
    pub bias: SVector<T, CO>,
}

/// A 2-D transposed convolution: weight shape `[in, out, kh, kw]`.
pub type ConvTranspose2d<
    T,
    const CI: usize,
    const KT: usize,
    const CO: usize,
    const KH: usize,
    const KW: usize,
    const H: usize = 0,
    const W: usize = 0,
    const SH: usize = 1,
    const SW: usize = 1,
    const PH: usize = 0,
    const PW: usize = 0,
    const DH: usize = 1,
    const DW: usize = 1,
> = ConvTranspose<T, CI, KT, CO, KH, KW, true, H, W, SH, SW, PH, PW, DH, DW>;

/// A 1-D transposed convolution: weight shape `[in, out, k]`.
pub type ConvTranspose1d<
    T,
    const CI: usize,
    const KT: usize,
    const CO: usize,
    const KW: usize,
    const W: usize = 0,
    const SW: usize = 1,
    const PW: usize = 0,
    const DW: usize = 1,
> = ConvTranspose<T, CI, KT, CO, 1, KW, false, 1, W, 1, SW, 0, PW, 1, DW>;

impl<
    T: Float,
    const CI: usize,
    const KT: usize,
    const CO: usize,
    const KH: usize,
    const KW: usize,
    const D2: bool,
    const H: usize,
    const W: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
> ConvTranspose<T, CI, KT, CO, KH, KW, D2, H, W, SH, SW, PH, PW, DH, DW>
{
    /// The geometry of the forward convolution this layer transposes: `CO` channels of `H x W` (this layer's
    /// output).
    pub const GEOMETRY: Geometry =
        Geometry { channels: CO, h: H, w: W, kh: KH, kw: KW, sh: SH, sw: SW, ph: PH, pw: PW, dh: DH, dw: DW };

    /// A layer built from its weights and biases.
    pub const fn new(weight: SMatrix<T, CI, KT>, bias: SVector<T, CO>) -> Self {
        Self { weight, bias }
    }

    /// Forward: `IN = CI * P` inputs (`P` = positions of `g`'s output) and `OUT = CO * H * W` outputs (`g`'s
    /// input size, which includes any output padding).
    #[inline]
    pub fn forward<const IN: usize, const OUT: usize, const B: usize>(
        &self,
        g: &Geometry,
        x: &SMatrix<T, IN, B>,
    ) -> SMatrix<T, OUT, B> {
        debug_assert!(IN == CI * g.positions() && OUT == g.inputs() && KT == g.receptive());
        let plane = g.h * g.w;
        let mut y = SMatrix::<T, OUT, B>::from_fn(|r, _| self.bias[r / plane.max(1)]);
        for b in 0..B {
            let xb = &x.as_slice()[b * IN..(b + 1) * IN];
            conv_backward(&self.weight, g, &[], xb, None, &mut y.as_mut_slice()[b * OUT..(b + 1) * OUT]);
        }
        y
    }

    /// Backward: adds dL/dW and dL/db into `grads`, returns dL/dx.
    #[inline]
    pub fn backward<const IN: usize, const OUT: usize, const B: usize>(
        &self,
        g: &Geometry,
        x: &SMatrix<T, IN, B>,
        dy: &SMatrix<T, OUT, B>,
        grads: &mut Self,
    ) -> SMatrix<T, IN, B> {
        let (positions, plane) = (g.positions(), (g.h * g.w).max(1));
        let mut dx = SMatrix::<T, IN, B>::zeros();
        let mut col = SMatrix::<T, KT, TILE>::zeros();
        for b in 0..B {
            let xb = &x.as_slice()[b * IN..(b + 1) * IN];
            let dyb = &dy.as_slice()[b * OUT..(b + 1) * OUT];
            for (r, &d) in dyb.iter().enumerate() {
                grads.bias[r / plane] += d;
            }
            let dxb = &mut dx.as_mut_slice()[b * IN..(b + 1) * IN];
            for p0 in (0..positions).step_by(TILE) {
                im2col(g, dyb, p0, &mut col);
                let x_tile: SMatrix<T, CI, TILE> = read_tile(xb, positions, p0);
                kernel::ger_acc(&x_tile, &col, &mut grads.weight);
                let mut out = SMatrix::<T, CI, TILE>::zeros();
                kernel::gemm_acc(&self.weight, &col, &mut out);
                add_tile(&out, dxb, positions, p0);
            }
        }
        dx
    }

    /// He or Xavier initialisation; zero biases.
    pub fn init<R: Rng + ?Sized>(&mut self, init: Init, rng: &mut R) {
        init.fill(self.weight.as_mut_slice(), CI * KH * KW, KT, rng);
        self.bias.fill(T::zero());
    }

    fn layout() -> Layout {
        if D2 { Layout::Kernel2d { kh: KH, kw: KW } } else { Layout::Kernel1d { kw: KW } }
    }
}

impl<
    T: Float,
    const CI: usize,
    const KT: usize,
    const CO: usize,
    const KH: usize,
    const KW: usize,
    const D2: bool,
    const H: usize,
    const W: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
> Parameters<T> for ConvTranspose<T, CI, KT, CO, KH, KW, D2, H, W, SH, SW, PH, PW, DH, DW>
{
    const TENSORS: usize = 2;

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        match index {
            0 => Some(Tensor { layout: Self::layout(), ..Tensor::matrix("weight", &self.weight) }),
            1 => Some(Tensor::vector("bias", &self.bias)),
            _ => None,
        }
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        match index {
            0 => Some(TensorMut { layout: Self::layout(), ..TensorMut::matrix("weight", &mut self.weight) }),
            1 => Some(TensorMut::vector("bias", &mut self.bias)),
            _ => None,
        }
    }
}

impl<
    T: Float,
    const CI: usize,
    const KT: usize,
    const CO: usize,
    const KH: usize,
    const KW: usize,
    const D2: bool,
    const H: usize,
    const W: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    const IN: usize,
    const OUT: usize,
> Layer<T, IN, OUT> for ConvTranspose<T, CI, KT, CO, KH, KW, D2, H, W, SH, SW, PH, PW, DH, DW>
{
    type Cache<const B: usize> = ();

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, IN, B>) -> SMatrix<T, OUT, B> {
        ConvTranspose::forward(self, &Self::GEOMETRY, x)
    }

    #[inline]
    fn backward<const B: usize, S: Sink<T, Self>>(
        mut sink: S,
        x: &SMatrix<T, IN, B>,
        _y: &SMatrix<T, OUT, B>,
        _cache: &mut (),
        dy: &SMatrix<T, OUT, B>,
        dx: Option<&mut SMatrix<T, IN, B>>,
    ) {
        let g = &Self::GEOMETRY;
        let (positions, plane) = (g.positions(), (g.h * g.w).max(1));
        let mut col = SMatrix::<T, KT, TILE>::zeros();
        if let Some(dx) = dx {
            let w = &sink.weights().weight;
            let columns = dy.as_slice().chunks_exact(OUT.max(1)).zip(dx.as_mut_slice().chunks_exact_mut(IN.max(1)));
            for (dyb, dxb) in columns {
                dxb.fill(T::zero());
                for p0 in (0..positions).step_by(TILE) {
                    im2col(g, dyb, p0, &mut col);
                    let mut out = SMatrix::<T, CI, TILE>::zeros();
                    kernel::gemm_acc(w, &col, &mut out);
                    add_tile(&out, dxb, positions, p0);
                }
            }
        }
        if let Some((target, scale)) = sink.target() {
            for (xb, dyb) in x.as_slice().chunks_exact(IN.max(1)).zip(dy.as_slice().chunks_exact(OUT.max(1))) {
                for (r, &d) in dyb.iter().enumerate() {
                    target.bias[r / plane] += scale * d;
                }
                for p0 in (0..positions).step_by(TILE) {
                    im2col(g, dyb, p0, &mut col);
                    let mut x_tile: SMatrix<T, CI, TILE> = read_tile(xb, positions, p0);
                    if scale != T::one() {
                        x_tile *= scale;
                    }
                    kernel::ger_acc(&x_tile, &col, &mut target.weight);
                }
            }
        }
    }
}

/// Max or average pooling over windows of a [`Geometry`] (`channels` planes in, as many out). With padding, as
/// PyTorch pools: the maximum of the input values a window covers, and the average over the whole window with the
/// padding counted as zeros (`count_include_pad = True`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pool {
    /// The largest value of each window; backward routes the gradient to the first maximum.
    Max,
    /// The mean of each window.
    Avg,
}

impl Pool {
    /// Forward: `IN = C * H * W`, `OUT = C * OH * OW`.
    #[inline]
    pub fn forward<T: Float, const IN: usize, const OUT: usize, const B: usize>(
        self,
        g: &Geometry,
        x: &SMatrix<T, IN, B>,
    ) -> SMatrix<T, OUT, B> {
        let mut y = SMatrix::<T, OUT, B>::zeros();
        self.forward_into(g, x, &mut y);
        y
    }

    /// [`Pool::forward`] into `y`, overwriting it.
    #[inline]
    pub fn forward_into<T: Float, const IN: usize, const OUT: usize, const B: usize>(
        self,
        g: &Geometry,
        x: &SMatrix<T, IN, B>,
        y: &mut SMatrix<T, OUT, B>,
    ) {
        let (positions, plane, window, ow) = (g.positions(), g.h * g.w, g.kh * g.kw, g.out_w());
        let scale = T::one() / T::from_f64(window.max(1) as f64);
        for (xb, yb) in x.as_slice().chunks_exact(IN.max(1)).zip(y.as_mut_slice().chunks_exact_mut(OUT.max(1))) {
            for c in 0..g.channels {
                for p in 0..positions {
                    let mut acc: Option<T> = None;
                    for k in 0..window {
                        if let Some(i) = g.source(k, p, ow) {
                            let v = xb[c * plane + i];
                            acc = Some(match (self, acc) {
                                (_, None) => v,
                                (Pool::Max, Some(a)) => {
                                    if v > a {
                                        v
                                    } else {
                                        a
                                    }
                                }
                                (Pool::Avg, Some(a)) => a + v,
                            });
                        }
                    }
                    let v = acc.unwrap_or(T::zero());
                    yb[c * positions + p] = if self == Pool::Avg { v * scale } else { v };
                }
            }
        }
    }

    /// Backward from the forward's input `x` and dL/dy: returns dL/dx.
    #[inline]
    pub fn backward<T: Float, const IN: usize, const OUT: usize, const B: usize>(
        self,
        g: &Geometry,
        x: &SMatrix<T, IN, B>,
        dy: &SMatrix<T, OUT, B>,
    ) -> SMatrix<T, IN, B> {
        let mut dx = SMatrix::<T, IN, B>::zeros();
        self.backward_into(g, x, dy, &mut dx);
        dx
    }

    /// [`Pool::backward`] into `dx`, overwriting it.
    #[inline]
    pub fn backward_into<T: Float, const IN: usize, const OUT: usize, const B: usize>(
        self,
        g: &Geometry,
        x: &SMatrix<T, IN, B>,
        dy: &SMatrix<T, OUT, B>,
        dx: &mut SMatrix<T, IN, B>,
    ) {
        let (positions, plane, window, ow) = (g.positions(), g.h * g.w, g.kh * g.kw, g.out_w());
        let scale = T::one() / T::from_f64(window.max(1) as f64);
        dx.fill(T::zero());
        let columns = x.as_slice().chunks_exact(IN.max(1)).zip(dy.as_slice().chunks_exact(OUT.max(1)));
        for ((xb, dyb), dxb) in columns.zip(dx.as_mut_slice().chunks_exact_mut(IN.max(1))) {
            for c in 0..g.channels {
                for p in 0..positions {
                    let d = dyb[c * positions + p];
                    match self {
                        Pool::Avg => {
                            for k in 0..window {
                                if let Some(i) = g.source(k, p, ow) {
                                    dxb[c * plane + i] += d * scale;
                                }
                            }
                        }
                        Pool::Max => {
                            let mut best: Option<(usize, T)> = None;
                            for k in 0..window {
                                if let Some(i) = g.source(k, p, ow) {
                                    let v = xb[c * plane + i];
                                    if best.is_none_or(|(_, m)| v > m) {
                                        best = Some((i, v));
                                    }
                                }
                            }
                            if let Some((i, _)) = best {
                                dxb[c * plane + i] += d;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A pooling layer: the kind of pooling and its window, as a value ([`Pool`] with its [`Geometry`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pooling {
    /// Max or average.
    pub pool: Pool,
    /// The windows over the input planes.
    pub geometry: Geometry,
}

impl<T: Float, const IN: usize, const OUT: usize> Layer<T, IN, OUT> for Pooling {
    type Cache<const B: usize> = ();

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, IN, B>) -> SMatrix<T, OUT, B> {
        self.pool.forward(&self.geometry, x)
    }

    #[inline]
    fn forward_into<const B: usize>(&self, x: &SMatrix<T, IN, B>, y: &mut SMatrix<T, OUT, B>) {
        self.pool.forward_into(&self.geometry, x, y);
    }

    #[inline]
    fn backward<const B: usize, S: Sink<T, Self>>(
        sink: S,
        x: &SMatrix<T, IN, B>,
        _y: &SMatrix<T, OUT, B>,
        _cache: &mut (),
        dy: &SMatrix<T, OUT, B>,
        dx: Option<&mut SMatrix<T, IN, B>>,
    ) {
        if let Some(dx) = dx {
            let p = sink.weights();
            p.pool.backward_into(&p.geometry, x, dy, dx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::relative_error;
    use alloc::vec;
    use alloc::vec::Vec;
    use rand::rngs::ChaCha8Rng;
    use rand::{RngExt, SeedableRng};

    /// The fast `f32` backward (input gradient by the flipped forward kernel, weight gradient by the packed
    /// GEMM) against the tile path, on geometries where the fast path applies and where it declines.
    #[cfg(feature = "std")]
    #[test]
    fn fast_f32_backward_agrees_with_the_tile_path() {
        fn case<const CO: usize, const K: usize>(g: Geometry) -> (f64, f64) {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            let mut values = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect() };
            let (w, x, dy) = (values(CO * K), values(g.inputs()), values(CO * g.positions()));
            let w = SMatrix::<f32, CO, K>::from_column_slice(&w);
            let (mut dx_tile, mut dw_tile) = (vec![0.0f32; g.inputs()], SMatrix::<f32, CO, K>::zeros());
            conv_backward(&w, &g, &x, &dy, Some(&mut dw_tile), &mut dx_tile);
            let mut dx = vec![0.0f32; g.inputs()];
            let dx_done = super::super::conv_fast::conv_input_gradient_fast(w.as_slice(), 1, &g, &dy, 1, &mut dx);
            let mut dw = SMatrix::<f32, CO, K>::zeros();
            let scale = 0.5;
            assert!(super::super::conv_fast::conv_weight_gradient_fast(1, &g, &x, &dy, 1, scale, dw.as_mut_slice()));
            let worst = |a: &[f32], b: &[f32], s: f32| {
                a.iter()
                    .zip(b)
                    .map(|(&a, &b)| f64::from((a - s * b).abs()) / f64::from(b.abs().max(1.0)))
                    .fold(0.0, f64::max)
            };
            let dx_error = if dx_done { worst(&dx, &dx_tile, 1.0) } else { -1.0 };
            (dx_error, worst(dw.as_slice(), dw_tile.as_slice(), scale))
        }
        let g2 = |c, h, w, k, s, p, d| Geometry::new2d(c, h, w, (k, k), (s, s), (p, p), (d, d));
        let results = [
            case::<8, 25>(g2(1, 28, 28, 5, 1, 0, 1)),
            case::<32, 144>(g2(16, 14, 14, 3, 1, 1, 1)),
            case::<5, 18>(g2(2, 9, 7, 3, 1, 2, 1)),
            case::<13, 12>(g2(3, 7, 7, 2, 1, 1, 2)),
            case::<40, 300>(Geometry::new1d(60, 17, 5, 1, 2, 1)),
            case::<6, 27>(g2(3, 9, 9, 3, 2, 1, 1)),
        ];
        for (i, &(dx, dw)) in results.iter().enumerate() {
            assert!(dx < 1e-5 && dw < 1e-5, "case {i}: dx {dx:e}, dw {dw:e}");
        }
        // Stride 2 is declined by the input-gradient kernel (-1 above), a padding of 2 with a 3-wide kernel not.
        assert_eq!(results[5].0, -1.0);
        assert!(results[2].0 >= 0.0);
    }

    fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
        (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    /// `sum_i w_i y_i` with fixed weights, so every output's gradient differs.
    fn weighted(y: &[f64]) -> f64 {
        y.iter().enumerate().map(|(i, v)| v * (1.0 + (i % 7) as f64 / 7.0)).sum()
    }

    fn weights_of(n: usize) -> Vec<f64> {
        (0..n).map(|i| 1.0 + (i % 7) as f64 / 7.0).collect()
    }

    /// Largest relative error of `analytic` against central differences of `f` over the entries of `v`.
    fn max_error(v: &mut [f64], analytic: &[f64], mut f: impl FnMut(&[f64]) -> f64) -> f64 {
        let h = 1e-6;
        let mut worst: f64 = 0.0;
        for i in 0..v.len() {
            let saved = v[i];
            v[i] = saved + h;
            let up = f(v);
            v[i] = saved - h;
            let down = f(v);
            v[i] = saved;
            worst = worst.max(relative_error(analytic[i], (up - down) / (2.0 * h)));
        }
        worst
    }

    /// Every stride/padding/dilation of the grid that fits, for one size and kernel.
    fn grid(c: usize, h: usize, w: usize, kh: usize, kw: usize) -> Vec<Geometry> {
        let mut out = Vec::new();
        for s in [1, 2] {
            for p in [0, 1] {
                for d in [1, 2] {
                    let g = Geometry::new2d(c, h, w, (kh, kw), (s, s), (p, p), (d, d));
                    if g.positions() > 0 {
                        out.push(g);
                    }
                }
            }
        }
        out
    }

    /// Gradient check of the lowered convolution (weights and input) over the grid.
    fn check_conv<const CO: usize, const K: usize>(c: usize, h: usize, w: usize, kh: usize, kw: usize) -> usize {
        let mut rng = ChaCha8Rng::seed_from_u64((c * 100 + h * 10 + w) as u64);
        let geometries = grid(c, h, w, kh, kw);
        for g in &geometries {
            assert_eq!(g.receptive(), K);
            let mut wt: SMatrix<f64, CO, K> = SMatrix::from_column_slice(&random(&mut rng, CO * K));
            let mut x = random(&mut rng, g.inputs());
            let forward = |wt: &SMatrix<f64, CO, K>, x: &[f64]| {
                let mut y = vec![0.0; CO * g.positions()];
                conv_forward(wt, g, x, &mut y);
                weighted(&y)
            };
            let dy = weights_of(CO * g.positions());
            let (mut dw, mut dx) = (SMatrix::<f64, CO, K>::zeros(), vec![0.0; g.inputs()]);
            conv_backward(&wt, g, &x, &dy, Some(&mut dw), &mut dx);
            let e = max_error(&mut x.clone(), &dx, |x| forward(&wt, x));
            assert!(e < 1e-6, "dx {g:?}: {e}");
            let mut flat = wt.as_slice().to_vec();
            let e = max_error(&mut flat, dw.as_slice(), |v| {
                wt.as_mut_slice().copy_from_slice(v);
                forward(&wt, &x)
            });
            assert!(e < 1e-6, "dW {g:?}: {e}");
            x.clear();
        }
        geometries.len()
    }

    #[test]
    fn convolution_gradients_over_strides_paddings_dilations_and_sizes() {
        assert_eq!(check_conv::<2, 9>(1, 5, 5, 3, 3), 8);
        assert!(check_conv::<3, 8>(2, 6, 7, 2, 2) >= 6);
        assert!(check_conv::<1, 18>(3, 8, 8, 3, 2) >= 6);
        assert!(check_conv::<4, 2>(2, 1, 9, 1, 1) >= 4);
        // 1-D: height 1.
        let g = Geometry::new1d(2, 9, 3, 2, 1, 2);
        assert_eq!((g.out_h(), g.out_w()), (1, 4));
    }

    #[test]
    fn transposed_convolution_is_the_adjoint_and_its_gradients_check() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for g in grid(2, 6, 5, 3, 3) {
            // The transposed layer maps CI = 3 channels of g's output positions to g's input (2 x 6 x 5).
            const CI: usize = 3;
            const KT: usize = 2 * 9;
            let layer = ConvTranspose2d::<f64, CI, KT, 2, 3, 3>::new(
                SMatrix::from_column_slice(&random(&mut rng, CI * KT)),
                SVector::zeros(),
            );
            let p = g.positions();
            // <conv(x), y> == <x, conv_transpose(y)> with the same weights and no bias.
            let x = random(&mut rng, g.inputs());
            let y = random(&mut rng, CI * p);
            let mut cx = vec![0.0; CI * p];
            conv_forward(&layer.weight, &g, &x, &mut cx);
            let mut ty = vec![0.0; g.inputs()];
            conv_backward(&layer.weight, &g, &[], &y, None, &mut ty);
            let lhs: f64 = cx.iter().zip(&y).map(|(a, b)| a * b).sum();
            let rhs: f64 = x.iter().zip(&ty).map(|(a, b)| a * b).sum();
            assert!((lhs - rhs).abs() < 1e-10 * lhs.abs().max(1.0), "{g:?}");
        }
        // Gradients through the typed layer, for one geometry with stride 2 and padding 1.
        const CI: usize = 2;
        const KT: usize = 3 * 4;
        let g = Geometry::new2d(3, 7, 7, (2, 2), (2, 2), (1, 1), (1, 1));
        assert_eq!((g.out_h(), g.out_w()), (4, 4));
        let mut layer = ConvTranspose2d::<f64, CI, KT, 3, 2, 2>::new(
            SMatrix::from_column_slice(&random(&mut rng, CI * KT)),
            SVector::from_column_slice(&random(&mut rng, 3)),
        );
        let x: SMatrix<f64, 32, 1> = SMatrix::from_column_slice(&random(&mut rng, 32));
        let dy: SMatrix<f64, 147, 1> = SMatrix::from_column_slice(&weights_of(147));
        let mut grads: ConvTranspose2d<f64, CI, KT, 3, 2, 2> = bytemuck::Zeroable::zeroed();
        let dx = layer.backward::<32, 147, 1>(&g, &x, &dy, &mut grads);
        let f = |l: &ConvTranspose2d<f64, CI, KT, 3, 2, 2>, x: &[f64]| {
            weighted(l.forward::<32, 147, 1>(&g, &SMatrix::from_column_slice(x)).as_slice())
        };
        assert!(max_error(&mut x.as_slice().to_vec(), dx.as_slice(), |x| f(&layer, x)) < 1e-6);
        let mut flat = layer.weight.as_slice().to_vec();
        let e = max_error(&mut flat, grads.weight.as_slice(), |v| {
            layer.weight.as_mut_slice().copy_from_slice(v);
            f(&layer, x.as_slice())
        });
        assert!(e < 1e-6, "{e}");
        let mut bias = layer.bias.as_slice().to_vec();
        let e = max_error(&mut bias, grads.bias.as_slice(), |v| {
            layer.bias.as_mut_slice().copy_from_slice(v);
            f(&layer, x.as_slice())
        });
        assert!(e < 1e-6, "{e}");
    }

    /// The activation fused into the convolution's last pass gives what applying it afterwards gives, for plain,
    /// depthwise and grouped convolutions, with elementwise activations and with softmax (not fused).
    #[test]
    fn a_fused_activation_matches_the_activation_applied_after() {
        use crate::activation::{Relu, Softmax, Tanh};
        fn check<L: Layer<f64, IN, OUT>, A: ActivationLayer<f64>, const IN: usize, const OUT: usize>(l: &L, a: A) {
            let x = SMatrix::<f64, IN, 2>::from_fn(|r, c| ((r * 7 + c * 13) % 11) as f64 * 0.1 - 0.5);
            let fused = l.forward_activated(&x, &a);
            let after = a.forward(&l.forward(&x));
            assert!((fused - after).abs().max() < 1e-12, "{}", (fused - after).abs().max());
            // The activation changes the output: the comparison is not between two plain convolutions.
            assert!((after - l.forward(&x)).abs().max() > 1e-3);
        }
        fn all<L: Layer<f64, IN, OUT>, const IN: usize, const OUT: usize>(l: &L) {
            check(l, Relu);
            check(l, Tanh);
            check(l, Softmax);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut layer = |k: usize| (random(&mut rng, 6 * k), SVector::from_column_slice(&random(&mut rng, 6)));
        let (w, b) = layer(18);
        all::<_, 126, 378>(&Conv2d::<f64, 6, 18, 3, 3, 7, 9, 1, 1, 1, 1, 1, 1, 1>::new(
            SMatrix::from_column_slice(&w),
            b,
        ));
        let (w, b) = layer(9);
        all::<_, 126, 378>(&Conv2d::<f64, 6, 9, 3, 3, 7, 9, 1, 1, 1, 1, 1, 1, 2>::new(
            SMatrix::from_column_slice(&w),
            b,
        ));
        let (w, b) = layer(18);
        all::<_, 252, 378>(&Conv2d::<f64, 6, 18, 3, 3, 7, 9, 1, 1, 1, 1, 1, 1, 2>::new(
            SMatrix::from_column_slice(&w),
            b,
        ));
    }

    #[test]
    fn typed_conv_layer_gradients_include_the_bias() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let g = Geometry::new2d(2, 6, 6, (3, 3), (1, 1), (1, 1), (1, 1));
        let mut conv = Conv2d::<f64, 3, 18, 3, 3>::new(
            SMatrix::from_column_slice(&random(&mut rng, 54)),
            SVector::from_column_slice(&random(&mut rng, 3)),
        );
        let x: SMatrix<f64, 72, 2> = SMatrix::from_column_slice(&random(&mut rng, 144));
        let dy: SMatrix<f64, 108, 2> = SMatrix::from_column_slice(&weights_of(216));
        let mut grads: Conv2d<f64, 3, 18, 3, 3> = bytemuck::Zeroable::zeroed();
        let dx = conv.backward::<72, 108, 2>(&g, &x, &dy, &mut grads);
        let f = |c: &Conv2d<f64, 3, 18, 3, 3>, x: &[f64]| {
            weighted(c.forward::<72, 108, 2>(&g, &SMatrix::from_column_slice(x)).as_slice())
        };
        assert!(max_error(&mut x.as_slice().to_vec(), dx.as_slice(), |x| f(&conv, x)) < 1e-6);
        let mut bias = conv.bias.as_slice().to_vec();
        let e = max_error(&mut bias, grads.bias.as_slice(), |v| {
            conv.bias.as_mut_slice().copy_from_slice(v);
            f(&conv, x.as_slice())
        });
        assert!(e < 1e-6, "{e}");
        let t = conv.tensor(0).unwrap();
        assert_eq!(t.layout.shape(t.rows, t.cols).dims(), &[3, 2, 3, 3]);
    }

    /// Without bias: one tensor (`weight`), the output of the biased layer with zero bias whatever its `bias`
    /// field holds, the same input and weight gradients, and no bias gradient.
    #[test]
    fn a_convolution_without_bias_has_only_its_weight() {
        type Biased = Conv2d<f64, 3, 18, 3, 3, 6, 6, 1, 1, 1, 1, 1, 1, 1>;
        type Unbiased = Conv2d<f64, 3, 18, 3, 3, 6, 6, 1, 1, 1, 1, 1, 1, 1, false>;
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let weight = SMatrix::from_column_slice(&random(&mut rng, 54));
        let biased = Biased::new(weight, SVector::<f64, 3>::zeros());
        // A bias given to a layer without bias is never read.
        let unbiased = Unbiased::new(weight, SVector::from_column_slice(&[0.5, -1.0, 2.0]));
        assert_eq!(Unbiased::without_bias(weight).bias, SVector::<f64, 3>::zeros());
        assert_eq!((Biased::TENSORS, Unbiased::TENSORS), (2, 1));
        assert_eq!((biased.param_count(), unbiased.param_count()), (57, 54));
        let t = unbiased.tensor(0).unwrap();
        assert_eq!((t.name.tensor, t.layout.shape(t.rows, t.cols).dims()), ("weight", &[3, 2, 3, 3][..]));
        let mut copy = unbiased;
        assert!(unbiased.tensor(1).is_none() && copy.tensor_mut(1).is_none());

        let x: SMatrix<f64, 72, 2> = SMatrix::from_column_slice(&random(&mut rng, 144));
        let y: SMatrix<f64, 108, 2> = Layer::forward(&biased, &x);
        assert_eq!(Layer::<f64, 72, 108>::forward(&unbiased, &x), y);
        let mut y_into = SMatrix::<f64, 108, 2>::repeat(7.0);
        Layer::forward_into(&unbiased, &x, &mut y_into);
        assert_eq!(y_into, y);
        let relu = crate::activation::Relu;
        assert_eq!(Layer::<f64, 72, 108>::forward_activated(&unbiased, &x, &relu), y.map(|v| v.max(0.0)));
        let g = Unbiased::GEOMETRY;
        assert_eq!(unbiased.forward::<72, 108, 2>(&g, &x), y);

        let dy: SMatrix<f64, 108, 2> = SMatrix::from_column_slice(&weights_of(216));
        let (mut gb, mut gu): (Biased, Unbiased) = (bytemuck::Zeroable::zeroed(), bytemuck::Zeroable::zeroed());
        let (mut dxb, mut dxu) = (SMatrix::<f64, 72, 2>::zeros(), SMatrix::<f64, 72, 2>::zeros());
        let sink = crate::sink::Accumulate { layer: &biased, grads: &mut gb };
        Layer::<f64, 72, 108>::backward(sink, &x, &y, &mut (), &dy, Some(&mut dxb));
        let sink = crate::sink::Accumulate { layer: &unbiased, grads: &mut gu };
        Layer::<f64, 72, 108>::backward(sink, &x, &y, &mut (), &dy, Some(&mut dxu));
        assert_eq!((dxu, gu.weight), (dxb, gb.weight));
        assert!(gb.bias.abs().max() > 0.0);
        assert_eq!(gu.bias, SVector::<f64, 3>::zeros());
        let mut gi: Unbiased = bytemuck::Zeroable::zeroed();
        let dx = unbiased.backward::<72, 108, 2>(&g, &x, &dy, &mut gi);
        assert!((dx - dxb).abs().max() < 1e-12 && (gi.weight - gb.weight).abs().max() < 1e-12);
        assert_eq!(gi.bias, SVector::<f64, 3>::zeros());
    }

    /// Grouped and depthwise convolutions through the layer contract: input, weight and bias gradients against
    /// central differences, at stride 1 (the fast kernels) and stride 2 (the definition, for the input gradient),
    /// with as many weights per output channel as one group's input channels.
    #[test]
    fn grouped_and_depthwise_convolution_gradients_check() {
        fn check<const CO: usize, const K: usize, const S: usize, const G: usize, const IN: usize, const OUT: usize>(
            seed: u64,
        ) {
            type L<const CO: usize, const K: usize, const S: usize, const G: usize> =
                Conv<f64, CO, K, 3, 3, true, 6, 6, S, S, 1, 1, 1, 1, G>;
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut conv = L::<CO, K, S, G>::new(
                SMatrix::from_column_slice(&random(&mut rng, CO * K)),
                SVector::from_column_slice(&random(&mut rng, CO)),
            );
            let x: SMatrix<f64, IN, 2> = SMatrix::from_column_slice(&random(&mut rng, IN * 2));
            let dy: SMatrix<f64, OUT, 2> = SMatrix::from_column_slice(&weights_of(OUT * 2));
            let mut grads: L<CO, K, S, G> = bytemuck::Zeroable::zeroed();
            let mut dx = SMatrix::<f64, IN, 2>::zeros();
            let y = Layer::<f64, IN, OUT>::forward(&conv, &x);
            let sink = crate::sink::Accumulate { layer: &conv, grads: &mut grads };
            Layer::<f64, IN, OUT>::backward(sink, &x, &y, &mut (), &dy, Some(&mut dx));
            let f = |c: &L<CO, K, S, G>, x: &[f64]| {
                weighted(Layer::<f64, IN, OUT>::forward(c, &SMatrix::<f64, IN, 2>::from_column_slice(x)).as_slice())
            };
            let name = alloc::format!("CO {CO}, groups {G}, stride {S}");
            // A depthwise layer's input gradients are small (each input feeds one output channel), down to 2e-3,
            // against the central differences' rounding of about 1e-16 |f| / h = 3e-8 here: 1e-5 relative.
            let e = max_error(&mut x.as_slice().to_vec(), dx.as_slice(), |x| f(&conv, x));
            assert!(e < 1e-5, "{name}: dx {e}");
            let mut w = conv.weight.as_slice().to_vec();
            let e = max_error(&mut w, grads.weight.as_slice(), |v| {
                conv.weight.as_mut_slice().copy_from_slice(v);
                f(&conv, x.as_slice())
            });
            assert!(e < 1e-6, "{name}: dw {e}");
            let mut b = conv.bias.as_slice().to_vec();
            let e = max_error(&mut b, grads.bias.as_slice(), |v| {
                conv.bias.as_mut_slice().copy_from_slice(v);
                f(&conv, x.as_slice())
            });
            assert!(e < 1e-6, "{name}: db {e}");
            let t = conv.tensor(0).unwrap();
            assert_eq!(t.layout.shape(t.rows, t.cols).dims(), &[CO, K / 9, 3, 3]);
        }
        // 4 channels in two groups of 2 to 6 out (3 per group); depthwise over 3 channels; 6x6 planes, pad 1.
        check::<6, 18, 1, 2, 144, 216>(1);
        check::<6, 18, 2, 2, 144, 54>(2);
        check::<3, 9, 1, 3, 108, 108>(3);
        check::<3, 9, 2, 3, 108, 27>(4);
    }

    /// Grouped and depthwise forward values against `tests/fixtures/conv/grouped_reference.txt`, written by the
    /// numpy script next to it: every output within 1e-12 of the reference, relative to `max(1, |reference|)`.
    #[cfg(feature = "std")]
    #[test]
    fn grouped_convolutions_match_the_numpy_reference() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/conv/grouped_reference.txt");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        let numbers = |rest: &[&str]| -> Vec<f64> { rest.iter().map(|t| t.parse().unwrap()).collect() };
        let (mut cases, mut depthwise) = (0, 0);
        let mut lines = text.lines();
        while let Some(header) = lines.next() {
            let header: Vec<&str> = header.split(' ').collect();
            assert_eq!(header[0], "case");
            let param = |k: &str| -> usize {
                let kv = header.iter().find(|t| t.starts_with(&alloc::format!("{k}="))).unwrap();
                kv[k.len() + 1..].parse().unwrap()
            };
            let mut block = |what: &str| {
                let line: Vec<&str> = lines.next().unwrap().split(' ').collect();
                assert_eq!(line[0], what, "{}", header[1]);
                numbers(&line[1..])
            };
            let (input, weight, bias, output) = (block("input"), block("weight"), block("bias"), block("output"));
            assert_eq!(lines.next(), Some("end"));
            let groups = param("groups");
            let [ci, h, w] = [input[0], input[1], input[2]].map(|v| v as usize);
            let [co, cig, kh, kw] = [weight[0], weight[1], weight[2], weight[3]].map(|v| v as usize);
            let [_, oh, ow] = [output[0], output[1], output[2]].map(|v| v as usize);
            let (x, wv, b, reference) = (&input[3..], &weight[4..], &bias[1..], &output[3..]);
            assert_eq!(ci, cig * groups);
            let g = Geometry::new2d(
                cig,
                h,
                w,
                (kh, kw),
                (param("sh"), param("sw")),
                (param("ph"), param("pw")),
                (param("dh"), param("dw")),
            );
            assert_eq!((g.out_h(), g.out_w()), (oh, ow), "{}", header[1]);
            // PyTorch's [co, ci / groups, kh, kw] to the layer's column-major CO x K.
            let k = cig * kh * kw;
            let mut columns = vec![0.0; co * k];
            for o in 0..co {
                for j in 0..k {
                    columns[o + j * co] = wv[o * k + j];
                }
            }
            let (per, positions, ins) = (co / groups, oh * ow, g.inputs());
            let mut y: Vec<f64> = (0..co * positions).map(|i| b[i / positions]).collect();
            for i in 0..groups {
                let (xg, yg) = (&x[i * ins..(i + 1) * ins], &mut y[i * per * positions..(i + 1) * per * positions]);
                super::super::conv_fast::conv_forward_rows(&columns[i * per..], co, per, &g, xg, yg);
            }
            for (got, want) in y.iter().zip(reference) {
                assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "{}: {got} against {want}", header[1]);
            }
            // One input channel per group: the depthwise kernel the layer uses for those.
            if cig == 1 {
                let mut y: Vec<f64> = (0..co * positions).map(|i| b[i / positions]).collect();
                super::super::conv_fast::depthwise_forward(&columns, groups, &g, x, &mut y);
                for (got, want) in y.iter().zip(reference) {
                    assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "{} (depthwise)", header[1]);
                }
                depthwise += 1;
            }
            cases += 1;
        }
        assert_eq!((cases, depthwise), (9, 4));
    }

    #[test]
    fn pooling_gradients_and_values() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for (k, s, pad) in [(2, 2, 0), (3, 1, 0), (2, 1, 0), (3, 2, 0), (3, 2, 1), (2, 1, 1)] {
            let g = Geometry::new2d(2, 7, 6, (k, k), (s, s), (pad, pad), (1, 1));
            let x: SMatrix<f64, 84, 1> = SMatrix::from_column_slice(&random(&mut rng, 84));
            let p = g.positions();
            for pool in [Pool::Max, Pool::Avg] {
                let dy = weights_of(2 * p);
                macro_rules! out {
                    ($n:literal) => {{
                        let dy: SMatrix<f64, $n, 1> = SMatrix::from_column_slice(&dy);
                        let dx = pool.backward::<f64, 84, $n, 1>(&g, &x, &dy);
                        let f = |x: &[f64]| {
                            weighted(pool.forward::<f64, 84, $n, 1>(&g, &SMatrix::from_column_slice(x)).as_slice())
                        };
                        let e = max_error(&mut x.as_slice().to_vec(), dx.as_slice(), f);
                        assert!(e < 1e-6, "{pool:?} {g:?}: {e}");
                    }};
                }
                match 2 * p {
                    18 => out!(18),
                    24 => out!(24),
                    40 => out!(40),
                    60 => out!(60),
                    12 => out!(12),
                    112 => out!(112),
                    n => panic!("unexpected output size {n}"),
                }
            }
        }
        // Values on a literal 1 x 4 x 4 input.
        let g = Geometry::new2d(1, 4, 4, (2, 2), (2, 2), (0, 0), (1, 1));
        let x: SMatrix<f64, 16, 1> = SMatrix::from_fn(|i, _| i as f64);
        assert_eq!(Pool::Max.forward::<f64, 16, 4, 1>(&g, &x).as_slice(), &[5.0, 7.0, 13.0, 15.0]);
        assert_eq!(Pool::Avg.forward::<f64, 16, 4, 1>(&g, &x).as_slice(), &[2.5, 4.5, 10.5, 12.5]);
        // Padded (ResNet's stem pooling: 3 x 3, stride 2, padding 1), as PyTorch pools: the maximum over the
        // input values a window covers, the average counting the padding as zeros (`count_include_pad`).
        let g = Geometry::new2d(1, 4, 4, (3, 3), (2, 2), (1, 1), (1, 1));
        assert_eq!(
            Pool::Max.forward::<f64, 16, 4, 1>(&g, &(x - SMatrix::repeat(20.0))).as_slice(),
            &[-15.0, -13.0, -7.0, -5.0]
        );
        let avg = Pool::Avg.forward::<f64, 16, 4, 1>(&g, &x);
        for (a, want) in avg.iter().zip([10.0 / 9.0, 24.0 / 9.0, 51.0 / 9.0, 90.0 / 9.0]) {
            assert!((a - want).abs() < 1e-12, "{avg:?}");
        }
    }

    #[test]
    fn output_size_formulas() {
        assert_eq!(conv_out(28, 5, 1, 0, 1), 24);
        assert_eq!(conv_out(5, 3, 2, 1, 1), 3);
        assert_eq!(conv_out(7, 3, 1, 0, 2), 3);
        assert_eq!(conv_out(2, 3, 1, 0, 1), 0);
        assert_eq!(conv_out(8, 2, 0, 0, 1), 0);
        assert_eq!(conv_transpose_out(3, 3, 2, 1, 1, 1), 6);
        assert_eq!(conv_transpose_out(14, 2, 2, 0, 1, 0), 28);
    }
}

/// Forward values checked against the independent numpy reference in `tests/fixtures/conv/`.
#[cfg(test)]
#[path = "conv_reference.rs"]
mod reference;
