//! Walking parameters, gradients and per-parameter optimizer state tensor by tensor.
//!
//! The state is a value of the network's own type, so index `i` names the same tensor in all of them and the
//! slices have equal lengths. Nothing is allocated.

use crate::float::Float;
use crate::params::Parameters;

/// Calls `f(w, g, s)` on every tensor of `params`, with the same tensor of `grads` and of one state.
#[inline]
pub(super) fn with_state<T: Float, P: Parameters<T>>(
    params: &mut P,
    grads: &P,
    state: &mut P,
    mut f: impl FnMut(&mut [T], &[T], &mut [T]),
) {
    for i in 0..P::TENSORS {
        if let (Some(w), Some(g), Some(s)) = (params.tensor_mut(i), grads.tensor(i), state.tensor_mut(i)) {
            debug_assert!(w.data.len() == g.data.len() && w.data.len() == s.data.len());
            f(w.data, g.data, s.data);
        }
    }
}

/// Calls `f(w, g, a, b)` on every tensor of `params`, with the same tensor of `grads` and of two states.
#[inline]
pub(super) fn with_states<T: Float, P: Parameters<T>>(
    params: &mut P,
    grads: &P,
    a: &mut P,
    b: &mut P,
    mut f: impl FnMut(&mut [T], &[T], &mut [T], &mut [T]),
) {
    for i in 0..P::TENSORS {
        if let (Some(w), Some(g), Some(a), Some(b)) =
            (params.tensor_mut(i), grads.tensor(i), a.tensor_mut(i), b.tensor_mut(i))
        {
            debug_assert!(w.data.len() == g.data.len() && w.data.len() == a.data.len() && a.data.len() == b.data.len());
            f(w.data, g.data, a.data, b.data);
        }
    }
}
