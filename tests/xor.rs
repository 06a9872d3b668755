//! XOR, the problem a single-layer perceptron cannot solve, learned by a two-layer network from a fixed seed.

use nn_core::prelude::*;

network! {
    struct Xor<f64> {
        input: 2,
        hidden: Dense(4), Tanh,
        out: Dense(1), Sigmoid,
    }
}

const DATA: [([f64; 2], f64); 4] = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)];

fn train(seed: u64, epochs: usize) -> (Box<Xor>, f64) {
    let mut rng = seeded_rng(seed);
    let mut net = Xor::boxed_init(&mut rng);
    let mut grads = Xor::boxed_zeroed();
    let mut sgd = Sgd::new(0.5);
    let mut loss = f64::INFINITY;
    for _ in 0..epochs {
        grads.fill(0.0);
        loss = DATA
            .iter()
            .map(|(x, t)| net.backprop(&Vector::from(*x), &Vector::from([*t]), &HalfSquaredError, &mut grads, &mut rng))
            .sum();
        sgd.step(&mut *net, &grads);
    }
    (net, loss)
}

#[test]
fn xor_reaches_full_accuracy_from_a_fixed_seed() {
    let (net, loss) = train(42, 3000);
    assert!(loss < 0.01, "final loss {loss}");
    for (x, t) in DATA {
        let y = net.forward(&Vector::from(x))[0];
        assert_eq!(y > 0.5, t > 0.5, "xor{x:?} = {y}");
        assert!((y - t).abs() < 0.1, "xor{x:?} = {y}, target {t}");
    }
}

#[test]
fn same_seed_same_weights_bit_for_bit() {
    let (a, _) = train(7, 50);
    let (b, _) = train(7, 50);
    let (c, _) = train(8, 50);
    assert_eq!(a.hidden.weight, b.hidden.weight);
    assert_eq!(a.out.bias, b.out.bias);
    assert_ne!(a.hidden.weight, c.hidden.weight);
}
