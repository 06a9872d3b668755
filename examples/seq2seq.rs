//! An encoder-decoder with attention learns to reverse strings of 8 digits.
//!
//! A GRU encoder (a `network!` reading one-hot digits) writes one state per input digit; a GRU decoder
//! (`nn_core::seq2seq::Decoder`) writes the reversed string digit by digit, attending to every encoder state with
//! additive (Bahdanau) attention, trained with teacher forcing and Adam on random strings. Greedy decoding is then
//! scored on 1,000 held-out strings that never appear in training: exact match (the whole string right) and
//! per-digit accuracy. The attention weights of one held-out string are drawn as a heat map, output steps down
//! and input positions across: reversing shows as the anti-diagonal, output step `t` reading input `7 - t`. The
//! run fails (exit status 1) if fewer than 95% of the held-out strings come out exactly right.
//!
//! Run with `cargo run --release --example seq2seq` (about ten seconds on one core); the heat map is written to
//! `seq2seq_attention.png` in the examples' output folder (`--out DIR` to choose another).

use nn_core::layer::{AdditiveAttention, Gru, Tokens};
use nn_core::optim::clip_grad_norm;
use nn_core::prelude::*;
use nn_core::rand::seq::SliceRandom;
use nn_core::rand::{Rng, RngExt};
use nn_core::seq2seq::{Decoded, Decoder, Seq2Seq};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};
use std::collections::HashSet;
use std::error::Error;
use std::path::Path;
use std::time::Instant;

/// Digits per string.
const LEN: usize = 8;
/// The vocabulary: the digits 0-9.
const DIGITS: usize = 10;
/// Hidden units of the encoder and of the decoder (the decoder starts from the encoder's last state).
const HIDDEN: usize = 32;
/// Values per digit embedding the decoder reads.
const EMBED: usize = 16;
/// Hidden units of the attention's scoring layer.
const ATTENTION: usize = 32;
/// Training strings, drawn once.
const TRAIN: usize = 10_000;
/// Held-out strings, none of them in the training set.
const TEST: usize = 1_000;
/// Passes over the training set.
const EPOCHS: usize = 6;
/// Strings per Adam step (their gradients averaged).
const BATCH: usize = 32;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 3e-3;
/// Held-out exact match below which the run fails.
const REQUIRED: f64 = 0.95;

network! {
    /// Reads 8 one-hot digits; returns the GRU's state after each, 8 x 32 values.
    pub struct Encoder<f32> { input: Seq(LEN, DIGITS), gru: Gru(HIDDEN) }
}

/// The decoder: a GRU reading `[embedding of the previous digit; context]`, additive attention from its previous
/// state over the 8 encoder states, and a dense layer from `[state; context]` to the 10 digits' logits.
type Reverser = Decoder<
    f32,
    Gru<f32, { EMBED + HIDDEN }, HIDDEN, { 3 * HIDDEN }>,
    AdditiveAttention<f32, HIDDEN, HIDDEN, ATTENTION>,
    DIGITS,
    EMBED,
    HIDDEN,
    HIDDEN,
    { 2 * HIDDEN },
>;

/// The whole model; its gradients and Adam's moments are values of the same type.
type Model = Seq2Seq<Encoder, Reverser>;

/// One string of digits.
type Digits = [usize; LEN];

/// `n` random strings, none of them in `exclude` and no two alike.
fn strings(n: usize, exclude: &HashSet<Digits>, rng: &mut impl Rng) -> Vec<Digits> {
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let s: Digits = std::array::from_fn(|_| rng.random_range(0..DIGITS));
        if !exclude.contains(&s) && seen.insert(s) {
            out.push(s);
        }
    }
    out
}

/// The encoder's input: each digit one-hot, time-major.
fn one_hot(s: &Digits) -> Vector<f32, { LEN * DIGITS }> {
    Vector::from_fn(|i, _| if s[i / DIGITS] == i % DIGITS { 1.0 } else { 0.0 })
}

/// The target: the string reversed.
fn reversed(s: &Digits) -> Tokens<LEN, DIGITS> {
    let mut r = *s;
    r.reverse();
    Tokens::new(r).expect("digits are below 10")
}

/// Exact-match and per-digit accuracy of greedy decoding on `strings`.
fn accuracy(model: &Model, strings: &[Digits]) -> (f64, f64) {
    let (mut exact, mut digits) = (0, 0);
    for s in strings {
        let out: Decoded<f32, LEN, LEN> = model.translate(&one_hot(s));
        let right = out.tokens.iter().zip(reversed(s).ids()).filter(|(a, b)| a == b).count();
        digits += right;
        exact += usize::from(right == LEN);
    }
    (exact as f64 / strings.len() as f64, digits as f64 / (strings.len() * LEN) as f64)
}

fn main() -> Result<(), Box<dyn Error>> {
    let start = Instant::now();
    let mut rng = seeded_rng(2026);
    let test = strings(TEST, &HashSet::new(), &mut rng);
    let train = strings(TRAIN, &test.iter().copied().collect(), &mut rng);
    let (inputs, targets): (Vec<_>, Vec<_>) = train.iter().map(|s| (one_hot(s), reversed(s))).unzip();

    let mut model: Box<Model> = nn_core::boxed_zeroed();
    model.init(&mut seeded_rng(1));
    // The decoder's GRU with its update gate's bias at 1, as `network!` starts the encoder's.
    model.decoder.cell.init(&mut seeded_rng(2));
    let mut grads: Box<Model> = nn_core::boxed_zeroed();
    let mut adam = Adam::new(LEARNING_RATE);
    let mut cache = Model::cache::<LEN, LEN>();
    println!(
        "Reversing strings of {LEN} digits: GRU encoder and decoder of {HIDDEN} units, additive attention, {} \
         parameters; {TRAIN} training strings, {TEST} held out.",
        model.param_count()
    );

    let mut order: Vec<usize> = (0..TRAIN).collect();
    for epoch in 1..=EPOCHS {
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for batch in order.chunks(BATCH) {
            grads.fill(0.0);
            for &i in batch {
                total += f64::from(model.backprop(&inputs[i], &targets[i], &mut cache, &mut grads, &mut rng));
            }
            let scale = 1.0 / batch.len() as f32;
            grads.visit_mut(|t| t.data.iter_mut().for_each(|g| *g *= scale));
            clip_grad_norm(&mut *grads, 1.0);
            adam.step(&mut *model, &grads);
        }
        let (exact, _) = accuracy(&model, &test[..200]);
        println!(
            "epoch {epoch}: training loss {:.4}, exact match on 200 held-out strings {:5.1}% ({:.1} s)",
            total / TRAIN as f64,
            exact * 100.0,
            start.elapsed().as_secs_f64()
        );
    }

    let (exact, per_digit) = accuracy(&model, &test);
    println!(
        "Held out ({TEST} strings): exact match {:.2}%, per-digit accuracy {:.2}%",
        exact * 100.0,
        per_digit * 100.0
    );

    let example = test[0];
    let out: Decoded<f32, LEN, LEN> = model.translate(&one_hot(&example));
    let diagonal: f32 = (0..LEN).map(|t| out.weights[(LEN - 1 - t, t)]).sum::<f32>() / LEN as f32;
    let path = nn_examples::paths::output("seq2seq_attention.png")?;
    draw_heat_map(&path, &example, &out)?;
    println!(
        "Attention for {} -> {}: mean weight on the anti-diagonal {diagonal:.3}; heat map in {}",
        text(&example),
        text(&out.tokens),
        path.display()
    );
    println!("Total time {:.1} s", start.elapsed().as_secs_f64());
    if exact < REQUIRED {
        return Err(format!("held-out exact match {:.2}% is below {:.0}%", exact * 100.0, REQUIRED * 100.0).into());
    }
    Ok(())
}

/// The digits as a string.
fn text(s: &[usize]) -> String {
    s.iter().map(|d| char::from(b'0' + *d as u8)).collect()
}

/// DejaVu Sans (Bitstream Vera licence, see `assets/DejaVuSans-LICENSE.txt`), so no system font is needed.
const FONT: &[u8] = include_bytes!("assets/DejaVuSans.ttf");

/// Writes the attention weights of one string as a PNG: a row per output step, a column per input position, darker
/// for more weight, each cell labelled with its weight in percent; the input digits above, the output digits left.
fn draw_heat_map(path: &Path, input: &Digits, out: &Decoded<f32, LEN, LEN>) -> Result<(), Box<dyn Error>> {
    const CELL: i32 = 56;
    const LEFT: i32 = 150;
    const TOP: i32 = 120;
    let n = LEN as i32;
    if register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
        return Err("the bundled font DejaVuSans.ttf could not be loaded".into());
    }
    let size = ((LEFT + n * CELL + 30) as u32, (TOP + n * CELL + 60) as u32);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let centred = |px| TextStyle::from(("sans-serif", px)).color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
    let title = format!("Attention while reversing {}", text(input));
    root.draw_text(&title, &centred(24), (size.0 as i32 / 2, 28))?;
    root.draw_text("input position (digit)", &centred(17), (LEFT + n * CELL / 2, 64))?;
    let right = TextStyle::from(("sans-serif", 17)).color(&BLACK).pos(Pos::new(HPos::Right, VPos::Center));
    root.draw_text("output step", &right, (LEFT - 58, TOP - 18))?;
    for i in 0..n {
        let x = LEFT + i * CELL + CELL / 2;
        root.draw_text(&format!("{i} ({})", input[i as usize]), &centred(16), (x, TOP - 18))?;
    }
    for t in 0..n {
        let y = TOP + t * CELL + CELL / 2;
        root.draw_text(&format!("{t} ({})", out.tokens[t as usize]), &right, (LEFT - 12, y))?;
        for i in 0..n {
            let w = out.weights[(i as usize, t as usize)].clamp(0.0, 1.0);
            let shade = |full: f32| (255.0 - (255.0 - full) * w).round() as u8;
            let (x0, y0) = (LEFT + i * CELL, TOP + t * CELL);
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + CELL, y0 + CELL)],
                RGBColor(shade(8.0), shade(48.0), shade(107.0)).filled(),
            ))?;
            root.draw(&Rectangle::new([(x0, y0), (x0 + CELL, y0 + CELL)], RGBColor(200, 200, 200)))?;
            let ink = if w > 0.5 { WHITE } else { BLACK };
            let label = TextStyle::from(("sans-serif", 14)).color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
            root.draw_text(&format!("{:.0}", w * 100.0), &label, (x0 + CELL / 2, y0 + CELL / 2))?;
        }
    }
    let note = "weights in percent; each row sums to 100";
    root.draw_text(note, &centred(15), (LEFT + n * CELL / 2, TOP + n * CELL + 30))?;
    root.present().map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(())
}
