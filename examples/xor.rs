//! XOR: the problem a single-layer perceptron cannot solve, learned by a 2-4-1 network with plain SGD.
//!
//! Shows the whole cycle on the smallest possible model: declare the network, initialise it from a seed,
//! accumulate gradients over the four samples with `backprop`, step with SGD, and evaluate.
//!
//! ```text
//! cargo run --release --example xor
//! ```

use nn_core::prelude::*;

network! {
    /// Two inputs, four tanh hidden units, one sigmoid output.
    struct Xor<f64> {
        input: 2,
        hidden: Dense(4), Tanh,
        out: Dense(1), Sigmoid,
    }
}

const DATA: [([f64; 2], f64); 4] = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)];
const SEED: u64 = 42;
const EPOCHS: usize = 3000;

fn main() {
    println!("{}", Xor::SUMMARY);
    let mut rng = seeded_rng(SEED);
    let mut net = Xor::boxed_init(&mut rng);
    let mut grads = Xor::boxed_zeroed();
    let mut sgd = Sgd::new(0.5);
    println!("{} parameters, seed {SEED}, SGD with learning rate {}", net.param_count(), sgd.lr);

    for epoch in 1..=EPOCHS {
        grads.fill(0.0);
        let loss: f64 = DATA
            .iter()
            .map(|(x, t)| net.backprop(&Vector::from(*x), &Vector::from([*t]), &HalfSquaredError, &mut grads, &mut rng))
            .sum();
        sgd.step(&mut *net, &grads);
        if epoch == 1 || epoch % 500 == 0 {
            println!("epoch {epoch:>5}  loss {loss:.6}");
        }
    }

    let mut correct = 0;
    for (x, t) in DATA {
        let y = net.forward(&Vector::from(x))[0];
        let ok = (y > 0.5) == (t > 0.5);
        correct += usize::from(ok);
        println!("{} xor {} -> {y:.4} (target {t}){}", x[0], x[1], if ok { "" } else { "  WRONG" });
    }
    println!("accuracy {}/{} = {:.0}%", correct, DATA.len(), 100.0 * correct as f64 / DATA.len() as f64);
}
