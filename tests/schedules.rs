//! Learning-rate schedules in `Trainer`: the rate of every update follows the schedule and the warm-up, each
//! epoch reports its rate, the optimizer gets its own rate back, and an optimizer without one is refused. And
//! augmentation: every training sample transformed anew each epoch, the data untouched, the run reproducible.

use nn_core::optim::{Optimizer, Schedule};
use nn_core::prelude::*;

network! {
    /// A small regression network.
    struct Line<f64> { input: 2, Dense(3), Tanh, Dense(1) }
}

fn data() -> Vec<(Vector<f64, 2>, Vector<f64, 1>)> {
    (0..16)
        .map(|i| {
            let x = Vector::from([f64::from(i) / 8.0 - 1.0, f64::from(i % 4) / 2.0]);
            (x, Vector::from([0.5 * x[0] - x[1]]))
        })
        .collect()
}

/// Sgd that records the rate of every update.
struct Recording {
    sgd: Sgd<f64>,
    rates: Vec<f64>,
}

impl<P: nn_core::Parameters<f64>> Optimizer<f64, P> for Recording {
    fn step(&mut self, params: &mut P, grads: &P) {
        self.rates.push(self.sgd.lr);
        self.sgd.step(params, grads);
    }

    fn learning_rate(&self) -> Option<f64> {
        Some(self.sgd.lr)
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.sgd.lr = lr;
    }
}

#[test]
fn every_update_runs_at_the_scheduled_rate() {
    let data = data();
    let mut net = Line::boxed_init(&mut seeded_rng(1));
    let mut opt = Recording { sgd: Sgd::new(0.1), rates: Vec::new() };
    // 16 samples in batches of 4: 4 updates per epoch; halved every 2 epochs, warm-up over the first 3 updates.
    let report = Trainer::new(&mut *net, &mut opt, MeanSquaredError)
        .epochs(5)
        .schedule(Schedule::Step { every: 2, gamma: 0.5 })
        .warmup(3)
        .fit_without_validation::<4>(&data)
        .unwrap();
    let want: Vec<f64> = (0..20)
        .map(|i: usize| {
            let warm = if i < 3 { (i + 1) as f64 / 3.0 } else { 1.0 };
            0.1 * 0.5f64.powi(((i / 4) / 2) as i32) * warm
        })
        .collect();
    assert_eq!(opt.rates.len(), 20);
    for (i, (got, want)) in opt.rates.iter().zip(&want).enumerate() {
        assert!((got - want).abs() < 1e-15, "update {i}: {got} against {want}");
    }
    let per_epoch: Vec<f64> = report.epochs.iter().map(|e| e.lr.unwrap()).collect();
    assert_eq!(per_epoch, [0.1, 0.1, 0.05, 0.05, 0.025]);
    // The optimizer has its own rate back.
    assert_eq!(opt.sgd.lr, 0.1);
}

#[test]
fn cosine_annealing_and_the_per_iteration_rate() {
    let data = data();
    let mut net = Line::boxed_init(&mut seeded_rng(2));
    let mut opt = Recording { sgd: Sgd::new(0.2), rates: Vec::new() };
    Trainer::new(&mut *net, &mut opt, MeanSquaredError)
        .epochs(3)
        .schedule(Schedule::InverseTime { decay: 0.5 })
        .fit_without_validation::<8>(&data)
        .unwrap();
    // eta_t = eta / (1 + 0.5 t), t counting updates over the run (two per epoch).
    assert_eq!(opt.rates.len(), 6);
    for (t, rate) in opt.rates.iter().enumerate() {
        assert!((rate - 0.2 / (1.0 + 0.5 * t as f64)).abs() < 1e-16, "update {t}: {rate}");
    }
    let mut adam = Adam::new(0.01);
    let report = Trainer::new(&mut *net, &mut adam, MeanSquaredError)
        .epochs(4)
        .schedule(Schedule::Cosine { epochs: 4, min: 0.1 })
        .fit_without_validation::<8>(&data)
        .unwrap();
    let rates: Vec<f64> = report.epochs.iter().map(|e| e.lr.unwrap()).collect();
    for (epoch, rate) in rates.iter().enumerate() {
        let want = 0.01 * (0.1 + 0.9 * (1.0 + (std::f64::consts::PI * epoch as f64 / 4.0).cos()) / 2.0);
        assert!((rate - want).abs() < 1e-12, "epoch {epoch}: {rate} against {want}");
    }
}

/// An optimizer without a learning rate.
struct Fixed;

impl<P: nn_core::Parameters<f64>> Optimizer<f64, P> for Fixed {
    fn step(&mut self, _params: &mut P, _grads: &P) {}
}

#[test]
fn a_schedule_needs_an_optimizer_with_a_rate() {
    let data = data();
    let mut net = Line::boxed_init(&mut seeded_rng(3));
    let before = net.fc1.weight;
    let e = Trainer::new(&mut *net, &mut Fixed, MeanSquaredError)
        .warmup(10)
        .fit_without_validation::<4>(&data)
        .unwrap_err();
    assert_eq!(e, TrainError::NoLearningRate);
    assert_eq!(e.to_string(), "a learning-rate schedule needs an optimizer with a learning rate");
    assert_eq!(net.fc1.weight, before);
    // Without a schedule it trains (and reports no rate).
    let report =
        Trainer::new(&mut *net, &mut Fixed, MeanSquaredError).epochs(1).fit_without_validation::<4>(&data).unwrap();
    assert_eq!(report.epochs[0].lr, None);
}

#[test]
fn augmentation_transforms_every_training_sample_each_epoch_reproducibly() {
    use std::cell::RefCell;
    let data = data();
    let seen = RefCell::new(Vec::new());
    let run = |seed: u64| {
        let mut net = Line::boxed_init(&mut seeded_rng(4));
        let mut sgd = Sgd::new(0.05);
        Trainer::new(&mut *net, &mut sgd, MeanSquaredError)
            .epochs(3)
            .seed(seed)
            .augment(|x, rng| {
                seen.borrow_mut().push([x[0], x[1]]);
                nn_core::augment::ImageAugment::new(1, 1, 2).noise(0.01).apply(x, rng);
            })
            .fit::<4>(&data, &data[..4])
            .unwrap();
        net.fc1.weight
    };
    let first = run(9);
    // Every training sample once per epoch (validation samples are not transformed), seen as in the data set.
    let seen = seen.take();
    assert_eq!(seen.len(), 3 * 16);
    for epoch in seen.chunks(16) {
        let mut inputs: Vec<[f64; 2]> = epoch.to_vec();
        inputs.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let mut want: Vec<[f64; 2]> = data.iter().map(|(x, _)| [x[0], x[1]]).collect();
        want.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(inputs, want);
    }
    assert_eq!(run(9), first, "the same seed, the same noise, the same weights");
    assert_ne!(run(10), first);
}
