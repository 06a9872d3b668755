//! Recurrent networks on two tasks.
//!
//! 1. **A long gap.** The first value of a sequence says which class it is (+1 or -1); every later value is
//!    noise. The network sees the whole sequence and answers at the end, so it must carry one bit across the
//!    gap. A vanilla RNN, an LSTM and a GRU of the same size learn it with the same optimizer, at a short and at
//!    a long gap: the course's story of vanishing gradients, where the plain RNN fails once the gap is long and
//!    the gated cells do not.
//! 2. **A character-level language model** of *Alice's Adventures in Wonderland* (`data/alice.txt.gz`): an LSTM
//!    learns to predict the next character, then writes a few lines one character at a time through the
//!    generated streaming `step`.
//!
//! Run with `cargo run --release --example sequence` (about two minutes; `-- gap` or `-- text` runs one part).

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
                /// A vanilla RNN (tanh) reading the sequence, a classifier on its last step.
                pub struct RnnNet<f32> { input: Seq($steps, 1), rnn: Rnn(16, output = last), out: Dense(2) }
            }
            network! {
                /// An LSTM reading the sequence, a classifier on its last step.
                pub struct LstmNet<f32> { input: Seq($steps, 1), lstm: Lstm(16, output = last), out: Dense(2) }
            }
            network! {
                /// A GRU reading the sequence, a classifier on its last step.
                pub struct GruNet<f32> { input: Seq($steps, 1), gru: Gru(16, output = last), out: Dense(2) }
            }
        }
    };
}

gap_models!(short, 30);
gap_models!(long, 50);

/// `n` sequences of `T` steps: the first value is the class's sign, the rest uniform noise in `[-1, 1]`.
fn gap_data<const T: usize>(n: usize, rng: &mut impl Rng) -> Vec<(Vector<f32, T>, Vector<f32, 2>)> {
    (0..n)
        .map(|_| {
            let class = rng.random_range(0..2usize);
            let mut x = Vector::<f32, T>::from_fn(|_, _| rng.random_range(-1.0..1.0));
            x[0] = if class == 1 { 1.0 } else { -1.0 };
            let mut t = Vector::<f32, 2>::zeros();
            t[class] = 1.0;
            (x, t)
        })
        .collect()
}

/// Trains one model on the gap task and returns its test accuracy and the seconds it took.
fn train_gap<N>(train: &[(N::Input, N::Output)], test: &[(N::Input, N::Output)], seed: u64) -> (f64, f64)
where
    N: BatchNetwork<Scalar = f32> + Initialize + Boxed,
{
    let start = Instant::now();
    let mut net = N::boxed_init(&mut seeded_rng(seed));
    let mut opt = Adam::new(3e-3);
    let fit = Trainer::new(&mut *net, &mut opt, SoftmaxCrossEntropy)
        .epochs(25)
        .seed(seed)
        .clip_grad_norm(1.0)
        .fit::<16>(train, &[]);
    if let Err(e) = fit {
        println!("  training stopped: {e}");
    }
    (evaluate::<N, _, 16>(&net, test, &SoftmaxCrossEntropy).accuracy, start.elapsed().as_secs_f64())
}

fn gap_task() {
    println!("Long-gap memory: the class is the sign of the first value, {HIDDEN} hidden units per cell.");
    println!("{:>6}  {:>12}  {:>12}  {:>12}", "steps", "RNN", "LSTM", "GRU");
    let mut rng = seeded_rng(2026);
    {
        let (train, test) = (gap_data::<30>(GAP_TRAIN, &mut rng), gap_data::<30>(GAP_TRAIN / 4, &mut rng));
        let rnn = train_gap::<short::RnnNet>(&train, &test, 1);
        let lstm = train_gap::<short::LstmNet>(&train, &test, 1);
        let gru = train_gap::<short::GruNet>(&train, &test, 1);
        print_row(30, [rnn, lstm, gru]);
    }
    {
        let (train, test) = (gap_data::<50>(GAP_TRAIN, &mut rng), gap_data::<50>(GAP_TRAIN / 4, &mut rng));
        let rnn = train_gap::<long::RnnNet>(&train, &test, 1);
        let lstm = train_gap::<long::LstmNet>(&train, &test, 1);
        let gru = train_gap::<long::GruNet>(&train, &test, 1);
        print_row(50, [rnn, lstm, gru]);
    }
    println!("(test accuracy on unseen sequences, chance is 50%; training seconds in brackets)\n");
}

fn print_row(steps: usize, results: [(f64, f64); 3]) {
    let cells: Vec<String> = results.iter().map(|(a, s)| format!("{:5.1}% ({s:3.0}s)", a * 100.0)).collect();
    println!("{steps:>6}  {:>12}  {:>12}  {:>12}", cells[0], cells[1], cells[2]);
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
    let raw = load_text("data/alice.txt.gz")?.to_lowercase();
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
    let part = std::env::args().nth(1);
    if part.as_deref() != Some("text") {
        gap_task();
    }
    if part.as_deref() != Some("gap") {
        text_task()?;
    }
    Ok(())
}
