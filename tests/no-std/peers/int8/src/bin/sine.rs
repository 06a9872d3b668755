//! microflow's `sine` (int8, 1-16-16-1) as an `#[int8]` network on the emulated Cortex-M4F: instructions per
//! inference (the worst of 32 inputs), the stack's high-water mark, and the outputs checked against TFLite's
//! reference kernels (`tests/fixtures/tflite/microflow_expected.txt`, every int8 input).
#![no_std]
#![no_main]

#[path = "../../../../src/bare.rs"]
#[macro_use]
mod bare;

use bare::{instructions_per_kilotick, stack_used, systick, ticks};

mod model {
    include!(concat!(env!("OUT_DIR"), "/sine.rs"));
}

static NET: model::Sine = model::Sine::TRAINED;

#[allow(dead_code)]
mod samples {
    include!(concat!(env!("OUT_DIR"), "/samples.rs"));
}

fn run() -> bool {
    systick::start();
    let per_kilotick = instructions_per_kilotick();
    let instructions = |t: u32| u64::from(t) * u64::from(per_kilotick) / 1000;
    let (mut worst, mut equal, mut total) = (0, 0, 0);
    for (x, want) in (-128i16..=127).zip(samples::EXPECTED_SINE) {
        let (y, t) = ticks(|| NET.forward(core::hint::black_box(&[x as i8])));
        worst = worst.max(t);
        total += 1;
        equal += usize::from(y[0] == want);
    }
    say!("sine: {} instructions per inference; {equal} of {total} outputs equal TFLite's", instructions(worst));
    say!("stack: at most {} bytes", stack_used());
    equal == total
}

entry!(run);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    bare::semihosting::exit(false)
}
