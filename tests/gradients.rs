//! Numeric gradient checks (central differences, f64) of whole generated networks of several depths, with every
//! activation, every loss, with and without biases, and with sizes given by `const` items.

use nn_core::gradcheck::{Location, Report, check_network};
use nn_core::prelude::*;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_core::rand::{RngExt, SeedableRng};

fn random<B: Buffer<f64>>(rng: &mut ChaCha8Rng, scale: f64) -> B {
    let mut b = B::zeros();
    for v in b.as_mut_slice() {
        *v = rng.random_range(-scale..scale);
    }
    b
}

/// Initialises `N`, then checks dL/dθ and dL/dx at a random input and target.
fn check<N, L>(seed: u64, loss: L, target_scale: f64) -> Report
where
    N: Network<Scalar = f64> + Initialize + Boxed,
    L: Loss<f64>,
{
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut net = N::boxed_init(&mut rng);
    // Non-zero biases, so their gradients are exercised away from the initial point.
    net.visit_mut(|t| {
        if t.name.tensor == "bias" {
            t.data.iter_mut().for_each(|b| *b = rng.random_range(-0.5..0.5));
        }
    });
    let x: N::Input = random(&mut rng, 1.5);
    let mut t: N::Output = random(&mut rng, target_scale);
    t.as_mut_slice().iter_mut().for_each(|v| *v = v.abs());
    let mut grads = N::boxed_zeroed();
    let report = check_network(&mut *net, &x, &t, &loss, &mut grads, seed);
    assert!(report.max_relative_error < 1e-6, "{report:?}");
    assert_eq!(report.checked, net.param_count() + x.as_slice().len());
    report
}

network! {
    struct OneLayer<f64> { input: 3, Dense(2) }
}

network! {
    struct TwoLayers<f64> { input: 4, Dense(6), Sigmoid, Dense(3), Tanh }
}

network! {
    /// Every elementwise activation once, between dense layers with and without biases.
    struct Deep<f64> {
        input: 5,
        Dense(7), Relu,
        Dense(7, bias = false), LeakyRelu(0.1),
        Dense(6), Elu(0.7),
        Dense(6), Softplus,
        Dense(6, bias = false), Swish,
        Dense(5), Gelu,
        Dense(5), HardSigmoid,
        Dense(5), HardTanh,
        Dense(4), Identity,
        Dense(3), Sigmoid, Tanh,
    }
}

network! {
    /// Maxout units (three affine pieces each, then two) and the piecewise-linear ramp.
    struct Pieces<f64> { input: 4, Dense(6), Maxout(3), Dense(8), Maxout(2), Dense(3), PiecewiseLinear, Dense(2) }
}

network! {
    /// Noisy ReLU units: the check holds their draws fixed through the seeded generator.
    struct Noisy<f64> { input: 4, Dense(6), NoisyRelu, Dense(5), NoisyRelu, Dense(2) }
}

network! {
    struct ConstMaxout<f64> { input: IN, Dense(HIDDEN * 2), Maxout(2), Dense(2) }
}

network! {
    struct Classifier<f64> { input: 6, Dense(8), Tanh, Dense(4) }
}

network! {
    struct SoftmaxOut<f64> { input: 4, Dense(5), Sigmoid, Dense(3), Softmax }
}

const IN: usize = 3;
const HIDDEN: usize = 5;

network! {
    struct ConstSized<f64> { input: IN, Dense(HIDDEN), Tanh, Dense(HIDDEN, 2) }
}

#[test]
fn one_layer() {
    check::<OneLayer, _>(1, MeanSquaredError, 1.0);
}

#[test]
fn two_layers() {
    check::<TwoLayers, _>(2, HalfSquaredError, 1.0);
}

#[test]
fn ten_layers_with_every_elementwise_activation() {
    for seed in 0..3 {
        let r = check::<Deep, _>(10 + seed, MeanSquaredError, 1.0);
        assert!(matches!(r.worst, Some(Location::Param(..) | Location::Input(_))));
    }
}

#[test]
fn maxout_and_piecewise_linear() {
    for seed in 0..3 {
        check::<Pieces, _>(20 + seed, MeanSquaredError, 1.0);
    }
    assert_eq!((ConstMaxout::INPUTS, ConstMaxout::OUTPUTS), (3, 2));
    check::<ConstMaxout, _>(23, HalfSquaredError, 1.0);
}

#[test]
fn noisy_relu_with_its_draws_fixed() {
    for seed in 0..3 {
        check::<Noisy, _>(30 + seed, MeanSquaredError, 1.0);
    }
    // Inference is the plain ReLU network: no noise, the same output every time.
    let mut rng = ChaCha8Rng::seed_from_u64(33);
    let net = Noisy::boxed_init(&mut rng);
    let x = random::<Vector<f64, 4>>(&mut rng, 1.0);
    let relu = |v: Vector<f64, 6>| v.map(|e| e.max(0.0));
    let h = relu(net.fc1.forward(&x));
    let h2 = net.fc2.forward(&h).map(|e| e.max(0.0));
    assert_eq!(net.forward(&x), net.fc3.forward(&h2));
    // Training draws noise: two draws differ.
    let (a, _) = net.forward_train(&x, &mut rng);
    let (b, _) = net.forward_train(&x, &mut rng);
    assert_ne!(a, b);
}

#[test]
fn softmax_cross_entropy_on_logits() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut net = Classifier::boxed_init(&mut rng);
    let x = random(&mut rng, 1.0);
    let t = Vector::from([0.0, 0.0, 1.0, 0.0]);
    let r = check_network(&mut *net, &x, &t, &SoftmaxCrossEntropy, &mut Classifier::boxed_zeroed(), 3);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
}

#[test]
fn binary_cross_entropy_on_logits() {
    check::<Classifier, _>(4, BinaryCrossEntropyWithLogits, 1.0);
}

#[test]
fn softmax_layer_with_squared_error() {
    check::<SoftmaxOut, _>(5, HalfSquaredError, 1.0);
}

#[test]
fn const_sized_network() {
    assert_eq!((ConstSized::INPUTS, ConstSized::OUTPUTS), (3, 2));
    check::<ConstSized, _>(6, HalfSquaredError, 1.0);
}

#[test]
fn f32_network_matches_f64_forward() {
    network! {
        struct Small32<f32> { input: 3, Dense(4), Gelu, Dense(2), Sigmoid }
    }
    network! {
        struct Small64<f64> { input: 3, Dense(4), Gelu, Dense(2), Sigmoid }
    }
    let mut a = Small32::zeroed();
    let mut b = Small64::zeroed();
    a.init(&mut ChaCha8Rng::seed_from_u64(9));
    b.init(&mut ChaCha8Rng::seed_from_u64(9));
    let ya = a.forward(&Vector::from([0.3f32, -0.2, 0.9]));
    let yb = b.forward(&Vector::from([0.3f64, -0.2, 0.9]));
    for (p, q) in ya.iter().zip(yb.iter()) {
        assert!((f64::from(*p) - q).abs() < 1e-6, "{p} vs {q}");
    }
}

const SLOPE: f64 = 0.3;

network! {
    /// Parameters as a negative literal, an integer literal and a `const` item.
    struct Parameterised<f64> { input: 3, Dense(4), LeakyRelu(-0.1), Dense(4), Elu(2), Dense(2), LeakyRelu(SLOPE) }
}

#[test]
fn activation_parameters_reach_the_kernels() {
    let mut net = Parameterised::zeroed();
    net.fc1.bias = Vector::from([-1.0, 1.0, -2.0, 0.5]);
    let (_, cache) = net.forward_train(&Vector::zeros(), &mut seeded_rng(0));
    assert_eq!(cache.x2, Vector::from([0.1, 1.0, 0.2, 0.5]));
    net.fc2.bias = Vector::from([-1.0, 1.0, 0.0, 0.0]);
    let (_, cache) = net.forward_train(&Vector::zeros(), &mut seeded_rng(0));
    assert!((cache.x4[0] - 2.0 * (-1.0f64).exp_m1()).abs() < 1e-15);
    net.fc3.bias = Vector::from([-1.0, 2.0]);
    assert_eq!(net.forward(&Vector::zeros()), Vector::from([-0.3, 2.0]));
    check::<Parameterised, _>(12, HalfSquaredError, 1.0);
}
