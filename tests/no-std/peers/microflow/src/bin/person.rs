//! microflow's `person_detect` (a MobileNet on 96x96 grey images) alone on the emulated Cortex-M4F:
//! instructions per inference on the two sample images and the stack's high-water mark.
#![no_std]
#![no_main]

#[path = "../../../../src/bare.rs"]
#[macro_use]
mod bare;

use bare::{instructions_per_kilotick, stack_used, systick, ticks};
use microflow::model;

#[path = "../../features/person_detect.rs"]
mod features;

#[model("models/person_detect.tflite")]
struct PersonDetect;

fn run() -> bool {
    systick::start();
    let per_kilotick = instructions_per_kilotick();
    let instructions = |t: u32| u64::from(t) * u64::from(per_kilotick) / 1000;
    let (yes, t_yes) = ticks(|| PersonDetect::predict_quantized(core::hint::black_box(features::PERSON)));
    let (no, t_no) = ticks(|| PersonDetect::predict_quantized(core::hint::black_box(features::NO_PERSON)));
    let (yes_class, no_class) = (yes.iamax_full().1, no.iamax_full().1);
    say!(
        "person_detect: {} instructions per inference; person -> class {yes_class}, no person -> class {no_class} (1 and 0 expected)",
        instructions(t_yes.max(t_no))
    );
    say!("stack: at most {} bytes", stack_used());
    yes_class == 1 && no_class == 0
}

entry!(run);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    bare::semihosting::exit(false)
}
