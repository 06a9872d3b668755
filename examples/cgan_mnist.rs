//! A conditional GAN on the bundled MNIST subset, in the auxiliary-classifier form the course shows (AC-GAN): the
//! generator reads 32 noise values and the one-hot label it is asked for; the discriminator reads an image and
//! answers twice, whether it is real (the course's adversarial loss, non-saturating for the generator) and which
//! digit it is (cross-entropy on real images; on generated ones, cross-entropy towards the label asked for as in
//! the original paper, or with `--lecture` the lecture's `-log(1 - D_c)`, denying them their class). Adam on both.
//! An MLP classifier (784-128-10, trained here on the same 8,000 images) then reads 1,000 generated images of each
//! label: the share it classifies as the label asked for is the score. Writes a grid of samples, one row per
//! label, to `cgan_mnist.png` (in `target/nn-examples/`, or `--out DIR`).
//!
//! ```text
//! cargo run --release --example cgan_mnist [-- --lecture]
//! ```
//!
//! The run fails (exit status 1) if fewer than 80% of the generated images read as their label.

use nn_core::data::load_mnist;
use nn_core::gan::{AuxiliaryForm, auxiliary_discriminator_gradients, auxiliary_generator_gradients};
use nn_core::layer::concat;
use nn_core::nalgebra::SMatrix;
use nn_core::prelude::*;
use nn_core::rand::RngExt;
use nn_core::rand_distr::{Distribution, StandardNormal};
use nn_examples::save_image_grid;

const NOISE: usize = 32;
const BATCH: usize = 64;
const EPOCHS: usize = 30;
const PER_LABEL: usize = 1_000;

network! {
    /// Noise and a one-hot label to an image.
    pub struct Generator<f32> {
        input: NOISE + 10,
        fc1: Dense(256), LeakyRelu(0.2),
        fc2: Dense(512), LeakyRelu(0.2),
        out: Dense(784), Sigmoid,
    }
}

network! {
    /// An image to the logit of "real" (output 0) and the ten logits of its class (outputs 1 to 10).
    pub struct Discriminator<f32> {
        input: 784,
        fc1: Dense(512), LeakyRelu(0.2), Dropout(0.3),
        fc2: Dense(256), LeakyRelu(0.2), Dropout(0.3),
        out: Dense(11),
    }
}

network! {
    /// The judge: the MNIST MLP of the `mnist` example.
    pub struct Classifier<f32> { input: 784, hidden: Dense(128), Relu, out: Dense(10) }
}

/// One-hot columns of `labels`.
fn one_hot<const B: usize>(labels: &[usize; B]) -> SMatrix<f32, 10, B> {
    SMatrix::from_fn(|r, c| if labels[c] == r { 1.0 } else { 0.0 })
}

fn noise<const B: usize>(rng: &mut SeededRng) -> SMatrix<f32, NOISE, B> {
    SMatrix::from_fn(|_, _| StandardNormal.sample(rng))
}

/// `B` generated images of `labels`.
fn generate<const B: usize>(g: &Generator, labels: &[usize; B], rng: &mut SeededRng) -> SMatrix<f32, 784, B> {
    let z: SMatrix<f32, { NOISE + 10 }, B> = concat(&noise::<B>(rng), &one_hot(labels));
    g.forward_batch::<B>(&z)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = load_mnist(nn_examples::paths::data("mnist10k.bin.gz")?)?;
    let (train, test) = data.split(8_000);
    let pairs = train.pairs::<f32, 784, 10>()?;
    let labels: Vec<usize> = train.labels().iter().map(|&l| usize::from(l)).collect();

    // The judge, trained and checked first.
    let mut classifier = Classifier::boxed_init(&mut seeded_rng(1));
    let mut adam = Adam::new(1e-3);
    let (fit, valid) = pairs.split_at(7_000);
    Trainer::new(&mut *classifier, &mut adam, SoftmaxCrossEntropy)
        .epochs(15)
        .seed(1)
        .early_stopping(3)
        .fit::<32>(fit, valid)?;
    let judged = evaluate::<_, _, 32>(&*classifier, &test.pairs::<f32, 784, 10>()?, &SoftmaxCrossEntropy);
    println!("classifier: {:.2}% on the 2,000 test images", 100.0 * judged.accuracy);

    // `--lecture`: the discriminator denies generated images their class, as the lecture writes its loss; by
    // default it classifies them, as the original paper does (the generator's loss is the same).
    let form = if nn_examples::paths::free_arguments().iter().any(|a| a == "--lecture") {
        AuxiliaryForm::Reject
    } else {
        AuxiliaryForm::Classify
    };
    println!("discriminator's class loss on generated images: {form:?}");
    let mut rng = seeded_rng(2);
    let mut g = Generator::boxed_init(&mut rng);
    let mut d = Discriminator::boxed_init(&mut rng);
    let (mut g_grads, mut d_grads, mut scratch) =
        (Generator::boxed_zeroed(), Discriminator::boxed_zeroed(), Discriminator::boxed_zeroed());
    let (mut g_opt, mut d_opt) = (Adam::with(2e-4, 0.5, 0.999, 1e-8), Adam::with(2e-4, 0.5, 0.999, 1e-8));
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    for epoch in 1..=EPOCHS {
        // A fresh order each epoch (Fisher-Yates with the seeded generator).
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let (mut ld, mut lc, mut lg, mut n) = (0.0, 0.0, 0.0, 0);
        for batch in order.chunks_exact(BATCH) {
            let y: [usize; BATCH] = core::array::from_fn(|c| labels[batch[c]]);
            let real = SMatrix::<f32, 784, BATCH>::from_fn(|r, c| pairs[batch[c]].0[r]);
            let asked: [usize; BATCH] = core::array::from_fn(|_| rng.random_range(0..10));
            let fake = generate(&g, &asked, &mut rng);
            d_grads.fill(0.0);
            let (source, class) = auxiliary_discriminator_gradients::<f32, _, _, 11, BATCH>(
                &*d,
                &real,
                &y,
                &fake,
                &asked,
                form,
                &mut d_grads,
                &mut rng,
            )?;
            d_opt.step(&mut *d, &d_grads);

            let asked: [usize; BATCH] = core::array::from_fn(|_| rng.random_range(0..10));
            let z: SMatrix<f32, { NOISE + 10 }, BATCH> = concat(&noise::<BATCH>(&mut rng), &one_hot(&asked));
            g_grads.fill(0.0);
            let (g_source, _) = auxiliary_generator_gradients::<f32, _, _, _, 11, BATCH>(
                &*g,
                &*d,
                &z,
                &asked,
                &mut g_grads,
                &mut scratch,
                &mut rng,
            )?;
            g_opt.step(&mut *g, &g_grads);
            (ld, lc, lg, n) = (ld + source, lc + class, lg + g_source, n + 1);
        }
        let n = n as f32;
        println!("epoch {epoch:>2}: D source {:.4}  D class {:.4}  G source {:.4}", ld / n, lc / n, lg / n);
    }

    // The score: how often the classifier reads the label that was asked for.
    let mut right = [0usize; 10];
    for (label, count) in right.iter_mut().enumerate() {
        for _ in 0..PER_LABEL / 8 {
            let images = generate::<8>(&g, &[label; 8], &mut rng);
            for image in images.column_iter() {
                let scores = classifier.forward(&image.into_owned());
                *count += usize::from(scores.argmax().0 == label);
            }
        }
    }
    let total: usize = right.iter().sum();
    let share = total as f64 / (10 * PER_LABEL) as f64;
    let per_label: Vec<String> =
        right.iter().map(|&r| format!("{:.0}%", 100.0 * r as f64 / PER_LABEL as f64)).collect();
    println!(
        "generated images classified as the label asked for: {:.1}% (per label 0-9: {})",
        100.0 * share,
        per_label.join(" ")
    );

    let rows: Vec<SMatrix<f32, 784, 12>> = (0..10).map(|label| generate::<12>(&g, &[label; 12], &mut rng)).collect();
    let grid: Vec<Vec<&[f32]>> = rows.iter().map(|m| m.as_slice().chunks_exact(784).collect()).collect();
    let path = nn_examples::paths::output("cgan_mnist.png")?;
    save_image_grid(&path, &grid, 28, 28, 2)?;
    println!("wrote {} (row k: twelve samples of digit k)", path.display());
    if share < 0.8 {
        return Err(format!("only {:.1}% of the generated images read as their label", 100.0 * share).into());
    }
    Ok(())
}
