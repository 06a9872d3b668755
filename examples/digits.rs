//! Handwritten 8x8 digits: an MLP trained with Adam in mini-batches on a fixed, seeded 80/20 split of the UCI optical
//! digits (1,797 images bundled in `data/digits.csv.gz`), with early stopping on a validation slice; writes
//! the training curves to `digits-training.png` and the weights to `digits.safetensors` in `target/nn-examples/` (the
//! `embedded` example compiles a copy of them into its binary).
//!
//! ```text
//! cargo run --release --example digits
//! ```

use nn_core::data::load_digits;
use nn_core::prelude::*;
use nn_core::train::confusion;

network! {
    /// 64 pixels, one hidden ReLU layer with dropout, 10 logits.
    struct Digits<f32> {
        input: 64,
        hidden: Dense(64), Relu, Dropout(0.1),
        out: Dense(10),
    }
}

const SPLIT_SEED: u64 = 2026;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The file lists the images writer by writer; a fixed shuffle (seed 2026) mixes writers into both parts.
    let data = load_digits(nn_examples::paths::data("digits.csv.gz")?)?.shuffled(SPLIT_SEED);
    let (train, test) = data.split(data.len() * 4 / 5);
    let train = train.pairs::<f32, 64, 10>()?;
    let test = test.pairs::<f32, 64, 10>()?;
    // The last 10% of the training split validates early stopping; the test split is only used at the end.
    let (fit, valid) = train.split_at(train.len() * 9 / 10);
    println!("{}", Digits::SUMMARY);
    println!("{} training, {} validation, {} test samples", fit.len(), valid.len(), test.len());

    let mut net = Digits::boxed_init(&mut seeded_rng(1));
    let mut adam = Adam::new(2e-3);
    let report = Trainer::new(&mut *net, &mut adam, SoftmaxCrossEntropy)
        .epochs(60)
        .seed(1)
        .early_stopping(8)
        .on_progress(|p| {
            if let Progress::Epoch(s) = p
                && (s.epoch % 5 == 0 || s.epoch == 1)
            {
                let v = s.valid.map_or(0.0, |v| v.accuracy);
                println!(
                    "epoch {:>3}  loss {:.4}  train acc {:.3}  valid acc {:.3}",
                    s.epoch, s.train.loss, s.train.accuracy, v
                );
            }
        })
        .fit::<32>(fit, valid)?;
    println!("kept the weights of epoch {:?} (stopped early: {})", report.best_epoch, report.stopped_early);

    let m = evaluate::<_, _, 32>(&*net, &test, &SoftmaxCrossEntropy);
    println!("test loss {:.4}, test accuracy {:.2}%", m.loss, 100.0 * m.accuracy);
    println!("confusion matrix (rows: true digit, columns: predicted):");
    for (digit, row) in confusion(&*net, &test, 10).iter().enumerate() {
        println!("{digit}: {}", row.iter().map(|c| format!("{c:>4}")).collect::<String>());
    }
    let weights = nn_examples::paths::output("digits.safetensors")?;
    nn_core::io::save(&*net, &weights)?;
    println!("weights written to {}", weights.display());
    let plot = nn_examples::paths::output("digits-training.png")?;
    nn_examples::plot_history(&plot, "8x8 digits 64-64-10, Adam", &report.epochs)?;
    println!("training curves written to {}", plot.display());
    Ok(())
}
