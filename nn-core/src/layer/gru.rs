//! Gated recurrent unit (Cho et al.), as PyTorch's `nn.GRU`:
//!
//! ```text
//! r = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
//! z = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
//! n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))
//! h_t = (1 - z) * n + z * h_{t-1}
//! ```
//!
//! The rows of `W_ih`, `W_hh` and the biases are stacked in the order r, z, n. Note where `b_hn` sits: inside the
//! reset gate's product, as PyTorch (and cuDNN) do, not outside as in some papers.
//!
//! Backward, per step (`dh` = dL/dh_t):
//!
//! ```text
//! dn = dh (1 - z)   dz = dh (h_{t-1} - n)   dh_{t-1} = dh z
//! a_n = dn (1 - n^2)   a_r = a_n hn r (1 - r)   a_z = dz z (1 - z)        (hn = W_hn h_{t-1} + b_hn)
//! input side [a_r, a_z, a_n]:      dW_ih += . x_t^T,      db_ih += .,   dx_t = W_ih^T .
//! hidden side [a_r, a_z, a_n r]:   dW_hh += . h_{t-1}^T,  db_hh += .,   dh_{t-1} += W_hh^T .
//! ```

use super::recurrent::{GruCell, Recurrent, RecurrentLayer};
use crate::float::Float;
use crate::kernel::{self, STRIP};
use nalgebra::SVector;

/// A GRU layer: `I` inputs per step, `H` hidden units, `G = 3 H` gate rows (given explicitly because stable Rust
/// cannot compute it in a type; any other `G` fails to compile).
///
/// Weights and names are PyTorch's: `weight_ih_l0` is `[3H, I]` in the order r, z, n, `weight_hh_l0` `[3H, H]`.
/// [`RecurrentLayer::init`] starts the update gate's input-side bias at 1: `z` is the GRU's counterpart of the
/// LSTM's forget gate (`h' = (1 - z) n + z h`).
pub type Gru<
    T,
    const I: usize,
    const H: usize,
    const G: usize,
    const L: usize = 0,
    const S: usize = 0,
    const K: usize = 0,
> = RecurrentLayer<T, I, H, G, GruCell, L, S, K>;

impl<T: Float, const I: usize, const H: usize, const G: usize, const L: usize, const S: usize, const K: usize>
    Gru<T, I, H, G, L, S, K>
{
    /// A streaming step on `h`: strips of units, as the LSTM's step, each strip's gates in registers, the new
    /// `h` to a copy. `FMA`: fused multiply-adds in the products.
    #[inline(always)]
    fn step_strips<const FMA: bool>(&self, h: &mut [T], x: &[T]) {
        let h = &mut h[..H];
        if !kernel::VECTOR_STRIPS {
            // Both sides over all the gate rows, then the units.
            let (ai, ah) = (self.input_side(x), self.hidden_side(Some(h)));
            for j in 0..H {
                let r = Float::fast_sigmoid(ai[j] + ah[j]);
                let z = Float::fast_sigmoid(ai[H + j] + ah[H + j]);
                let n = (ai[2 * H + j] + r * ah[2 * H + j]).fast_tanh();
                h[j] = (T::one() - z) * n + z * h[j];
            }
            return;
        }
        let mut h_new = [T::zero(); H];
        let mut j0 = 0;
        // Each strip reads `x` and `h` through an opaque copy of the reference: otherwise, with the strips
        // unrolled, LLVM broadcast every input value once for all of them and spilled the broadcasts to the stack
        // (a native build's LSTM step at 16 units: 335 -> 258-274 ns; the dispatched clone is unchanged).
        while j0 + STRIP <= H {
            self.gru_strip::<FMA>(core::hint::black_box(x), core::hint::black_box(&*h), &mut h_new, j0, STRIP);
            j0 += STRIP;
        }
        if !H.is_multiple_of(STRIP) {
            self.gru_strip::<FMA>(x, h, &mut h_new, j0, H % STRIP);
        }
        h.copy_from_slice(&h_new);
    }

    /// Units `j0..j0 + n` of a streaming step (`n <= STRIP`, a constant where inlined): their gates from `x` and
    /// the old `h`, their new hidden values written to `h_new`.
    #[inline(always)]
    fn gru_strip<const FMA: bool>(&self, x: &[T], h: &[T], h_new: &mut [T], j0: usize, n: usize) {
        let rows = [j0, H + j0, 2 * H + j0];
        let mut ai = kernel::strip_init(self.bias_ih.as_slice(), &[], rows, n);
        let mut ah = kernel::strip_init(self.bias_hh.as_slice(), &[], rows, n);
        kernel::strip_acc::<T, G, I, 3, FMA>(&self.weight_ih, x, rows, n, &mut ai);
        kernel::strip_acc::<T, G, H, 3, FMA>(&self.weight_hh, h, rows, n, &mut ah);
        for j in 0..n {
            let r = Float::fast_sigmoid_with::<FMA>(ai[0][j] + ah[0][j]);
            let z = Float::fast_sigmoid_with::<FMA>(ai[1][j] + ah[1][j]);
            let c = (ai[2][j] + r * ah[2][j]).fast_tanh_with::<FMA>();
            h_new[j0 + j] = (T::one() - z) * c + z * h[j0 + j];
        }
    }
}

/// [`Gru::step_strips`] for the CPU it runs on, chosen as the LSTM's step is.
#[cfg(feature = "std")]
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn step_dispatched<
    T: Float,
    const I: usize,
    const H: usize,
    const G: usize,
    const L: usize,
    const S: usize,
    const K: usize,
>(
    layer: &Gru<T, I, H, G, L, S, K>,
    h: &mut [T],
    x: &[T],
) {
    const FMA: bool = multiversion::target::selected_target!().supports_feature_str("fma");
    layer.step_strips::<FMA>(h, x);
}

/// Without `std`: the build target's instructions.
#[cfg(not(feature = "std"))]
#[inline(always)]
fn step_dispatched<
    T: Float,
    const I: usize,
    const H: usize,
    const G: usize,
    const L: usize,
    const S: usize,
    const K: usize,
>(
    layer: &Gru<T, I, H, G, L, S, K>,
    h: &mut [T],
    x: &[T],
) {
    layer.step_strips::<{ kernel::TARGET_FMA }>(h, x);
}

impl<T: Float, const I: usize, const H: usize, const G: usize, const L: usize, const S: usize, const K: usize>
    Recurrent<T> for Gru<T, I, H, G, L, S, K>
{
    const INPUT: usize = I;
    const HIDDEN: usize = H;
    /// r, z, n, `W_hn h + b_hn`, then the new `h`.
    const KEEP: usize = 5 * H;
    const STATE: usize = H;
    type State = SVector<T, H>;

    // Never inlined: compiled as a function of its own, the strips' sums stay in vector registers; inlined
    // into a caller's loop (a benchmark's), LLVM left them scalar and spilled, at four times the time.
    #[inline(never)]
    fn step(&self, state: &mut Self::State, x: &[T]) {
        step_dispatched(self, state.as_mut_slice(), x);
    }

    #[inline]
    fn step_train(&self, prev: Option<&[T]>, x: &[T], keep: &mut [T]) {
        let (ai, ah) = (self.input_side(x), self.hidden_side(prev));
        for j in 0..H {
            let r = Float::fast_sigmoid(ai[j] + ah[j]);
            let z = Float::fast_sigmoid(ai[H + j] + ah[H + j]);
            let hn = ah[2 * H + j];
            let n = (ai[2 * H + j] + r * hn).fast_tanh();
            let h_prev = prev.map_or(T::zero(), |p| p[j]);
            (keep[j], keep[H + j], keep[2 * H + j], keep[3 * H + j]) = (r, z, n, hn);
            keep[4 * H + j] = (T::one() - z) * n + z * h_prev;
        }
    }

    #[inline]
    fn step_backward(&self, x: &[T], prev: Option<&[T]>, keep: &[T], dstate: &mut [T], dx: &mut [T], grads: &mut Self) {
        let one = T::one();
        let (mut gi, mut gh) = (SVector::<T, G>::zeros(), SVector::<T, G>::zeros());
        for j in 0..H {
            let (r, z, n, hn) = (keep[j], keep[H + j], keep[2 * H + j], keep[3 * H + j]);
            let h_prev = prev.map_or(T::zero(), |p| p[j]);
            let dh = dstate[j];
            let a_n = dh * (one - z) * (one - n * n);
            let a_r = a_n * hn * r * (one - r);
            let a_z = dh * (h_prev - n) * z * (one - z);
            (gi[j], gi[H + j], gi[2 * H + j]) = (a_r, a_z, a_n);
            (gh[j], gh[H + j], gh[2 * H + j]) = (a_r, a_z, a_n * r);
            // Before the first step there is no state to pass a gradient to.
            dstate[j] = if prev.is_some() { dh * z } else { T::zero() };
        }
        self.backward_sides(gi.as_slice(), gh.as_slice(), x, prev, dx, &mut dstate[..H], grads);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::recurrent::testing::{check_bptt, fill_params};
    use nalgebra::{matrix, vector};

    #[test]
    fn one_unit_by_hand() {
        let cell = Gru::<f64, 1, 1, 3>::new(
            matrix![0.5; -0.25; 1.0],
            matrix![0.1; 0.2; -0.3],
            vector![0.0, 1.0, 0.2],
            vector![0.05, 0.0, 0.4],
        );
        let s = |v: f64| 1.0 / (1.0 + (-v).exp());
        let mut h = 0.0;
        for xt in [2.0, -1.0, 0.5] {
            let r = s(0.5 * xt + 0.05 + 0.1 * h);
            let z = s(-0.25 * xt + 1.0 + 0.2 * h);
            // b_hn = 0.4 is inside the reset gate's product.
            let n = (xt + 0.2 + r * (-0.3 * h + 0.4)).tanh();
            h = (1.0 - z) * n + z * h;
        }
        let y = cell.forward_sequence::<3, 3, 1, 1>(&vector![2.0, -1.0, 0.5]);
        assert!((y[0] - h).abs() < 1e-15, "{} vs {h}", y[0]);
    }

    #[test]
    fn backpropagation_through_time_matches_central_differences() {
        let mut cell: Gru<f64, 3, 4, 12> = bytemuck::Zeroable::zeroed();
        let mut grads = cell;
        fill_params(&mut cell, 11, 0.8);
        let e = check_bptt::<_, 5, 15, 20, 100, 1>(&mut cell, &mut grads, 1);
        assert!(e < 1e-6, "sequence: {e}");
        let e = check_bptt::<_, 5, 15, 4, 100, 1>(&mut cell, &mut grads, 2);
        assert!(e < 1e-6, "last step: {e}");
        let e = check_bptt::<_, 1, 3, 4, 20, 1>(&mut cell, &mut grads, 3);
        assert!(e < 1e-6, "one step: {e}");
        let e = check_bptt::<_, 4, 12, 16, 80, 3>(&mut cell, &mut grads, 4);
        assert!(e < 1e-6, "batch: {e}");
    }
}
