//! Plain SGD fused into the backward pass (`Network::sgd_step`, `BatchNetwork::update_sgd_batch`): the same
//! update as a backward pass into zeroed gradients followed by `Sgd::step`, for every kind of layer, with no
//! gradient buffer.

use nn_core::prelude::*;
use nn_core::rand::SeedableRng;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_tests::random;

network! {
    #[derive(Clone)]
    struct Mlp<f64> { input: 5, Dense(7), Tanh, Dense(6, bias = false), Relu, BatchNorm, Dense(3) }
}

network! {
    #[derive(Clone)]
    struct Cnn<f64> { input: [2, 6, 6], Conv2d(3, kernel = 3), Relu, MaxPool2d(2), Flatten, Dropout(0.2), Dense(2) }
}

network! {
    #[derive(Clone)]
    struct Seq<f64> { input: Seq(4, 2), Gru(5), Dense(3), Lstm(4, output = last), Dense(2) }
}

network! {
    #[derive(Clone)]
    struct Inner<f64> { input: 4, fc: Dense(4), Tanh }
}

network! {
    #[derive(Clone)]
    struct Graph<f64> {
        input: 4,
        inner: Network(Inner),
        Concat([Dense(3), Sigmoid], []),
        Residual(Dense(7), Tanh),
        Maxout(7),
        out: Dense(2),
    }
}

/// Steps a copy of `net` both ways from the same draws and compares every parameter.
fn same_update<N>(seed: u64)
where
    N: BatchNetwork<Scalar = f64> + Initialize + Boxed + Clone,
{
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fused = N::boxed_init(&mut rng);
    let mut stepped = fused.clone();
    let (x, t): (N::InputBatch<3>, N::OutputBatch<3>) = (random(&mut rng), random(&mut rng));
    let lr = 0.1;

    let (y, cache) = fused.forward_train_batch::<3, _>(&x, &mut ChaCha8Rng::seed_from_u64(seed));
    let dy = MeanSquaredError.gradient(&y, &t);
    let dx_fused = fused.backward_sgd_batch::<3>(&cache, &dy, lr);

    let mut grads = N::boxed_zeroed();
    let (y, cache) = stepped.forward_train_batch::<3, _>(&x, &mut ChaCha8Rng::seed_from_u64(seed));
    let dy = MeanSquaredError.gradient(&y, &t);
    let dx = stepped.backward_batch::<3>(&cache, &dy, &mut grads);
    Sgd::new(lr).step(&mut *stepped, &grads);

    let (mut a, mut b) = (Vec::new(), Vec::new());
    fused.visit(|t| a.extend_from_slice(t.data));
    stepped.visit(|t| b.extend_from_slice(t.data));
    let worst = a.iter().zip(&b).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-12, "largest parameter difference {worst:e}");
    assert!((dx_fused.as_slice().iter().zip(dx.as_slice())).all(|(p, q)| (p - q).abs() < 1e-12));
    // The step did move the parameters.
    let mut before = Vec::new();
    N::boxed_init(&mut ChaCha8Rng::seed_from_u64(seed)).visit(|t| before.extend_from_slice(t.data));
    assert!(a.iter().zip(&before).any(|(p, q)| p != q));
}

#[test]
fn fused_sgd_equals_gradients_then_a_step() {
    same_update::<Mlp>(1);
    same_update::<Cnn>(2);
    same_update::<Seq>(3);
    same_update::<Graph>(4);
}

#[test]
fn per_sample_sgd_step_trains_xor() {
    network! {
        struct Xor<f64> { input: 2, hidden: Dense(4), Tanh, out: Dense(1), Sigmoid }
    }
    let data = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)];
    let mut rng = seeded_rng(42);
    let mut net = Xor::boxed_init(&mut rng);
    for _ in 0..4000 {
        for (x, t) in data {
            net.sgd_step(&Vector::from(x), &Vector::from([t]), &HalfSquaredError, 0.5, &mut rng);
        }
    }
    for (x, t) in data {
        let y = net.forward(&Vector::from(x))[0];
        assert!((y - t).abs() < 0.1, "xor{x:?} = {y}");
    }
}

/// Learning-rate schedules (in this binary, to share its build).
#[path = "schedules.rs"]
mod schedules;
