//! Vanishing gradients: at initialisation a twelve-layer sigmoid MLP's first-layer weight gradient is orders of
//! magnitude below its last hidden layer's, and residual connections keep the two within a factor of ten.

use nn_core::data::load_digits;
use nn_core::params::Layout;
use nn_core::prelude::*;

network! {
    struct DeepSigmoid<f32> {
        input: 64,
        Dense(32), Sigmoid, Dense(32), Sigmoid, Dense(32), Sigmoid, Dense(32), Sigmoid,
        Dense(32), Sigmoid, Dense(32), Sigmoid, Dense(32), Sigmoid, Dense(32), Sigmoid,
        Dense(32), Sigmoid, Dense(32), Sigmoid, Dense(32), Sigmoid, Dense(32), Sigmoid,
        Dense(10),
    }
}

network! {
    struct DeepResidual<f32> {
        input: 64,
        Dense(32), Relu,
        Residual(Dense(32), Relu), Residual(Dense(32), Relu), Residual(Dense(32), Relu), Residual(Dense(32), Relu),
        Residual(Dense(32), Relu), Residual(Dense(32), Relu), Residual(Dense(32), Relu), Residual(Dense(32), Relu),
        Residual(Dense(32), Relu), Residual(Dense(32), Relu), Residual(Dense(32), Relu),
        Dense(10),
    }
}

const DIGITS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits.csv.gz");
const BATCH: usize = 32;

/// The Frobenius norms of the hidden layers' weight gradients (output layer left out), first layer first, for the
/// mean cross-entropy over the first [`BATCH`] digits of a fixed shuffle, at a seeded initialisation.
fn hidden_gradient_norms<N: BatchNetwork<Scalar = f32> + Boxed + Initialize>() -> Vec<f64> {
    let samples = load_digits(DIGITS).unwrap().shuffled(2026).pairs::<f32, 64, 10>().unwrap();
    let net = N::boxed_init(&mut seeded_rng(1));
    let mut x = nn_core::boxed_zeroed::<N::InputBatch<BATCH>>();
    let mut t = nn_core::boxed_zeroed::<N::OutputBatch<BATCH>>();
    let (fi, fo) = (N::InputBatch::<BATCH>::FEATURES, N::OutputBatch::<BATCH>::FEATURES);
    for (b, (xi, ti)) in samples[..BATCH].iter().enumerate() {
        x.as_mut_slice()[b * fi..(b + 1) * fi].copy_from_slice(xi.as_slice());
        t.as_mut_slice()[b * fo..(b + 1) * fo].copy_from_slice(ti.as_slice());
    }
    let mut cache = nn_core::boxed_zeroed::<N::BatchCache<BATCH>>();
    let y = net.forward_train_batch_in::<BATCH, _>(&x, &mut cache, &mut seeded_rng(0));
    let dy = SoftmaxCrossEntropy.gradient(&y, &*t);
    let mut grads = N::boxed_zeroed();
    N::backward_batch_in::<BATCH, _>(Accumulate { layer: &*net, grads: &mut *grads }, &mut cache, &dy, None);
    let mut norms: Vec<f64> = (0..N::TENSORS)
        .filter_map(|i| grads.tensor(i))
        .filter(|g| g.layout == Layout::Matrix && g.name.tensor == "weight")
        .map(|g| g.data.iter().map(|v| v.to_f64().powi(2)).sum::<f64>().sqrt())
        .collect();
    assert_eq!(norms.len(), 13, "twelve hidden weight matrices and the output layer's");
    norms.pop();
    assert!(norms.iter().all(|n| n.is_finite() && *n > 0.0), "{norms:?}");
    norms
}

#[test]
fn sigmoid_gradients_vanish_towards_the_input() {
    let norms = hidden_gradient_norms::<DeepSigmoid>();
    let (first, last) = (norms[0], norms[11]);
    assert!(
        first * 100.0 <= last,
        "sigmoid: first layer {first:.3e}, last hidden layer {last:.3e}, ratio {:.3e}; all {norms:?}",
        first / last
    );
}

#[test]
fn residual_connections_keep_gradients_level() {
    let norms = hidden_gradient_norms::<DeepResidual>();
    let (first, last) = (norms[0], norms[11]);
    let ratio = first / last;
    assert!(
        (0.1..=10.0).contains(&ratio),
        "residual: first layer {first:.3e}, last hidden layer {last:.3e}, ratio {ratio:.3e}; all {norms:?}"
    );
}
