//! MNIST with a LeNet-style CNN (two 5x5 convolutions with max pooling, then two dense layers), trained with Adam
//! on the same 8,000 bundled MNIST digits and tested on the same fixed 2,000 as the `mnist` MLP example.
//!
//! The 8,000 training images are split 7,000 for fitting and 1,000 for validation (early stopping picks the
//! epoch with the lowest validation loss); the 2,000 test images are used once, at the end. Shows a progress
//! bar with the live loss, prints the test accuracy and the confusion matrix, and writes the training curves
//! to `target/mnist-cnn-training.png`.
//!
//! ```text
//! cargo run --release --example mnist_cnn
//! ```

use indicatif::{ProgressBar, ProgressStyle};
use nn_core::data::load_mnist;
use nn_core::prelude::*;
use nn_core::train::confusion;
use std::time::Instant;

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

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/mnist10k.bin.gz");
const PLOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/mnist-cnn-training.png");
const EPOCHS: usize = 30;
const BATCH: usize = 32;
const SEED: u64 = 7;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let data = load_mnist(DATA)?;
    let (train, test) = data.split(8_000);
    let train = train.pairs::<f32, 784, 10>()?;
    let test = test.pairs::<f32, 784, 10>()?;
    let (fit, valid) = train.split_at(7_000);
    println!("{}", Mnist::SUMMARY);
    println!(
        "{} parameters; {} fitting, {} validation, {} test images; Adam, batch {BATCH}, seed {SEED}",
        Mnist::boxed_zeroed().param_count(),
        fit.len(),
        valid.len(),
        test.len()
    );

    let mut net = Mnist::boxed_init(&mut seeded_rng(SEED));
    let mut adam = Adam::new(5e-4);
    let bar = ProgressBar::new((EPOCHS * (fit.len() / BATCH)) as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} batches  {msg}")?);
    let mut smoothed = None::<f64>;
    let report = Trainer::new(&mut *net, &mut adam, SoftmaxCrossEntropy)
        .epochs(EPOCHS)
        .seed(SEED)
        .early_stopping(6)
        .on_progress(|p| match p {
            Progress::Batch { epoch, loss, .. } => {
                let s = smoothed.map_or(*loss, |s| 0.95 * s + 0.05 * loss);
                smoothed = Some(s);
                bar.set_message(format!("epoch {epoch}  loss {s:.4}"));
                bar.inc(1);
            }
            Progress::Epoch(s) => {
                let v = s.valid.unwrap_or(s.train);
                // `suspend` prints above the bar on a terminal and plainly when output is piped.
                bar.suspend(|| {
                    println!(
                        "epoch {:>2}  train loss {:.4} acc {:.4}  valid loss {:.4} acc {:.4}",
                        s.epoch, s.train.loss, s.train.accuracy, v.loss, v.accuracy
                    );
                });
            }
        })
        .fit::<BATCH>(fit, valid)?;
    bar.finish_and_clear();
    println!(
        "kept epoch {} of {} (stopped early: {})",
        report.best_epoch.unwrap_or(report.epochs.len()),
        report.epochs.len(),
        report.stopped_early
    );

    let m = evaluate::<_, _, BATCH>(&*net, &test, &SoftmaxCrossEntropy);
    println!("test loss {:.4}, test accuracy {:.2}% on {} images", m.loss, 100.0 * m.accuracy, test.len());
    println!("confusion matrix (rows: true digit, columns: predicted):");
    println!("    {}", (0..10).map(|d| format!("{d:>5}")).collect::<String>());
    for (digit, row) in confusion(&*net, &test, 10).iter().enumerate() {
        println!("{digit:>3} {}", row.iter().map(|c| format!("{c:>5}")).collect::<String>());
    }
    nn_examples::plot_history(PLOT, "MNIST LeNet-style CNN, Adam", &report.epochs)?;
    println!("training curves written to {}", std::path::Path::new(PLOT).display());
    println!("done in {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}
