//! Arbitrary bytes loaded strictly: never a panic; an `Err` leaves the network as it was; an `Ok` loaded every
//! tensor and the network runs on whatever numbers it got.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nn_core::io::{Policy, from_bytes, to_bytes};
use nn_core::prelude::*;

network! {
    struct Net<f32> { input: 5, Dense(8), BatchNorm, Relu, Dense(4), Tanh, Dense(3, bias = false) }
}

fuzz_target!(|data: &[u8]| {
    let mut net = Net::boxed_init(&mut seeded_rng(1));
    let before = to_bytes(&*net).unwrap();
    match from_bytes(&mut *net, data, Policy::Strict) {
        Ok(report) => {
            assert_eq!(report.loaded, 9, "{report:?}");
            assert!(report.missing.is_empty() && report.unexpected.is_empty(), "{report:?}");
            std::hint::black_box(net.forward(&Vector::from([0.3, -1.2, 0.8, 0.05, 2.0])));
        }
        Err(_) => assert!(to_bytes(&*net).unwrap() == before, "a failed load changed the network"),
    }
});
