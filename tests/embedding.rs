//! An embedding table trained together with a generated network: the network's input gradient flows back into
//! the table rows the sequence looked up. The task: does a sequence of four tokens contain token 3?

use nn_core::layer::{Embedding, TokenError, Tokens};
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

network! {
    /// The same task as one declaration: the ids go in, the table is the first layer.
    struct TokenReader<f64> {
        input: STEPS,
        embed: Embedding(VOCAB, DIM),
        lstm: Lstm(6, output = last),
        out: Dense(1),
    }
}

/// A sample for a declared network: the ids as numbers.
fn id_sample(rng: &mut ChaCha8Rng) -> (Vector<f64, STEPS>, Vector<f64, 1>) {
    let (tokens, t) = sample(rng);
    (tokens.values(), t)
}

#[test]
fn a_declared_text_model_learns_and_refuses_what_is_no_id() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut net = TokenReader::boxed_init(&mut rng);
    assert_eq!(net.embed.weight.shape(), (VOCAB, DIM));
    assert_eq!(net.tensor(0).map(|t| t.name.to_string()), Some("embed.weight".to_string()));
    let start = net.embed.weight;
    let train: Vec<_> = (0..512).map(|_| id_sample(&mut rng)).collect();
    let test: Vec<_> = (0..400).map(|_| id_sample(&mut rng)).collect();
    let mut adam = Adam::new(0.02);
    Trainer::new(&mut *net, &mut adam, BinaryCrossEntropyWithLogits)
        .epochs(40)
        .seed(3)
        .fit_without_validation::<16>(&train)
        .unwrap();
    let right = test.iter().filter(|(x, t)| (net.forward(x)[0] > 0.0) == (t[0] > 0.5)).count();
    assert!(right as f64 / test.len() as f64 >= 0.95, "{right} of {} right", test.len());
    assert!((net.embed.weight.row(3) - start.row(3)).norm() > 0.1, "token 3's vector is learned");

    // Ids are checked: an id out of the vocabulary, a fraction, NaN.
    let good = Vector::<f64, STEPS>::from([1.0, 3.0, 0.0, 7.0]);
    assert!(TokenReader::check_input(&good).is_ok());
    assert!(net.try_forward(&good).is_ok());
    for (bad, position) in [(8.0, 2), (2.5, 0), (f64::NAN, 3), (-1.0, 1)] {
        let mut x = good;
        x[position] = bad;
        let e = net.try_forward(&x).expect_err("refused");
        assert_eq!(e.position, position);
        assert_eq!(e.vocab, VOCAB);
        // Unchecked inference never reads outside the table: the bad step is NaN, and so is the output.
        assert!(net.forward(&x)[0].is_nan());
    }
    let mut x = good;
    x[1] = 8.0;
    let mut poisoned = train[..32].to_vec();
    poisoned[17].0 = x;
    let e = Trainer::new(&mut *net, &mut adam, BinaryCrossEntropyWithLogits)
        .fit_without_validation::<16>(&poisoned)
        .unwrap_err();
    assert_eq!(
        e,
        TrainError::InvalidInput {
            set: "training",
            sample: 17,
            error: TokenError { position: 1, value: 8.0, vocab: VOCAB }
        }
    );
    assert_eq!(
        e.to_string(),
        "training sample 17 is not an input of the network: token 8 at position 1 is not an id of a vocabulary of 8 \
         (an integer from 0 to 7)"
    );
}

network! {
    /// Streams one id at a time through the table and a GRU.
    struct Streamed<f64> { input: 5, Embedding(6, 3), Gru(4), Dense(2) }
}

#[test]
fn a_text_model_streams_one_id_at_a_time() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let net = Streamed::boxed_init(&mut rng);
    let ids = Tokens::<5, 6>::new([5, 0, 2, 2, 1]).expect("ids below 6");
    let whole = net.forward(&ids.values());
    let mut state = StreamedState::new();
    for (t, &id) in ids.ids().iter().enumerate() {
        let y = net.step(&mut state, &Vector::from([id as f64]));
        assert!((y - whole.fixed_rows::<2>(2 * t)).abs().max() < 1e-14);
    }
    assert_eq!(Streamed::STEP_INPUTS, 1);
}

network! {
    /// A CNN for sentences (Kim 2014): embedded tokens as channels, a convolution over pairs of neighbours,
    /// max over time, a linear read-out.
    struct TextCnn<f32> {
        input: 12,
        embed: Embedding(10, 8, output = channels),   // -> [8, 12]
        conv: Conv1d(16, kernel = 2), Relu,          // -> [16, 11]: one value per pair of neighbours
        GlobalMaxPool1d,                             // -> 16: the strongest match anywhere in the sentence
        out: Dense(1),
    }
}

/// A "sentence" of twelve random tokens, and whether it holds the phrase `2 5` (token 2 right before token 5):
/// half of them do, planted at a random place. Tokens 2 and 5 elsewhere, apart, do not count.
fn sentence(rng: &mut ChaCha8Rng) -> (Vector<f32, 12>, Vector<f32, 1>) {
    let mut ids: [usize; 12] = core::array::from_fn(|_| rng.random_range(0..10));
    if rng.random_bool(0.5) {
        let at = rng.random_range(0..11);
        (ids[at], ids[at + 1]) = (2, 5);
    }
    let has = ids.windows(2).any(|w| w == [2, 5]);
    (Tokens::<12, 10>::new(ids).expect("ids below 10").values(), Vector::from([if has { 1.0 } else { 0.0 }]))
}

#[test]
fn a_text_cnn_finds_a_phrase_anywhere_in_a_sentence() {
    assert!(TextCnn::SUMMARY.contains("GlobalMaxPool (16)"), "{}", TextCnn::SUMMARY);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut net = TextCnn::boxed_init(&mut rng);
    let train: Vec<_> = (0..800).map(|_| sentence(&mut rng)).collect();
    let test: Vec<_> = (0..500).map(|_| sentence(&mut rng)).collect();
    let mut adam = Adam::new(0.01);
    Trainer::new(&mut *net, &mut adam, BinaryCrossEntropyWithLogits)
        .epochs(12)
        .seed(1)
        .fit_without_validation::<16>(&train)
        .unwrap();
    let right = test.iter().filter(|(x, t)| (net.forward(x)[0] > 0.0) == (t[0] > 0.5)).count();
    assert!(right as f64 / test.len() as f64 >= 0.97, "{right} of {} right", test.len());
}
