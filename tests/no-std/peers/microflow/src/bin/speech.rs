//! microflow's `speech` keyword spotter alone on the emulated Cortex-M4F: instructions per inference on the
//! "yes" and "no" samples and the stack's high-water mark, for an image that holds only this model.
#![no_std]
#![no_main]

#[path = "../../../../src/bare.rs"]
#[macro_use]
mod bare;

use bare::{instructions_per_kilotick, stack_used, systick, ticks};
use microflow::model;

#[path = "../../features/speech.rs"]
mod features;

#[model("models/speech.tflite")]
struct Speech;

fn run() -> bool {
    systick::start();
    let per_kilotick = instructions_per_kilotick();
    let instructions = |t: u32| u64::from(t) * u64::from(per_kilotick) / 1000;
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
