//! MNIST: a 784-128-10 MLP trained with Adam on 8,000 bundled MNIST digits and tested on a fixed 2,000 held out.
//!
//! The 8,000 training images are split 7,000 for fitting and 1,000 for validation (early stopping picks the
//! epoch with the lowest validation loss); the 2,000 test images are used once, at the end. Shows a progress
//! bar with the live loss, prints the test accuracy and the confusion matrix, and writes the training curves
//! to `mnist-training.png` (in `target/nn-examples/`, or `--out DIR`). Then quantises the network to int8
//! (calibrated on 1,000 training images), reads the file into the int8 twin and prints its test accuracy and
//! size beside the f32 network's; the int8 weights go to `mnist-int8.safetensors`.
//!
//! ```text
//! cargo run --release --example mnist
//! ```

use nn_core::prelude::*;
use nn_examples::{MnistRun, quantize_mnist, train_mnist};

network! {
    /// 784 pixels, 128 ReLU units with dropout, 10 logits.
    pub struct Mnist<f32> {
        input: 784,
        hidden: Dense(128), Relu, Dropout(0.25),
        out: Dense(10),
    }
}

network! {
    /// The same layers in int8, read from the file the quantiser writes.
    #[int8]
    pub struct MnistInt8 {
        input: 784,
        hidden: Dense(128), Relu, Dropout(0.25),
        out: Dense(10),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("{}", Mnist::SUMMARY);
    let run = MnistRun {
        data: "mnist10k.bin.gz",
        plot: "mnist-training.png",
        title: "MNIST 784-128-10, Adam",
        epochs: 40,
        lr: 1e-3,
        patience: 6,
        seed: 7,
    };
    let trained = train_mnist::<Mnist, 32>(&run)?;
    quantize_mnist(&trained, MnistInt8::load, MnistInt8::predict, "mnist-int8.safetensors")?;
    Ok(())
}
