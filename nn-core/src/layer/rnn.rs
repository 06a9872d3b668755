//! The vanilla (Elman) recurrent layer, as PyTorch's `nn.RNN`:
//!
//! ```text
//! a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
//! h_t = act(a_t)                                   (tanh by default; PyTorch also offers relu)
//! ```
//!
//! Backward, per step: `da = dh * act'(a_t)`, `dW_ih += da x_t^T`, `dW_hh += da h_{t-1}^T`, both biases `+= da`,
//! `dx_t = W_ih^T da`, `dh_{t-1} = W_hh^T da`. Through a long sequence the gradient is multiplied by
//! `W_hh^T diag(act')` once per step, the vanishing (or exploding) gradient the lecture describes.

use super::recurrent::{Recurrent, RecurrentLayer, RnnCell};
use crate::activation::{Activation, Tanh};
use crate::float::Float;
use nalgebra::SVector;

/// A vanilla RNN layer: `I` inputs per step, `H` hidden units, activation `A` (its `Default` value: parameters
/// such as a leaky ReLU's slope take their defaults).
///
/// Weights and names are PyTorch's: `weight_ih_l0` `[H, I]`, `weight_hh_l0` `[H, H]`, `bias_ih_l0`, `bias_hh_l0`.
pub type Rnn<T, const I: usize, const H: usize, A = Tanh, const L: usize = 0, const S: usize = 0, const K: usize = 0> =
    RecurrentLayer<T, I, H, H, RnnCell<A>, L, S, K>;

impl<
    T: Float,
    const I: usize,
    const H: usize,
    A: Activation<T> + Default,
    const L: usize,
    const S: usize,
    const K: usize,
> Recurrent<T> for Rnn<T, I, H, A, L, S, K>
{
    const INPUT: usize = I;
    const HIDDEN: usize = H;
    /// The pre-activation, then the new `h`.
    const KEEP: usize = 2 * H;
    const STATE: usize = H;
    type State = SVector<T, H>;

    #[inline]
    fn step(&self, state: &mut Self::State, x: &[T]) {
        let a = self.preactivation(x, Some(state.as_slice()));
        let act = A::default();
        for (h, &a) in state.iter_mut().zip(a.iter()) {
            *h = act.f(a);
        }
    }

    #[inline]
    fn step_train(&self, prev: Option<&[T]>, x: &[T], keep: &mut [T]) {
        let a = self.preactivation(x, prev);
        let act = A::default();
        let (pre, h) = keep[..2 * H].split_at_mut(H);
        for j in 0..H {
            pre[j] = a[j];
            h[j] = act.f(a[j]);
        }
    }

    #[inline]
    fn step_backward(&self, x: &[T], prev: Option<&[T]>, keep: &[T], dstate: &mut [T], dx: &mut [T], grads: &mut Self) {
        let act = A::default();
        let mut da = SVector::<T, H>::zeros();
        for j in 0..H {
            da[j] = dstate[j] * act.df(keep[j], keep[H + j]);
        }
        dstate[..H].fill(T::zero());
        self.backward_sides(da.as_slice(), da.as_slice(), x, prev, dx, &mut dstate[..H], grads);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{LeakyRelu, Relu};
    use crate::layer::recurrent::testing::{check_bptt, fill_params};
    use nalgebra::{matrix, vector};

    #[test]
    fn two_units_by_hand() {
        let cell = Rnn::<f64, 1, 2>::new(
            matrix![0.5; -1.0],
            matrix![0.25, -0.5; 0.75, 0.1],
            vector![0.1, 0.0],
            vector![0.0, -0.2],
        );
        let (x1, x2) = (2.0f64, -1.0f64);
        let h1 = [(0.5 * x1 + 0.1).tanh(), (-x1 - 0.2).tanh()];
        let h2 =
            [(0.5 * x2 + 0.1 + 0.25 * h1[0] - 0.5 * h1[1]).tanh(), (-x2 - 0.2 + 0.75 * h1[0] + 0.1 * h1[1]).tanh()];
        let y = cell.forward_sequence::<2, 2, 4, 1>(&vector![2.0, -1.0]);
        let expected = [h1[0], h1[1], h2[0], h2[1]];
        for (a, b) in y.iter().zip(expected) {
            assert!((a - b).abs() < 1e-15, "{a} vs {b}");
        }
    }

    #[test]
    fn backpropagation_through_time_matches_central_differences() {
        fn run<A: Activation<f64> + Default + bytemuck::Zeroable>(name: &str) {
            let mut cell: Rnn<f64, 2, 5, A> = bytemuck::Zeroable::zeroed();
            let mut grads = cell;
            fill_params(&mut cell, 5, 0.7);
            let e = check_bptt::<_, 6, 12, 30, 60, 1>(&mut cell, &mut grads, 1);
            assert!(e < 1e-6, "{name} sequence: {e}");
            let e = check_bptt::<_, 6, 12, 5, 60, 1>(&mut cell, &mut grads, 2);
            assert!(e < 1e-6, "{name} last step: {e}");
            let e = check_bptt::<_, 3, 6, 15, 30, 4>(&mut cell, &mut grads, 3);
            assert!(e < 1e-6, "{name} batch: {e}");
        }
        run::<Tanh>("tanh");
        run::<Relu>("relu");
        run::<LeakyRelu<f64>>("leaky relu");
    }
}
