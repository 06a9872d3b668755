//! The trainer: an accuracy bar on the bundled digits, reproducibility, early stopping that restores the best
//! weights, and divergence reported with its epoch and batch.

use nn_core::data::load_digits;
use nn_core::prelude::*;
use nn_core::train::{Sample, confusion};

network! {
    struct Digits<f32> { input: 64, Dense(32), Relu, Dense(10) }
}

network! {
    struct Tiny<f64> { input: 2, Dense(8), Tanh, Dense(2) }
}

const DIGITS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits.csv.gz");

fn digits() -> (Vec<Sample<Digits>>, Vec<Sample<Digits>>) {
    let data = load_digits(DIGITS).unwrap().shuffled(2026);
    let (train, test) = data.split(data.len() * 4 / 5);
    (train.pairs().unwrap(), test.pairs().unwrap())
}

#[test]
fn digits_pass_an_accuracy_bar_after_a_short_run() {
    let (train, test) = digits();
    let mut net = Digits::boxed_init(&mut seeded_rng(5));
    let mut adam = Adam::new(3e-3);
    let mut epochs_seen = 0;
    let report = Trainer::new(&mut *net, &mut adam, SoftmaxCrossEntropy)
        .epochs(8)
        .seed(5)
        .on_progress(|p| {
            if let Progress::Epoch(_) = p {
                epochs_seen += 1;
            }
        })
        .fit::<32>(&train, &[])
        .unwrap();
    assert_eq!(epochs_seen, 8);
    assert_eq!(report.epochs.len(), 8);
    assert!(report.epochs[7].train.loss < report.epochs[0].train.loss / 4.0, "{:?}", report.epochs);
    let m = evaluate::<_, _, 32>(&*net, &test, &SoftmaxCrossEntropy);
    assert!(m.accuracy >= 0.93, "test accuracy {}", m.accuracy);
    let c = confusion(&*net, &test, 10);
    assert_eq!(c.iter().flatten().sum::<usize>(), test.len());
    let diagonal: usize = (0..10).map(|i| c[i][i]).sum();
    assert_eq!(diagonal as f64 / test.len() as f64, m.accuracy);
}

/// A small two-class problem: points inside or outside a circle.
fn circle(n: usize, seed: u64) -> Vec<Sample<Tiny>> {
    use nn_core::rand::RngExt;
    let mut rng = seeded_rng(seed);
    (0..n)
        .map(|_| {
            let (a, b): (f64, f64) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
            let inside = a * a + b * b < 0.5;
            (Vector::from([a, b]), Vector::from(if inside { [1.0, 0.0] } else { [0.0, 1.0] }))
        })
        .collect()
}

#[test]
fn same_seed_same_weights_bit_for_bit() {
    let train = circle(200, 1);
    let run = |seed: u64| {
        let mut net = Tiny::boxed_init(&mut seeded_rng(9));
        let mut opt = Momentum::new(0.5, 0.9);
        Trainer::new(&mut *net, &mut opt, SoftmaxCrossEntropy).epochs(3).seed(seed).fit::<8>(&train, &[]).unwrap();
        net
    };
    let (a, b, c) = (run(1), run(1), run(2));
    assert_eq!(a.fc1.weight, b.fc1.weight);
    assert_eq!(a.fc2.bias, b.fc2.bias);
    assert_ne!(a.fc1.weight, c.fc1.weight);
}

#[test]
fn early_stopping_ends_with_the_best_validation_weights() {
    // Few noisy training samples and a large learning rate: validation loss rises after an early minimum.
    let mut train = circle(24, 2);
    for (i, s) in train.iter_mut().enumerate() {
        if i % 3 == 0 {
            s.1 = Vector::from([s.1[1], s.1[0]]);
        }
    }
    let valid = circle(300, 3);
    let mut net = Tiny::boxed_init(&mut seeded_rng(4));
    let mut opt = Adam::new(0.05);
    let report = Trainer::new(&mut *net, &mut opt, SoftmaxCrossEntropy)
        .epochs(300)
        .seed(4)
        .early_stopping(10)
        .fit::<4>(&train, &valid)
        .unwrap();
    let best = report.best_epoch.expect("early stopping keeps a best epoch");
    assert!(report.stopped_early, "ran all {} epochs", report.epochs.len());
    assert_eq!(report.epochs.len(), best + 10);
    let best_loss = report.epochs[best - 1].valid.unwrap().loss;
    assert!(report.epochs.iter().all(|e| e.valid.unwrap().loss >= best_loss));
    // The network holds the best epoch's weights: its validation loss is that epoch's, exactly.
    let now = evaluate::<_, _, 4>(&*net, &valid, &SoftmaxCrossEntropy);
    assert_eq!(now.loss, best_loss);
}

#[test]
fn divergence_is_an_error_naming_epoch_and_batch() {
    let train = circle(64, 5);
    let mut net = Tiny::boxed_init(&mut seeded_rng(6));
    let mut opt = Sgd::new(1e200);
    let err = Trainer::new(&mut *net, &mut opt, MeanSquaredError).epochs(5).fit::<8>(&train, &[]).unwrap_err();
    let TrainError::Diverged { epoch, batch, loss } = err else { panic!("{err:?}") };
    assert!(!loss.is_finite());
    assert_eq!(
        err.to_string(),
        format!("training diverged: loss {loss} at epoch {epoch}, batch {batch} (try a smaller learning rate)")
    );
    assert!(epoch == 1 && batch <= 3, "epoch {epoch} batch {batch}");
}

#[test]
fn a_training_set_smaller_than_a_batch_is_an_error() {
    let mut net = Tiny::boxed_zeroed();
    let mut opt = Sgd::new(0.1);
    let err = Trainer::new(&mut *net, &mut opt, MeanSquaredError).fit::<32>(&circle(10, 1), &[]).unwrap_err();
    assert_eq!(err, TrainError::TooFewSamples { samples: 10, batch: 32 });
    assert_eq!(err.to_string(), "10 training samples cannot fill one batch of 32");
}
