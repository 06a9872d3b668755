//! MNIST: a 784-128-10 MLP trained with Adam on 8,000 bundled MNIST digits and tested on a fixed 2,000 held out.
//!
//! The 8,000 training images are split 7,000 for fitting and 1,000 for validation (early stopping picks the
//! epoch with the lowest validation loss); the 2,000 test images are used once, at the end. Shows a progress
//! bar with the live loss, prints the test accuracy and the confusion matrix, and writes the training curves
//! to `mnist-training.png` (in `target/nn-examples/`, or `--out DIR`).
//!
//! ```text
//! cargo run --release --example mnist
//! ```

use nn_core::prelude::*;
use nn_examples::{MnistRun, train_mnist};

network! {
    /// 784 pixels, 128 ReLU units with dropout, 10 logits.
    pub struct Mnist<f32> {
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
    train_mnist::<Mnist, 32>(&run)?;
    Ok(())
}
