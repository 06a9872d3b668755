//! The lectures' hand-computed backpropagation examples, reproduced to the printed digits.

use nn_core::nalgebra::{self, matrix, vector};
use nn_core::prelude::*;

network! {
    /// The 2-2-2 sigmoid network of the worked example (inputs 0.05/0.10, targets 0.01/0.99).
    struct Lecture222<f64> {
        input: 2,
        hidden: Dense(2), Sigmoid,
        out: Dense(2), Sigmoid,
    }
}

/// `|actual - printed| <= half a unit in the printed number's last digit`.
fn assert_printed(actual: f64, printed: &str) {
    let decimals = printed.split('.').nth(1).map_or(0, str::len);
    let tol = 0.5 * 10f64.powi(-(decimals as i32));
    let p: f64 = printed.parse().unwrap();
    assert!((actual - p).abs() <= tol, "{actual} differs from the printed {printed} by more than {tol}");
}

#[test]
fn two_two_two_sigmoid_network_matches_every_printed_number() {
    let mut net = Lecture222::zeroed();
    // Rows are the receiving neurons: h1 gets w1 (from i1) and w2 (from i2), h2 gets w3 and w4.
    net.hidden.weight = matrix![0.15, 0.20; 0.25, 0.30];
    net.hidden.bias = vector![0.35, 0.35];
    net.out.weight = matrix![0.40, 0.45; 0.50, 0.55];
    net.out.bias = vector![0.60, 0.60];
    let x = vector![0.05, 0.10];
    let t = vector![0.01, 0.99];
    // Named parameter access through the visitor, with PyTorch's names and shapes.
    let names: Vec<String> = (0..Lecture222::TENSORS).map(|i| net.tensor(i).unwrap().name.to_string()).collect();
    assert_eq!(names, ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]);
    let w = net.tensor_named("out.weight").unwrap();
    assert_eq!((w.rows, w.cols, w.data), (2, 2, &[0.40, 0.50, 0.45, 0.55][..]));
    assert!(net.tensor_named("out.gamma").is_none());

    let (y, cache) = net.forward_train(&x, &mut seeded_rng(0));
    assert_printed(cache.x2[0], "0.593269992"); // out_h1
    assert_printed(cache.x2[1], "0.596884378"); // out_h2
    assert_printed(cache.x3[0], "1.105905967"); // net_o1
    assert_printed(y[0], "0.75136507");
    assert_printed(y[1], "0.772928465");
    assert_printed(HalfSquaredError.value(&y, &t), "0.298371109");

    let mut grads = Lecture222::zeroed();
    net.backward(&cache, &HalfSquaredError.gradient(&y, &t), &mut grads);
    assert_printed(grads.out.weight[(0, 0)], "0.082167041"); // dE/dw5
    assert_printed(grads.hidden.weight[(0, 0)], "0.000438568"); // dE/dw1

    Sgd::new(0.5).step(&mut net, &grads);
    assert_printed(net.out.weight[(0, 0)], "0.35891648"); // w5+
    assert_printed(net.out.weight[(0, 1)], "0.408666186"); // w6+
    assert_printed(net.out.weight[(1, 0)], "0.511301270"); // w7+
    assert_printed(net.out.weight[(1, 1)], "0.561370121"); // w8+
    assert_printed(net.hidden.weight[(0, 0)], "0.149780716"); // w1+
    assert_printed(net.hidden.weight[(0, 1)], "0.19956143"); // w2+
    assert_printed(net.hidden.weight[(1, 0)], "0.24975114"); // w3+
    assert_printed(net.hidden.weight[(1, 1)], "0.29950229"); // w4+
}

network! {
    /// The 2-2-1 sigmoid network without biases (inputs 0.35/0.9, target 0.5, learning rate 1).
    struct Lecture221<f64> {
        input: 2,
        hidden: Dense(2, bias = false), Sigmoid,
        out: Dense(1, bias = false), Sigmoid,
    }
}

/// The lecture rounds the output delta to -0.0406 and multiplies the hidden deltas by the output weights it has
/// *already updated* (0.272392 and 0.87305), so its hidden weights differ from exact backpropagation in the
/// fourth decimal. Exact backprop (the original output weights) lands within 1e-3 of every printed weight.
#[test]
fn two_two_one_network_matches_the_printed_numbers_within_the_lectures_rounding() {
    let mut net = Lecture221::zeroed();
    // Top hidden neuron: 0.1 from x1, 0.8 from x2; bottom: 0.4 from x1, 0.6 from x2; output: 0.3 and 0.9.
    net.hidden.weight = matrix![0.1, 0.8; 0.4, 0.6];
    net.out.weight = matrix![0.3, 0.9];
    let x = vector![0.35, 0.9];
    let t = vector![0.5];

    let (y, cache) = net.forward_train(&x, &mut seeded_rng(0));
    assert_printed(cache.x2[0], "0.68");
    assert_printed(cache.x2[1], "0.6637");
    assert_printed(y[0], "0.69");
    assert!((cache.x3[0] - 0.80133).abs() < 1e-3, "net input of the output neuron {}", cache.x3[0]);

    let mut grads = Lecture221::zeroed();
    net.backward(&cache, &HalfSquaredError.gradient(&y, &t), &mut grads);
    Sgd::new(1.0).step(&mut net, &grads);

    let within = |actual: f64, printed: f64| {
        assert!((actual - printed).abs() < 1e-3, "{actual} is not within 1e-3 of the printed {printed}");
    };
    within(net.out.weight[(0, 0)], 0.272392);
    within(net.out.weight[(0, 1)], 0.87305);
    within(net.hidden.weight[(0, 0)], 0.09916);
    within(net.hidden.weight[(0, 1)], 0.7978);
    within(net.hidden.weight[(1, 0)], 0.3972);
    within(net.hidden.weight[(1, 1)], 0.5928);

    // (iii) The error t - o shrinks from -0.19 to -0.18205.
    let after = net.forward(&x)[0];
    within(t[0] - after, -0.18205);
}
