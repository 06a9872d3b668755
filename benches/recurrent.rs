//! One streaming step of an LSTM and a GRU with one input and 8, 16 or 32 hidden units (the real-time audio
//! sizes): the generated `step` against the same cell on nalgebra `DMatrix`/`DVector` ([`DynLstm`], [`DynGru`])
//! and the same cells written plainly with `SMatrix` ([`NaiveLstm`], [`NaiveGru`]), all with the weights
//! copied from the generated layer. Each carries its state from one step to the next and is
//! fed a sine, one sample per step; before timing, a few steps from the zero state check that they agree.

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::DVector;
use nalgebra::SVector;
use nn_benches::{DynGru, DynLstm, Gru8, Gru16, Gru32, Lstm8, Lstm16, Lstm32, NaiveGru, NaiveLstm};
use nn_benches::{Gru8State, Gru16State, Gru32State, Lstm8State, Lstm16State, Lstm32State};
use nn_core::prelude::*;
use std::hint::black_box;
use std::time::Duration;

/// Samples in the input table, a power of two so the step counter wraps with a mask.
const SIGNAL_LEN: usize = 1024;

/// Steps compared before timing.
const CHECK_STEPS: usize = 32;

/// How far the generated step and the baseline may differ, per state element.
const TOLERANCE: f32 = 1e-5;

/// A 440 Hz sine sampled at 48 kHz, plus a little of its octave, in `[-1, 1]`.
fn signal() -> Vec<f32> {
    let w = 2.0 * std::f32::consts::PI * 440.0 / 48_000.0;
    (0..SIGNAL_LEN).map(|t| 0.8 * (w * t as f32).sin() + 0.2 * (2.0 * w * t as f32).sin()).collect()
}

/// Panics unless `generated` and `dmatrix` (each the whole state after one step: `h`, then `c` for an LSTM)
/// agree to [`TOLERANCE`].
fn assert_agree(what: &str, step: usize, generated: &[f32], dmatrix: &[f32]) {
    assert_eq!(generated.len(), dmatrix.len(), "{what}: state sizes");
    for (i, (g, d)) in generated.iter().zip(dmatrix).enumerate() {
        assert!((g - d).abs() <= TOLERANCE, "{what}, step {step}, state[{i}]: generated {g}, dmatrix {d}");
    }
}

/// Group `{name}`: one benchmark per `(name, step function)`, each one call per iteration on successive samples
/// of `signal` (wrapping around), the state carried across iterations.
fn stream(c: &mut Criterion, name: &str, signal: &[f32], steps: &mut [(&str, &mut dyn FnMut(f32))]) {
    let mask = signal.len() - 1;
    assert!(signal.len().is_power_of_two());
    let mut g = c.benchmark_group(name);
    for (label, step) in steps.iter_mut() {
        let mut t = 0;
        g.bench_function(*label, |b| {
            b.iter(|| {
                step(black_box(signal[t & mask]));
                t += 1;
            })
        });
    }
    g.finish();
}

/// Benchmarks `lstm_step/h{H}` for the network `$net` (an LSTM layer named `lstm`) and its state `$state`.
macro_rules! lstm_step {
    ($c:expr, $signal:expr, $net:ident, $state:ident, $h:literal) => {{
        let mut rng = seeded_rng(1);
        let net = $net::boxed_init(&mut rng);
        let mut cell = DynLstm::from_layer(&net.lstm);
        let naive = NaiveLstm::from_layer(&net.lstm);
        let (mut state, mut dyn_state, mut x) = ($state::new(), cell.state(), DVector::zeros(1));
        let (mut h, mut c) = (SVector::<f32, $h>::zeros(), SVector::<f32, $h>::zeros());
        for (t, &v) in $signal.iter().take(CHECK_STEPS).enumerate() {
            let y = net.step(&mut state, &Vector::from([v]));
            x[0] = v;
            cell.step(&mut dyn_state, &x);
            naive.step(&mut h, &mut c, &Vector::from([v]));
            assert_agree(stringify!($net), t, y.as_slice(), dyn_state.h.as_slice());
            assert_agree(stringify!($net), t, y.as_slice(), h.as_slice());
            let both: Vec<f32> = dyn_state.h.iter().chain(&dyn_state.c).copied().collect();
            assert_agree(stringify!($net), t, state.lstm.as_slice(), &both);
        }
        state.reset();
        dyn_state = cell.state();
        stream(
            $c,
            concat!("lstm_step/h", $h),
            $signal,
            &mut [
                ("generated", &mut |v| {
                    black_box(net.step(&mut state, &Vector::from([v])));
                }),
                ("naive_smatrix", &mut |v| {
                    naive.step(&mut h, &mut c, &Vector::from([v]));
                    black_box(&h);
                }),
                ("dmatrix", &mut |v| {
                    x[0] = v;
                    black_box(cell.step(&mut dyn_state, &x));
                }),
            ],
        );
    }};
}

/// Benchmarks `gru_step/h{H}` for the network `$net` (a GRU layer named `gru`) and its state `$state`.
macro_rules! gru_step {
    ($c:expr, $signal:expr, $net:ident, $state:ident, $h:literal) => {{
        let mut rng = seeded_rng(1);
        let net = $net::boxed_init(&mut rng);
        let mut cell = DynGru::from_layer(&net.gru);
        let naive = NaiveGru::from_layer(&net.gru);
        let (mut state, mut h, mut x) = ($state::new(), cell.state(), DVector::zeros(1));
        let mut hn = SVector::<f32, $h>::zeros();
        for (t, &v) in $signal.iter().take(CHECK_STEPS).enumerate() {
            let y = net.step(&mut state, &Vector::from([v]));
            x[0] = v;
            cell.step(&mut h, &x);
            naive.step(&mut hn, &Vector::from([v]));
            assert_agree(stringify!($net), t, y.as_slice(), h.as_slice());
            assert_agree(stringify!($net), t, y.as_slice(), hn.as_slice());
            assert_agree(stringify!($net), t, state.gru.as_slice(), h.as_slice());
        }
        state.reset();
        h = cell.state();
        stream(
            $c,
            concat!("gru_step/h", $h),
            $signal,
            &mut [
                ("generated", &mut |v| {
                    black_box(net.step(&mut state, &Vector::from([v])));
                }),
                ("naive_smatrix", &mut |v| {
                    naive.step(&mut hn, &Vector::from([v]));
                    black_box(&hn);
                }),
                ("dmatrix", &mut |v| {
                    x[0] = v;
                    cell.step(&mut h, &x);
                    black_box(&h);
                }),
            ],
        );
    }};
}

fn recurrent(c: &mut Criterion) {
    let signal = signal();
    lstm_step!(c, &signal, Lstm8, Lstm8State, 8);
    lstm_step!(c, &signal, Lstm16, Lstm16State, 16);
    lstm_step!(c, &signal, Lstm32, Lstm32State, 32);
    gru_step!(c, &signal, Gru8, Gru8State, 8);
    gru_step!(c, &signal, Gru16, Gru16State, 16);
    gru_step!(c, &signal, Gru32, Gru32State, 32);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = recurrent
}
criterion_main!(benches);
