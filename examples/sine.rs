//! The sine model of the TinyML tutorials (TensorFlow Lite Micro's `hello_world`, microflow's `sine`): a 1-16-16-1
//! MLP with ReLU fitted to `y = sin(x) + noise` for `x` in `[0, 2π)`, then checked against the exact sine on a
//! grid; writes the weights to `target/nn-examples/sine.safetensors` (the firmware of `tests/no-std` compiles in a copy,
//! `examples/assets/sine-mlp.safetensors`, and runs it on an emulated Cortex-M4F beside microflow's model).
//!
//! ```text
//! cargo run --release --example sine
//! ```

use nn_core::prelude::*;
use nn_core::rand::RngExt;
use nn_core::rand_distr::StandardNormal;
use std::f32::consts::TAU;

network! {
    /// One input, two hidden ReLU layers of 16, one output: the tutorials' architecture.
    struct Sine<f32> {
        input: 1,
        hidden1: Dense(16), Relu,
        hidden2: Dense(16), Relu,
        out: Dense(1),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // As in the tutorials: 1,000 points, noise of standard deviation 0.1, 60% to fit, 20% to validate.
    let mut rng = seeded_rng(7);
    let data: Vec<_> = (0..1000)
        .map(|_| {
            let x: f32 = rng.random_range(0.0..TAU);
            let noise: f32 = rng.sample(StandardNormal);
            (Vector::from([x]), Vector::from([x.sin() + 0.1 * noise]))
        })
        .collect();
    let (fit, rest) = data.split_at(600);
    let (valid, _) = rest.split_at(200);

    let mut net = Sine::boxed_init(&mut seeded_rng(1));
    let mut adam = Adam::new(1e-2);
    let report = Trainer::new(&mut *net, &mut adam, MeanSquaredError)
        .epochs(1000)
        .seed(1)
        .early_stopping(200)
        .fit::<16>(fit, valid)?;
    println!("kept the weights of epoch {:?} (stopped early: {})", report.best_epoch, report.stopped_early);

    // Against the exact sine (no noise) on 1,000 evenly spaced points.
    let (mut square, mut largest) = (0.0f64, 0.0f32);
    for i in 0..1000 {
        let x = i as f32 * TAU / 1000.0;
        let e = net.forward(&Vector::from([x]))[0] - x.sin();
        square += f64::from(e * e);
        largest = largest.max(e.abs());
    }
    let rmse = (square / 1000.0).sqrt();
    println!("against sin(x) on [0, 2π): RMSE {rmse:.4}, largest error {largest:.4}");
    if rmse > 0.1 {
        return Err(format!("the fit is too poor: RMSE {rmse:.4} against sin(x)").into());
    }
    let weights = nn_examples::paths::output("sine.safetensors")?;
    nn_core::io::save(&*net, &weights)?;
    println!("weights written to {}", weights.display());
    Ok(())
}
