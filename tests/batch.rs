//! Batched training: batch norm and dropout pass numeric gradient checks, and a batch gives the same gradients
//! as its samples one by one.

use nn_core::gradcheck::{check_batch, check_network};
use nn_core::nalgebra::SMatrix;
use nn_core::prelude::*;
use nn_core::rand::RngExt;

network! {
    struct Normed<f64> { input: 5, Dense(6), BatchNorm, Tanh, Dense(4, bias = false), BatchNorm(4), Relu, Dense(3) }
}

network! {
    struct Dropped<f64> { input: 5, Dense(8), Relu, Dropout(0.4), Dense(6), Tanh, Dropout(0.25), Dense(3) }
}

network! {
    struct Plain<f64> { input: 7, Dense(9), Sigmoid, Dense(8, bias = false), Gelu, Dense(4), Softmax }
}

fn random<const R: usize, const C: usize>(rng: &mut SeededRng, scale: f64) -> SMatrix<f64, R, C> {
    SMatrix::from_fn(|_, _| rng.random_range(-scale..scale))
}

#[test]
fn batch_norm_passes_the_gradient_check_through_batch_statistics() {
    let mut rng = seeded_rng(1);
    let mut net = Normed::boxed_init(&mut rng);
    // Move gamma and beta away from 1 and 0 so their gradients matter.
    net.bn1.weight = random::<6, 1>(&mut rng, 1.0).add_scalar(1.0);
    net.bn1.bias = random(&mut rng, 0.5);
    let x = random::<5, 6>(&mut rng, 2.0);
    let t = random::<3, 6>(&mut rng, 1.0);
    let mut grads = Normed::boxed_zeroed();
    let r = check_batch(&mut *net, &x, &t, &MeanSquaredError, &mut grads, 0);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
    assert_eq!(r.checked, net.param_count() + 30);
}

#[test]
fn dropout_passes_the_gradient_check_with_a_fixed_mask() {
    let mut rng = seeded_rng(2);
    let mut net = Dropped::boxed_init(&mut rng);
    let x = random::<5, 4>(&mut rng, 1.0);
    let t = random::<3, 4>(&mut rng, 1.0);
    let r = check_batch(&mut *net, &x, &t, &HalfSquaredError, &mut Dropped::boxed_zeroed(), 7);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
    let xs = random::<5, 1>(&mut rng, 1.0);
    let ts = random::<3, 1>(&mut rng, 1.0);
    let r = check_network(&mut *net, &xs, &ts, &HalfSquaredError, &mut Dropped::boxed_zeroed(), 8);
    assert!(r.max_relative_error < 1e-6, "{r:?}");
}

#[test]
fn dropout_is_the_identity_at_inference_and_random_in_training() {
    let net = Dropped::boxed_init(&mut seeded_rng(3));
    let x = SMatrix::<f64, 5, 1>::repeat(0.5);
    assert_eq!(net.forward(&x), net.forward(&x));
    let a = net.forward_train(&x, &mut seeded_rng(1)).0;
    let b = net.forward_train(&x, &mut seeded_rng(2)).0;
    assert_ne!(a, b);
    assert_eq!(a, net.forward_train(&x, &mut seeded_rng(1)).0);
}

#[test]
fn a_batch_gives_the_gradients_of_its_samples() {
    const B: usize = 6;
    let mut rng = seeded_rng(4);
    let net = Plain::boxed_init(&mut rng);
    let x = random::<7, B>(&mut rng, 1.0);
    let mut t = SMatrix::<f64, 4, B>::zeros();
    for b in 0..B {
        t[(b % 4, b)] = 1.0;
    }
    // Batched: the mean loss over the batch, so its gradient is the mean of the per-sample gradients.
    let mut batched = Plain::boxed_zeroed();
    let (y, cache) = net.forward_train_batch::<B, _>(&x, &mut rng);
    let (loss, dy) = SoftmaxCrossEntropy.value_and_gradient(&y, &t);
    let dx = net.backward_batch::<B>(&cache, &dy, &mut batched);

    let mut single = Plain::boxed_zeroed();
    let mut total = 0.0;
    for b in 0..B {
        let (xb, tb) = (x.column(b).into_owned(), t.column(b).into_owned());
        total += net.backprop(&xb, &tb, &SoftmaxCrossEntropy, &mut single, &mut rng);
        let (yb, cb) = net.forward_train(&xb, &mut rng);
        assert!((yb - y.column(b)).abs().max() < 1e-12);
        let dxb = net.backward(&cb, &SoftmaxCrossEntropy.gradient(&yb, &tb), &mut Plain::boxed_zeroed());
        assert!((dxb * (1.0 / B as f64) - dx.column(b)).abs().max() < 1e-12);
    }
    assert!((loss - total / B as f64).abs() < 1e-12);
    for i in 0..Plain::TENSORS {
        let (a, s) = (batched.tensor(i).unwrap(), single.tensor(i).unwrap());
        for (a, s) in a.data.iter().zip(s.data) {
            assert!((a * B as f64 - s).abs() < 1e-6 * s.abs().max(1.0), "{}: {a} vs {s}", i);
        }
    }
}

network! {
    struct NoBiasFirst<f64> { input: 4, Dense(5, bias = false), Tanh, Dense(2) }
}

network! {
    struct OneLayer<f64> { input: 3, Dense(2) }
}

/// `backward_params_batch` (what training calls: no input gradient for a first dense layer) adds exactly the
/// parameter gradients `backward_batch` adds, and `backprop` those of `backward`.
fn params_only_backward_matches<N: BatchNetwork<Scalar = f64> + Initialize + Boxed>(
    x: &N::InputBatch<3>,
    t: &N::OutputBatch<3>,
) where
    N::OutputBatch<3>: Buffer<f64>,
{
    let mut rng = seeded_rng(11);
    let net = N::boxed_init(&mut rng);
    let (y, cache) = net.forward_train_batch::<3, _>(x, &mut seeded_rng(5));
    let dy = MeanSquaredError.gradient(&y, t);
    let (mut full, mut params) = (N::boxed_zeroed(), N::boxed_zeroed());
    let dx = net.backward_batch::<3>(&cache, &dy, &mut full);
    assert!(dx.as_slice().iter().any(|v| *v != 0.0), "the full backward still returns dL/dx");
    net.backward_params_batch::<3>(&cache, &dy, &mut params);
    let mut compared = 0;
    params.visit(|p| {
        let f = full.tensor_named(&p.name.to_string()).expect("same tensors");
        assert_eq!(p.data, f.data, "{}", p.name);
        assert!(p.data.iter().any(|v| *v != 0.0), "{} has a gradient", p.name);
        compared += 1;
    });
    assert_eq!(compared, N::TENSORS);
}

#[test]
fn training_backward_skips_only_the_input_gradient() {
    let mut rng = seeded_rng(12);
    params_only_backward_matches::<Plain>(&random(&mut rng, 1.0), &random(&mut rng, 1.0));
    params_only_backward_matches::<NoBiasFirst>(&random(&mut rng, 1.0), &random(&mut rng, 1.0));
    params_only_backward_matches::<OneLayer>(&random(&mut rng, 1.0), &random(&mut rng, 1.0));
    params_only_backward_matches::<Normed>(&random(&mut rng, 1.0), &random(&mut rng, 1.0));

    // Per sample: backprop (forward_train, loss, backward_params) against forward_train + backward.
    let net = Plain::boxed_init(&mut rng);
    let (x, t) = (random::<7, 1>(&mut rng, 1.0), random::<4, 1>(&mut rng, 1.0));
    let (mut a, mut b) = (Plain::boxed_zeroed(), Plain::boxed_zeroed());
    let loss = net.backprop(&x, &t, &MeanSquaredError, &mut a, &mut seeded_rng(1));
    let (y, cache) = net.forward_train(&x, &mut seeded_rng(1));
    let (value, dy) = MeanSquaredError.value_and_gradient(&y, &t);
    net.backward(&cache, &dy, &mut b);
    assert_eq!(loss, value);
    assert_eq!(a.fc1.weight, b.fc1.weight);
    assert_eq!(a.fc3.bias, b.fc3.bias);
}
