//! The course's opening story: a single perceptron (one dense layer of step units) learns AND and OR with
//! Rosenblatt's rule in a finite number of updates, never settles on XOR, and a two-layer network of the same
//! units computes XOR (with the lecture's weights; `xor.rs` trains one by backpropagation).

use nn_core::classic::{Hebb, Perceptron};
use nn_core::prelude::*;

network! {
    /// One threshold unit on two inputs.
    struct Unit<f64> { input: 2, unit: Dense(1), Step }
}

network! {
    /// Two layers of threshold units: OR and NAND, then AND of the two.
    struct TwoLayers<f64> { input: 2, hidden: Dense(2), Step, out: Dense(1), Step }
}

network! {
    /// A bipolar unit for Hebb's rule.
    struct Bipolar<f64> { input: 2, unit: Dense(1), Sign }
}

const INPUTS: [[f64; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];

fn table(f: fn(bool, bool) -> bool) -> Vec<(Vector<f64, 2>, Vector<f64, 1>)> {
    INPUTS
        .iter()
        .map(|&[a, b]| (Vector::from([a, b]), Vector::from([f64::from(u8::from(f(a > 0.5, b > 0.5)))])))
        .collect()
}

/// Every weight and bias at zero, the textbook start.
fn fresh<N: Boxed>() -> Box<N> {
    N::boxed_zeroed()
}

#[test]
fn and_and_or_converge_xor_does_not() {
    let rule = Perceptron::new(1.0, 500);
    for (name, f, updates) in [("and", (|a, b| a && b) as fn(bool, bool) -> bool, 11), ("or", |a, b| a || b, 5)] {
        let data = table(f);
        let mut net = fresh::<Unit>();
        let report = rule.fit(&mut net.unit, Step::default(), &data);
        assert!(report.converged, "{name}: {report:?}");
        assert_eq!(report.updates, updates, "{name}");
        // The generated network runs the trained unit.
        for (x, t) in &data {
            assert_eq!(net.forward(x), *t, "{name}{x:?}");
        }
    }
    let xor = table(|a, b| a != b);
    let mut net = fresh::<Unit>();
    let report = rule.fit(&mut net.unit, Step::default(), &xor);
    assert!(!report.converged && report.epochs == 500 && report.errors > 0, "{report:?}");
    assert!(xor.iter().any(|(x, t)| net.forward(x) != *t));
}

#[test]
fn two_layers_of_step_units_compute_xor_with_the_lecture_weights() {
    let mut net = fresh::<TwoLayers>();
    // sigma(20 a + 20 b - 10) is OR, sigma(-20 a - 20 b + 30) is NAND, sigma(20 h1 + 20 h2 - 30) is AND.
    net.hidden.weight.copy_from_slice(&[20.0, -20.0, 20.0, -20.0]);
    net.hidden.bias.copy_from_slice(&[-10.0, 30.0]);
    net.out.weight.copy_from_slice(&[20.0, 20.0]);
    net.out.bias[0] = -30.0;
    for (x, t) in table(|a, b| a != b) {
        assert_eq!(net.forward(&x), t, "xor{x:?}");
    }
}

#[test]
fn hebb_rule_on_a_generated_bipolar_unit() {
    let data: Vec<_> = [(-1.0, -1.0, -1.0), (-1.0, 1.0, -1.0), (1.0, -1.0, -1.0), (1.0, 1.0, 1.0)]
        .map(|(a, b, t)| (Vector::from([a, b]), Vector::from([t])))
        .into();
    let mut net = fresh::<Bipolar>();
    Hebb::new(1.0).fit(&mut net.unit, &data);
    assert_eq!(net.unit.weight.as_slice(), &[2.0, 2.0]);
    assert_eq!(net.unit.bias[0], -2.0);
    for (x, t) in &data {
        assert_eq!(net.forward(x), *t);
    }
}
