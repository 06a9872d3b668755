//! microflow's `speech` keyword spotter as an `#[int8]` network on the emulated Cortex-M4F: instructions per
//! inference on the `yes` and `no` samples, the stack's high-water mark, and the outputs against TFLite's.
#![no_std]
#![no_main]

#[path = "../../../../src/bare.rs"]
#[macro_use]
mod bare;

use bare::{instructions_per_kilotick, stack_used, systick, ticks};

mod model {
    include!(concat!(env!("OUT_DIR"), "/speech.rs"));
}
#[allow(dead_code)]
mod samples {
    include!(concat!(env!("OUT_DIR"), "/samples.rs"));
}

static NET: model::Speech = model::Speech::TRAINED;

/// The index of the largest value.
fn argmax(v: &[i8]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

fn run() -> bool {
    systick::start();
    let per_kilotick = instructions_per_kilotick();
    let instructions = |t: u32| u64::from(t) * u64::from(per_kilotick) / 1000;
    let (yes, t_yes) = ticks(|| NET.forward(core::hint::black_box(&samples::YES)));
    let (no, t_no) = ticks(|| NET.forward(core::hint::black_box(&samples::NO)));
    let equal = yes[..] == samples::EXPECTED_SPEECH[..4] && no[..] == samples::EXPECTED_SPEECH[4..];
    say!(
        "speech: {} instructions per inference; 'yes' -> class {}, 'no' -> class {} (2 and 3 expected); outputs equal TFLite's: {equal}",
        instructions(t_yes.max(t_no)),
        argmax(&yes),
        argmax(&no)
    );
    say!("stack: at most {} bytes", stack_used());
    equal && argmax(&yes) == 2 && argmax(&no) == 3
}

entry!(run);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    bare::semihosting::exit(false)
}
