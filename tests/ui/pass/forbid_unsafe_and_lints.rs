//! A user crate that forbids unsafe code and denies missing docs and warnings still compiles a declaration.
#![forbid(unsafe_code)]
#![deny(missing_docs, warnings)]

use nn_core::prelude::*;

network! {
    /// A public network in a strict crate.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Strict<f32> { input: 3, Dense(4), Relu, out: Dense(2), Softmax }
}

fn main() {
    let net = Strict::zeroed();
    let y = net.forward(&Vector::from([1.0, 2.0, 3.0]));
    assert!((y.sum() - 1.0).abs() < 1e-6);
    assert_eq!(net.clone(), net);
}
