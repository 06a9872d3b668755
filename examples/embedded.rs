//! A model compiled into the binary: the weights of `assets/digits-mlp.safetensors` (written by the `digits`
//! example) become constant data at build time, checked tensor by tensor against the declaration, and the
//! network is a `static` in read-only memory. The inference half (`firmware`) uses no `std`, no heap and no
//! parsing; it is what a microcontroller would run (`tests/no-std` builds the same pattern for thumbv7em).
//!
//! The host half loads the same file at run time and checks that both give the same predictions.
//!
//! ```text
//! cargo run --release --example embedded
//! ```

/// The part that would run on a microcontroller: `core` only.
mod firmware {
    use nn_core::network;
    use nn_core::{Network, Vector};

    network! {
        /// The `digits` example's classifier, weights compiled in.
        #[weights = "assets/digits-mlp.safetensors"]
        pub struct Digits<f32> {
            input: 64,
            hidden: Dense(64), Relu, Dropout(0.1),
            out: Dense(10),
        }
    }

    /// The network, in read-only memory: no parsing, no allocation, no initialisation at run time.
    pub static NET: Digits = Digits::TRAINED;

    /// Classifies one 8x8 image (pixels scaled to [0, 1]): the digit and its logit.
    pub fn classify(pixels: &[f32; 64]) -> (usize, f32) {
        let logits = NET.forward(&Vector::from(*pixels));
        let (mut best, mut value) = (0, f32::NEG_INFINITY);
        for (digit, &v) in logits.iter().enumerate() {
            if v > value {
                (best, value) = (digit, v);
            }
        }
        (best, value)
    }
}

use firmware::{Digits, NET, classify};
use nn_core::data::load_digits;
use nn_core::io::{Policy, load};
use nn_core::prelude::*;

const WEIGHTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/digits-mlp.safetensors");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "static model: {} parameters, {} bytes of read-only data",
        NET.param_count(),
        core::mem::size_of::<Digits>()
    );
    // The same weights, loaded at run time, for comparison.
    let mut loaded = Digits::boxed_zeroed();
    load(&mut *loaded, WEIGHTS, Policy::Strict)?;

    let data = load_digits(nn_examples::paths::data("digits.csv.gz")?)?.shuffled(2026);
    let (_, test) = data.split(data.len() * 4 / 5);
    let mut agree = 0;
    let mut correct = 0;
    for i in 0..test.len() {
        let mut pixels = [0.0f32; 64];
        pixels.copy_from_slice(test.pixels(i));
        let (digit, logit) = classify(&pixels);
        let reference = loaded.forward(&Vector::from(pixels));
        let same = reference.as_slice()[digit] == logit && nn_core::train::argmax(reference.as_slice()) == digit;
        agree += usize::from(same);
        correct += usize::from(digit == usize::from(test.label(i)));
        if i < 12 {
            println!("image {i:>3}: label {}, compiled-in model says {digit} (logit {logit:.3})", test.label(i));
        }
    }
    println!("{agree}/{} predictions identical to the run-time loaded model", test.len());
    println!("test accuracy {:.2}%", 100.0 * correct as f64 / test.len() as f64);
    if agree != test.len() {
        return Err("the compiled-in model disagrees with the file".into());
    }
    Ok(())
}
