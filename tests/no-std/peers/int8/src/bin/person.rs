//! microflow's `person_detect` (a MobileNet, 96x96 grey) as an `#[int8]` network on the emulated Cortex-M4F: instructions per
//! inference on the `person` and `no_person` images, the stack's high-water mark, and the outputs against TFLite's.
#![no_std]
#![no_main]

#[path = "../../../../src/bare.rs"]
#[macro_use]
mod bare;

use bare::{instructions_per_kilotick, stack_used, systick, ticks};

mod model {
    include!(concat!(env!("OUT_DIR"), "/person_detect.rs"));
}
#[allow(dead_code)]
mod samples {
    include!(concat!(env!("OUT_DIR"), "/samples.rs"));
}

static NET: model::PersonDetect = model::PersonDetect::TRAINED;

/// The index of the largest value.
fn argmax(v: &[i8]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

fn run() -> bool {
    systick::start();
    let per_kilotick = instructions_per_kilotick();
    let instructions = |t: u32| u64::from(t) * u64::from(per_kilotick) / 1000;
    let (yes, t_yes) = ticks(|| NET.forward(core::hint::black_box(&samples::PERSON)));
    let (no, t_no) = ticks(|| NET.forward(core::hint::black_box(&samples::NO_PERSON)));
    let equal = yes[..] == samples::EXPECTED_PERSON_DETECT[..2] && no[..] == samples::EXPECTED_PERSON_DETECT[2..];
    say!(
        "person_detect: {} instructions per inference; person -> class {}, no person -> class {} (1 and 0 expected); outputs equal TFLite's: {equal}",
        instructions(t_yes.max(t_no)),
        argmax(&yes),
        argmax(&no)
    );
    say!("stack: at most {} bytes", stack_used());
    equal && argmax(&yes) == 1 && argmax(&no) == 0
}

entry!(run);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    bare::semihosting::exit(false)
}
