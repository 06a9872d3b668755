//! An embedding table trained together with a generated network: the network's input gradient flows back into
//! the table rows the sequence looked up. The task: does a sequence of four tokens contain token 3?

use nn_core::layer::{Embedding, Tokens};
use nn_core::nalgebra::SMatrix;
use nn_core::prelude::*;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_core::rand::{RngExt, SeedableRng};

const VOCAB: usize = 8;
const STEPS: usize = 4;
const DIM: usize = 3;

network! {
    /// Reads the four embedded tokens one after the other.
    struct Reader<f64> { input: Seq(STEPS, DIM), Lstm(6, output = last), out: Dense(1) }
}

fn sample(rng: &mut ChaCha8Rng) -> (Tokens<STEPS, VOCAB>, Vector<f64, 1>) {
    let ids: [usize; STEPS] = core::array::from_fn(|_| rng.random_range(0..VOCAB));
    let t = if ids.contains(&3) { 1.0 } else { 0.0 };
    (Tokens::new(ids).expect("ids below VOCAB"), Vector::from([t]))
}

#[test]
fn embedding_and_network_learn_together() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut table = Embedding::<f64, VOCAB, DIM>::new(SMatrix::zeros());
    table.init(&mut rng);
    let mut net = Reader::boxed_init(&mut rng);
    let (mut table_grads, mut grads) = (Embedding::<f64, VOCAB, DIM>::new(SMatrix::zeros()), Reader::boxed_zeroed());
    let (mut table_opt, mut opt) = (Adam::new(0.02), Adam::new(0.02));
    let start = table.weight;
    let train: Vec<_> = (0..512).map(|_| sample(&mut rng)).collect();
    for _ in 0..40 {
        for batch in train.chunks(16) {
            grads.fill(0.0);
            table_grads.weight.fill(0.0);
            for (tokens, t) in batch {
                let x: Vector<f64, { STEPS * DIM }> = table.forward(tokens);
                let (y, cache) = net.forward_train(&x, &mut rng);
                let (_, dy) = BinaryCrossEntropyWithLogits.value_and_gradient(&y, t);
                let dx = net.backward(&cache, &dy, &mut grads);
                table.backward(tokens, &dx, &mut table_grads);
            }
            opt.step(&mut *net, &grads);
            table_opt.step(&mut table, &table_grads);
        }
    }
    let test: Vec<_> = (0..400).map(|_| sample(&mut rng)).collect();
    let right =
        test.iter().filter(|(tokens, t)| (net.forward(&table.forward(tokens))[0] > 0.0) == (t[0] > 0.5)).count();
    assert!(right as f64 / test.len() as f64 >= 0.95, "{right} of {} right", test.len());
    // Token 3's row moved away from where it started.
    assert!((table.weight.row(3) - start.row(3)).norm() > 0.1);
}
