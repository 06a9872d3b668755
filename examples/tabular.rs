//! Your own table, end to end: the UCI wine data (178 wines, 13 chemical measurements, 3 cultivars; bundled as
//! `data/wine.csv` and `data/wine.npz`, see `data/README.md`) read three ways (a CSV file with a header, a NumPy
//! `.npz` archive, and plain `Vec`s as your own code would hold them), split 60/20/20 stratified by class,
//! standardised on the training part, and learned by a small declared network with early stopping on the
//! validation part. Over five seeded splits the network's test accuracy is printed beside a plain baseline
//! computed here: each test wine assigned the class whose training mean is nearest (in standardised units).
//!
//! ```text
//! cargo run --release --example tabular
//! ```
//!
//! The run fails (exit status 1) if the three paths do not give the same table, or the network's mean test
//! accuracy is below 95% or more than one point below the baseline's.

use nn_core::data::{CsvOptions, Standardize, Table};
use nn_core::prelude::*;
use std::error::Error;

network! {
    /// 13 measurements to the logits of 3 cultivars.
    pub struct Wine<f32> {
        input: 13,
        hidden: Dense(16), Relu,
        out: Dense(3),
    }
}

/// Split seeds: five different 60/20/20 splits.
const SPLITS: [u64; 5] = [1, 2, 3, 4, 5];

/// The class whose training mean is nearest to each test row: the accuracy of that rule.
fn nearest_class_mean(train: &Table, test: &Table) -> f64 {
    let (f, k) = (train.features(), train.classes());
    let mut means = vec![vec![0.0; f]; k];
    let counts = train.class_counts();
    for i in 0..train.len() {
        let c = train.label(i).expect("a class");
        means[c].iter_mut().zip(train.row(i)).for_each(|(m, v)| *m += v / counts[c] as f64);
    }
    let distance = |row: &[f64], mean: &[f64]| row.iter().zip(mean).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
    let right = (0..test.len())
        .filter(|&i| {
            let nearest =
                (0..k).min_by(|&a, &b| distance(test.row(i), &means[a]).total_cmp(&distance(test.row(i), &means[b])));
            nearest == test.label(i)
        })
        .count();
    right as f64 / test.len() as f64
}

fn main() -> Result<(), Box<dyn Error>> {
    // 1. A CSV file: the header names the features, the label column is chosen by name.
    let csv = Table::read_csv(nn_examples::paths::data("wine.csv")?, &CsvOptions::new().label_name("class"))?;
    // 2. NumPy: `np.savez_compressed("wine.npz", x=features, y=labels)`; int labels are classes.
    let npz = Table::read_npz(nn_examples::paths::data("wine.npz")?, "x", "y")?;
    // 3. Arrays already in memory: features row after row, and class indices.
    let (features, labels): (Vec<f64>, Vec<usize>) = (csv.values().to_vec(), csv.labels().to_vec());
    let arrays = Table::classification(13, features, labels)?;
    for table in [&csv, &npz, &arrays] {
        println!("{table}");
    }
    if npz.values() != csv.values() || npz.labels() != csv.labels() || arrays.values() != csv.values() {
        return Err("the CSV, NumPy and array paths gave different tables".into());
    }
    println!("features: {}", csv.feature_names().join(", "));

    let (mut net_sum, mut base_sum) = (0.0, 0.0);
    println!("\nsplit  train/valid/test  epochs  network  nearest class mean");
    for seed in SPLITS {
        let [mut train, mut valid, mut test] = csv.split([0.6, 0.2, 0.2], seed)?;
        // Scaled by the training part's statistics only; the same scaling for the others.
        let scale = Standardize::fit(&train);
        for part in [&mut train, &mut valid, &mut test] {
            scale.apply(part)?;
        }
        let baseline = nearest_class_mean(&train, &test);
        let (fit, check, held_out) = (train.samples::<Wine>()?, valid.samples::<Wine>()?, test.samples::<Wine>()?);
        let mut net = Wine::boxed_init(&mut seeded_rng(seed));
        let mut adam = Adam::new(0.01);
        let report = Trainer::new(&mut *net, &mut adam, SoftmaxCrossEntropy)
            .epochs(200)
            .seed(seed)
            .early_stopping(20)
            .fit::<16>(&fit, &check)?;
        let accuracy = net.evaluate(&held_out, &SoftmaxCrossEntropy).accuracy;
        println!(
            "{seed:>5}  {:>5}/{}/{}  {:>6}  {:>6.1}%  {:>6.1}%",
            train.len(),
            valid.len(),
            test.len(),
            report.epochs.len(),
            100.0 * accuracy,
            100.0 * baseline
        );
        net_sum += accuracy;
        base_sum += baseline;
    }
    let (net_mean, base_mean) = (net_sum / SPLITS.len() as f64, base_sum / SPLITS.len() as f64);
    println!("mean   network {:.1}%, nearest class mean {:.1}%", 100.0 * net_mean, 100.0 * base_mean);
    if net_mean < 0.95 || net_mean < base_mean - 0.01 {
        return Err(format!(
            "the network's mean test accuracy {:.1}% is below 95% or more than a point below the baseline's {:.1}%",
            100.0 * net_mean,
            100.0 * base_mean
        )
        .into());
    }
    Ok(())
}
