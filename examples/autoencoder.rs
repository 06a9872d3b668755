//! A convolutional autoencoder on the bundled MNIST subset: convolutions and pooling squeeze each digit to
//! 4 x 7 x 7 = 196 numbers, transposed convolutions bring it back to 28 x 28. Trained to reproduce its input
//! (mean squared error), it reports the reconstruction error on the 2,000 test images and writes originals above
//! their reconstructions to `autoencoder.png` (in `target/nn-examples/`, or `--out DIR`).
//!
//! ```text
//! cargo run --release --example autoencoder
//! ```

use nn_core::data::load_mnist;
use nn_core::prelude::*;
use nn_core::train::Sample;
use nn_examples::EpochBar;

network! {
    /// [1, 28, 28] -> [8, 14, 14] -> [4, 7, 7] (the code) -> [8, 14, 14] -> [1, 28, 28].
    pub struct AutoEncoder<f32> {
        input: [1, 28, 28],
        enc1: Conv2d(8, kernel = 3, padding = 1), Relu,
        MaxPool2d(2),
        enc2: Conv2d(4, kernel = 3, padding = 1), Relu,
        MaxPool2d(2),
        dec1: ConvTranspose2d(8, kernel = 2, stride = 2), Relu,
        dec2: ConvTranspose2d(1, kernel = 2, stride = 2), Sigmoid,
    }
}

const EPOCHS: usize = 8;
/// Small batches: the batch cache of this network lives on the stack (about 190 kB per sample in f32).
const BATCH: usize = 8;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = load_mnist(nn_examples::paths::data("mnist10k.bin.gz")?)?;
    let (train, test) = data.split(8_000);
    // Each image is its own target.
    let as_pairs = |d: &nn_core::data::Dataset| -> Result<Vec<Sample<AutoEncoder>>, nn_core::data::DataError> {
        Ok(d.pairs::<f32, 784, 10>()?.into_iter().map(|(x, _)| (x, x)).collect())
    };
    let (train, test) = (as_pairs(&train)?, as_pairs(&test)?);
    let (fit, valid) = train.split_at(7_000);
    println!("{}", AutoEncoder::SUMMARY);

    let mut net = AutoEncoder::boxed_init(&mut seeded_rng(5));
    let mut adam = Adam::new(2e-3);
    let bar = EpochBar::new(EPOCHS * (fit.len() / BATCH), "mse")?;
    Trainer::new(&mut *net, &mut adam, MeanSquaredError)
        .epochs(EPOCHS)
        .seed(5)
        .early_stopping(3)
        .on_progress(|p| bar.update(p))
        .fit::<BATCH>(fit, valid)?;
    bar.finish();

    let m = evaluate::<_, _, BATCH>(&*net, &test, &MeanSquaredError);
    let baseline: f64 = {
        // Predicting the mean image: what the reconstruction error is compared against.
        let mut mean = [0.0f64; 784];
        for (x, _) in fit {
            mean.iter_mut().zip(x.iter()).for_each(|(m, &v)| *m += f64::from(v) / fit.len() as f64);
        }
        test.iter()
            .map(|(x, _)| x.iter().zip(&mean).map(|(&v, m)| (f64::from(v) - m).powi(2)).sum::<f64>() / 784.0)
            .sum::<f64>()
            / test.len() as f64
    };
    println!("test reconstruction MSE {:.5} (the mean image scores {baseline:.5})", m.loss);

    let originals: Vec<Vector<f32, 784>> = test.iter().take(12).map(|(x, _)| *x).collect();
    let reconstructions: Vec<Vector<f32, 784>> = originals.iter().map(|x| net.forward(x)).collect();
    let rows =
        vec![originals.iter().map(|x| x.as_slice()).collect(), reconstructions.iter().map(|x| x.as_slice()).collect()];
    let grid = nn_examples::paths::output("autoencoder.png")?;
    nn_examples::save_image_grid(&grid, &rows, 28, 28, 3)?;
    println!("originals above reconstructions written to {}", grid.display());
    Ok(())
}
