//! A variational autoencoder with a two-dimensional code on the bundled MNIST subset, then a denoising
//! autoencoder.
//!
//! **VAE.** The images are binarised (pixels above 0.5 set to 1, the others to 0), so that independent Bernoulli
//! pixels give a true likelihood. The encoder (784-128-4) gives the mean and log-variance of `q(z | x)` over a
//! 2-D code, the decoder (2-128-784) the logits of the pixels; `nn_core::vae` draws `z` by the
//! reparameterisation and computes the negative ELBO (reconstruction + KL to `N(0, I)`) and its gradients, and
//! Adam steps both networks, 16 epochs over the 8,000 training images in batches of 50. Each epoch prints the
//! training and test negative ELBO in nats per image (test: one draw of `z` per image); the final test figure
//! (ten draws per image) is set against a baseline with no code at all: independent Bernoulli pixels at the
//! training images' means (add-one smoothed), whose exact negative log-likelihood of the 2,000 test images the
//! example computes. Writes `vae_samples.png` (the decoded images over a 15 x 15 grid of codes at the normal
//! quantiles 0.03 to 0.97, the classic manifold picture) and `vae_latent.png` (the means of the test images'
//! codes, coloured by digit).
//!
//! **Denoising autoencoder.** A 784-128-784 network (sigmoid output, squared error) is trained on the grey-level
//! images as pairs `(x, x)` with salt-and-pepper noise on the inputs only (`Corruption::SaltPepper(0.2)` through
//! `Trainer::augment`, a new draw every epoch) for 5 epochs, then reads corrupted test images: the squared
//! error against the clean images of the corrupted images and of the network's outputs is printed, and
//! `vae_denoising.png` shows corrupted, denoised and clean rows.
//!
//! Pictures go to `target/nn-examples/` (or `--out DIR`). `--epochs N` trains both parts for `N` epochs instead
//! (`--epochs 0` fails both bars). About 20 s of one core in release.
//!
//! ```text
//! cargo run --release --example vae
//! ```
//!
//! Fails (non-zero exit status) if the VAE's test negative ELBO is above 85% of the baseline's negative
//! log-likelihood (measured: 78%), or if the denoised test images' squared error is above 30% of the corrupted
//! images'.

use nn_core::Float;
use nn_core::augment::Corruption;
use nn_core::data::load_mnist;
use nn_core::nalgebra::{SMatrix, SVector};
use nn_core::prelude::*;
use nn_core::rand::RngExt;
use nn_core::vae::{Estimate, Vae, encode};
use nn_examples::{ScatterPanel, save_image_grid, save_scatter};

const LATENT: usize = 2;
const HIDDEN: usize = 128;
const BATCH: usize = 50;
const VAE_EPOCHS: usize = 16;
const DAE_EPOCHS: usize = 5;
/// Draws of `z` per test image in the final estimate of the test ELBO.
const FINAL_DRAWS: usize = 10;
/// The VAE's test negative ELBO must be at most this share of the baseline's negative log-likelihood.
const VAE_BAR: f64 = 0.85;
/// The denoised test images' squared error must be at most this share of the corrupted images'.
const DAE_BAR: f64 = 0.3;
/// Codes per side of the manifold grid.
const GRID: usize = 15;

network! {
    /// An image to the mean (outputs 0 and 1) and log-variance (outputs 2 and 3) of its code.
    pub struct Encoder<f32> { input: 784, fc1: Dense(HIDDEN), Relu, stats: Dense(2 * LATENT) }
}

network! {
    /// A code to the logits of the 784 pixels.
    pub struct Decoder<f32> { input: LATENT, fc1: Dense(HIDDEN), Relu, logits: Dense(784) }
}

network! {
    /// The denoising autoencoder: a corrupted image in, the clean image out.
    pub struct Denoiser<f32> { input: 784, fc1: Dense(HIDDEN), Relu, out: Dense(784), Sigmoid }
}

type Image = SVector<f32, 784>;

/// The value of `--epochs N`, if given.
fn epochs_argument() -> Result<Option<usize>, Box<dyn std::error::Error>> {
    let args = nn_examples::paths::free_arguments();
    match args.iter().position(|a| a == "--epochs") {
        None => Ok(None),
        Some(i) => {
            let n = args.get(i + 1).ok_or("--epochs needs a number")?;
            Ok(Some(n.parse().map_err(|e| format!("--epochs {n}: {e}"))?))
        }
    }
}

/// The standard normal quantile at `p` in `(0, 1)`, by bisection on `Phi(z) = (1 + erf(z / sqrt 2)) / 2`.
fn normal_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-10.0f64, 10.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if 0.5 * (1.0 + Float::erf(mid / std::f64::consts::SQRT_2)) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The negative log-likelihood (nats per image) of `test` under independent Bernoulli pixels whose means are
/// the training images' mean intensities, add-one smoothed (`(sum + 1) / (n + 2)`) so that no pixel has
/// probability 0 or 1: the same term as the VAE's reconstruction, with no code.
fn baseline_nats(train: &[Image], test: &[Image]) -> f64 {
    let n = train.len() as f64;
    let mut p = [0.0f64; 784];
    for x in train {
        p.iter_mut().zip(x.iter()).for_each(|(p, &v)| *p += f64::from(v));
    }
    p.iter_mut().for_each(|p| *p = (*p + 1.0) / (n + 2.0));
    let nll = |x: &Image| -> f64 {
        x.iter().zip(&p).map(|(&v, &p)| -(f64::from(v) * p.ln() + (1.0 - f64::from(v)) * (1.0 - p).ln())).sum()
    };
    test.iter().map(nll).sum::<f64>() / test.len() as f64
}

/// Trains the VAE and draws its pictures; returns the test negative ELBO and the baseline's figure.
fn variational(
    train: &[Image],
    test: &[Image],
    labels: &[usize],
    epochs: usize,
) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let mut rng = seeded_rng(4);
    let (mut enc, mut dec) = (Encoder::boxed_init(&mut rng), Decoder::boxed_init(&mut rng));
    let (mut enc_grads, mut dec_grads) = (Encoder::boxed_zeroed(), Decoder::boxed_zeroed());
    let (mut enc_opt, mut dec_opt) = (Adam::new(4e-3), Adam::new(4e-3));
    let vae = Vae::new();
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut x = Box::new(SMatrix::<f32, 784, BATCH>::zeros());
    println!("VAE: {} / {}", Encoder::SUMMARY, Decoder::SUMMARY);
    for epoch in 1..=epochs {
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let (mut reconstruction, mut kl, mut batches) = (0.0, 0.0, 0);
        for batch in order.chunks_exact(BATCH) {
            for (c, &i) in batch.iter().enumerate() {
                x.column_mut(c).copy_from(&train[i]);
            }
            enc_grads.fill(0.0);
            dec_grads.fill(0.0);
            let terms = vae.gradients(&*enc, &*dec, &*x, &mut enc_grads, &mut dec_grads, &mut rng);
            enc_opt.step(&mut *enc, &enc_grads);
            dec_opt.step(&mut *dec, &dec_grads);
            (reconstruction, kl, batches) =
                (reconstruction + f64::from(terms.reconstruction), kl + f64::from(terms.kl), batches + 1);
        }
        let (reconstruction, kl) = (reconstruction / f64::from(batches), kl / f64::from(batches));
        let t = vae.evaluate(&*enc, &*dec, test, Estimate::Samples(1), &mut seeded_rng(5));
        println!(
            "epoch {epoch:>2}: train -ELBO {:.2} (reconstruction {reconstruction:.2} + KL {kl:.2})  test -ELBO {:.2} \
             ({:.2} + {:.2})",
            reconstruction + kl,
            t.total(),
            t.reconstruction,
            t.kl
        );
    }

    let elbo = vae.evaluate(&*enc, &*dec, test, Estimate::Samples(FINAL_DRAWS), &mut seeded_rng(6));
    let baseline = baseline_nats(train, test);
    println!(
        "test negative ELBO: {:.2} nats per image (reconstruction {:.2} + KL {:.2}; {FINAL_DRAWS} draws per image)",
        elbo.total(),
        elbo.reconstruction,
        elbo.kl
    );
    println!(
        "baseline, independent pixels at the training means: {baseline:.2} nats per image; the VAE needs {:.1}% of it \
         (the bar: at most {:.0}%)",
        100.0 * elbo.total() / baseline,
        100.0 * VAE_BAR
    );

    // The manifold: codes at the normal quantiles, z1 left to right, z2 from top (high) to bottom (low).
    let q: Vec<f32> = (0..GRID).map(|k| normal_quantile(0.03 + 0.94 * k as f64 / (GRID - 1) as f64) as f32).collect();
    let images: Vec<Vec<Image>> = (0..GRID)
        .map(|row| (0..GRID).map(|col| vae.decode(&*dec, &SVector::from([q[col], q[GRID - 1 - row]]))).collect())
        .collect();
    let rows: Vec<Vec<&[f32]>> = images.iter().map(|r| r.iter().map(|m| m.as_slice()).collect()).collect();
    let path = nn_examples::paths::output("vae_samples.png")?;
    save_image_grid(&path, &rows, 28, 28, 2)?;
    println!(
        "wrote {} (decoded codes: z1 from {:.2} to {:.2} left to right, z2 top to bottom)",
        path.display(),
        q[0],
        q[GRID - 1]
    );

    let points: Vec<(f32, f32)> = test
        .iter()
        .map(|x| {
            let z: SVector<f32, LATENT> = encode(&*enc, x);
            (z[0], z[1])
        })
        .collect();
    let panel = ScatterPanel {
        caption: format!("means of q(z | x), test -ELBO {:.1} nats", elbo.total()),
        points: &points,
        classes: Some(labels),
        marks: &[],
        ranges: Some(nn_examples::point_bounds(&points)),
    };
    let path = nn_examples::paths::output("vae_latent.png")?;
    save_scatter(&path, "Test digits in the VAE's 2-D code", &[panel], 1, 0.0..1.0, 0.0..1.0)?;
    println!("wrote {}", path.display());
    Ok((elbo.total(), baseline))
}

/// Trains the denoising autoencoder and draws its picture; returns the corrupted and denoised test errors.
fn denoising(train: &[Image], test: &[Image], epochs: usize) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let noise = Corruption::SaltPepper(0.2);
    let pairs: Vec<(Image, Image)> = train.iter().map(|x| (*x, *x)).collect();
    let mut net = Denoiser::boxed_init(&mut seeded_rng(7));
    let mut adam = Adam::new(1e-3);
    println!("denoising autoencoder: {}, trained on {noise:?} inputs", Denoiser::SUMMARY);
    Trainer::new(&mut *net, &mut adam, MeanSquaredError)
        .epochs(epochs)
        .seed(7)
        .augment(move |x, rng| noise.apply(x, rng))
        .on_progress(|p| {
            if let Progress::Epoch(s) = p {
                println!("epoch {:>2}: train MSE {:.5}", s.epoch, s.train.loss);
            }
        })
        .fit_without_validation::<32>(&pairs)?;
    let mut rng = seeded_rng(8);
    let noisy: Vec<Image> = test.iter().map(|x| noise.corrupted(x, &mut rng)).collect();
    let denoised: Vec<Image> = noisy.iter().map(|x| net.forward(x)).collect();
    let error = |a: &[Image]| {
        a.iter().zip(test).map(|(a, x)| f64::from(MeanSquaredError.value(a, x))).sum::<f64>() / test.len() as f64
    };
    let (corrupted, restored) = (error(&noisy), error(&denoised));
    println!(
        "test MSE against the clean images: corrupted {corrupted:.5}, denoised {restored:.5} ({:.1}% of it; the bar: \
         at most {:.0}%)",
        100.0 * restored / corrupted,
        100.0 * DAE_BAR
    );
    let rows: Vec<Vec<&[f32]>> = [&noisy[..], &denoised[..], test]
        .iter()
        .map(|set| set.iter().take(12).map(|m| m.as_slice()).collect())
        .collect();
    let path = nn_examples::paths::output("vae_denoising.png")?;
    save_image_grid(&path, &rows, 28, 28, 2)?;
    println!("wrote {} (rows: corrupted, denoised, clean)", path.display());
    Ok((corrupted, restored))
}

/// Every pixel above 0.5 set to 1, every other to 0: binary images, whose probability under Bernoulli pixels is
/// a true likelihood (grey levels have none).
fn binarized(images: &[Image]) -> Vec<Image> {
    images.iter().map(|x| x.map(|v| if v > 0.5 { 1.0 } else { 0.0 })).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let given = epochs_argument()?;
    let data = load_mnist(nn_examples::paths::data("mnist10k.bin.gz")?)?;
    let (train, test) = data.split(8_000);
    let labels: Vec<usize> = test.labels().iter().map(|&l| usize::from(l)).collect();
    let images = |d: &nn_core::data::Dataset| -> Result<Vec<Image>, nn_core::data::DataError> {
        Ok(d.pairs::<f32, 784, 10>()?.into_iter().map(|(x, _)| x).collect())
    };
    let (train, test) = (images(&train)?, images(&test)?);

    let (binary_train, binary_test) = (binarized(&train), binarized(&test));
    let (elbo, baseline) = variational(&binary_train, &binary_test, &labels, given.unwrap_or(VAE_EPOCHS))?;
    let (corrupted, denoised) = denoising(&train, &test, given.unwrap_or(DAE_EPOCHS))?;

    let mut failures = Vec::new();
    if elbo > VAE_BAR * baseline {
        failures.push(format!(
            "the VAE's test negative ELBO, {elbo:.2} nats, is above {:.0}% of the baseline's {baseline:.2}",
            100.0 * VAE_BAR
        ));
    }
    if denoised > DAE_BAR * corrupted {
        failures.push(format!(
            "the denoised images' error, {denoised:.5}, is above {:.0}% of the corrupted images' {corrupted:.5}",
            100.0 * DAE_BAR
        ));
    }
    if failures.is_empty() { Ok(()) } else { Err(failures.join("; ").into()) }
}
