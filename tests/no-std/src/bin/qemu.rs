//! The firmware run on an emulated Cortex-M4F (`run-qemu.sh`: QEMU's `netduinoplus2`, an STM32F405 with the
//! memory map of `link.ld`), output through semihosting. It classifies the compiled-in held-out digits, streams
//! a sequence through the GRU denoiser, trains the classifier on the digits for a few epochs, compares each result
//! with the host's (`expected.rs`, written by `tests/tests/firmware.rs`) and exits with status 0 only when all
//! agree. It also reports the SysTick ticks each inference took: with `-icount shift=0` QEMU advances its clock
//! one nanosecond per instruction, so the count is deterministic (see `run-qemu.sh`).
#![no_std]
#![no_main]

use nn_core::prelude::{Network, Vector};
use nn_no_std::expected::{DENOISED, LABELS, LOGITS, LOSS, PREDICTIONS, SAMPLES, SINE, SPEECH};
use nn_no_std::{Digits, NET, SINE_POINTS, STREAM, classify, denoise_stream, denoiser, mean_loss, sine_curve, train};

/// Largest difference allowed between a device output and the host's: the host's kernels sum in another order
/// and with fused multiply-adds, so the last bits differ.
const TOLERANCE: f32 = 1e-4;

#[path = "../bare.rs"]
#[macro_use]
mod bare;

use bare::{instructions_per_kilotick, stack_used, systick, ticks};

/// The classifier trained on the device: in RAM, a copy of the compiled-in one.
static mut TRAINED: Digits = Digits::TRAINED;
/// Its gradients.
static mut GRADS: Digits = Digits::TRAINED;

fn run() -> bool {
    systick::start();
    let mut ok = true;
    let per_kilotick = instructions_per_kilotick();
    let instructions = |t: u32| u64::from(t) * u64::from(per_kilotick) / 1000;

    // Inference: every prediction equal to the host's, every logit within the tolerance.
    let (mut equal, mut largest, mut correct, mut worst_ticks) = (0, 0.0f32, 0, 0);
    for (i, pixels) in SAMPLES.iter().enumerate() {
        let ((digit, logits), t) = ticks(|| classify(&NET, pixels));
        worst_ticks = worst_ticks.max(t);
        equal += usize::from(digit == PREDICTIONS[i] as usize);
        correct += usize::from(digit == LABELS[i] as usize);
        for (a, b) in logits.iter().zip(&LOGITS[i]) {
            largest = largest.max((a - b).abs());
        }
    }
    say!(
        "classifier: {correct} of {} held-out digits right; {} instructions per inference ({worst_ticks} SysTick ticks)",
        SAMPLES.len(),
        instructions(worst_ticks)
    );
    ok &= equal == SAMPLES.len() && largest <= TOLERANCE;
    let (n, mut total_equal, mut total_largest) = (SAMPLES.len(), equal, largest);

    // The GRU over a stream.
    let net = denoiser();
    let (outputs, t) = ticks(|| denoise_stream(&net));
    let mut stream_largest = 0.0f32;
    for (a, b) in outputs.iter().zip(&DENOISED) {
        stream_largest = stream_largest.max((a - b).abs());
    }
    say!("denoiser: {STREAM} GRU steps, {} instructions per step", instructions(t) / STREAM as u64);
    ok &= stream_largest <= TOLERANCE;
    total_equal += outputs.iter().zip(&DENOISED).filter(|(a, b)| (*a - *b).abs() <= TOLERANCE).count();
    total_largest = total_largest.max(stream_largest);

    // The sine model (microflow's reference model, in f32): instructions for one point, outputs for all.
    let (_, t) = ticks(|| nn_no_std::SINE.forward(&Vector::from([core::hint::black_box(1.0f32)])));
    let curve = sine_curve(&nn_no_std::SINE);
    let mut sine_largest = 0.0f32;
    for (a, b) in curve.iter().zip(&SINE) {
        sine_largest = sine_largest.max((a - b).abs());
    }
    say!("sine: 1-16-16-1, {} instructions per inference", instructions(t));
    ok &= sine_largest <= TOLERANCE;
    total_equal += curve.iter().zip(&SINE).filter(|(a, b)| (*a - *b).abs() <= TOLERANCE).count();
    total_largest = total_largest.max(sine_largest);

    // The keyword spotter (microflow's reference model, in f32).
    let (logits, t) = ticks(|| nn_no_std::spot(&nn_no_std::SPEECH));
    let mut speech_largest = 0.0f32;
    for (a, b) in logits.iter().zip(&SPEECH) {
        speech_largest = speech_largest.max((a - b).abs());
    }
    say!("speech: 1960 -> conv 8@10x8 /2 -> 4, {} instructions per inference", instructions(t));
    ok &= speech_largest <= TOLERANCE;
    total_equal += logits.iter().zip(&SPEECH).filter(|(a, b)| (*a - *b).abs() <= TOLERANCE).count();
    total_largest = total_largest.max(speech_largest);

    // The int8 network against TFLite's reference kernels: every output equal.
    let ((chain_equal, chain_total), t) = ticks(nn_no_std::chain_check);
    say!(
        "int8: {chain_equal} of {chain_total} outputs equal TFLite's; {} instructions per sample, parsing its input included",
        instructions(t) / (chain_total as u64 / 5)
    );
    ok &= chain_equal == chain_total;

    // Training on the device lowers the loss, as on the host.
    // SAFETY: the only references to the statics, taken once.
    let (trained, grads) = unsafe { (&mut *core::ptr::addr_of_mut!(TRAINED), &mut *core::ptr::addr_of_mut!(GRADS)) };
    let before = mean_loss(trained, &SAMPLES, &LABELS);
    train(trained, grads, &SAMPLES, &LABELS);
    let after = mean_loss(trained, &SAMPLES, &LABELS);
    let loss_ok = after < before && (before - LOSS[0]).abs() <= TOLERANCE && (after - LOSS[1]).abs() <= TOLERANCE;
    say!("training: mean loss {before:.6} -> {after:.6} (host {:.6} -> {:.6})", LOSS[0], LOSS[1]);
    ok &= loss_ok;

    say!("stack: at most {} bytes", stack_used());
    say!(
        "{total_equal} of {} predictions equal the host's (largest output difference {total_largest:e})",
        n + STREAM + SINE_POINTS + 4
    );
    ok
}

entry!(run);
