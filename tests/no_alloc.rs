//! `forward` allocates nothing: a counting global allocator watches inference of a 784-128-10 network, a batch,
//! and a network with batch norm and dropout (inference mode). Training steps in a workspace allocated once
//! allocate nothing after the first either. One test, so no other test allocates meanwhile.
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

    // Training in a workspace allocated once: per-sample backprop with Adam, the fused SGD step, and a batch of 8
    // through batch norm and dropout with RMSProp. The first step may allocate (optimizer state); later ones not.
    let mut net = Mnist::boxed_init(&mut seeded_rng(3));
    let (mut ws, mut grads) = (nn_core::boxed_zeroed::<<Mnist as Network>::Cache>(), Mnist::boxed_zeroed());
    let mut adam = Adam::new(1e-3);
    let t = Vector::<f32, 10>::from_fn(|r, _| if r == 3 { 1.0 } else { 0.0 });
    let mut rng = seeded_rng(4);
    let mut step = |net: &mut Mnist, rng: &mut SeededRng| {
        grads.fill(0.0);
        let loss = net.backprop_in(&mut ws, &x, &t, &SoftmaxCrossEntropy, &mut grads, rng);
        adam.step(net, &grads);
        loss
    };
    let first = step(&mut net, &mut rng);
    let (n, later) = allocations_during(|| (0..5).map(|_| step(&mut net, &mut rng)).fold(0.0, |_, l| l));
    assert_eq!(n, 0, "five backprop-and-Adam steps allocated {n} times");
    assert!(later < first, "loss {first} -> {later}");
    let mut ws = nn_core::boxed_zeroed::<<Mnist as Network>::Cache>();
    let (n, _) = allocations_during(|| {
        (0..5).map(|_| net.sgd_step_in(&mut ws, &x, &t, &SoftmaxCrossEntropy, 0.01, &mut rng)).sum::<f32>()
    });
    assert_eq!(n, 0, "five fused SGD steps allocated {n} times");

    let mut normed = Normed::boxed_init(&mut seeded_rng(5));
    let mut ws = nn_core::boxed_zeroed::<<Normed as BatchNetwork>::BatchCache<8>>();
    let mut grads = Normed::boxed_zeroed();
    let mut rms = RmsProp::new(1e-3);
    let xb = nn_core::nalgebra::SMatrix::<f32, 16, 8>::from_fn(|r, c| (r * 8 + c) as f32 * 0.01);
    let tb = nn_core::nalgebra::SMatrix::<f32, 4, 8>::from_fn(|r, c| if r == c % 4 { 1.0 } else { 0.0 });
    let mut batch = |normed: &mut Normed, rng: &mut SeededRng| {
        grads.fill(0.0);
        let y = normed.forward_train_batch_in::<8, _>(&xb, &mut ws, rng);
        let (loss, dy) = SoftmaxCrossEntropy.value_and_gradient(&y, &tb);
        Normed::backward_batch_in::<8, _>(Accumulate { layer: &*normed, grads: &mut *grads }, &mut ws, &dy, None);
        normed.update_statistics::<8>(&ws);
        rms.step(normed, &grads);
        loss
    };
    batch(&mut normed, &mut rng);
    let (n, loss) = allocations_during(|| (0..5).map(|_| batch(&mut normed, &mut rng)).fold(0.0, |_, l| l));
    assert_eq!(n, 0, "five batch steps allocated {n} times");
    assert!(loss.is_finite());

    // The counter does see allocations.
    let (n, v) = allocations_during(|| vec![1u8; 10]);
    assert!(n >= 1 && v.len() == 10);
}
