//! MNIST with a LeNet-style CNN (two 5x5 convolutions with max pooling, then two dense layers), trained with Adam
//! on the same 8,000 bundled MNIST digits and tested on the same fixed 2,000 as the `mnist` MLP example.
//!
//! The 8,000 training images are split 7,000 for fitting and 1,000 for validation (early stopping picks the
//! epoch with the lowest validation loss); the 2,000 test images are used once, at the end. Shows a progress
//! bar with the live loss, prints the test accuracy and the confusion matrix, and writes the training curves
//! to `mnist-cnn-training.png` (in `target/nn-examples/`, or `--out DIR`). Then quantises it to int8 as the
//! `mnist` example does (weights to `mnist-cnn-int8.safetensors`) and prints both accuracies and sizes.
//!
//! ```text
//! cargo run --release --example mnist_cnn
//! ```

use nn_core::prelude::*;
use nn_examples::{MnistRun, quantize_mnist, train_mnist};

network! {
    /// LeNet-style: [1, 28, 28] -> conv 8@5x5 -> [8, 24, 24] -> max pool -> [8, 12, 12] -> conv 16@5x5
    /// -> [16, 8, 8] -> max pool -> [16, 4, 4] -> 120 -> 84 -> 10 logits.
    pub struct Mnist<f32> {
        input: [1, 28, 28],
        conv1: Conv2d(8, kernel = 5), Relu,
        MaxPool2d(2),
        conv2: Conv2d(16, kernel = 5), Relu,
        MaxPool2d(2),
        Flatten,
        fc1: Dense(120), Relu, Dropout(0.3),
        fc2: Dense(84), Relu, Dropout(0.3),
        fc3: Dense(10),
    }
}

network! {
    /// The same layers in int8 (channel-last planes; one channel here, so the pixels' order is the same).
    #[int8]
    pub struct MnistInt8 {
        input: [1, 28, 28],
        conv1: Conv2d(8, kernel = 5), Relu,
        MaxPool2d(2),
        conv2: Conv2d(16, kernel = 5), Relu,
        MaxPool2d(2),
        Flatten,
        fc1: Dense(120), Relu, Dropout(0.3),
        fc2: Dense(84), Relu, Dropout(0.3),
        fc3: Dense(10),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("{}", Mnist::SUMMARY);
    let run = MnistRun {
        data: "mnist10k.bin.gz",
        plot: "mnist-cnn-training.png",
        title: "MNIST LeNet-style CNN, Adam",
        epochs: 30,
        lr: 5e-4,
        patience: 6,
        seed: 7,
    };
    let trained = train_mnist::<Mnist, 32>(&run)?;
    quantize_mnist(&trained, MnistInt8::load, MnistInt8::predict, "mnist-cnn-int8.safetensors")?;
    Ok(())
}
