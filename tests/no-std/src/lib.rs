//! Firmware-shaped use of `nn-core` without `std` or a heap, built in CI for `thumbv7em-none-eabihf`
//! (a Cortex-M4F): a network whose weights are compiled into flash, inference, and a training step.
//! A dependency that pulled in `std` would fail this build, which a host-only `no_std` build would not catch.
#![no_std]

use nn_core::optim::{Optimizer, Sgd};
use nn_core::prelude::*;

network! {
    /// The `digits` example's classifier, weights compiled in from its saved file.
    #[weights = "../../../examples/assets/digits-mlp.safetensors"]
    pub struct Digits<f32> {
        input: 64,
        hidden: Dense(64), Relu, Dropout(0.1),
        out: Dense(10),
    }
}

/// The trained network in read-only memory.
pub static NET: Digits = Digits::TRAINED;

/// Classifies an 8x8 image (64 pixels in [0, 1]) with the compiled-in network; returns the digit.
///
/// # Safety
///
/// `pixels` must point to 64 readable `f32`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nn_classify(pixels: *const f32) -> u32 {
    // SAFETY: the caller passes 64 readable floats.
    let pixels = unsafe { core::slice::from_raw_parts(pixels, 64) };
    let logits = NET.forward(&Vector::from_column_slice(pixels));
    nn_core::argmax(logits.as_slice()) as u32
}

/// One SGD step on one labelled sample, entirely on the stack: training needs neither `std` nor a heap.
pub fn train_step(net: &mut Digits, grads: &mut Digits, pixels: &[f32; 64], label: usize, seed: u64) -> f32 {
    let mut target = Vector::<f32, 10>::zeros();
    target[label % 10] = 1.0;
    grads.fill(0.0);
    let loss = net.backprop(&Vector::from(*pixels), &target, &SoftmaxCrossEntropy, grads, &mut seeded_rng(seed));
    Sgd::new(0.01).step(net, grads);
    loss
}

network! {
    /// A streaming denoiser for audio or sensor samples: one value in, one out, per step.
    pub struct Denoiser<f32> {
        input: Seq(64, 1),
        gru: Gru(16),
        out: Dense(1),
    }
}

/// A denoiser and its state, both static: the recurrent state lives between calls without a heap.
static mut DENOISER: Option<(Denoiser, DenoiserState)> = None;

/// Processes one sample through the streaming GRU (weights zero here: a real device would compile trained ones
/// in with `#[weights]`); `reset` starts a new stream.
///
/// # Safety
///
/// Not reentrant: one caller at a time, as an audio interrupt handler is.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nn_denoise(sample: f32, reset: bool) -> f32 {
    // SAFETY: the caller guarantees exclusive access.
    let slot = unsafe { &mut *core::ptr::addr_of_mut!(DENOISER) };
    let (net, state) = slot.get_or_insert_with(|| (Denoiser::zeroed(), DenoiserState::new()));
    if reset {
        state.reset();
    }
    net.step(state, &Vector::from([sample]))[0]
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
