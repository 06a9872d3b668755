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
        .fit_without_validation::<32>(&train)
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
        Trainer::new(&mut *net, &mut opt, SoftmaxCrossEntropy)
            .epochs(3)
            .seed(seed)
            .fit_without_validation::<8>(&train)
            .unwrap();
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
    let err =
        Trainer::new(&mut *net, &mut opt, MeanSquaredError).epochs(5).fit_without_validation::<8>(&train).unwrap_err();
    let TrainError::Diverged { epoch, batch, loss, restored_epoch } = err else { panic!("{err:?}") };
    assert!(!loss.is_finite());
    assert_eq!(
        err.to_string(),
        format!(
            "training diverged: loss {loss} at epoch {epoch}, batch {batch} (try a smaller learning rate); the \
             network holds the weights it started with"
        )
    );
    assert!(epoch == 1 && batch <= 3 && restored_epoch == 0, "epoch {epoch} batch {batch}");
    assert!(bytes_of(&*net) == bytes_of(&*Tiny::boxed_init(&mut seeded_rng(6))), "the network is as it started");
}

#[test]
fn an_empty_training_set_and_an_empty_validation_set_are_errors() {
    let mut net = Tiny::boxed_zeroed();
    let mut opt = Sgd::new(0.1);
    let err = Trainer::new(&mut *net, &mut opt, MeanSquaredError).fit_without_validation::<32>(&[]).unwrap_err();
    assert_eq!(err, TrainError::TooFewSamples { samples: 0, batch: 32 });
    assert_eq!(err.to_string(), "there are no training samples");
    // An empty slice is not a way to say "no validation set": that has its own method.
    let err = Trainer::new(&mut *net, &mut opt, MeanSquaredError).fit::<4>(&circle(10, 1), &[]).unwrap_err();
    assert_eq!(err, TrainError::EmptyValidation);
    assert!(err.to_string().contains("fit_without_validation"), "{err}");
    let err = Trainer::new(&mut *net, &mut opt, MeanSquaredError)
        .early_stopping(3)
        .fit_without_validation::<4>(&circle(10, 1))
        .unwrap_err();
    assert_eq!(err, TrainError::EarlyStoppingWithoutValidation);
}

network! {
    struct Line<f64> { input: 1, fc: Dense(1) }
}

/// Every sample contributes to each epoch: 10 samples in batches of 4 are three updates, the last the mean over
/// the two samples left (not dropped, not diluted by the padding), exactly as a hand-written loop over the same
/// shuffled order computes them; a set smaller than one batch is one partial batch per epoch.
#[test]
fn the_last_partial_batch_is_an_update_with_the_mean_over_its_samples() {
    use nn_core::rand::seq::SliceRandom;
    let data: Vec<Sample<Line>> =
        (0..10).map(|i| (Vector::from([f64::from(i) / 10.0]), Vector::from([f64::from(i * i) / 50.0 - 0.3]))).collect();
    let start = |net: &mut Line| {
        net.fc.weight[0] = 0.4;
        net.fc.bias[0] = -0.2;
    };
    let lr = 0.3;
    for (epochs, batch_of_4) in [(1, true), (3, true), (2, false)] {
        let mut net = Line::boxed_zeroed();
        start(&mut net);
        let mut batches = Vec::new();
        let report = {
            let mut sgd = Sgd::new(lr);
            let trainer = Trainer::new(&mut *net, &mut sgd, MeanSquaredError).epochs(epochs).seed(9).on_progress(|p| {
                if let Progress::Batch { batches: n, .. } = p {
                    batches.push(*n);
                }
            });
            if batch_of_4 {
                trainer.fit_without_validation::<4>(&data).unwrap()
            } else {
                trainer.fit_without_validation::<16>(&data).unwrap()
            }
        };
        let per_epoch = if batch_of_4 { 3 } else { 1 };
        assert_eq!(batches, vec![per_epoch; per_epoch * epochs]);

        // The same by hand: the trainer's shuffle, then plain mini-batch gradient descent on the mean squared
        // error over each chunk (the last one shorter).
        let (mut w, mut b) = (0.4, -0.2);
        let mut rng = seeded_rng(9);
        let mut order: Vec<usize> = (0..10).collect();
        let mut last_loss = 0.0;
        for _ in 0..epochs {
            order.shuffle(&mut rng);
            let (mut sum, mut n) = (0.0, 0.0);
            for chunk in order.chunks(if batch_of_4 { 4 } else { 16 }) {
                let (mut gw, mut gb, mut loss) = (0.0, 0.0, 0.0);
                for &i in chunk {
                    let (x, t) = (data[i].0[0], data[i].1[0]);
                    let e = w * x + b - t;
                    loss += e * e;
                    gw += 2.0 * e * x;
                    gb += 2.0 * e;
                }
                let m = chunk.len() as f64;
                (w, b) = (w - lr * gw / m, b - lr * gb / m);
                sum += loss;
                n += m;
            }
            last_loss = sum / n;
        }
        assert!((net.fc.weight[0] - w).abs() < 1e-12, "{epochs} epochs: w {} vs {w}", net.fc.weight[0]);
        assert!((net.fc.bias[0] - b).abs() < 1e-12, "{epochs} epochs: b {} vs {b}", net.fc.bias[0]);
        // The epoch's loss is the mean over its 10 samples, the partial batch weighted by its size.
        let reported = report.epochs.last().unwrap().train.loss;
        assert!((reported - last_loss).abs() < 1e-12, "{reported} vs {last_loss}");
    }
}

network! {
    struct Normed<f32> { input: 64, Dense(32), BatchNorm, Relu, Dense(10) }
}

/// The weights and statistics of a network, as bytes.
fn bytes_of<T: nn_core::Float, N: nn_core::Parameters<T>>(net: &N) -> Vec<u8> {
    nn_core::io::to_bytes(net).unwrap()
}

/// Trains a fresh `N` (seed 5) for `epochs` with `opt` and `loss` on the digits: the run, and the network.
fn run<N, O, L>(epochs: usize, opt: &mut O, loss: L) -> (Result<nn_core::train::Report, TrainError>, Box<N>)
where
    N: BatchNetwork<Scalar = f32, Input = Vector<f32, 64>, Output = Vector<f32, 10>> + Boxed + Initialize,
    O: nn_core::optim::Optimizer<f32, N>,
    L: nn_core::loss::Loss<f32>,
{
    let (train, _) = digits();
    let mut net = N::boxed_init(&mut seeded_rng(5));
    let result = Trainer::new(&mut *net, opt, loss).epochs(epochs).seed(5).fit_without_validation::<32>(&train);
    (result, net)
}

/// A learning rate of 1e6 makes each network's loss explode: training ends with an error, and the network holds
/// exactly the weights and statistics of the epoch the error names (trained again to that epoch to compare).
fn explodes_and_is_restored<N, O, L>(what: &str, opt: impl Fn() -> O, loss: L)
where
    N: BatchNetwork<Scalar = f32, Input = Vector<f32, 64>, Output = Vector<f32, 10>> + Boxed + Initialize,
    O: nn_core::optim::Optimizer<f32, N>,
    L: nn_core::loss::Loss<f32> + Copy,
{
    let (result, net) = run::<N, O, L>(50, &mut opt(), loss);
    let err = result.expect_err(what);
    let restored = match err {
        TrainError::Diverged { restored_epoch, .. } | TrainError::Exploded { restored_epoch, .. } => restored_epoch,
        other => panic!("{what}: {other}"),
    };
    eprintln!("{what}: {err}");
    let (again, reference) = run::<N, O, L>(restored, &mut opt(), loss);
    if restored > 0 {
        again.expect(what);
    }
    assert!(bytes_of(&*net) == bytes_of(&*reference), "{what}: not the weights of epoch {restored}");
    let (_, test) = digits();
    assert!(test.iter().all(|(x, _)| net.forward(x).iter().all(|v| v.is_finite())), "{what}");
}

#[test]
fn a_learning_rate_of_a_million_is_reported_and_the_weights_restored() {
    explodes_and_is_restored::<Digits, _, _>("ReLU, cross-entropy, SGD", || Sgd::new(1e6), SoftmaxCrossEntropy);
    explodes_and_is_restored::<Digits, _, _>("ReLU, cross-entropy, Adam", || Adam::new(1e6), SoftmaxCrossEntropy);
    explodes_and_is_restored::<Digits, _, _>("ReLU, BCE, SGD", || Sgd::new(1e6), BinaryCrossEntropyWithLogits);
    explodes_and_is_restored::<Digits, _, _>("ReLU, BCE, Adam", || Adam::new(1e6), BinaryCrossEntropyWithLogits);
    explodes_and_is_restored::<Normed, _, _>("batch norm, cross-entropy, SGD", || Sgd::new(1e6), SoftmaxCrossEntropy);
    explodes_and_is_restored::<Normed, _, _>("batch norm, cross-entropy, Adam", || Adam::new(1e6), SoftmaxCrossEntropy);
}
/// SGD at 0.1 for `calm` steps, then at 1e6: a run that trains well and then explodes.
struct Unstable {
    steps: usize,
    calm: usize,
}

impl<N: nn_core::Parameters<f32>> nn_core::optim::Optimizer<f32, N> for Unstable {
    fn step(&mut self, params: &mut N, grads: &N) {
        let lr = if self.steps < self.calm { 0.1 } else { 1e6 };
        self.steps += 1;
        Sgd::new(lr).step(params, grads);
    }
}

#[test]
fn a_run_that_explodes_later_is_restored_to_its_best_epoch_before() {
    // 1,437 training digits make 45 updates an epoch in batches of 32 (the last of 29 digits): three calm
    // epochs, then the explosion in the fourth.
    let calm = 3 * 45;
    for net in ["dense", "batch norm"] {
        let unstable = || Unstable { steps: 0, calm };
        let restored = |err: TrainError| match err {
            TrainError::Diverged { epoch, restored_epoch, .. } | TrainError::Exploded { epoch, restored_epoch, .. } => {
                (epoch, restored_epoch)
            }
            other => panic!("{other}"),
        };
        let (epoch, at, same) = if net == "dense" {
            let (result, net) = run::<Digits, _, _>(20, &mut unstable(), SoftmaxCrossEntropy);
            let (epoch, at) = restored(result.unwrap_err());
            let (again, reference) = run::<Digits, _, _>(at, &mut unstable(), SoftmaxCrossEntropy);
            let losses: Vec<f64> = again.unwrap().epochs.iter().map(|e| e.train.loss).collect();
            assert!(losses.windows(2).all(|w| w[1] < w[0]) && losses[at - 1] < 1.0, "{losses:?}");
            (epoch, at, bytes_of(&*net) == bytes_of(&*reference))
        } else {
            let (result, net) = run::<Normed, _, _>(20, &mut unstable(), SoftmaxCrossEntropy);
            let (epoch, at) = restored(result.unwrap_err());
            let (again, reference) = run::<Normed, _, _>(at, &mut unstable(), SoftmaxCrossEntropy);
            let losses: Vec<f64> = again.unwrap().epochs.iter().map(|e| e.train.loss).collect();
            assert!(losses.windows(2).all(|w| w[1] < w[0]) && losses[at - 1] < 1.0, "{losses:?}");
            assert!(net.bn1.running_var.iter().all(|v| v.is_finite() && *v > 0.0));
            (epoch, at, bytes_of(&*net) == bytes_of(&*reference))
        };
        assert_eq!((epoch, at), (4, 3), "{net}");
        assert!(same, "{net}: the weights and statistics of epoch 3");
    }
}

#[path = "deep_gradients.rs"]
mod deep_gradients;

#[path = "tables.rs"]
mod tables;
