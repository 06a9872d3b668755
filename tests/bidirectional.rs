//! Bidirectional recurrent layers declared with `network!` against `tests/fixtures/recurrent/
//! bidirectional_reference.txt`, an independent numpy implementation of PyTorch's `bidirectional=True` (one and
//! two layers; see `make_bidirectional_reference.py`): every step's output and both directions' final states,
//! to 1e-12, with the weights set through the tensors' PyTorch names.

use nn_core::prelude::*;
use nn_core::{Network, Parameters};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/recurrent/bidirectional_reference.txt");
const TOLERANCE: f64 = 1e-12;

/// One case of the file: its name and its rows of numbers by key (the sizes before a tensor's values dropped).
struct Case {
    name: String,
    rows: Vec<(String, Vec<f64>)>,
}

impl Case {
    fn get(&self, key: &str) -> &[f64] {
        let row = self.rows.iter().find(|(k, _)| k == key).unwrap_or_else(|| panic!("{}: no {key}", self.name));
        &row.1
    }
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(PATH).expect("the fixture file");
    let mut cases = Vec::new();
    for block in text.split("end\n").filter(|b| !b.trim().is_empty()) {
        let mut lines = block.lines();
        let head: Vec<&str> = lines.next().expect("a header").split(' ').collect();
        let rows = lines
            .map(|line| {
                let mut tokens = line.split(' ');
                let key = tokens.next().expect("a key").to_string();
                let dims = if key.starts_with("weight") {
                    2
                } else if key.starts_with("bias") {
                    1
                } else {
                    0
                };
                let values: Vec<f64> = tokens.skip(dims).map(|v| v.parse().expect("a number")).collect();
                (key, values)
            })
            .collect();
        cases.push(Case { name: head[1].to_string(), rows });
    }
    cases
}

/// Sets every tensor of `net` from the case by its name within the layer (`weight_ih_l1_reverse`), converting
/// PyTorch's row-major matrices.
fn load<N: Parameters<f64>>(net: &mut N, case: &Case) -> usize {
    let mut set = 0;
    for i in 0..N::TENSORS {
        let t = net.tensor_mut(i).expect("a tensor");
        let values = case.get(t.name.tensor);
        assert_eq!(values.len(), t.data.len(), "{}: {}", case.name, t.name.tensor);
        for r in 0..t.rows {
            for c in 0..t.cols {
                t.data[c * t.rows + r] = values[r * t.cols + c];
            }
        }
        set += 1;
    }
    set
}

/// The largest difference relative to `max(1, |reference|)`.
fn worst(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter().zip(want).map(|(g, w)| (g - w).abs() / w.abs().max(1.0)).fold(0.0, f64::max)
}

/// For a case: a network returning every step and one returning the last, both checked against the file.
macro_rules! case {
    ($test:ident, $case:literal, $cell:ident, $steps:literal, $inputs:literal, $hidden:literal, $layers:literal) => {
        #[test]
        fn $test() {
            network! {
                struct Every<f64> {
                    input: Seq($steps, $inputs),
                    rnn: $cell($hidden, bidirectional = true, layers = $layers),
                }
            }
            network! {
                struct Last<f64> {
                    input: Seq($steps, $inputs),
                    rnn: $cell($hidden, bidirectional = true, layers = $layers, output = last),
                }
            }
            let case = cases().into_iter().find(|c| c.name == $case).expect("the case is in the file");
            let x = Vector::<f64, { $steps * $inputs }>::from_column_slice(case.get("input"));
            let mut every = Every::boxed_zeroed();
            assert_eq!(load(&mut *every, &case), 8 * $layers);
            let y = every.forward(&x);
            let e = worst(y.as_slice(), case.get("output"));
            assert!(e <= TOLERANCE, "{}: every step off by {e:e}", case.name);
            let mut last = Last::boxed_zeroed();
            load(&mut *last, &case);
            // h_n: per layer, the forward direction's final state then the reverse direction's; the top layer's
            // pair is what `output = last` returns.
            let h_n = case.get("h_n");
            let top = &h_n[h_n.len() - 2 * $hidden..];
            let e = worst(last.forward(&x).as_slice(), top);
            assert!(e <= TOLERANCE, "{}: last step off by {e:e}", case.name);
            // The training forward agrees with inference (the GRU's inference sums its two sides in another
            // order: last bits only).
            let (y_train, _) = every.forward_train(&x, &mut seeded_rng(0));
            assert!(worst(y_train.as_slice(), y.as_slice()) < 1e-14, "{}", case.name);
        }
    };
}

case!(rnn_1_step, "rnn_tanh_s1_i2_h3_l1", Rnn, 1, 2, 3, 1);
case!(rnn_4_steps, "rnn_tanh_s4_i3_h2_l1", Rnn, 4, 3, 2, 1);
case!(rnn_6_steps, "rnn_tanh_s6_i2_h4_l1", Rnn, 6, 2, 4, 1);
case!(rnn_two_layers, "rnn_tanh_s5_i3_h3_l2", Rnn, 5, 3, 3, 2);
case!(rnn_two_layers_7_steps, "rnn_tanh_s7_i1_h2_l2", Rnn, 7, 1, 2, 2);
case!(lstm_1_step, "lstm_s1_i2_h3_l1", Lstm, 1, 2, 3, 1);
case!(lstm_4_steps, "lstm_s4_i3_h2_l1", Lstm, 4, 3, 2, 1);
case!(lstm_6_steps, "lstm_s6_i2_h4_l1", Lstm, 6, 2, 4, 1);
case!(lstm_two_layers, "lstm_s5_i3_h3_l2", Lstm, 5, 3, 3, 2);
case!(lstm_two_layers_7_steps, "lstm_s7_i1_h2_l2", Lstm, 7, 1, 2, 2);
case!(gru_1_step, "gru_s1_i2_h3_l1", Gru, 1, 2, 3, 1);
case!(gru_4_steps, "gru_s4_i3_h2_l1", Gru, 4, 3, 2, 1);
case!(gru_6_steps, "gru_s6_i2_h4_l1", Gru, 6, 2, 4, 1);
case!(gru_two_layers, "gru_s5_i3_h3_l2", Gru, 5, 3, 3, 2);
case!(gru_two_layers_7_steps, "gru_s7_i1_h2_l2", Gru, 7, 1, 2, 2);

#[test]
fn every_case_of_the_file_is_checked() {
    assert_eq!(cases().len(), 15);
}
