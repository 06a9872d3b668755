//! microflow's `sine` (int8, 1-16-16-1) alone on the emulated Cortex-M4F: instructions per inference (the worst
//! of 32 inputs) and the stack's high-water mark, for an image that holds only this model.
#![no_std]
#![no_main]

#[path = "../../../../src/bare.rs"]
#[macro_use]
mod bare;

use bare::{instructions_per_kilotick, stack_used, systick, ticks};
use microflow::model;
use nalgebra::matrix;

#[model("models/sine.tflite")]
struct Sine;

fn run() -> bool {
    systick::start();
    let per_kilotick = instructions_per_kilotick();
    let instructions = |t: u32| u64::from(t) * u64::from(per_kilotick) / 1000;
    let mut worst = 0;
    for i in 0..32 {
        let x = i as f32 * (2.0 * core::f32::consts::PI / 32.0);
        let (_, t) = ticks(|| Sine::predict(matrix![core::hint::black_box(x)])[0]);
        worst = worst.max(t);
    }
    say!("sine: {} instructions per inference", instructions(worst));
    say!("stack: at most {} bytes", stack_used());
    true
}

entry!(run);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    bare::semihosting::exit(false)
}
