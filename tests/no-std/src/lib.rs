//! Firmware-shaped use of `nn-core` without `std` or a heap, built in CI for `thumbv7em-none-eabihf`
//! (a Cortex-M4F): a network whose weights are compiled into flash, inference, and a training step; run in CI on
//! an emulated Cortex-M4F (`run-qemu.sh`), where the `qemu` binary checks its outputs against the host's.
//! A dependency that pulled in `std` would fail this build, which a host-only `no_std` build would not catch.
#![no_std]

mod models;
pub use models::*;

pub mod expected;

/// Classifies an 8x8 image (64 pixels in [0, 1]) with the compiled-in network; returns the digit.
///
/// # Safety
///
/// `pixels` must point to 64 readable `f32`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nn_classify(pixels: *const f32) -> u32 {
    // SAFETY: the caller passes 64 readable floats.
    let pixels = unsafe { &*(pixels as *const [f32; 64]) };
    classify(&NET, pixels).0 as u32
}

/// A denoiser and its state, both static: the recurrent state lives between calls without a heap.
static mut DENOISER: Option<(Denoiser, DenoiserState)> = None;

/// Processes one sample through the streaming GRU ([`denoiser`]'s weights); `reset` starts a new stream.
///
/// # Safety
///
/// Not reentrant: one caller at a time, as an audio interrupt handler is.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nn_denoise(sample: f32, reset: bool) -> f32 {
    // SAFETY: the caller guarantees exclusive access.
    let slot = unsafe { &mut *core::ptr::addr_of_mut!(DENOISER) };
    let (net, state) = slot.get_or_insert_with(|| (denoiser(), DenoiserState::new()));
    if reset {
        state.reset();
    }
    net.step(state, &nn_core::prelude::Vector::from([sample]))[0]
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
