//! A deep belief net on the bundled MNIST subset: two restricted Boltzmann machines trained greedily, layer by
//! layer, with CD-1 (784 -> 256 on the pixels, then 256 -> 64 on the first one's hidden probabilities), whose
//! weights then initialise the sigmoid MLP 784-256-64-10 that is fine-tuned with backpropagation. The same MLP
//! trained for the same epochs from a random initialisation is the comparison. Prints each machine's
//! reconstruction error per epoch and both networks' test accuracy.
//!
//! ```text
//! cargo run --release --example dbn
//! ```

use nn_core::classic::Rbm;
use nn_core::data::load_mnist;
use nn_core::nalgebra::SMatrix;
use nn_core::prelude::*;
use nn_core::train::Sample;

network! {
    /// The MLP both runs train: sigmoid hidden units, as the machines' hidden units are.
    pub struct Mlp<f32> { input: 784, fc1: Dense(256), Sigmoid, fc2: Dense(64), Sigmoid, out: Dense(10) }
}

const PRETRAIN_EPOCHS: usize = 8;
const FINETUNE_EPOCHS: usize = 5;
const BATCH: usize = 32;

/// Trains `rbm` with CD-1 on `inputs` in batches of [`BATCH`], printing the reconstruction error per epoch;
/// returns the errors.
fn pretrain<const V: usize, const H: usize>(
    name: &str,
    rbm: &mut Rbm<f32, V, H>,
    inputs: &[Vector<f32, V>],
    rng: &mut SeededRng,
) -> Vec<f32> {
    let mut errors = Vec::new();
    for epoch in 1..=PRETRAIN_EPOCHS {
        let mut sum = 0.0;
        let batches = inputs.chunks_exact(BATCH);
        let n = batches.len();
        for chunk in batches {
            let v = SMatrix::<f32, V, BATCH>::from_fn(|r, c| chunk[c][r]);
            sum += rbm.contrastive_divergence(&v, 1, 0.05, rng);
        }
        let error = sum / n as f32;
        println!("{name} epoch {epoch}: reconstruction error {error:.5}");
        errors.push(error);
    }
    errors
}

fn fine_tune(name: &str, net: &mut Mlp, fit: &[Sample<Mlp>], valid: &[Sample<Mlp>], test: &[Sample<Mlp>]) -> f64 {
    let mut sgd = Momentum::new(0.05, 0.9);
    let report = Trainer::new(net, &mut sgd, SoftmaxCrossEntropy)
        .epochs(FINETUNE_EPOCHS)
        .seed(4)
        .on_progress(|p| {
            if let Progress::Epoch(s) = p {
                let v = s.valid.map_or(f64::NAN, |v| v.accuracy);
                println!("{name} epoch {}: train loss {:.4}, valid accuracy {:.2}%", s.epoch, s.train.loss, 100.0 * v);
            }
        })
        .fit::<BATCH>(fit, valid);
    if let Err(e) = report {
        println!("{name}: training stopped: {e}");
    }
    evaluate::<_, _, BATCH>(net, test, &SoftmaxCrossEntropy).accuracy
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = load_mnist(nn_examples::paths::data("mnist10k.bin.gz")?)?;
    let (train, test) = data.split(8_000);
    let (train, test) = (train.pairs::<f32, 784, 10>()?, test.pairs::<f32, 784, 10>()?);
    let (fit, valid) = train.split_at(7_000);
    let mut rng = seeded_rng(4);

    let pixels: Vec<Vector<f32, 784>> = fit.iter().map(|(x, _)| *x).collect();
    let mut rbm1: Box<Rbm<f32, 784, 256>> = nn_core::boxed_zeroed();
    rbm1.init(&mut rng);
    let errors1 = pretrain("rbm 784-256", &mut rbm1, &pixels, &mut rng);
    let hidden: Vec<Vector<f32, 256>> = pixels.iter().map(|x| rbm1.hidden_probabilities::<1>(x)).collect();
    let mut rbm2: Box<Rbm<f32, 256, 64>> = nn_core::boxed_zeroed();
    rbm2.init(&mut rng);
    let errors2 = pretrain("rbm 256-64", &mut rbm2, &hidden, &mut rng);

    let mut pretrained = Mlp::boxed_init(&mut seeded_rng(5));
    pretrained.fc1 = rbm1.to_dense();
    pretrained.fc2 = rbm2.to_dense();
    let mut random = Mlp::boxed_init(&mut seeded_rng(5));
    let with = fine_tune("pre-trained", &mut pretrained, fit, valid, &test);
    let without = fine_tune("random init", &mut random, fit, valid, &test);

    println!(
        "reconstruction error, first to last epoch: rbm 784-256 {:.5} -> {:.5}, rbm 256-64 {:.5} -> {:.5}",
        errors1[0],
        errors1[PRETRAIN_EPOCHS - 1],
        errors2[0],
        errors2[PRETRAIN_EPOCHS - 1]
    );
    println!(
        "test accuracy after {FINETUNE_EPOCHS} epochs of fine-tuning: pre-trained {:.2}%, random initialisation {:.2}%",
        100.0 * with,
        100.0 * without
    );
    if errors1[PRETRAIN_EPOCHS - 1] >= errors1[0] || errors2[PRETRAIN_EPOCHS - 1] >= errors2[0] {
        return Err("a machine's reconstruction error did not fall".into());
    }
    Ok(())
}
