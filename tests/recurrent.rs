//! Recurrent networks declared with `network!`: gradient checks of backpropagation through time for every cell,
//! one and two layers, every-step and last-step outputs, per-step dense layers and per-step softmax; the
//! streaming `step` against the sequence form; PyTorch names; weights round trip; clipping.

use nn_core::gradcheck::{check_batch, check_network};
use nn_core::io;
use nn_core::loss::PerStep;
use nn_core::prelude::*;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_core::rand::{RngExt, SeedableRng};

fn random<B: Buffer<f64>>(rng: &mut ChaCha8Rng, scale: f64) -> B {
    let mut b = B::zeros();
    for v in b.as_mut_slice() {
        *v = rng.random_range(-scale..scale);
    }
    b
}

/// Checks dL/dθ and dL/dx of one sample and of a batch of three at random inputs and targets.
fn check<N, L>(seed: u64, loss: L) -> f64
where
    N: BatchNetwork<Scalar = f64> + Initialize + Boxed,
    L: Loss<f64>,
{
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut net = N::boxed_init(&mut rng);
    // Larger weights than the initialisation, so the gates work away from their linear region.
    net.visit_mut(|t| t.data.iter_mut().for_each(|v| *v *= 1.5));
    let mut grads = N::boxed_zeroed();
    let x: N::Input = random(&mut rng, 1.5);
    let mut t: N::Output = random(&mut rng, 1.0);
    t.as_mut_slice().iter_mut().for_each(|v| *v = v.abs());
    let one = check_network(&mut *net, &x, &t, &loss, &mut grads, seed);
    assert_eq!(one.checked, net.param_count() + x.as_slice().len());
    let xb: N::InputBatch<3> = random(&mut rng, 1.5);
    let tb: N::OutputBatch<3> = random(&mut rng, 1.0);
    let batch = check_batch::<N, L, 3>(&mut *net, &xb, &tb, &loss, &mut grads, seed);
    one.max_relative_error.max(batch.max_relative_error)
}

network! {
    /// Many-to-one: the last step of an RNN, then a classifier.
    struct RnnLast<f64> { input: Seq(6, 2), rnn: Rnn(5, output = last), out: Dense(3) }
}

network! {
    /// Many-to-many: every step of an LSTM, a dense layer per step.
    struct LstmSeq<f64> { input: Seq(5, 3), lstm: Lstm(4), out: Dense(2) }
}

network! {
    /// GRU, last step.
    struct GruLast<f64> { input: Seq(7, 2), gru: Gru(2, 4, output = last), Tanh, out: Dense(1) }
}

network! {
    /// Two stacked layers of each kind, mixed, with per-step dense layers between and a per-step softmax.
    struct Stacked<f64> {
        input: Seq(4, 3),
        embed: Dense(5, per_step = true), Tanh,
        first: Lstm(6),
        second: Gru(4),
        third: Rnn(3, activation = Relu),
        out: Dense(3), Softmax,
    }
}

network! {
    /// Two LSTM layers, last step.
    struct TwoLstm<f64> { input: Seq(5, 2), Lstm(4), Lstm(3, output = last), out: Dense(2) }
}

network! {
    /// Two vanilla RNN layers with dropout between (a fixed mask in the check), last step.
    struct TwoRnn<f64> { input: Seq(6, 1), Rnn(4), Dropout(0.25), Rnn(4, output = last), Dense(1) }
}

network! {
    /// Stacks declared as PyTorch modules with `num_layers`: `lstm` holds `weight_ih_l0` and `weight_ih_l1`.
    struct Modules<f64> { input: Seq(4, 3), lstm: Lstm(4, layers = 2), gru: Gru(3, layers = 3, output = last), Dense(2) }
}

network! {
    /// Bidirectional stacks: a two-layer bidirectional LSTM (each layer reads both directions of the one below),
    /// a bidirectional GRU's final states, and a classifier.
    struct BothWays<f64> {
        input: Seq(4, 3),
        lstm: Lstm(3, bidirectional = true, layers = 2),
        gru: Gru(2, bidirectional = true, output = last),
        out: Dense(2),
    }
}

network! {
    /// A bidirectional RNN tagging every step (a softmax per step).
    struct Tagger<f64> { input: Seq(5, 2), Rnn(3, bidirectional = true), Dense(4, per_step = true) }
}

#[test]
fn backpropagation_through_time_matches_central_differences() {
    let results = [
        ("rnn last", check::<RnnLast, _>(1, SoftmaxCrossEntropy)),
        ("lstm sequence", check::<LstmSeq, _>(2, PerStep::<_, 2>(MeanSquaredError))),
        ("gru last", check::<GruLast, _>(3, MeanSquaredError)),
        ("stacked", check::<Stacked, _>(4, PerStep::<_, 3>(MeanSquaredError))),
        ("two lstm", check::<TwoLstm, _>(5, SoftmaxCrossEntropy)),
        ("two rnn", check::<TwoRnn, _>(6, MeanSquaredError)),
        ("modules", check::<Modules, _>(7, SoftmaxCrossEntropy)),
        ("bidirectional stacks", check::<BothWays, _>(8, SoftmaxCrossEntropy)),
        ("bidirectional tagger", check::<Tagger, _>(9, PerStep::<_, 4>(SoftmaxCrossEntropy))),
    ];
    for (name, e) in results {
        assert!(e < 1e-6, "{name}: relative error {e:e}");
    }
}

network! {
    /// An LSTM whose forget gate starts wide open.
    struct Remembering<f32> { input: Seq(3, 2), lstm: Lstm(4, forget_bias = 2.5), gru: Gru(2) }
}

#[test]
fn the_forget_and_update_gates_start_remembering() {
    let net = Remembering::boxed_init(&mut seeded_rng(1));
    // Rows H..2H are the LSTM's forget gate and the GRU's update gate; the other gates keep PyTorch's range.
    assert!(net.lstm.bias_ih.rows(4, 4).iter().all(|&b| b == 2.5));
    assert!(net.gru.bias_ih.rows(2, 2).iter().all(|&b| b == 1.0));
    let bound = 1.0 / 2f32.sqrt();
    assert!(net.lstm.bias_ih.rows(0, 4).iter().chain(net.gru.bias_ih.rows(4, 2).iter()).all(|&b| b.abs() <= bound));
}

#[test]
fn stacks_with_layers_are_named_as_pytorch_num_layers() {
    let net = Modules::zeroed();
    let mut names = Vec::new();
    net.visit(|t| names.push(format!("{} {:?}", t.name, t.layout.shape(t.rows, t.cols).dims())));
    let expected = [
        "lstm.weight_ih_l0 [16, 3]",
        "lstm.weight_hh_l0 [16, 4]",
        "lstm.bias_ih_l0 [16]",
        "lstm.bias_hh_l0 [16]",
        "lstm.weight_ih_l1 [16, 4]",
        "lstm.weight_hh_l1 [16, 4]",
        "lstm.bias_ih_l1 [16]",
        "lstm.bias_hh_l1 [16]",
        "gru.weight_ih_l0 [9, 4]",
        "gru.weight_hh_l0 [9, 3]",
        "gru.bias_ih_l0 [9]",
        "gru.bias_hh_l0 [9]",
        "gru.weight_ih_l1 [9, 3]",
        "gru.weight_hh_l1 [9, 3]",
        "gru.bias_ih_l1 [9]",
        "gru.bias_hh_l1 [9]",
        "gru.weight_ih_l2 [9, 3]",
        "gru.weight_hh_l2 [9, 3]",
        "gru.bias_ih_l2 [9]",
        "gru.bias_hh_l2 [9]",
        "fc1.weight [2, 3]",
        "fc1.bias [2]",
    ];
    assert_eq!(names, expected);
    // The layers after the first are fields of their own, and streaming runs through all of them.
    let net = Modules::boxed_init(&mut seeded_rng(2));
    assert_eq!(net.gru_l2.weight_ih.shape(), (9, 3));
    let x = Vector::<f64, 12>::from_fn(|i, _| (i as f64).cos());
    let mut state = ModulesState::new();
    let mut y = Vector::<f64, 2>::zeros();
    for t in 0..4 {
        y = net.step(&mut state, &Vector::from([x[3 * t], x[3 * t + 1], x[3 * t + 2]]));
    }
    assert!((y - net.forward(&x)).abs().max() < 1e-12);
    // Saved and loaded by those names.
    let mut back = Modules::boxed_zeroed();
    io::from_bytes(&mut *back, &io::to_bytes(&*net).expect("serialise"), io::Policy::Strict).expect("load");
    assert_eq!(back.forward(&x), net.forward(&x));
}

#[test]
fn shapes_and_names_follow_pytorch() {
    assert_eq!((Stacked::STEPS, Stacked::STEP_INPUTS, Stacked::STEP_OUTPUTS), (4, 3, 3));
    assert_eq!((Stacked::INPUTS, Stacked::OUTPUTS), (12, 12));
    assert_eq!((GruLast::INPUTS, GruLast::OUTPUTS, GruLast::STEP_OUTPUTS), (14, 1, 1));
    let net = Stacked::zeroed();
    let mut names = Vec::new();
    net.visit(|t| names.push((t.name.to_string(), t.layout.shape(t.rows, t.cols).dims().to_vec())));
    let expected = [
        ("embed.weight", vec![5, 3]),
        ("embed.bias", vec![5]),
        ("first.weight_ih_l0", vec![24, 5]),
        ("first.weight_hh_l0", vec![24, 6]),
        ("first.bias_ih_l0", vec![24]),
        ("first.bias_hh_l0", vec![24]),
        ("second.weight_ih_l0", vec![12, 6]),
        ("second.weight_hh_l0", vec![12, 4]),
        ("second.bias_ih_l0", vec![12]),
        ("second.bias_hh_l0", vec![12]),
        ("third.weight_ih_l0", vec![3, 4]),
        ("third.weight_hh_l0", vec![3, 3]),
        ("third.bias_ih_l0", vec![3]),
        ("third.bias_hh_l0", vec![3]),
        ("out.weight", vec![3, 3]),
        ("out.bias", vec![3]),
    ];
    let expected: Vec<(String, Vec<usize>)> = expected.iter().map(|(n, s)| (n.to_string(), s.clone())).collect();
    assert_eq!(names, expected);
}

network! {
    /// A streaming denoiser: one sample in, one out, per step (the real-time audio shape).
    struct Denoiser<f32> { input: Seq(32, 1), gru: Gru(8), Tanh, out: Dense(1) }
}

network! {
    /// Many-to-one with a head after the last step.
    struct Detector<f32> { input: Seq(16, 2), lstm1: Lstm(8), lstm2: Lstm(8, output = last), Dense(4), Relu, Dense(2), Softmax }
}

#[test]
fn stepping_through_a_sequence_gives_the_sequence_outputs() {
    let mut rng = seeded_rng(7);
    let net = Denoiser::boxed_init(&mut rng);
    let x: Vector<f32, 32> = Vector::from_fn(|i, _| ((i as f32) * 0.4).sin());
    let y = net.forward(&x);
    let mut state = DenoiserState::new();
    for t in 0..32 {
        let yt = net.step(&mut state, &Vector::from([x[t]]));
        assert!((yt[0] - y[t]).abs() < 1e-6, "step {t}: {} vs {}", yt[0], y[t]);
    }
    // After a reset the same sequence gives the same outputs again.
    state.reset();
    assert_eq!(state, DenoiserState::default());
    assert!((net.step(&mut state, &Vector::from([x[0]]))[0] - y[0]).abs() < 1e-6);

    let det = Detector::boxed_init(&mut rng);
    let x: Vector<f32, 32> = Vector::from_fn(|i, _| ((i as f32) * 0.9).cos());
    let y = det.forward(&x);
    let mut state = DetectorState::new();
    let mut last = Vector::<f32, 2>::zeros();
    for t in 0..16 {
        last = det.step(&mut state, &Vector::from([x[2 * t], x[2 * t + 1]]));
    }
    assert!((last - y).abs().max() < 1e-6, "{last} vs {y}");
    assert!((last.sum() - 1.0).abs() < 1e-6);
    // The LSTM state holds h and c.
    assert_eq!(state.lstm1.shape(), (8, 2));
}

#[test]
fn weights_round_trip_through_safetensors() {
    let mut rng = seeded_rng(9);
    let net = Detector::boxed_init(&mut rng);
    let bytes = io::to_bytes(&*net).expect("serialise");
    let mut back = Detector::boxed_zeroed();
    io::from_bytes(&mut *back, &bytes, io::Policy::Strict).expect("load");
    let x: Vector<f32, 32> = Vector::from_fn(|i, _| i as f32 * 0.01);
    assert_eq!(net.forward(&x), back.forward(&x));
    // A GRU's weights do not load into an LSTM of the same hidden size.
    let gru = Denoiser::zeroed();
    let err = io::from_bytes(&mut *back, &io::to_bytes(&gru).expect("serialise"), io::Policy::Strict).unwrap_err();
    assert!(err.to_string().contains("lstm1.weight_ih_l0"), "{err}");
}

network! {
    /// Many-to-one memory over a short gap.
    struct GapLstm<f32> { input: Seq(8, 1), Lstm(8, output = last), Dense(2) }
}

network! {
    /// The same with a GRU.
    struct GapGru<f32> { input: Seq(8, 1), Gru(8, output = last), Dense(2) }
}

/// Sequences whose class is the sign of the first value; the rest is noise.
fn gap_data(n: usize, seed: u64) -> Vec<(Vector<f32, 8>, Vector<f32, 2>)> {
    let mut rng = seeded_rng(seed);
    (0..n)
        .map(|_| {
            let class = rng.random_range(0..2usize);
            let mut x = Vector::<f32, 8>::from_fn(|_, _| rng.random_range(-1.0..1.0));
            x[0] = if class == 1 { 1.0 } else { -1.0 };
            let mut t = Vector::<f32, 2>::zeros();
            t[class] = 1.0;
            (x, t)
        })
        .collect()
}

fn learns_the_gap<N>() -> f64
where
    N: BatchNetwork<Scalar = f32, Input = Vector<f32, 8>, Output = Vector<f32, 2>> + Initialize + Boxed,
{
    let (train, test) = (gap_data(1024, 1), gap_data(256, 2));
    let mut net = N::boxed_init(&mut seeded_rng(3));
    let mut opt = Adam::new(1e-2);
    Trainer::new(&mut *net, &mut opt, SoftmaxCrossEntropy)
        .epochs(8)
        .clip_grad_norm(1.0)
        .fit_without_validation::<16>(&train)
        .unwrap();
    evaluate::<N, _, 16>(&net, &test, &SoftmaxCrossEntropy).accuracy
}

#[test]
fn lstm_and_gru_carry_the_first_value_across_the_sequence() {
    let (lstm, gru) = (learns_the_gap::<GapLstm>(), learns_the_gap::<GapGru>());
    assert!(lstm >= 0.95 && gru >= 0.95, "test accuracy: LSTM {lstm}, GRU {gru}");
}

#[test]
fn the_trainer_clips_the_gradient_norm_before_the_update() {
    let data = gap_data(16, 4);
    let mut net = GapLstm::boxed_init(&mut seeded_rng(5));
    let mut before = GapLstm::boxed_zeroed();
    before.copy_from(&net);
    // Plain SGD with a huge rate: the update is exactly -lr * clipped gradient, whose norm is at most 0.5.
    let mut sgd = Sgd::new(100.0);
    Trainer::new(&mut *net, &mut sgd, SoftmaxCrossEntropy)
        .epochs(1)
        .clip_grad_norm(0.005)
        .fit_without_validation::<16>(&data)
        .unwrap();
    let mut step = 0.0f64;
    for i in 0..GapLstm::TENSORS {
        let (a, b) = (net.tensor(i).unwrap(), before.tensor(i).unwrap());
        step += a.data.iter().zip(b.data).map(|(x, y)| f64::from(x - y).powi(2)).sum::<f64>();
    }
    let step = step.sqrt();
    assert!(step > 0.45 && step <= 0.5 + 1e-4, "update norm {step}");
}

#[test]
fn bidirectional_layers_are_named_and_sized_as_pytorch_names_them() {
    assert_eq!(
        BothWays::SUMMARY,
        "input Seq(4, 3) -> lstm Lstm 3 bidirectional (every step) -> lstm_l1 Lstm 3 bidirectional (every step) \
         -> gru Gru 2 bidirectional (last step) -> out Dense 2"
    );
    let net = BothWays::boxed_zeroed();
    let names: Vec<String> = (0..BothWays::TENSORS).map(|i| net.tensor(i).expect("tensor").name.to_string()).collect();
    assert_eq!(names[4], "lstm.weight_ih_l0_reverse");
    assert_eq!(names[8], "lstm.weight_ih_l1");
    assert_eq!(names[12], "lstm.weight_ih_l1_reverse");
    assert_eq!(names[20], "gru.weight_ih_l0_reverse");
    // Layer 1 reads both directions of layer 0: 4 gates x 3 rows, 6 inputs per step.
    assert_eq!(net.lstm_l1.forward.weight_ih.shape(), (12, 6));
    assert_eq!(net.out.weight.shape(), (2, 4));
}

/// Bidirectional layers against their numpy reference (in this binary, to share its build).
#[path = "bidirectional.rs"]
mod bidirectional;
