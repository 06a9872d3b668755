//! Recurrent networks on two tasks.
//!
//! 1. **A long gap.** The first value of a sequence is a number in `[-1, 1]`; every later value is noise from the
//!    same range, in the same input. After the last step the network must give the first value back (within
//!    0.1 counts as right), so it must carry it across the whole sequence. First the lectures' diagnosis,
//!    measured: how much of the loss's gradient reaches each step at initialisation, for a vanilla RNN, an LSTM
//!    and a GRU of the same size. Then the three are trained alike (Adam with gradient clipping, three seeds)
//!    at a short and at a long gap: the plain RNN "cannot make good use of early information" once the gap is
//!    long, the gated cells can. The LSTM's forget gate starts at `forget_bias = 3.4`, about `ln 30`, the
//!    usual setting for dependencies of that length; with the default of 1 it learns this task much more slowly.
//! 2. **A character-level language model** of *Alice's Adventures in Wonderland* (`data/alice.txt.gz`): an LSTM
//!    learns to predict the next character, then writes a few lines one character at a time through the
//!    generated streaming `step`.
//!
//! Run with `cargo run --release --example sequence` (under two minutes; `-- gap` or `-- text` runs one part).

use nn_core::data::{Text, load_text};
use nn_core::loss::PerStep;
use nn_core::prelude::*;
use nn_core::rand::{Rng, RngExt};
use std::time::Instant;

/// Hidden units of every cell in the gap task.
const HIDDEN: usize = 16;
/// Sequences per training set of the gap task (and a quarter as many to test).
const GAP_TRAIN: usize = 4000;

/// Declares the three models for one sequence length (a literal, so shapes are checked by the macro).
macro_rules! gap_models {
    ($module:ident, $steps:literal) => {
        mod $module {
            use nn_core::network;
            network! {
                /// A vanilla RNN (tanh) reading the sequence, a linear read-out of its last step.
                pub struct RnnNet<f32> { input: Seq($steps, 1), rnn: Rnn(16, output = last), out: Dense(1) }
            }
            network! {
                /// An LSTM reading the sequence, a linear read-out of its last step.
                pub struct LstmNet<f32> {
                    input: Seq($steps, 1),
                    lstm: Lstm(16, output = last, forget_bias = 3.4),
                    out: Dense(1),
                }
            }
            network! {
                /// A GRU reading the sequence, a linear read-out of its last step.
                pub struct GruNet<f32> { input: Seq($steps, 1), gru: Gru(16, output = last), out: Dense(1) }
            }
        }
    };
}

gap_models!(short, 10);
gap_models!(long, 30);

/// A recall sample: `T` steps, the first one the value to recall, the rest noise; the target is the first value.
type Recall<const T: usize> = (Vector<f32, T>, Vector<f32, 1>);

/// `n` sequences of `T` values in `[-1, 1]`, each paired with its first value.
fn gap_data<const T: usize>(n: usize, rng: &mut impl Rng) -> Vec<Recall<T>> {
    (0..n)
        .map(|_| {
            let x = Vector::<f32, T>::from_fn(|_, _| rng.random_range(-1.0..1.0));
            (x, Vector::from([x[0]]))
        })
        .collect()
}

/// Trains one model on the recall task and returns the fraction of test sequences recalled within 0.1.
fn train_gap<N, const T: usize>(train: &[Recall<T>], test: &[Recall<T>], seed: u64) -> f64
where
    N: BatchNetwork<Scalar = f32, Input = Vector<f32, T>, Output = Vector<f32, 1>> + Initialize + Boxed,
{
    let mut net = N::boxed_init(&mut seeded_rng(seed));
    let mut opt = Adam::new(3e-3);
    let fit = Trainer::new(&mut *net, &mut opt, MeanSquaredError)
        .epochs(40)
        .seed(seed)
        .clip_grad_norm(1.0)
        .fit_without_validation::<16>(train);
    if let Err(e) = fit {
        println!("  training stopped: {e}");
    }
    let right = test.iter().filter(|(x, t)| (net.forward(x)[0] - t[0]).abs() < 0.1).count();
    right as f64 / test.len() as f64
}

/// Mean recall accuracy over three seeds, and how many runs reached 95%.
fn seeds<N, const T: usize>(train: &[Recall<T>], test: &[Recall<T>]) -> String
where
    N: BatchNetwork<Scalar = f32, Input = Vector<f32, T>, Output = Vector<f32, 1>> + Initialize + Boxed,
{
    let runs: Vec<f64> = (1..=3).map(|seed| train_gap::<N, T>(train, test, seed)).collect();
    let solved = runs.iter().filter(|&&a| a >= 0.95).count();
    format!("{:5.1}% ({solved}/3)", runs.iter().sum::<f64>() / 3.0 * 100.0)
}

/// `|dL/dx_t|` for every step `t` at initialisation (seed 1), averaged over `data`: how much of the final
/// loss's gradient reaches each step of the sequence.
fn gradient_reach<N, const T: usize>(data: &[Recall<T>]) -> Vec<f64>
where
    N: Network<Scalar = f32, Input = Vector<f32, T>, Output = Vector<f32, 1>> + Initialize + Boxed,
{
    let net = N::boxed_init(&mut seeded_rng(1));
    let mut grads = N::boxed_zeroed();
    let mut reach = vec![0.0; T];
    let mut rng = seeded_rng(0);
    for (x, t) in data {
        let (y, cache) = net.forward_train(x, &mut rng);
        let dx = net.backward(&cache, &MeanSquaredError.gradient(&y, t), &mut grads);
        for (r, &d) in reach.iter_mut().zip(dx.iter()) {
            *r += f64::from(d.abs()) / data.len() as f64;
        }
    }
    reach
}

fn gap_task() {
    let mut rng = seeded_rng(2026);
    let (train10, test10) = (gap_data::<10>(GAP_TRAIN, &mut rng), gap_data::<10>(GAP_TRAIN / 4, &mut rng));
    let (train30, test30) = (gap_data::<30>(GAP_TRAIN, &mut rng), gap_data::<30>(GAP_TRAIN / 4, &mut rng));

    println!("Recall the first of 30 values through noise; {HIDDEN} hidden units per cell.");
    println!("Gradient reaching step t at initialisation, |dL/dx_t| / |dL/dx_29| (mean of 1,000 sequences):");
    let reach = [
        gradient_reach::<long::RnnNet, 30>(&test30),
        gradient_reach::<long::LstmNet, 30>(&test30),
        gradient_reach::<long::GruNet, 30>(&test30),
    ];
    println!("{:>6}  {:>10}  {:>10}  {:>10}", "step", "RNN", "LSTM", "GRU");
    for t in [29, 25, 20, 15, 10, 5, 0] {
        let r: Vec<String> = reach.iter().map(|g| format!("{:10.1e}", g[t] / g[29])).collect();
        println!("{t:>6}  {}", r.join("  "));
    }

    println!("Recalled within 0.1 after 40 epochs of Adam (mean of seeds 1-3, runs reaching 95%):");
    println!("{:>6}  {:>12}  {:>12}  {:>12}", "steps", "RNN", "LSTM", "GRU");
    let row = [
        seeds::<short::RnnNet, 10>(&train10, &test10),
        seeds::<short::LstmNet, 10>(&train10, &test10),
        seeds::<short::GruNet, 10>(&train10, &test10),
    ];
    println!("{:>6}  {:>12}  {:>12}  {:>12}", 10, row[0], row[1], row[2]);
    let row = [
        seeds::<long::RnnNet, 30>(&train30, &test30),
        seeds::<long::LstmNet, 30>(&train30, &test30),
        seeds::<long::GruNet, 30>(&train30, &test30),
    ];
    println!("{:>6}  {:>12}  {:>12}  {:>12}\n", 30, row[0], row[1], row[2]);
}

/// Characters per training window of the language model.
const STEPS: usize = 32;
/// The alphabet of the lower-cased text.
const VOCAB: usize = 45;

network! {
    /// Predicts the next character at every step.
    pub struct CharLstm<f32> {
        input: Seq(32, 45),
        lstm: Lstm(128),
        out: Dense(45),
    }
}

fn text_task() -> Result<(), Box<dyn std::error::Error>> {
    let raw = load_text(nn_examples::paths::data("alice.txt.gz")?)?.to_lowercase();
    let text = Text::new(&raw);
    println!(
        "Character-level LSTM on Alice's Adventures in Wonderland: {} characters, alphabet of {}.",
        text.ids().len(),
        text.alphabet().len()
    );
    let windows = text.windows::<f32, STEPS, VOCAB, { STEPS * VOCAB }>(STEPS)?;
    let cut = windows.len() * 9 / 10;
    let (train, valid) = windows.split_at(cut);
    let loss = PerStep::<_, VOCAB>(SoftmaxCrossEntropy);
    let mut rng = seeded_rng(11);
    let mut net = CharLstm::boxed_init(&mut rng);
    let mut opt = Adam::new(4e-3);
    let start = Instant::now();
    let report = Trainer::new(&mut *net, &mut opt, loss)
        .epochs(12)
        .seed(11)
        .clip_grad_norm(5.0)
        .on_progress(|p| {
            if let Progress::Epoch(e) = p {
                let v = e.valid.expect("a validation set");
                println!(
                    "  epoch {:2}: train {:.3} bits/char, valid {:.3} bits/char, next character right {:.1}%",
                    e.epoch,
                    e.train.loss / std::f64::consts::LN_2,
                    v.loss / std::f64::consts::LN_2,
                    v.accuracy * 100.0
                );
            }
        })
        .fit::<16>(train, valid)?;
    let last = report.epochs.last().and_then(|e| e.valid).map_or(0.0, |v| v.accuracy);
    println!(
        "  trained in {:.0} s; validation next-character accuracy {:.1}%",
        start.elapsed().as_secs_f64(),
        last * 100.0
    );

    println!("Samples (temperature 0.6), written one character at a time by `CharLstm::step`:");
    for (i, prompt) in ["alice was ", "the queen ", "'i can't "].iter().enumerate() {
        println!("  > {}", sample(&net, &text, prompt, 160, 0.6, &mut seeded_rng(100 + i as u64)).replace('\n', " "));
    }
    Ok(())
}

/// Continues `prompt` by `length` characters drawn from the model's softmax at `temperature`.
fn sample(net: &CharLstm, text: &Text, prompt: &str, length: usize, temperature: f32, rng: &mut impl Rng) -> String {
    let mut state = CharLstmState::new();
    let mut out = String::from(prompt);
    let mut logits = Vector::<f32, VOCAB>::zeros();
    let one_hot = |id: usize| {
        let mut x = Vector::<f32, VOCAB>::zeros();
        x[id] = 1.0;
        x
    };
    for c in prompt.chars() {
        logits = net.step(&mut state, &one_hot(text.id(c).unwrap_or(0)));
    }
    for _ in 0..length {
        let max = logits.max();
        let weights: Vec<f32> = logits.iter().map(|&z| ((z - max) / temperature).exp()).collect();
        let mut draw = rng.random::<f32>() * weights.iter().sum::<f32>();
        let mut id = weights.len() - 1;
        for (i, w) in weights.iter().enumerate() {
            if draw < *w {
                id = i;
                break;
            }
            draw -= w;
        }
        out.push(text.char(id).unwrap_or('?'));
        logits = net.step(&mut state, &one_hot(id));
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let part = nn_examples::paths::free_arguments().into_iter().next();
    if part.as_deref() != Some("text") {
        gap_task();
    }
    if part.as_deref() != Some("gap") {
        text_task()?;
    }
    Ok(())
}
