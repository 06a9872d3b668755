//! Vanishing gradients in deep feed-forward networks: five MLPs of twelve hidden layers of 32 units on the 8x8
//! digits (sigmoid, tanh, ReLU, ReLU with batch norm, ReLU with residual connections), and for each the Frobenius
//! norm of every hidden layer's weight gradient (of the mean cross-entropy over 256 training images) at
//! initialisation and after 20 epochs of Adam. The table and `deep_gradients.png` (log scale, one line per
//! network, before and after training) show the sigmoid network's gradient shrinking by orders of magnitude on the
//! way back to its first layer, while batch norm and residual connections keep it level. Exits with an error if the
//! sigmoid network's first-layer gradient is not at least 100x below its last hidden layer's at initialisation, or
//! if the residual network's two are more than 10x apart.
//!
//! ```text
//! cargo run --release --example deep_gradients
//! ```

use std::error::Error;

use nn_core::boxed_zeroed;
use nn_core::data::load_digits;
use nn_core::params::Layout;
use nn_core::prelude::*;
use nn_core::train::Sample;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

/// Hidden layers in every network.
const DEPTH: usize = 12;
/// Images whose mean loss is differentiated.
const PROBE: usize = 256;
const EPOCHS: usize = 20;
const SPLIT_SEED: u64 = 2026;

network! {
    /// Twelve sigmoid layers (Xavier initialisation).
    struct SigmoidNet<f32> {
        input: 64,
        Dense(32), Sigmoid, Dense(32), Sigmoid, Dense(32), Sigmoid, Dense(32), Sigmoid,
        Dense(32), Sigmoid, Dense(32), Sigmoid, Dense(32), Sigmoid, Dense(32), Sigmoid,
        Dense(32), Sigmoid, Dense(32), Sigmoid, Dense(32), Sigmoid, Dense(32), Sigmoid,
        Dense(10),
    }
}

network! {
    /// Twelve tanh layers (Xavier initialisation).
    struct TanhNet<f32> {
        input: 64,
        Dense(32), Tanh, Dense(32), Tanh, Dense(32), Tanh, Dense(32), Tanh,
        Dense(32), Tanh, Dense(32), Tanh, Dense(32), Tanh, Dense(32), Tanh,
        Dense(32), Tanh, Dense(32), Tanh, Dense(32), Tanh, Dense(32), Tanh,
        Dense(10),
    }
}

network! {
    /// Twelve ReLU layers (He initialisation).
    struct ReluNet<f32> {
        input: 64,
        Dense(32), Relu, Dense(32), Relu, Dense(32), Relu, Dense(32), Relu,
        Dense(32), Relu, Dense(32), Relu, Dense(32), Relu, Dense(32), Relu,
        Dense(32), Relu, Dense(32), Relu, Dense(32), Relu, Dense(32), Relu,
        Dense(10),
    }
}

network! {
    /// Twelve ReLU layers, each normalised over the batch before its activation.
    struct BatchNormNet<f32> {
        input: 64,
        Dense(32), BatchNorm, Relu, Dense(32), BatchNorm, Relu, Dense(32), BatchNorm, Relu,
        Dense(32), BatchNorm, Relu, Dense(32), BatchNorm, Relu, Dense(32), BatchNorm, Relu,
        Dense(32), BatchNorm, Relu, Dense(32), BatchNorm, Relu, Dense(32), BatchNorm, Relu,
        Dense(32), BatchNorm, Relu, Dense(32), BatchNorm, Relu, Dense(32), BatchNorm, Relu,
        Dense(10),
    }
}

network! {
    /// One ReLU layer to 32 units, then eleven residual blocks `x + relu(W x + b)`.
    struct ResidualNet<f32> {
        input: 64,
        Dense(32), Relu,
        Residual(Dense(32), Relu), Residual(Dense(32), Relu), Residual(Dense(32), Relu), Residual(Dense(32), Relu),
        Residual(Dense(32), Relu), Residual(Dense(32), Relu), Residual(Dense(32), Relu), Residual(Dense(32), Relu),
        Residual(Dense(32), Relu), Residual(Dense(32), Relu), Residual(Dense(32), Relu),
        Dense(10),
    }
}

/// One network's measurements.
struct Run {
    name: &'static str,
    before: Vec<f64>,
    after: Vec<f64>,
    accuracy: f64,
}

/// The Frobenius norm of each hidden layer's weight gradient, first layer first, for the mean cross-entropy over
/// the first [`PROBE`] samples (batch statistics for batch norm, as in training).
fn hidden_gradient_norms<N: BatchNetwork + Boxed>(net: &N, samples: &[Sample<N>]) -> Vec<f64> {
    let mut x = boxed_zeroed::<N::InputBatch<PROBE>>();
    let mut t = boxed_zeroed::<N::OutputBatch<PROBE>>();
    let (fi, fo) = (N::InputBatch::<PROBE>::FEATURES, N::OutputBatch::<PROBE>::FEATURES);
    for (b, (xi, ti)) in samples[..PROBE].iter().enumerate() {
        x.as_mut_slice()[b * fi..(b + 1) * fi].copy_from_slice(xi.as_slice());
        t.as_mut_slice()[b * fo..(b + 1) * fo].copy_from_slice(ti.as_slice());
    }
    let mut cache = boxed_zeroed::<N::BatchCache<PROBE>>();
    let y = net.forward_train_batch_in::<PROBE, _>(&x, &mut cache, &mut seeded_rng(0));
    let dy = SoftmaxCrossEntropy.gradient(&y, &*t);
    let mut grads = N::boxed_zeroed();
    N::backward_batch_in::<PROBE, _>(Accumulate { layer: net, grads: &mut *grads }, &mut cache, &dy, None);
    let mut norms: Vec<f64> = (0..N::TENSORS)
        .filter_map(|i| grads.tensor(i))
        .filter(|g| g.layout == Layout::Matrix && g.name.tensor == "weight")
        .map(|g| g.data.iter().map(|v| v.to_f64().powi(2)).sum::<f64>().sqrt())
        .collect();
    norms.pop(); // the output layer
    assert_eq!(norms.len(), DEPTH, "hidden weight matrices");
    norms
}

/// Gradient norms of a fresh network, a few epochs of Adam, the norms again and the test accuracy.
fn study<N: BatchNetwork<Scalar = f32> + Boxed + Initialize>(
    name: &'static str,
    train: &[Sample<N>],
    test: &[Sample<N>],
) -> Result<Run, Box<dyn Error>> {
    let mut net = N::boxed_init(&mut seeded_rng(1));
    let before = hidden_gradient_norms(&*net, train);
    let mut adam = Adam::new(1e-3);
    Trainer::new(&mut *net, &mut adam, SoftmaxCrossEntropy)
        .epochs(EPOCHS)
        .seed(1)
        .fit_without_validation::<32>(train)?;
    let after = hidden_gradient_norms(&*net, train);
    let accuracy = evaluate::<_, _, 32>(&*net, test, &SoftmaxCrossEntropy).accuracy;
    Ok(Run { name, before, after, accuracy })
}

fn ratio(norms: &[f64]) -> f64 {
    norms[0] / norms[norms.len() - 1]
}

fn main() -> Result<(), Box<dyn Error>> {
    let data = load_digits(nn_examples::paths::data("digits.csv.gz")?)?.shuffled(SPLIT_SEED);
    let (train, test) = data.split(data.len() * 4 / 5);
    let (train, test) = (train.pairs::<f32, 64, 10>()?, test.pairs::<f32, 64, 10>()?);
    println!(
        "{} training, {} test images; {DEPTH} hidden layers of 32 units, {EPOCHS} epochs of Adam",
        train.len(),
        test.len()
    );

    let runs = [
        study::<SigmoidNet>("sigmoid", &train, &test)?,
        study::<TanhNet>("tanh", &train, &test)?,
        study::<ReluNet>("ReLU", &train, &test)?,
        study::<BatchNormNet>("ReLU + batch norm", &train, &test)?,
        study::<ResidualNet>("ReLU + residual", &train, &test)?,
    ];

    for (when, pick) in [("at initialisation", 0), ("after training", 1)] {
        println!("\n|dL/dW| per hidden layer {when} (mean loss over {PROBE} training images)");
        print!("layer");
        for run in &runs {
            print!("{:>19}", run.name);
        }
        println!();
        let norms = |run: &Run| if pick == 0 { run.before.clone() } else { run.after.clone() };
        for layer in 0..DEPTH {
            print!("{:>5}", layer + 1);
            for run in &runs {
                print!("{:>19.3e}", norms(run)[layer]);
            }
            println!();
        }
        print!("first/last");
        for (i, run) in runs.iter().enumerate() {
            let width = if i == 0 { 14 } else { 19 };
            print!("{:>width$.3e}", ratio(&norms(run)));
        }
        println!();
    }
    println!();
    for run in &runs {
        println!("{:<18} test accuracy {:.2}%", run.name, 100.0 * run.accuracy);
    }

    let plot = nn_examples::paths::output("deep_gradients.png")?;
    draw(&plot, &runs)?;
    println!("\ngradient norms drawn in {}", plot.display());

    let (sigmoid, residual) = (ratio(&runs[0].before), ratio(&runs[4].before));
    if sigmoid > 1e-2 {
        return Err(format!("sigmoid: first/last hidden-layer gradient {sigmoid:.3e}, expected at most 1e-2").into());
    }
    if !(0.1..=10.0).contains(&residual) {
        return Err(format!("residual: first/last hidden-layer gradient {residual:.3e}, expected within 10x").into());
    }
    Ok(())
}

/// DejaVu Sans, the font `nn_examples` bundles (Bitstream Vera licence, see `assets/DejaVuSans-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Two panels, before and after training: each network's gradient norm per layer on a log scale.
fn draw(path: &std::path::Path, runs: &[Run]) -> Result<(), Box<dyn Error>> {
    register_font(FAMILY, FontStyle::Normal, FONT).map_err(|_| "the bundled font could not be loaded")?;
    let all = runs.iter().flat_map(|r| r.before.iter().chain(&r.after)).copied().filter(|v| *v > 0.0);
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = (10f64.powf(lo.log10().floor()), 10f64.powf(hi.log10().ceil()));

    let root = BitMapBackend::new(path, (1200, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let body = root.titled("Weight-gradient norm per hidden layer, 12 x 32 units, 8x8 digits", (FAMILY, 24))?;
    let panels = body.split_evenly((1, 2));
    let trained = format!("After {EPOCHS} epochs of Adam");
    for (panel, (title, after)) in panels.iter().zip([("At initialisation", false), (trained.as_str(), true)]) {
        let mut chart = ChartBuilder::on(panel)
            .caption(title, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.5f64..DEPTH as f64 + 0.5, (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("hidden layer (1 = nearest the input)")
            .y_desc("|dL/dW| (Frobenius)")
            .x_labels(DEPTH)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0e}"))
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .draw()?;
        for (run, colour) in runs.iter().zip(nn_examples::PALETTE) {
            let norms = if after { &run.after } else { &run.before };
            let points: Vec<(f64, f64)> = norms.iter().enumerate().map(|(i, &v)| ((i + 1) as f64, v)).collect();
            chart
                .draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(2)))?
                .label(run.name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FAMILY, 14))
            .draw()?;
    }
    root.present().map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(())
}
