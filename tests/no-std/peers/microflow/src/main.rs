//! microflow's reference models on the emulated Cortex-M4F, measured as the firmware's `qemu` binary measures its
//! own networks (same board, link script, start-up, and instruction count from SysTick under `-icount`): its
//! `sine` (int8, 1-16-16-1) on 32 inputs and its `speech` keyword spotter (int8, 1960 features -> 4 classes) on
//! the "yes" and "no" samples. `run.sh` copies the models and samples from the peers' directory and runs it.
#![no_std]
#![no_main]

#[path = "../../../src/bare.rs"]
#[macro_use]
mod bare;

use bare::{instructions_per_kilotick, stack_used, systick, ticks};
use microflow::model;
use nalgebra::matrix;

#[path = "../features/speech.rs"]
mod features;

#[model("models/sine.tflite")]
struct Sine;

#[model("models/speech.tflite")]
struct Speech;

fn run() -> bool {
    systick::start();
    let per_kilotick = instructions_per_kilotick();
    let instructions = |t: u32| u64::from(t) * u64::from(per_kilotick) / 1000;

    let (mut worst, mut largest) = (0, 0.0f32);
    for i in 0..32 {
        let x = i as f32 * (2.0 * core::f32::consts::PI / 32.0);
        let (y, t) = ticks(|| Sine::predict(matrix![core::hint::black_box(x)])[0]);
        worst = worst.max(t);
        // The model's own error against sin(x), with the sine from a Taylor series (no libm here).
        let r = if x > core::f32::consts::PI { x - 2.0 * core::f32::consts::PI } else { x };
        let (r2, mut term, mut sin) = (r * r, r, r);
        for k in 1..8 {
            term *= -r2 / ((2 * k) * (2 * k + 1)) as f32;
            sin += term;
        }
        largest = largest.max((y - sin).abs());
    }
    say!("sine: {} instructions per inference; largest error against sin(x) {largest:.3}", instructions(worst));

    let (yes, t_yes) = ticks(|| Speech::predict_quantized(core::hint::black_box(features::YES)));
    let (no, t_no) = ticks(|| Speech::predict_quantized(core::hint::black_box(features::NO)));
    let (yes_class, no_class) = (yes.iamax_full().1, no.iamax_full().1);
    say!(
        "speech: {} instructions per inference; 'yes' -> class {yes_class}, 'no' -> class {no_class} (2 and 3 expected)",
        instructions(t_yes.max(t_no))
    );
    say!("stack: at most {} bytes", stack_used());
    yes_class == 2 && no_class == 3
}

entry!(run);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    bare::semihosting::exit(false)
}
