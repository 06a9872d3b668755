//! `forward` allocates nothing: a counting global allocator watches inference of a 784-128-10 network, a batch,
//! and a network with batch norm and dropout (inference mode). One test, so no other test allocates meanwhile.
#![allow(unsafe_code)] // a global allocator is an `unsafe impl`; it only forwards to the system allocator

use nn_core::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

network! {
    struct Mnist<f32> { input: 784, hidden: Dense(128), Relu, out: Dense(10) }
}

network! {
    struct Normed<f32> { input: 16, Dense(32), BatchNorm, Gelu, Dropout(0.5), Dense(4), Softmax }
}

fn allocations_during<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let r = f();
    (ALLOCATIONS.load(Ordering::SeqCst) - before, r)
}

#[test]
fn inference_allocates_nothing() {
    let net = Mnist::boxed_init(&mut seeded_rng(1));
    let x = Vector::<f32, 784>::repeat(0.5);
    let (n, y) = allocations_during(|| net.forward(&x));
    assert_eq!(n, 0, "forward allocated {n} times");
    assert!(y.iter().all(|v| v.is_finite()));

    let batch = nn_core::nalgebra::SMatrix::<f32, 784, 8>::repeat(0.25);
    let (n, _) = allocations_during(|| net.forward_batch::<8>(&batch));
    assert_eq!(n, 0, "forward_batch allocated {n} times");

    let normed = Normed::boxed_init(&mut seeded_rng(2));
    let (n, y) = allocations_during(|| normed.forward(&Vector::repeat(1.0)));
    assert_eq!(n, 0, "forward with batch norm and dropout allocated {n} times");
    assert!((y.sum() - 1.0).abs() < 1e-5);

    // The counter does see allocations.
    let (n, v) = allocations_during(|| vec![1u8; 10]);
    assert!(n >= 1 && v.len() == 10);
}
