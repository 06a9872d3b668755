//! A Hopfield network as a content-addressable memory: six letters drawn as 10x10 bitmaps are stored by Hebb's
//! rule, then recovered from noisy copies by asynchronous recall (each noisy letter printed next to what the
//! network made of it), and the capacity limit is measured: the fraction of random patterns (N = 100 units)
//! recalled exactly from copies with 20% of their bits flipped, against the number of patterns stored, which
//! collapses past about 0.14 N.
//!
//! ```text
//! cargo run --release --example hopfield
//! ```
//!
//! The run fails (exit status 1) if recall at 0.05 N is below 95%, or at 0.25 N not below 50%.

use nn_core::classic::{Hopfield, flip_random, random_bipolar};
use nn_core::{Vector, seeded_rng};
use std::error::Error;

const SIDE: usize = 10;
const N: usize = SIDE * SIDE;
const SEED: u64 = 7;
/// Bits flipped in a noisy copy: 20%.
const NOISE: usize = N / 5;
/// Networks of random patterns per point of the capacity curve.
const TRIALS: usize = 40;
const MAX_SWEEPS: usize = 100;

const LETTERS: [(char, [&str; SIDE]); 6] = [
    (
        'A',
        [
            "....##....",
            "...####...",
            "..##..##..",
            ".##....##.",
            ".##....##.",
            ".########.",
            ".########.",
            ".##....##.",
            ".##....##.",
            ".##....##.",
        ],
    ),
    (
        'C',
        [
            "..######..",
            ".########.",
            "##......##",
            "##........",
            "##........",
            "##........",
            "##........",
            "##......##",
            ".########.",
            "..######..",
        ],
    ),
    (
        'H',
        [
            "##......##",
            "##......##",
            "##......##",
            "##......##",
            "##########",
            "##########",
            "##......##",
            "##......##",
            "##......##",
            "##......##",
        ],
    ),
    (
        'L',
        [
            ".##.......",
            ".##.......",
            ".##.......",
            ".##.......",
            ".##.......",
            ".##.......",
            ".##.......",
            ".##.......",
            ".########.",
            ".########.",
        ],
    ),
    (
        'T',
        [
            "##########",
            "##########",
            "....##....",
            "....##....",
            "....##....",
            "....##....",
            "....##....",
            "....##....",
            "....##....",
            "....##....",
        ],
    ),
    (
        'X',
        [
            "##......##",
            ".##....##.",
            "..##..##..",
            "...####...",
            "....##....",
            "....##....",
            "...####...",
            "..##..##..",
            ".##....##.",
            "##......##",
        ],
    ),
];

/// A bitmap as a bipolar pattern, row by row: `#` is +1, `.` is -1.
fn pattern(rows: &[&str; SIDE]) -> Vector<f64, N> {
    Vector::from_fn(|k, _| if rows[k / SIDE].as_bytes()[k % SIDE] == b'#' { 1.0 } else { -1.0 })
}

/// Row `r` of a pattern as text.
fn row(p: &Vector<f64, N>, r: usize) -> String {
    (0..SIDE).map(|c| if p[r * SIDE + c] > 0.0 { '#' } else { '.' }).collect()
}

/// The fraction of `stored` random patterns recalled exactly from copies with `NOISE` bits flipped, over
/// `TRIALS` networks.
fn recall_rate(stored: usize, rng: &mut nn_core::SeededRng) -> f64 {
    let mut recalled = 0;
    for _ in 0..TRIALS {
        let patterns: Vec<Vector<f64, N>> = (0..stored).map(|_| random_bipolar(rng)).collect();
        let net = Hopfield::from_patterns(&patterns);
        for p in &patterns {
            let mut s = flip_random(p, NOISE, rng);
            net.recall_async(&mut s, rng, MAX_SWEEPS);
            recalled += usize::from(s == *p);
        }
    }
    recalled as f64 / (stored * TRIALS) as f64
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut rng = seeded_rng(SEED);

    let letters: Vec<(char, Vector<f64, N>)> = LETTERS.iter().map(|(c, rows)| (*c, pattern(rows))).collect();
    let net = Hopfield::from_patterns(&letters.iter().map(|(_, p)| *p).collect::<Vec<_>>());
    println!(
        "{} letters stored in {N} units; each shown with {}% of its pixels flipped, then recalled:\n",
        letters.len(),
        100 * NOISE / N
    );
    let mut exact = 0;
    for (letter, p) in &letters {
        let noisy = flip_random(p, NOISE, &mut rng);
        let mut s = noisy;
        let report = net.recall_async(&mut s, &mut rng, MAX_SWEEPS);
        let ok = s == *p;
        exact += usize::from(ok);
        println!(
            "{letter}: energy {:.0} -> {:.0}, {} sweeps, {}",
            net.energy(&noisy),
            net.energy(&s),
            report.steps,
            if ok { "recalled exactly" } else { "not recalled exactly" }
        );
        for r in 0..SIDE {
            println!("  {}   {}   {}", row(&noisy, r), if r == SIDE / 2 { "->" } else { "  " }, row(&s, r));
        }
        println!();
    }
    println!("letters recalled exactly: {exact} of {}\n", letters.len());

    println!("capacity: random patterns, N = {N}, {}% of bits flipped, {TRIALS} networks per row", 100 * NOISE / N);
    println!("stored  recall");
    let mut rates = vec![0.0; 31];
    for stored in 1..=30 {
        let rate = recall_rate(stored, &mut rng);
        rates[stored] = rate;
        let mark = if stored * 100 == 14 * N { "  <- 0.14 N" } else { "" };
        println!("{stored:>6}  {:>5.1}%  {:<50}{mark}", 100.0 * rate, "#".repeat((50.0 * rate).round() as usize));
    }
    let (low, high) = (rates[N / 20], rates[N / 4]);
    println!(
        "\nrecall at 0.05 N: {:.1}%, at 0.14 N: {:.1}%, at 0.25 N: {:.1}%",
        100.0 * low,
        100.0 * rates[14 * N / 100],
        100.0 * high
    );
    if low < 0.95 {
        return Err(format!("recall at 0.05 N is {:.1}%, below 95%", 100.0 * low).into());
    }
    if high >= 0.5 {
        return Err(format!("recall at 0.25 N is {:.1}%, not below 50%", 100.0 * high).into());
    }
    Ok(())
}
