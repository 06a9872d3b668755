//! Forward values of the recurrent cells checked against `tests/fixtures/recurrent/recurrent_reference.txt`, an
//! independent numpy implementation with PyTorch semantics (see the `README.md` next to it).
//!
//! Every case runs through the sequence form (every step and last step) and through the streaming form step by
//! step; every value must match to 1e-12 relative to `max(1, |reference|)`. The cells take their sizes as const
//! generics, so the cases dispatch over the explicit list of `(steps, inputs, hidden)` the file uses.

use super::Recurrent;
use crate::activation::{Relu, Tanh};
use crate::buffer::Buffer;
use crate::layer::{Gru, Lstm, Rnn};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use nalgebra::{SMatrix, SVector};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/recurrent/recurrent_reference.txt");
const TOLERANCE: f64 = 1e-12;

/// One block of the file: its name, cell, sizes and named rows of numbers (leading dimensions dropped).
struct Case {
    name: String,
    cell: String,
    steps: usize,
    input: usize,
    hidden: usize,
    rows: Vec<(String, Vec<f64>)>,
}

impl Case {
    fn get(&self, key: &str) -> &[f64] {
        let dims = match key {
            "weight_ih" | "weight_hh" => 2,
            "bias_ih" | "bias_hh" => 1,
            _ => 0,
        };
        let row = self.rows.iter().find(|(k, _)| k == key).unwrap_or_else(|| panic!("{}: no {key}", self.name));
        &row.1[dims..]
    }

    fn matrix<const R: usize, const C: usize>(&self, key: &str) -> SMatrix<f64, R, C> {
        let v = self.get(key);
        assert_eq!(v.len(), R * C, "{}: {key} has {} values", self.name, v.len());
        SMatrix::from_row_slice(v)
    }

    fn vector<const N: usize>(&self, key: &str) -> SVector<f64, N> {
        SVector::from_column_slice(self.get(key))
    }
}

fn parse() -> Vec<Case> {
    let text = std::fs::read_to_string(PATH).unwrap_or_else(|e| panic!("{PATH}: {e}"));
    let mut cases = Vec::new();
    let mut current: Option<Case> = None;
    for line in text.lines() {
        let mut words = line.split(' ');
        match words.next() {
            Some("case") => {
                let (name, cell) = (words.next().unwrap().to_string(), words.next().unwrap().to_string());
                let mut size = || words.next().and_then(|w| w.split('=').nth(1)).unwrap().parse().unwrap();
                let (steps, input, hidden) = (size(), size(), size());
                current = Some(Case { name, cell, steps, input, hidden, rows: Vec::new() });
            }
            Some("end") => cases.push(current.take().expect("end without case")),
            Some(key) => {
                let values = words.map(|w| w.parse::<f64>().unwrap()).collect();
                current.as_mut().expect("values outside a case").rows.push((key.to_string(), values));
            }
            None => {}
        }
    }
    cases
}

fn close(case: &Case, what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{}: {what} length", case.name);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= TOLERANCE * w.abs().max(1.0), "{}: {what}[{i}] = {g}, reference {w}", case.name);
    }
}

/// Runs one case through a cell built from its weights.
fn run<C: Recurrent<f64>, const S: usize, const IN: usize, const H: usize, const OUT: usize>(case: &Case, cell: &C) {
    let x = SVector::<f64, IN>::from_column_slice(case.get("input"));
    let every = cell.forward_sequence::<S, IN, OUT, 1>(&x);
    close(case, "output", every.as_slice(), case.get("output"));
    let last = cell.forward_sequence::<S, IN, H, 1>(&x);
    close(case, "h_n", last.as_slice(), case.get("h_n"));
    let mut state = C::State::zeros();
    for t in 0..S {
        cell.step(&mut state, &x.as_slice()[t * C::INPUT..(t + 1) * C::INPUT]);
        close(case, "streamed output", &state.as_slice()[..H], &case.get("output")[t * H..(t + 1) * H]);
    }
    if case.cell == "lstm" {
        close(case, "c_n", &state.as_slice()[H..2 * H], case.get("c_n"));
    }
}

macro_rules! dispatch {
    ($case:expr, $(($s:literal, $i:literal, $h:literal)),*) => {
        match ($case.steps, $case.input, $case.hidden) {
            $(($s, $i, $h) => {
                let c = $case;
                match c.cell.as_str() {
                    "rnn_tanh" => run::<_, $s, { $s * $i }, $h, { $s * $h }>(c, &Rnn::<f64, $i, $h, Tanh>::new(
                        c.matrix("weight_ih"), c.matrix("weight_hh"), c.vector("bias_ih"), c.vector("bias_hh"))),
                    "rnn_relu" => run::<_, $s, { $s * $i }, $h, { $s * $h }>(c, &Rnn::<f64, $i, $h, Relu>::new(
                        c.matrix("weight_ih"), c.matrix("weight_hh"), c.vector("bias_ih"), c.vector("bias_hh"))),
                    "lstm" => run::<_, $s, { $s * $i }, $h, { $s * $h }>(c, &Lstm::<f64, $i, $h, { 4 * $h }>::new(
                        c.matrix("weight_ih"), c.matrix("weight_hh"), c.vector("bias_ih"), c.vector("bias_hh"))),
                    "gru" => run::<_, $s, { $s * $i }, $h, { $s * $h }>(c, &Gru::<f64, $i, $h, { 3 * $h }>::new(
                        c.matrix("weight_ih"), c.matrix("weight_hh"), c.vector("bias_ih"), c.vector("bias_hh"))),
                    other => panic!("{}: unknown cell {other}", c.name),
                }
            })*
            other => panic!("{}: sizes {other:?} are not in the dispatch list", $case.name),
        }
    };
}

#[test]
fn every_cell_matches_the_numpy_reference() {
    let cases = parse();
    for cell in ["rnn_tanh", "rnn_relu", "lstm", "gru"] {
        assert_eq!(cases.iter().filter(|c| c.cell == cell).count(), 8, "{cell} cases");
    }
    for case in &cases {
        dispatch!(case, (1, 1, 1), (3, 1, 2), (5, 3, 4), (7, 2, 8), (12, 1, 16), (4, 5, 3), (20, 2, 5), (8, 3, 4));
    }
}
