//! The generated networks beside RTNeural, in one process on one set of weights: per-sample inference of the
//! multilayer perceptrons (`forward/{shape}/batch1`) and one streaming step of the LSTM and GRU cells
//! (`lstm_step/h{H}`, `gru_step/h{H}`), each group timing `generated`, `rtneural_eigen` and `rtneural_xsimd`
//! (the backends built, see `build.rs`). The group names and the generated side are those of `nn-benches`'
//! `dense` and `recurrent` benchmarks.
//!
//! Before a group is timed, RTNeural's outputs must agree with the generated network's: to 1e-4 per element
//! on one input for the perceptrons, and on every state element over 64 steps of the input signal for the
//! cells (the generated side uses `nn_core::fast`'s `tanh` and sigmoid, RTNeural its backend's).
//!
//! RTNeural is timed with criterion's `iter_custom` around `Model::run`, which makes the requested number of
//! calls in a C++ loop, so a timed iteration is one `forward` as C++ code calling RTNeural compiles it.

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::SVector;
use nn_benches::{Gru8, Gru16, Gru32, Lstm8, Lstm16, Lstm32};
use nn_benches::{Gru8State, Gru16State, Gru32State, Lstm8State, Lstm16State, Lstm32State};
use nn_benches::{Net2x4x1, Net16x32x32x4, Net64x128x10, Net256x256x256, Net784x128x10};
use nn_core::prelude::*;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_core::rand::{RngExt, SeedableRng};
use nn_rtneural_bench::{Backend, Case, Model, dense_tensors, gru_tensors, lstm_tensors};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Samples in the recurrent input signal (a power of two: the step counter wraps with a mask).
const SIGNAL_LEN: usize = 1024;

/// How far RTNeural's outputs may be from the generated network's, per element.
const TOLERANCE: f32 = 1e-4;

/// A 440 Hz sine sampled at 48 kHz plus a little of its octave, as `nn-benches`' recurrent benchmark feeds.
fn signal() -> Vec<f32> {
    let w = 2.0 * std::f32::consts::PI * 440.0 / 48_000.0;
    (0..SIGNAL_LEN).map(|t| 0.8 * (w * t as f32).sin() + 0.2 * (2.0 * w * t as f32).sin()).collect()
}

fn assert_agree(what: &str, generated: &[f32], rtneural: &[f32]) {
    assert_eq!(generated.len(), rtneural.len(), "{what}: sizes");
    for (i, (g, r)) in generated.iter().zip(rtneural).enumerate() {
        assert!((g - r).abs() <= TOLERANCE, "{what}[{i}]: generated {g}, RTNeural {r}");
    }
}

/// The RTNeural models of `case` on every backend built.
fn models(case: Case, tensors: &[Vec<f32>]) -> Vec<(Backend, Model)> {
    Backend::available().iter().map(|&b| (b, Model::new(b, case, tensors))).collect()
}

/// Group `forward/{name}/batch1`: the generated network `N` (random weights and biases, seeded as
/// `nn-benches`' dense benchmark seeds them) and RTNeural on the same input.
fn mlp<N>(c: &mut Criterion, name: &str, case: Case, rng: &mut ChaCha8Rng)
where
    N: Network<Scalar = f32> + Initialize + Boxed,
{
    let mut net = N::boxed_init(rng);
    net.visit_mut(|t| {
        if t.name.tensor == "bias" {
            t.data.iter_mut().for_each(|v| *v = rng.random_range(-0.1..0.1));
        }
    });
    let mut x = N::Input::zeros();
    x.as_mut_slice().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
    let mut models = models(case, &dense_tensors(&*net));
    let y = net.forward(&x);
    for (backend, model) in &mut models {
        assert_agree(&format!("{name} {backend:?}"), y.as_slice(), &model.forward(x.as_slice()));
    }
    let mut g = c.benchmark_group(format!("forward/{name}/batch1"));
    g.bench_function("generated", |b| b.iter(|| black_box(net.forward(black_box(&x)))));
    for (backend, model) in &mut models {
        g.bench_function(backend.label(), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                model.run(x.as_slice(), iters);
                start.elapsed()
            })
        });
    }
    g.finish();
}

/// Checks RTNeural's models of `case` against the generated cell over 64 steps of the signal from zero
/// (`step(v)` steps the generated network and returns its hidden state; `reset()` zeroes it), then returns them
/// reset.
fn checked_models(
    group: &str,
    case: Case,
    tensors: &[Vec<f32>],
    signal: &[f32],
    step: &mut dyn FnMut(f32) -> Vec<f32>,
    reset: &mut dyn FnMut(),
) -> Vec<(Backend, Model)> {
    let mut models = models(case, tensors);
    for (backend, model) in &mut models {
        reset();
        for (t, &v) in signal.iter().take(64).enumerate() {
            assert_agree(&format!("{group} {backend:?} step {t}"), &step(v), &model.forward(&[v]));
        }
        model.reset();
    }
    reset();
    models
}

/// Group `{lstm,gru}_step/h{H}`: one streaming step of the generated cell (`net.step` on its state, inlined as
/// in `nn-benches`) and of RTNeural's, each fed successive samples of the signal, the state carried.
macro_rules! stream {
    ($c:expr, $group:expr, $case:expr, $net:ident, $state:ident, $tensors:expr) => {{
        let net = $net::boxed_init(&mut ChaCha8Rng::seed_from_u64(1));
        let signal = signal();
        let mut state = $state::new();
        let mut models = {
            let cell = std::cell::RefCell::new(&mut state);
            checked_models(
                $group,
                $case,
                &$tensors(&*net),
                &signal,
                &mut |v| net.step(&mut cell.borrow_mut(), &SVector::from([v])).as_slice().to_vec(),
                &mut || cell.borrow_mut().reset(),
            )
        };
        let mut g = $c.benchmark_group($group);
        let mut t = 0;
        g.bench_function("generated", |b| {
            b.iter(|| {
                black_box(net.step(&mut state, &SVector::from([black_box(signal[t & (SIGNAL_LEN - 1)])])));
                t += 1;
            })
        });
        for (backend, model) in &mut models {
            g.bench_function(backend.label(), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    model.run(&signal, iters);
                    start.elapsed()
                })
            });
        }
        g.finish();
    }};
}

fn all(c: &mut Criterion) {
    if let Some(why) = nn_rtneural_bench::missing() {
        println!("{why}");
    } else {
        println!("RTNeural built with {} (backends {:?})", nn_rtneural_bench::cxx_flags(), Backend::available());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    mlp::<Net2x4x1>(c, "2-4-1", Case::Mlp2x4x1, &mut rng);
    mlp::<Net16x32x32x4>(c, "16-32-32-4", Case::Mlp16x32x32x4, &mut rng);
    mlp::<Net64x128x10>(c, "64-128-10", Case::Mlp64x128x10, &mut rng);
    mlp::<Net784x128x10>(c, "784-128-10", Case::Mlp784x128x10, &mut rng);
    mlp::<Net256x256x256>(c, "256-256-256", Case::Mlp256x256x256, &mut rng);

    stream!(c, "lstm_step/h8", Case::Lstm(8), Lstm8, Lstm8State, |n: &Lstm8| lstm_tensors(&n.lstm));
    stream!(c, "lstm_step/h16", Case::Lstm(16), Lstm16, Lstm16State, |n: &Lstm16| lstm_tensors(&n.lstm));
    stream!(c, "lstm_step/h32", Case::Lstm(32), Lstm32, Lstm32State, |n: &Lstm32| lstm_tensors(&n.lstm));
    stream!(c, "gru_step/h8", Case::Gru(8), Gru8, Gru8State, |n: &Gru8| gru_tensors(&n.gru));
    stream!(c, "gru_step/h16", Case::Gru(16), Gru16, Gru16State, |n: &Gru16| gru_tensors(&n.gru));
    stream!(c, "gru_step/h32", Case::Gru(32), Gru32, Gru32State, |n: &Gru32| gru_tensors(&n.gru));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30);
    targets = all
}
criterion_main!(benches);
