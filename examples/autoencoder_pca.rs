//! A dense autoencoder with a two-dimensional code against PCA with two components, on the bundled MNIST subset.
//! The autoencoder is two networks composed with `Network(..)`: an encoder 784-256-64-2 and a decoder
//! 2-64-256-784 (sigmoid output), trained with Adam on the mean squared reconstruction error. PCA projects on the
//! two leading eigenvectors of the training images' covariance. Both are scored on the 2,000 test images, and
//! both two-dimensional embeddings of the test images are drawn, coloured by digit, to
//! `autoencoder_pca.png` (in `target/nn-examples/`, or `--out DIR`).
//!
//! ```text
//! cargo run --release --example autoencoder_pca
//! ```

use nn_core::data::load_mnist;
use nn_core::nalgebra::{DMatrix, DVector, SymmetricEigen};
use nn_core::prelude::*;
use nn_core::train::Sample;
use nn_examples::{EpochBar, ScatterPanel, save_scatter};

network! {
    /// An image to its two-dimensional code.
    pub struct Encoder<f32> { input: 784, fc1: Dense(256), Relu, fc2: Dense(64), Relu, code: Dense(2) }
}

network! {
    /// A code back to an image.
    pub struct Decoder<f32> { input: 2, fc1: Dense(64), Relu, fc2: Dense(256), Relu, out: Dense(784), Sigmoid }
}

network! {
    /// The two, composed.
    pub struct AutoEncoder<f32> { input: 784, encoder: Network(Encoder), decoder: Network(Decoder) }
}

const EPOCHS: usize = 40;
const BATCH: usize = 32;

/// PCA with two components: the training mean and the two leading eigenvectors of the covariance.
struct Pca {
    mean: DVector<f64>,
    components: DMatrix<f64>,
}

impl Pca {
    fn fit(images: &[Vector<f32, 784>]) -> Self {
        let n = images.len() as f64;
        let mut mean = DVector::<f64>::zeros(784);
        for x in images {
            mean += DVector::from_iterator(784, x.iter().map(|&v| f64::from(v)));
        }
        mean /= n;
        let centred = DMatrix::from_fn(784, images.len(), |r, c| f64::from(images[c][r]) - mean[r]);
        let covariance = &centred * centred.transpose() / (n - 1.0);
        let eigen = SymmetricEigen::new(covariance);
        let mut order: Vec<usize> = (0..784).collect();
        order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
        let components = DMatrix::from_fn(784, 2, |r, k| eigen.eigenvectors[(r, order[k])]);
        Self { mean, components }
    }

    fn code(&self, x: &Vector<f32, 784>) -> DVector<f64> {
        let centred = DVector::from_iterator(784, x.iter().map(|&v| f64::from(v))) - &self.mean;
        self.components.transpose() * centred
    }

    fn reconstruct(&self, x: &Vector<f32, 784>) -> DVector<f64> {
        &self.mean + &self.components * self.code(x)
    }
}

fn mse(a: impl Iterator<Item = f64>, b: impl Iterator<Item = f64>) -> f64 {
    a.zip(b).map(|(p, q)| (p - q).powi(2)).sum::<f64>() / 784.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = load_mnist(nn_examples::paths::data("mnist10k.bin.gz")?)?;
    let (train, test) = data.split(8_000);
    let labels: Vec<usize> = test.labels().iter().map(|&l| usize::from(l)).collect();
    let as_pairs = |d: &nn_core::data::Dataset| -> Result<Vec<Sample<AutoEncoder>>, nn_core::data::DataError> {
        Ok(d.pairs::<f32, 784, 10>()?.into_iter().map(|(x, _)| (x, x)).collect())
    };
    let (train, test) = (as_pairs(&train)?, as_pairs(&test)?);
    let (fit, valid) = train.split_at(7_000);

    let images: Vec<Vector<f32, 784>> = train.iter().map(|(x, _)| *x).collect();
    let pca = Pca::fit(&images);
    let pca_error =
        test.iter().map(|(x, _)| mse(pca.reconstruct(x).iter().copied(), x.iter().map(|&v| f64::from(v)))).sum::<f64>()
            / test.len() as f64;
    println!("PCA, 2 components: test reconstruction MSE {pca_error:.5}");

    println!("{}", AutoEncoder::SUMMARY);
    let mut net = AutoEncoder::boxed_init(&mut seeded_rng(3));
    let mut adam = Adam::new(1e-3);
    let bar = EpochBar::new(EPOCHS * (fit.len() / BATCH), "mse")?;
    Trainer::new(&mut *net, &mut adam, MeanSquaredError)
        .epochs(EPOCHS)
        .seed(3)
        .early_stopping(5)
        .on_progress(|p| bar.update(p))
        .fit::<BATCH>(fit, valid)?;
    bar.finish();
    let ae_error = evaluate::<_, _, BATCH>(&*net, &test, &MeanSquaredError).loss;
    println!("autoencoder, 2-D code: test reconstruction MSE {ae_error:.5}");
    println!(
        "the autoencoder's error is {:.1}% of PCA's ({})",
        100.0 * ae_error / pca_error,
        if ae_error < pca_error { "better" } else { "worse" }
    );

    let ae_points: Vec<(f32, f32)> = test
        .iter()
        .map(|(x, _)| {
            let c = net.encoder.forward(x);
            (c[0], c[1])
        })
        .collect();
    let pca_points: Vec<(f32, f32)> = test
        .iter()
        .map(|(x, _)| {
            let c = pca.code(x);
            (c[0] as f32, c[1] as f32)
        })
        .collect();
    let panels = [("PCA, 2 components", &pca_points, pca_error), ("autoencoder, 2-D code", &ae_points, ae_error)].map(
        |(name, points, error)| ScatterPanel {
            caption: format!("{name}: test MSE {error:.4}"),
            points,
            classes: Some(&labels),
            marks: &[],
            ranges: Some(nn_examples::point_bounds(points)),
        },
    );
    let plot = nn_examples::paths::output("autoencoder_pca.png")?;
    save_scatter(&plot, "Two-dimensional codes of the 2,000 test digits", &panels, 2, 0.0..1.0, 0.0..1.0)?;
    println!("wrote {}", plot.display());
    if ae_error >= pca_error {
        return Err(format!("the autoencoder ({ae_error:.5}) did not beat PCA ({pca_error:.5})").into());
    }
    Ok(())
}
