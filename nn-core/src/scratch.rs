//! Scratch storage that never overflows a thread's stack: small values on the stack, large ones on the heap.

use crate::float::Float;
use crate::params::Parameters;

/// Scratch values of at most this many bytes live on the stack in [`with_scratch`]; larger ones on the heap (with
/// `alloc`), so that a big model neither overflows a thread's stack nor costs an allocation per step when it is
/// small.
#[cfg(feature = "alloc")]
const STACK_SCRATCH: usize = 16 * 1024;

/// Runs `f` on a zeroed value of type `V`: on the stack when it is small (or without `alloc`), on the heap when
/// it is large.
#[inline]
pub fn with_scratch<V: bytemuck::Zeroable, D>(f: impl FnOnce(&mut V) -> D) -> D {
    #[cfg(feature = "alloc")]
    if core::mem::size_of::<V>() > STACK_SCRATCH {
        return f(&mut boxed_zeroed::<V>());
    }
    f(&mut V::zeroed())
}

/// Runs `f` on a copy of `value` (on the stack when small, on the heap when large).
#[inline]
pub(crate) fn with_copy<V: Clone + bytemuck::Zeroable, D>(value: &V, f: impl FnOnce(&mut V) -> D) -> D {
    #[cfg(feature = "alloc")]
    if core::mem::size_of::<V>() > STACK_SCRATCH {
        let mut copy = boxed_zeroed::<V>();
        (*copy).clone_from(value);
        return f(&mut copy);
    }
    f(&mut value.clone())
}

/// Runs `backward` (a layer's own backward pass, writing its parameter gradients into a zeroed value of its
/// type) and then moves `layer`'s parameters by `-lr` times those gradients: plain SGD for layers whose input
/// and parameter gradients come out of one pass.
pub fn sgd_through_gradients<T, L, D>(layer: &mut L, lr: T, backward: impl FnOnce(&L, &mut L) -> D) -> D
where
    T: Float,
    L: Parameters<T> + bytemuck::Zeroable,
{
    with_scratch(|grads: &mut L| {
        let d = backward(layer, grads);
        layer.zip_mut(grads, |_, w, g| {
            for (w, &g) in w.iter_mut().zip(g) {
                *w -= lr * g;
            }
        });
        d
    })
}

/// A zero-initialised value built directly on the heap, never on the stack: how large networks, their
/// gradients and optimizer states are created.
#[cfg(feature = "alloc")]
pub fn boxed_zeroed<N: bytemuck::Zeroable>() -> alloc::boxed::Box<N> {
    bytemuck::zeroed_box()
}

#[cfg(feature = "std")]
std::thread_local! {
    /// The storage of [`with_buffers`]: grown to the largest request on each thread, then reused.
    static BUFFERS: core::cell::RefCell<alloc::vec::Vec<f64>> = const { core::cell::RefCell::new(alloc::vec::Vec::new()) };
}

/// Runs `f` on two scratch slices of `a` and `b` values (contents unspecified), kept per thread and reused, so
/// that a kernel needing working storage larger than the stack allows allocates only the first time it sees a
/// size. A call made from inside `f` gets fresh storage instead.
#[cfg(feature = "std")]
pub(crate) fn with_buffers<T: bytemuck::Pod, D>(a: usize, b: usize, f: impl FnOnce(&mut [T], &mut [T]) -> D) -> D {
    // Whole `f64`s cover any `T` up to eight bytes, aligned.
    let words = |n: usize| (n * core::mem::size_of::<T>()).div_ceil(8);
    let split = words(a);
    let total = split + words(b);
    let run = |v: &mut alloc::vec::Vec<f64>| {
        if v.len() < total {
            v.resize(total, 0.0);
        }
        let (x, y) = v[..total].split_at_mut(split);
        let (x, y): (&mut [T], &mut [T]) = (bytemuck::cast_slice_mut(x), bytemuck::cast_slice_mut(y));
        f(&mut x[..a], &mut y[..b])
    };
    BUFFERS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut v) => run(&mut v),
        Err(_) => run(&mut alloc::vec::Vec::new()),
    })
}
