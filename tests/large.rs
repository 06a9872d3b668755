//! A 784-128-10 network is built, trained and run on a default test thread (2 MiB stack) without overflowing
//! it: construction happens on the heap and gradients are updated in place.

use nn_core::prelude::*;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_core::rand::{RngExt, SeedableRng};

network! {
    struct Mlp32<f32> { input: 784, hidden: Dense(128), Relu, out: Dense(10) }
}

network! {
    struct Mlp64<f64> { input: 784, hidden: Dense(128), Relu, out: Dense(10) }
}

/// Trains on a fixed batch of random images with random labels; the loss must fall.
fn overfit<N>(steps: usize) -> (f64, f64)
where
    N: Network + Initialize + Boxed,
{
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut net = N::boxed_init(&mut rng);
    let mut grads = N::boxed_zeroed();
    let batch: Vec<(N::Input, N::Output)> = (0..8)
        .map(|i| {
            let mut x = N::Input::zeros();
            x.as_mut_slice().iter_mut().for_each(|v| *v = N::Scalar::from_f64(rng.random_range(0.0..1.0)));
            let mut t = N::Output::zeros();
            t.as_mut_slice()[i % 10] = N::Scalar::from_f64(1.0);
            (x, t)
        })
        .collect();
    let mut sgd = Sgd::new(N::Scalar::from_f64(0.01));
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..steps {
        grads.fill(N::Scalar::from_f64(0.0));
        let loss: f64 = batch
            .iter()
            .map(|(x, t)| net.backprop(x, t, &SoftmaxCrossEntropy, &mut grads, &mut rng).to_f64())
            .sum::<f64>();
        first.get_or_insert(loss);
        last = loss;
        sgd.step(&mut *net, &grads);
    }
    let y = net.forward(&batch[0].0);
    assert!(y.as_slice().iter().all(|v| v.is_finite()));
    (first.unwrap_or(f64::NAN), last)
}

#[test]
fn mnist_sized_f32_network_trains_on_a_default_thread() {
    let (first, last) = overfit::<Mlp32>(10);
    assert!(last < 0.5 * first, "loss {first} -> {last}");
    assert_eq!(Mlp32::boxed_zeroed().param_count(), 784 * 128 + 128 + 128 * 10 + 10);
}

#[test]
fn mnist_sized_f64_network_trains_on_a_default_thread() {
    let (first, last) = overfit::<Mlp64>(10);
    assert!(last < 0.5 * first, "loss {first} -> {last}");
}
