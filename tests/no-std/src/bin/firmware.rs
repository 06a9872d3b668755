//! A minimal Cortex-M4F image that classifies one digit with the compiled-in MLP and streams samples through the
//! GRU denoiser; `llvm-size` on it gives the flash (`text` + `data`) and RAM (`data` + `bss`) the networks need.
#![no_std]
#![no_main]

use nn_no_std::{nn_classify, nn_denoise};

/// The reset handler: runs the networks on fixed input, forever.
#[unsafe(no_mangle)]
pub extern "C" fn reset() -> ! {
    let pixels = [0.5f32; 64];
    loop {
        // SAFETY: 64 readable floats; this is the only caller of the denoiser.
        let digit = unsafe { nn_classify(pixels.as_ptr()) };
        let y = unsafe { nn_denoise(core::hint::black_box(0.25), false) };
        core::hint::black_box((digit, y));
    }
}

/// The initial stack pointer and reset vector, the start of the vector table.
#[unsafe(link_section = ".vector_table")]
#[unsafe(no_mangle)]
pub static VECTORS: [extern "C" fn() -> !; 1] = [reset];
