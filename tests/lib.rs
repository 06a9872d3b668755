//! Integration tests of `nn-core` and `network!`: the lectures' hand-computed examples, XOR, gradient checks of
//! whole generated networks, a 784-128-10 network on a default test thread, and compile-fail cases (`ui/`).
//!
//! The library itself holds what several of those tests share.

use nn_core::gradcheck::check_network;
use nn_core::prelude::*;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_core::rand::{RngExt, SeedableRng};

/// A buffer of values drawn uniformly from `[-1, 1)`.
pub fn random<B: Buffer<f64>>(rng: &mut ChaCha8Rng) -> B {
    let mut b = B::zeros();
    b.as_mut_slice().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
    b
}

/// Initialises `N` from `seed` with biases drawn from `[-0.5, 0.5)`, then checks every parameter's and input's
/// gradient of the mean squared error at a random input and target against central differences.
///
/// # Panics
///
/// When the largest relative error reaches `1e-6`, or not every parameter and input was checked.
pub fn check_gradients<N: Network<Scalar = f64> + Initialize + Boxed>(seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut net = N::boxed_init(&mut rng);
    net.visit_mut(|t| {
        if t.name.tensor == "bias" {
            t.data.iter_mut().for_each(|b| *b = rng.random_range(-0.5..0.5));
        }
    });
    let (x, t): (N::Input, N::Output) = (random(&mut rng), random(&mut rng));
    let report = check_network(&mut *net, &x, &t, &MeanSquaredError, &mut N::boxed_zeroed(), seed);
    assert!(report.max_relative_error < 1e-6, "{report:?}");
    assert_eq!(report.checked, net.param_count() + x.as_slice().len());
}
