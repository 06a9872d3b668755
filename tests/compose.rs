//! Networks inside networks: a network declared with `network!` used as a layer of another with
//! `name: Network(Type)`, its parameters named under the field (`encoder.fc1.weight`), its gradients checked,
//! its weights saved and loaded under the nested names.

use nn_core::io::{Policy, from_bytes, to_bytes};
use nn_core::prelude::*;
use nn_core::rand::SeedableRng;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_tests::{check_gradients as check, random};

network! {
    /// Six features down to a two-dimensional code.
    pub struct Encoder<f64> { input: 6, fc1: Dense(5), Tanh, fc2: Dense(2) }
}

network! {
    /// The code back to six features in (0, 1).
    pub struct Decoder<f64> { input: 2, fc1: Dense(5), Tanh, fc2: Dense(6), Sigmoid }
}

network! {
    /// The two halves composed.
    pub struct AutoEncoder<f64> { input: 6, encoder: Network(Encoder), decoder: Network(Decoder) }
}

network! {
    /// A nested network between ordinary layers, with dropout and batch norm around it.
    pub struct Mixed<f64> {
        input: 4,
        stem: Dense(6), Relu, Dropout(0.25),
        encoder: Network(Encoder),
        BatchNorm, Tanh,
        head: Dense(3),
    }
}

network! {
    /// Two levels of nesting: the names carry both scopes.
    pub struct Deeper<f64> { input: 6, ae: Network(AutoEncoder), out: Dense(1), Sigmoid }
}

fn names<N: Parameters<f64>>(net: &N) -> Vec<String> {
    let mut v = Vec::new();
    net.visit(|t| v.push(t.name.to_string()));
    v
}

#[test]
fn nested_parameters_keep_their_names() {
    let net = AutoEncoder::zeroed();
    let layers = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];
    let want: Vec<String> =
        ["encoder", "decoder"].iter().flat_map(|n| layers.iter().map(move |l| format!("{n}.{l}"))).collect();
    assert_eq!(names(&net), want);
    assert_eq!(net.param_count(), Encoder::zeroed().param_count() + Decoder::zeroed().param_count());
    let deeper = names(&Deeper::zeroed());
    assert_eq!(deeper.first().map(String::as_str), Some("ae.encoder.fc1.weight"));
    assert_eq!(deeper[7], "ae.decoder.fc2.bias");
    assert_eq!(&deeper[8..], ["out.weight", "out.bias"]);
    assert!(Deeper::zeroed().tensor_named("ae.decoder.fc1.weight").is_some_and(|t| (t.rows, t.cols) == (5, 2)));
    assert_eq!((<AutoEncoder as Parameters<f64>>::DEPTH, <Deeper as Parameters<f64>>::DEPTH), (1, 2));
    assert_eq!((Mixed::INPUTS, Mixed::OUTPUTS, Deeper::OUTPUTS), (4, 3, 1));
}

#[test]
fn the_composition_computes_its_parts_in_turn() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let net = AutoEncoder::boxed_init(&mut rng);
    let x: Vector<f64, 6> = random(&mut rng);
    assert_eq!(net.forward(&x), net.decoder.forward(&net.encoder.forward(&x)));
    // A batch gives each sample's own output.
    let xs = nn_core::nalgebra::SMatrix::<f64, 6, 3>::from_fn(|r, c| ((r + 2 * c) as f64 * 0.7).sin());
    let ys = net.forward_batch::<3>(&xs);
    for c in 0..3 {
        let y = net.forward(&xs.column(c).into_owned());
        assert!((ys.column(c) - y).abs().max() < 1e-15);
    }
}

#[test]
fn gradients_through_nested_networks_match_central_differences() {
    check::<AutoEncoder>(2);
    check::<Mixed>(3);
    check::<Deeper>(4);
}

#[test]
fn weights_save_and_load_under_the_nested_names() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let net = Deeper::boxed_init(&mut rng);
    let bytes = to_bytes(&*net).expect("serialise");
    let mut back = Deeper::boxed_zeroed();
    from_bytes(&mut *back, &bytes, Policy::Strict).expect("load");
    assert_eq!(names(&*back), names(&*net));
    let x: Vector<f64, 6> = random(&mut rng);
    assert_eq!(back.forward(&x), net.forward(&x));
    // The nested part alone reads the same tensors from a file of its own.
    let mut encoder = Encoder::boxed_zeroed();
    from_bytes(&mut *encoder, &to_bytes(&net.ae.encoder).expect("serialise"), Policy::Strict).expect("load");
    assert_eq!(encoder.forward(&x), net.ae.encoder.forward(&x));
}

#[test]
fn training_the_composition_trains_both_parts() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let mut net = AutoEncoder::boxed_init(&mut rng);
    let before = (net.encoder.fc1.weight, net.decoder.fc2.weight);
    let data: Vec<Vector<f64, 6>> = (0..16).map(|_| random::<Vector<f64, 6>>(&mut rng).map(|v| v.abs())).collect();
    let loss = |net: &AutoEncoder| data.iter().map(|x| MeanSquaredError.value(&net.forward(x), x)).sum::<f64>();
    let start = loss(&net);
    let mut grads = AutoEncoder::boxed_zeroed();
    let mut opt = Sgd::new(0.5);
    for _ in 0..200 {
        grads.fill(0.0);
        for x in &data {
            net.backprop(x, x, &MeanSquaredError, &mut grads, &mut rng);
        }
        opt.step(&mut *net, &grads);
    }
    assert!(loss(&net) < 0.7 * start, "loss {start} -> {}", loss(&net));
    assert_ne!(net.encoder.fc1.weight, before.0);
    assert_ne!(net.decoder.fc2.weight, before.1);
}
