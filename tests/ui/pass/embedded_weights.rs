//! Weights compiled in from a file become a `static` whose outputs equal the file loaded at run time.
#![forbid(unsafe_code)]

use nn_core::prelude::*;

network! {
    /// Weights compiled in.
    #[weights = "fixtures/small.safetensors"]
    pub struct Small<f32> { input: 3, Dense(4), Relu, Dense(2) }
}

static NET: Small = Small::TRAINED;

fn main() {
    let bytes = include_bytes!("fixtures/small.safetensors");
    let mut loaded = Small::boxed_zeroed();
    nn_core::io::from_bytes(&mut *loaded, bytes, nn_core::io::Policy::Strict).unwrap();
    let x = Vector::from([0.5f32, -1.0, 2.0]);
    assert_eq!(NET.forward(&x), loaded.forward(&x));
    assert_ne!(NET.fc1.weight, Small::zeroed().fc1.weight);
}
