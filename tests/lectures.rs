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

network! {
    /// The two-layer ReLU network that solves XOR (004 line 168): `y = w^T max{0, W^T x + c} + b`.
    struct ReluXor<f64> {
        input: 2,
        hidden: Dense(2), Relu,
        out: Dense(1),
    }
}

/// 004_4ba8673ed523e0cc.txt lines 166-195: every matrix the notes print, the four samples as the rows of `X` (here
/// the columns of a batch). The notes print `w = [0, -2]` (line 168) but `y = [0, 1, 1, 0]` (line 195); the
/// printed `w` gives `[0, 0, 0, -2]` instead, and `w = [1, -2]` gives the printed `y`.
#[test]
fn relu_xor_network_matches_every_printed_matrix() {
    let mut net = ReluXor::zeroed();
    net.hidden.weight = matrix![1.0, 1.0; 1.0, 1.0]; // W^T, W as printed on line 168 (symmetric)
    net.hidden.bias = vector![0.0, -1.0]; // c
    net.out.weight = matrix![0.0, -2.0]; // w^T as printed on line 168
    net.out.bias = vector![0.0]; // b
    // Line 174: X, one sample per row; transposed, one per column.
    let x: nalgebra::SMatrix<f64, 2, 4> = matrix![0.0, 0.0; 0.0, 1.0; 1.0, 0.0; 1.0, 1.0].transpose();

    // Line 178: XW, the first layer's product before its bias.
    let xw = nn_core::layer::DenseNoBias::without_bias(net.hidden.weight).forward(&x).transpose();
    assert_eq!(xw, matrix![0.0, 0.0; 1.0, 1.0; 1.0, 1.0; 2.0, 2.0]);

    let (y, cache) = net.forward_train_batch::<4, _>(&x, &mut seeded_rng(0));
    // Line 182: XW + c.
    assert_eq!(cache.x1.transpose(), matrix![0.0, -1.0; 1.0, 0.0; 1.0, 0.0; 2.0, 1.0]);
    // Line 188: max{0, XW + c}.
    assert_eq!(cache.x2.transpose(), matrix![0.0, 0.0; 1.0, 0.0; 1.0, 0.0; 2.0, 1.0]);
    // With the printed w = [0, -2] the output is not the printed y.
    assert_eq!(y, matrix![0.0, 0.0, 0.0, -2.0]);

    // Line 195: y = [0, 1, 1, 0], XOR of each row, with w = [1, -2].
    net.out.weight = matrix![1.0, -2.0];
    assert_eq!(net.forward_batch::<4>(&x), matrix![0.0, 1.0, 1.0, 0.0]);
}

network! {
    /// The sigmoid network of 003 lines 394-418: OR and NAND units, then AND of the two.
    struct SigmoidXor<f64> {
        input: 2,
        hidden: Dense(2), Sigmoid,
        out: Dense(1), Sigmoid,
    }
}

/// 003_35247b0fbe72c116.txt lines 394-418: `sigma(20 x1 + 20 x2 - 10)` (OR, lines 394-400),
/// `sigma(-20 x1 - 20 x2 + 30)` (NAND, lines 402-408) and `sigma(20 h1 + 20 h2 - 30)` (AND, lines 411-418), each
/// printed as `~ 0` or `~ 1`. Every value is asserted to the printed integer (within 1/2), and also within 1e-4 of it (the units sit at
/// `sigma(+-10)` or beyond, `4.54e-5` from their limits).
#[test]
fn sigmoid_twenty_xor_network_matches_the_printed_values() {
    let mut net = SigmoidXor::zeroed();
    net.hidden.weight = matrix![20.0, 20.0; -20.0, -20.0];
    net.hidden.bias = vector![-10.0, 30.0];
    net.out.weight = matrix![20.0, 20.0];
    net.out.bias = vector![-30.0];
    let near = |actual: f64, printed: &str| {
        assert_printed(actual, printed);
        let p: f64 = printed.parse().unwrap();
        assert!((actual - p).abs() < 1e-4, "{actual} is not within 1e-4 of the printed {printed}");
    };
    // (x1, x2, OR as printed, NAND as printed, output as printed), in the order of each printed group.
    // OR: lines 394 (0,0), 396 (1,1), 398 (0,1), 400 (1,0). NAND: lines 402 (0,0), 404 (1,1), 406 (0,1), 408 (1,0).
    // Output: line 411 (0,0: h = 0,1), 413 (1,1: h = 1,0), 415 (0,1: h = 1,1), 418 (1,0: h = 1,1).
    let rows =
        [(0.0, 0.0, "0", "1", "0"), (1.0, 1.0, "1", "0", "0"), (0.0, 1.0, "1", "1", "1"), (1.0, 0.0, "1", "1", "1")];
    for (x1, x2, or, nand, out) in rows {
        let (y, cache) = net.forward_train(&vector![x1, x2], &mut seeded_rng(0));
        near(cache.x2[0], or);
        near(cache.x2[1], nand);
        near(y[0], out);
    }
}

network! {
    /// `f(x; w, b) = 1 / (exp(-(w x + b)) + 1)`, the computational graph of 004 line 961.
    struct GraphExample<f64> {
        input: 1,
        unit: Dense(1), Sigmoid,
    }
}

/// 004_4ba8673ed523e0cc.txt lines 980-995: at `x = 1, w = 0, b = 0` the chain `1 x -0.25 x 1 x 1 x -1 x 1 (x 1)`
/// gives `df/dw = 0.25` (line 988) and `df/db = 0.25` (line 995).
#[test]
fn computational_graph_example_derivatives_are_the_printed_quarter() {
    let net = GraphExample::zeroed(); // w = 0, b = 0
    let (f, cache) = net.forward_train(&vector![1.0], &mut seeded_rng(0));
    let mut grads = GraphExample::zeroed();
    net.backward(&cache, &vector![1.0], &mut grads); // df/df = 1, the chain's first factor
    assert_printed(grads.unit.weight[(0, 0)], "0.25"); // line 988
    assert_printed(grads.unit.bias[0], "0.25"); // line 995
    // The chain's middle factors, -0.25 x 1 x 1 x -1, are the sigmoid's derivative at 0.
    assert_printed(Sigmoid.df(cache.x1[0], f[0]), "0.25");
}

network! {
    /// Six ReLUs summed with weights -1, -1, -1, 1, 1, 1 (001 lines 514-527).
    struct SixRelu<f64> {
        input: 1,
        hidden: Dense(6), Relu,
        out: Dense(1),
    }
}

/// 001_453fc4d08f5d3e2e.txt lines 514-527, the construction as printed:
/// `n_1 = Relu(-5x - 7.7)`, `n_2 = Relu(-1.2x - 1.3)`, `n_3 = Relu(1.2x + 1)`, `n_4 = Relu(1.2x - .2)`,
/// `n_5 = Relu(2x - 1.1)`, `n_6 = Relu(5x - 5)` and `Z = -n_1 - n_2 - n_3 + n_4 + n_5 + n_6`. The notes print no
/// values of it; the network's hidden units and output equal the printed formulas at every point of a grid over
/// [-3, 3].
#[test]
fn six_relu_construction_is_the_printed_function() {
    let mut net = SixRelu::zeroed();
    net.hidden.weight = matrix![-5.0; -1.2; 1.2; 1.2; 2.0; 5.0];
    net.hidden.bias = vector![-7.7, -1.3, 1.0, -0.2, -1.1, -5.0];
    net.out.weight = matrix![-1.0, -1.0, -1.0, 1.0, 1.0, 1.0];
    let relu = |z: f64| z.max(0.0);
    for i in -300..=300 {
        let x = f64::from(i) / 100.0;
        let n = [
            relu(-5.0 * x - 7.7),
            relu(-1.2 * x - 1.3),
            relu(1.2 * x + 1.0),
            relu(1.2 * x - 0.2),
            relu(2.0 * x - 1.1),
            relu(5.0 * x - 5.0),
        ];
        let z = -n[0] - n[1] - n[2] + n[3] + n[4] + n[5];
        let (y, cache) = net.forward_train(&vector![x], &mut seeded_rng(0));
        for (k, nk) in n.iter().enumerate() {
            assert!((cache.x2[k] - nk).abs() < 1e-12, "n_{}({x}) = {} != {nk}", k + 1, cache.x2[k]);
        }
        assert!((y[0] - z).abs() < 1e-12, "Z({x}) = {} != {z}", y[0]);
    }
}

network! {
    /// The output layer of [`Lecture222`] alone: its backward's dL/dx is dE/dout_h.
    struct Lecture222Out<f64> {
        input: 2,
        out: Dense(2), Sigmoid,
    }
}

/// 003_35247b0fbe72c116.txt lines 1156-1296: the intermediate numbers of the 2-2-2 example that
/// `two_two_two_sigmoid_network_matches_every_printed_number` does not assert.
#[test]
fn two_two_two_sigmoid_network_matches_every_printed_intermediate() {
    let mut net = Lecture222::zeroed();
    net.hidden.weight = matrix![0.15, 0.20; 0.25, 0.30];
    net.hidden.bias = vector![0.35, 0.35];
    net.out.weight = matrix![0.40, 0.45; 0.50, 0.55];
    net.out.bias = vector![0.60, 0.60];
    let x = vector![0.05, 0.10];
    let t = vector![0.01, 0.99];

    let (y, cache) = net.forward_train(&x, &mut seeded_rng(0));
    assert_printed(cache.x1[0], "0.3775"); // line 1156: net_h1
    assert_printed(cache.x2[0], "0.593269992"); // line 1160: out_h1
    assert_printed(cache.x2[1], "0.596884378"); // line 1162: out_h2
    assert_printed(cache.x3[0], "1.105905967"); // line 1168: net_o1
    assert_printed(y[0], "0.75136507"); // lines 1172, 1174: out_o1
    assert_printed(y[1], "0.772928465"); // line 1176: out_o2
    let e_o1 = HalfSquaredError.value(&vector![y[0]], &vector![t[0]]);
    let e_o2 = HalfSquaredError.value(&vector![y[1]], &vector![t[1]]);
    assert_printed(e_o1, "0.274811083"); // line 1183
    assert_printed(e_o2, "0.023560026"); // line 1185
    assert_printed(e_o1 + e_o2, "0.298371109"); // line 1187
    assert_printed(HalfSquaredError.value(&y, &t), "0.298371109"); // line 1187

    let dy = HalfSquaredError.gradient(&y, &t);
    assert_printed(dy[0], "0.74136507"); // line 1203: dE_total/dout_o1
    assert_printed(Sigmoid.df(cache.x3[0], y[0]), "0.186815602"); // line 1209: dout_o1/dnet_o1
    let mut grads = Lecture222::zeroed();
    net.backward(&cache, &dy, &mut grads);
    // Line 1215: dnet_o1/dw5 = out_h1, the ratio of dE/dw5 to dE/dnet_o1 (= dE/db for o1).
    assert_printed(grads.out.weight[(0, 0)] / grads.out.bias[0], "0.593269992");
    assert_printed(grads.out.weight[(0, 0)], "0.082167041"); // line 1219: dE_total/dw5
    assert_printed(grads.out.bias[0], "0.138498562"); // line 1256: dE_o1/dnet_o1 = delta_o1
    assert_printed(net.out.weight[(0, 0)], "0.40"); // line 1260: dnet_o1/dout_h1 = w5

    // Lines 1262-1266: dE/dout_h1 through the output layer, from o1 alone, from o2 alone, and from both.
    let mut out = Lecture222Out::zeroed();
    out.out = net.out;
    let (y2, out_cache) = out.forward_train(&cache.x2, &mut seeded_rng(0));
    assert_eq!(y2, y);
    let dx = |dy: nalgebra::SVector<f64, 2>| out.backward(&out_cache, &dy, &mut Lecture222Out::zeroed());
    assert_printed(dx(vector![dy[0], 0.0])[0], "0.055399425"); // line 1262: dE_o1/dout_h1
    // Line 1264: dE_o2/dout_h1. The notes' -0.019049119 comes from rounded intermediates; the exact value is
    // -0.0190491183, one unit of the ninth decimal away, so within 1e-9 rather than half a unit.
    let de_o2 = dx(vector![0.0, dy[1]])[0];
    assert!((de_o2 - -0.019049119).abs() <= 1e-9, "dE_o2/dout_h1 {de_o2}");
    assert_printed(dx(dy)[0], "0.036350306"); // line 1266: dE_total/dout_h1
    // Line 1272: dout_h1/dnet_h1, which the notes compute from out_h1 rounded to 0.59326999.
    assert_printed(Sigmoid.df(cache.x1[0], cache.x2[0]), "0.241300709");
    // Line 1278: dnet_h1/dw1 = i1, the ratio of dE/dw1 to dE/dnet_h1 (= dE/db for h1).
    assert_printed(grads.hidden.weight[(0, 0)] / grads.hidden.bias[0], "0.05");
    assert_printed(grads.hidden.weight[(0, 0)], "0.000438568"); // line 1284: dE_total/dw1

    Sgd::new(0.5).step(&mut net, &grads);
    assert_printed(net.out.weight[(0, 0)], "0.35891648"); // line 1233: w5+
    assert_printed(net.hidden.weight[(0, 0)], "0.149780716"); // line 1296: w1+
}

/// 001_453fc4d08f5d3e2e.txt lines 783-819: the printed numbers of the 2-2-1 example that
/// `two_two_one_network_matches_the_printed_numbers_within_the_lectures_rounding` does not assert. The notes truncate
/// the output delta `-0.04068` to `-0.0406` (line 791) and form the hidden deltas (lines 801, 803) from the *updated*
/// output weights; the library reproduces them by running backward again, after the update, on the first pass's
/// cache. The truncated delta puts the printed hidden deltas 0.2% (up to 1.1e-5) from the exact products.
#[test]
fn two_two_one_network_matches_the_printed_net_inputs_and_deltas() {
    let mut net = Lecture221::zeroed();
    net.hidden.weight = matrix![0.1, 0.8; 0.4, 0.6];
    net.out.weight = matrix![0.3, 0.9];
    let x = vector![0.35, 0.9];
    let t = vector![0.5];

    let (y, cache) = net.forward_train(&x, &mut seeded_rng(0));
    assert_printed(cache.x1[0], "0.755"); // line 783: input to the top neuron
    assert_printed(cache.x1[1], "0.68"); // line 785: input to the bottom neuron
    assert_printed(t[0] - y[0], "-0.19"); // line 819: the old error
    let dy = HalfSquaredError.gradient(&y, &t);
    // Line 791: delta = (t - o)(1 - o) o = -dE/dnet_o, printed truncated to -0.0406 (-0.04068).
    let delta = -dy[0] * Sigmoid.df(cache.x3[0], y[0]);
    assert!((delta - -0.0406).abs() < 1e-4, "output delta {delta}");

    let mut grads = Lecture221::zeroed();
    net.backward(&cache, &dy, &mut grads);
    Sgd::new(1.0).step(&mut net, &grads);
    // Lines 801, 803: delta_j = delta w_j+ (1 - o_j) o_j with the updated output weights. No bias: -dE/dw = delta_j x.
    let mut lecture = Lecture221::zeroed();
    net.backward(&cache, &dy, &mut lecture);
    let within = |actual: f64, printed: f64| {
        assert!((actual - printed).abs() < 2e-5, "{actual} is not within 2e-5 of the printed {printed}");
    };
    within(-lecture.hidden.weight[(0, 0)] / x[0], -2.406e-3); // line 801: delta_1
    within(-lecture.hidden.weight[(0, 1)] / x[1], -2.406e-3);
    within(-lecture.hidden.weight[(1, 0)] / x[0], -7.916e-3); // line 803: delta_2
    within(-lecture.hidden.weight[(1, 1)] / x[1], -7.916e-3);
}

/// The threshold conventions of the notes at exactly zero net input, each one the library's `Step` and `Sign`
/// with the value at zero as their parameter:
///
/// - 003_35247b0fbe72c116.txt line 733 (unit step, `0.5` at `z = 0`) and line 734 (sign, `0` at `z = 0`): the
///   defaults, `Step` and `Sign` in a declaration.
/// - 001_453fc4d08f5d3e2e.txt line 297 (McCulloch-Pitts, `o = 1` when `net >= T`): `Step(1)`, `1` at the
///   threshold.
/// - 001_453fc4d08f5d3e2e.txt lines 316 and 337 (Rosenblatt's perceptron, `phi(z) = 1` for `z >= 0`, else `-1`):
///   `Sign(1)`; with it, a sample with zero net input and target `1` is right and the rule leaves the weights
///   alone, where the default `Sign` (`0` at zero) updates.
#[test]
fn threshold_units_at_zero_follow_each_convention_of_the_notes() {
    use nn_core::classic::Perceptron;
    use nn_core::layer::Dense;

    // 003 lines 733-734: the defaults.
    assert_eq!(Activation::<f64>::f(&Step::default(), 0.0), 0.5);
    assert_eq!(Activation::<f64>::f(&Sign::default(), 0.0), 0.0);
    for (z, step, sign) in [(-1.0, 0.0, -1.0), (1.0, 1.0, 1.0)] {
        for at_zero in [0.0, 0.5, 1.0] {
            assert_eq!(Activation::<f64>::f(&Step(at_zero), z), step);
            assert_eq!(Activation::<f64>::f(&Sign(at_zero), z), sign);
        }
    }

    // A unit with threshold T = 1 as weight 1 on its input and bias -1: at net = T, 001 line 297 outputs 1.
    let unit = Dense::<f64, 1, 1>::new(matrix![1.0], vector![-1.0]);
    assert_eq!(Perceptron::<f64>::output(&unit, Step::default(), &vector![1.0])[0], 0.5);
    assert_eq!(Perceptron::<f64>::output(&unit, Step(1.0), &vector![1.0])[0], 1.0);
    assert_eq!(Perceptron::<f64>::output(&unit, Step(1.0), &vector![2.0])[0], 1.0);

    // Zero net input with target 1: the notes' phi gives 1, so no update; the mathematical sign gives 0 and
    // updates.
    let mut unit = Dense::<f64, 1, 1>::new(matrix![0.0], vector![0.0]);
    assert_eq!(Perceptron::<f64>::output(&unit, Sign(1.0), &vector![1.0])[0], 1.0);
    assert!(!Perceptron::new(1.0, 1).update(&mut unit, Sign(1.0), &vector![1.0], &vector![1.0]));
    assert_eq!(Perceptron::<f64>::output(&unit, Sign::default(), &vector![1.0])[0], 0.0);
    assert!(Perceptron::new(1.0, 1).update(&mut unit, Sign::default(), &vector![1.0], &vector![1.0]));
    assert_eq!((unit.weight[(0, 0)], unit.bias[0]), (1.0, 1.0));
}

network! {
    /// Rosenblatt's bipolar perceptron as the first lecture writes it: `+1` at zero.
    struct Rosenblatt<f64> { input: 2, unit: Dense(1), Sign(1) }
}

network! {
    /// A McCulloch-Pitts unit, firing at its threshold; and Swish with `beta = 2`.
    struct Threshold<f64> { input: 1, unit: Dense(1), Step(1), out: Dense(1), Swish(2) }
}

#[test]
fn declarations_take_the_conventions_as_parameters() {
    let mut net = Rosenblatt::boxed_zeroed();
    assert_eq!(net.forward(&vector![0.3, -0.2])[0], 1.0, "zero net input: +1");
    net.unit.bias[0] = -1.0;
    assert_eq!(net.forward(&vector![0.3, -0.2])[0], -1.0);
    let mut t = Threshold::boxed_zeroed();
    t.unit.weight[(0, 0)] = 1.0;
    t.unit.bias[0] = -1.0;
    t.out.weight[(0, 0)] = 1.5;
    // At the threshold the unit fires: swish_2(1.5) = 1.5 sigmoid(3).
    let want = 1.5 / (1.0 + (-3.0f64).exp());
    assert!((t.forward(&vector![1.0])[0] - want).abs() < 1e-15);
    assert!((t.forward(&vector![0.5])[0]).abs() < 1e-15);
}

network! {
    /// One threshold unit on one input, for the NOT gate (the notes' table's step: 0.5 at zero).
    struct NotGate<f64> { input: 1, unit: Dense(1), Step }
}

network! {
    /// The 5x5 image and 3x3 filter of the convolution example.
    struct FiveByFive<f64> { input: [1, 5, 5], conv: Conv2d(1, kernel = 3) }
}

/// The NOT gate by a perceptron. The notes name the gate but print no run, so these are the rule's steps traced
/// by hand from zero weights, learning rate 1, inputs in the order 0, 1:
///
/// - the notes' step (0.5 at zero): `x = 0` gives 0.5, error 0.5, `b = 0.5`; `x = 1` gives 1, error -1,
///   `w = -1, b = -0.5`; the second pass raises `b` back to 0.5 on `x = 0`; the third changes nothing:
///   `w = -1, b = 0.5`, three updates in three passes;
/// - the first lecture's unit (1 at zero): `x = 1` fires wrongly, `w = -1, b = -1`; `x = 0` then fails,
///   `b = 0`; the third pass changes nothing: `w = -1, b = 0`.
#[test]
fn a_perceptron_learns_the_not_gate_as_traced_by_hand() {
    use nn_core::classic::Perceptron;
    let data = [(vector![0.0], vector![1.0]), (vector![1.0], vector![0.0])];
    let rule = Perceptron::new(1.0, 10);
    for (unit, (w, b), updates) in [(Step::default(), (-1.0, 0.5), 3), (Step(1.0), (-1.0, 0.0), 2)] {
        let mut net = NotGate::zeroed();
        let report = rule.fit(&mut net.unit, unit, &data);
        assert!(report.converged && report.epochs == 3 && report.updates == updates, "{unit:?}: {report:?}");
        assert_eq!((net.unit.weight[0], net.unit.bias[0]), (w, b), "{unit:?}");
        for (x, t) in &data {
            assert_eq!(Perceptron::output(&net.unit, unit, x), *t, "{unit:?}: NOT {}", x[0]);
        }
    }
    // The declared network (the notes' step) computes the gate with the learned unit.
    let mut net = NotGate::zeroed();
    rule.fit(&mut net.unit, Step::default(), &data);
    assert_eq!((net.forward(&vector![0.0])[0], net.forward(&vector![1.0])[0]), (1.0, 0.0));
}

/// The 5x5 binary image convolved with the filter `[[1, 0, 1], [0, 1, 0], [1, 0, 1]]`: 4 at the top left. The notes
/// give the filter and that value but not the image; this is the image the example is usually drawn with (a
/// diagonal band of ones), whose 3x3 feature map is worked out cell by cell (top left: the ones under the filter's
/// five ones at (0,0), (0,2), (1,1), (2,0), (2,2) are 1, 1, 1, 0, 1).
#[test]
fn the_five_by_five_convolution_example_gives_four_at_the_top_left() {
    let image = [
        [1.0, 1.0, 1.0, 0.0, 0.0],
        [0.0, 1.0, 1.0, 1.0, 0.0],
        [0.0, 0.0, 1.0, 1.0, 1.0],
        [0.0, 0.0, 1.0, 1.0, 0.0],
        [0.0, 1.0, 1.0, 0.0, 0.0],
    ];
    let mut net = FiveByFive::zeroed();
    net.conv.weight.copy_from_slice(&[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
    let x = FiveByFive::input_from_fn(|i| image[i / 5][i % 5]);
    let y = net.forward(&x);
    assert_eq!(y[0], 4.0);
    assert_eq!(y.as_slice(), &[4.0, 3.0, 4.0, 2.0, 4.0, 3.0, 2.0, 3.0, 4.0]);
}
