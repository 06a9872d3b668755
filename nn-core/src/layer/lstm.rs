//! Long short-term memory (Hochreiter and Schmidhuber), as PyTorch's `nn.LSTM`:
//!
//! ```text
//! a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh          (4H values: the gates i, f, g, o stacked)
//! i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
//! c_t = f * c_{t-1} + i * g
//! h_t = o * tanh(c_t)
//! ```
//!
//! The cell state `c` is the "conveyor belt" of the lecture: its gradient flows back through `f` alone, so a
//! forget gate near 1 carries information (and gradient) across long gaps where a plain RNN's vanishes.
//!
//! Backward, per step (`dh`, `dc` arriving from the step after and from the output):
//!
//! ```text
//! do = dh * tanh(c_t)             dc = dc + dh * o * (1 - tanh(c_t)^2)
//! di = dc * g   dg = dc * i       df = dc * c_{t-1}    dc_{t-1} = dc * f
//! da = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)]
//! dW_ih += da x_t^T   dW_hh += da h_{t-1}^T   db_ih += da   db_hh += da
//! dx_t = W_ih^T da    dh_{t-1} = W_hh^T da
//! ```

use super::recurrent::{LstmCell, Recurrent, RecurrentLayer};
use crate::float::Float;
use crate::kernel::{self, STRIP};
use nalgebra::{SMatrix, SVector};

/// An LSTM layer: `I` inputs per step, `H` hidden units, `G = 4 H` gate rows (given explicitly because stable
/// Rust cannot compute it in a type; any other `G` fails to compile).
///
/// Weights and names are PyTorch's: `weight_ih_l0` is `[4H, I]` with the gates in the order i, f, g, o,
/// `weight_hh_l0` is `[4H, H]`, and both biases are kept. [`RecurrentLayer::init`] starts the forget gate's bias
/// at 1.
pub type Lstm<
    T,
    const I: usize,
    const H: usize,
    const G: usize,
    const L: usize = 0,
    const S: usize = 0,
    const K: usize = 0,
> = RecurrentLayer<T, I, H, G, LstmCell, L, S, K>;

/// Unit `j`'s gates `(i, f, g, o)` from the pre-activations `a`.
#[inline(always)]
fn activate_gates<T: Float, const H: usize, const G: usize>(a: &SVector<T, G>, j: usize) -> (T, T, T, T) {
    (a[j].fast_sigmoid(), a[H + j].fast_sigmoid(), a[2 * H + j].fast_tanh(), a[3 * H + j].fast_sigmoid())
}

impl<T: Float, const I: usize, const H: usize, const G: usize, const L: usize, const S: usize, const K: usize>
    Lstm<T, I, H, G, L, S, K>
{
    /// A streaming step on `state` (`h` then `c`): strips of units, each strip's four gates summed in registers,
    /// then its units updated (see `kernel::strip_acc`); the new `h` goes to a copy, as later strips still read
    /// the old one. `FMA`: fused multiply-adds in the products.
    #[inline(always)]
    fn step_strips<const FMA: bool>(&self, state: &mut [T], x: &[T]) {
        let (h, c) = state[..2 * H].split_at_mut(H);
        if !kernel::VECTOR_STRIPS {
            // One pass over all the gate rows, then the units.
            let a = self.preactivation(x, Some(h));
            for j in 0..H {
                let (i, f, g, o) = activate_gates::<T, H, G>(&a, j);
                c[j] = f * c[j] + i * g;
                h[j] = o * c[j].fast_tanh();
            }
            return;
        }
        let mut h_new = [T::zero(); H];
        let mut j0 = 0;
        // Each strip reads `x` and `h` through an opaque copy of the reference: otherwise, with the strips
        // unrolled, LLVM broadcast every input value once for all of them and spilled the broadcasts to the stack
        // (a native build's LSTM step at 16 units: 335 -> 258-274 ns; the dispatched clone is unchanged).
        while j0 + STRIP <= H {
            self.lstm_strip::<FMA>(core::hint::black_box(x), core::hint::black_box(&*h), c, &mut h_new, j0, STRIP);
            j0 += STRIP;
        }
        if !H.is_multiple_of(STRIP) {
            self.lstm_strip::<FMA>(x, h, c, &mut h_new, j0, H % STRIP);
        }
        h.copy_from_slice(&h_new);
    }

    /// Units `j0..j0 + n` of a streaming step (`n <= STRIP`, a constant where inlined): their gates from `x` and
    /// the old `h`, their cell state updated in `c`, their new hidden values written to `h_new`.
    #[inline(always)]
    fn lstm_strip<const FMA: bool>(&self, x: &[T], h: &[T], c: &mut [T], h_new: &mut [T], j0: usize, n: usize) {
        let rows = [j0, H + j0, 2 * H + j0, 3 * H + j0];
        let mut a = kernel::strip_init(self.bias_ih.as_slice(), self.bias_hh.as_slice(), rows, n);
        kernel::strip_acc::<T, G, I, 4, FMA>(&self.weight_ih, x, rows, n, &mut a);
        kernel::strip_acc::<T, G, H, 4, FMA>(&self.weight_hh, h, rows, n, &mut a);
        for r in 0..n {
            let (i, f) = (a[0][r].fast_sigmoid_with::<FMA>(), a[1][r].fast_sigmoid_with::<FMA>());
            let (g, o) = (a[2][r].fast_tanh_with::<FMA>(), a[3][r].fast_sigmoid_with::<FMA>());
            let cj = f * c[j0 + r] + i * g;
            c[j0 + r] = cj;
            h_new[j0 + r] = o * cj.fast_tanh_with::<FMA>();
        }
    }
}

/// [`Lstm::step_strips`] for the CPU it runs on: with `std` on x86-64, a clone for AVX2 with fused
/// multiply-adds is chosen at run time on a build for the default target (whose 128-bit vectors and separate
/// multiplies and adds took twice the time); a build for a CPU with them calls it directly.
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
    layer: &Lstm<T, I, H, G, L, S, K>,
    state: &mut [T],
    x: &[T],
) {
    const FMA: bool = multiversion::target::selected_target!().supports_feature_str("fma");
    layer.step_strips::<FMA>(state, x);
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
    layer: &Lstm<T, I, H, G, L, S, K>,
    state: &mut [T],
    x: &[T],
) {
    layer.step_strips::<{ kernel::TARGET_FMA }>(state, x);
}

impl<T: Float, const I: usize, const H: usize, const G: usize, const L: usize, const S: usize, const K: usize>
    Recurrent<T> for Lstm<T, I, H, G, L, S, K>
{
    const INPUT: usize = I;
    const HIDDEN: usize = H;
    /// The gates after their activations (4H), then the new `h` and `c`.
    const KEEP: usize = 6 * H;
    const STATE: usize = 2 * H;
    type State = SMatrix<T, H, 2>;

    // Never inlined: compiled as a function of its own, the strips' sums stay in vector registers; inlined
    // into a caller's loop (a benchmark's), LLVM left them scalar and spilled, at four times the time.
    #[inline(never)]
    fn step(&self, state: &mut Self::State, x: &[T]) {
        step_dispatched(self, state.as_mut_slice(), x);
    }

    #[inline]
    fn step_train(&self, prev: Option<&[T]>, x: &[T], keep: &mut [T]) {
        let a = self.preactivation(x, prev.map(|p| &p[..H]));
        let (gates, state) = keep[..6 * H].split_at_mut(4 * H);
        let (h, c) = state.split_at_mut(H);
        for j in 0..H {
            let (i, f, g, o) = activate_gates::<T, H, G>(&a, j);
            let c_prev = prev.map_or(T::zero(), |p| p[H + j]);
            c[j] = f * c_prev + i * g;
            h[j] = o * c[j].fast_tanh();
            (gates[j], gates[H + j], gates[2 * H + j], gates[3 * H + j]) = (i, f, g, o);
        }
    }

    #[inline]
    fn step_backward(&self, x: &[T], prev: Option<&[T]>, keep: &[T], dstate: &mut [T], dx: &mut [T], grads: &mut Self) {
        let one = T::one();
        let mut da = SVector::<T, G>::zeros();
        let (gates, c) = (&keep[..4 * H], &keep[5 * H..6 * H]);
        let (dh, dc) = dstate[..2 * H].split_at_mut(H);
        for j in 0..H {
            let (i, f, g, o) = (gates[j], gates[H + j], gates[2 * H + j], gates[3 * H + j]);
            let tc = c[j].fast_tanh();
            let d_o = dh[j] * tc;
            let d_c = dc[j] + dh[j] * o * (one - tc * tc);
            let c_prev = prev.map_or(T::zero(), |p| p[H + j]);
            da[j] = d_c * g * i * (one - i);
            da[H + j] = d_c * c_prev * f * (one - f);
            da[2 * H + j] = d_c * i * (one - g * g);
            da[3 * H + j] = d_o * o * (one - o);
            dc[j] = d_c * f;
        }
        dh.fill(T::zero());
        self.backward_sides(da.as_slice(), da.as_slice(), x, prev.map(|p| &p[..H]), dx, dh, grads);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::recurrent::testing::{check_bptt, fill_params};
    use nalgebra::{matrix, vector};

    #[test]
    fn one_unit_by_hand() {
        // H = I = 1: a = (w_ih x + b_ih + w_hh h + b_hh) per gate, in the order i, f, g, o.
        let cell = Lstm::<f64, 1, 1, 4>::new(
            matrix![0.5; -0.25; 1.0; 0.75],
            matrix![0.1; 0.2; -0.3; 0.4],
            vector![0.0, 1.0, 0.0, -0.5],
            vector![0.05, 0.0, 0.1, 0.0],
        );
        let s = |v: f64| 1.0 / (1.0 + (-v).exp());
        let x = [2.0, -1.0];
        let (mut h, mut c) = (0.0, 0.0);
        for &xt in &x {
            let (i, f) = (s(0.5 * xt + 0.05 + 0.1 * h), s(-0.25 * xt + 1.0 + 0.2 * h));
            let (g, o) = ((xt + 0.1 - 0.3 * h).tanh(), s(0.75 * xt - 0.5 + 0.4 * h));
            c = f * c + i * g;
            h = o * c.tanh();
        }
        let y = cell.forward_sequence::<2, 2, 1, 1>(&vector![2.0, -1.0]);
        assert!((y[0] - h).abs() < 1e-15, "{} vs {h}", y[0]);
        let mut state = SMatrix::<f64, 1, 2>::zeros();
        cell.step(&mut state, &[2.0]);
        cell.step(&mut state, &[-1.0]);
        assert!((state[(0, 0)] - h).abs() < 1e-15 && (state[(0, 1)] - c).abs() < 1e-15);
    }

    #[test]
    fn backpropagation_through_time_matches_central_differences() {
        let mut cell: Lstm<f64, 3, 4, 16> = bytemuck::Zeroable::zeroed();
        let mut grads = cell;
        fill_params(&mut cell, 7, 0.8);
        let mut fresh = cell;
        fresh.init(&mut crate::seeded_rng(1));
        assert!(fresh.bias_ih.rows(4, 4).iter().all(|&b| b == 1.0), "the forget gate's bias starts at 1");
        assert!(fresh.weight_hh.iter().all(|&w| w.abs() <= 0.5) && fresh.bias_hh.rows(4, 4).amax() <= 0.5);
        // Every step's output, last step only, one step, and a batch of three.
        let e = check_bptt::<_, 5, 15, 20, 120, 1>(&mut cell, &mut grads, 1);
        assert!(e < 1e-6, "sequence: {e}");
        let e = check_bptt::<_, 5, 15, 4, 120, 1>(&mut cell, &mut grads, 2);
        assert!(e < 1e-6, "last step: {e}");
        let e = check_bptt::<_, 1, 3, 4, 24, 1>(&mut cell, &mut grads, 3);
        assert!(e < 1e-6, "one step: {e}");
        let e = check_bptt::<_, 4, 12, 16, 96, 3>(&mut cell, &mut grads, 4);
        assert!(e < 1e-6, "batch: {e}");
        let e = check_bptt::<_, 30, 90, 4, 720, 2>(&mut cell, &mut grads, 5);
        assert!(e < 1e-6, "long: {e}");
    }
}
