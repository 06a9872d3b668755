//! The MNIST classification run shared by the `mnist` and `mnist_cnn` examples.

use crate::plot_history;
use indicatif::{ProgressBar, ProgressStyle};
use nn_core::data::load_mnist;
use nn_core::prelude::*;
use nn_core::train::confusion;
use std::error::Error;
use std::time::Instant;

/// How to train: everything but the network.
#[derive(Clone, Copy, Debug)]
pub struct MnistRun<'a> {
    /// The bundled data file (found by [`crate::paths::data`]).
    pub data: &'a str,
    /// The file the training curves go to, in [`crate::paths::output_dir`].
    pub plot: &'a str,
    /// The plot's title.
    pub title: &'a str,
    /// Maximum epochs.
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// Epochs without a better validation loss before stopping.
    pub patience: usize,
    /// Seed of the initialisation, the shuffling and dropout.
    pub seed: u64,
}

/// A trained network with its data.
pub struct Trained<N> {
    /// The network, with the weights of its best epoch.
    pub net: Box<N>,
    /// Its accuracy on the test images.
    pub accuracy: f64,
    /// The images it was fitted on (calibration data for quantisation).
    pub fit: Vec<(Vector<f32, 784>, Vector<f32, 10>)>,
    /// The test images.
    pub test: Vec<(Vector<f32, 784>, Vector<f32, 10>)>,
}

/// Trains a freshly initialised `N` on the first 8,000 images (7,000 fitting, 1,000 validation) with Adam in
/// batches of `B`, showing a progress bar, then reports test accuracy and the confusion matrix on the fixed last
/// 2,000 and writes the training curves.
pub fn train_mnist<N, const B: usize>(run: &MnistRun<'_>) -> Result<Trained<N>, Box<dyn Error>>
where
    N: BatchNetwork<Scalar = f32, Input = Vector<f32, 784>, Output = Vector<f32, 10>> + Boxed + Initialize,
{
    let start = Instant::now();
    let data = load_mnist(crate::paths::data(run.data)?)?;
    let (train, test) = data.split(8_000);
    let train = train.pairs::<f32, 784, 10>()?;
    let test = test.pairs::<f32, 784, 10>()?;
    let (fit, valid) = train.split_at(7_000);
    let mut net = N::boxed_init(&mut seeded_rng(run.seed));
    println!(
        "{} parameters; {} fitting, {} validation, {} test images; Adam {}, batch {B}, seed {}",
        net.param_count(),
        fit.len(),
        valid.len(),
        test.len(),
        run.lr,
        run.seed
    );

    let mut adam = Adam::new(run.lr);
    let bar = ProgressBar::new((run.epochs * (fit.len() / B)) as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} batches  {msg}")?);
    let mut smoothed = None::<f64>;
    let report = Trainer::new(&mut *net, &mut adam, SoftmaxCrossEntropy)
        .epochs(run.epochs)
        .seed(run.seed)
        .early_stopping(run.patience)
        .on_progress(|p| match p {
            Progress::Batch { epoch, loss, .. } => {
                let s = smoothed.map_or(*loss, |s| 0.95 * s + 0.05 * loss);
                smoothed = Some(s);
                bar.set_message(format!("epoch {epoch}  loss {s:.4}"));
                bar.inc(1);
            }
            Progress::Epoch(s) => {
                let v = s.valid.unwrap_or(s.train);
                // `suspend` prints above the bar on a terminal and plainly when output is piped.
                bar.suspend(|| {
                    println!(
                        "epoch {:>2}  train loss {:.4} acc {:.4}  valid loss {:.4} acc {:.4}",
                        s.epoch, s.train.loss, s.train.accuracy, v.loss, v.accuracy
                    );
                });
            }
        })
        .fit::<B>(fit, valid)?;
    bar.finish_and_clear();
    println!(
        "kept epoch {} of {} (stopped early: {})",
        report.best_epoch.unwrap_or(report.epochs.len()),
        report.epochs.len(),
        report.stopped_early
    );

    let m = evaluate::<_, _, B>(&*net, &test, &SoftmaxCrossEntropy);
    println!("test loss {:.4}, test accuracy {:.2}% on {} images", m.loss, 100.0 * m.accuracy, test.len());
    println!("confusion matrix (rows: true digit, columns: predicted):");
    println!("    {}", (0..10).map(|d| format!("{d:>5}")).collect::<String>());
    for (digit, row) in confusion(&*net, &test, 10).iter().enumerate() {
        println!("{digit:>3} {}", row.iter().map(|c| format!("{c:>5}")).collect::<String>());
    }
    let plot = crate::paths::output(run.plot)?;
    plot_history(&plot, run.title, &report.epochs)?;
    println!("training curves written to {}", plot.display());
    println!("done in {:.1} s", start.elapsed().as_secs_f64());
    Ok(Trained { net, accuracy: m.accuracy, fit: fit.to_vec(), test })
}

/// Quantises `trained` to int8 on 1,000 of its fitting images (`nn_core::quant::quantize`), reads the file
/// into the int8 twin with `load`, and prints both accuracies on the test images and both sizes; writes the
/// int8 weights to `file` in the output folder, ready for `#[int8] #[weights = ".."]`. Returns the int8
/// accuracy, or an error when it is more than half a point below the f32 network's.
pub fn quantize_mnist<N, Q>(
    trained: &Trained<N>,
    load: impl Fn(&[u8]) -> Result<Box<Q>, nn_core::io::WeightsError>,
    predict: impl Fn(&Q, &[f32; 784]) -> [f32; 10],
    file: &str,
) -> Result<f64, Box<dyn Error>>
where
    N: nn_core::quant::Quantize<Scalar = f32, InputBatch<1> = Vector<f32, 784>>,
{
    let calibration: Vec<Vector<f32, 784>> = trained.fit.iter().take(1_000).map(|(x, _)| *x).collect();
    let bytes = nn_core::quant::quantize(&*trained.net, &calibration)?;
    let q = load(&bytes)?;
    let correct = trained
        .test
        .iter()
        .filter(|(x, t)| {
            let x: &[f32; 784] = x.as_slice().try_into().expect("784 values");
            nn_core::argmax(&predict(&q, x)) == nn_core::argmax(t.as_slice())
        })
        .count();
    let accuracy = correct as f64 / trained.test.len() as f64;
    // Parameter bytes: f32 values against the int8 file's tensors (int8 weights, int32 biases, f32 scales).
    let f32_bytes = 4 * trained.net.param_count();
    let file_tensors = safetensors::SafeTensors::deserialize(&bytes)?;
    let int8_bytes: usize = file_tensors.tensors().iter().map(|(_, t)| t.data().len()).sum();
    println!(
        "int8: test accuracy {:.2}% (f32 {:.2}%, {:+.2} points); parameters {} bytes (f32 {} bytes, {:.2}x smaller)",
        100.0 * accuracy,
        100.0 * trained.accuracy,
        100.0 * (accuracy - trained.accuracy),
        int8_bytes,
        f32_bytes,
        f32_bytes as f64 / int8_bytes as f64
    );
    let path = crate::paths::output(file)?;
    std::fs::write(&path, &bytes)?;
    println!("int8 weights written to {} (compile them in with #[int8] #[weights = \"..\"])", path.display());
    if trained.accuracy - accuracy > 0.005 {
        return Err(format!(
            "int8 loses {:.2} points of accuracy (at most 0.5)",
            100.0 * (trained.accuracy - accuracy)
        )
        .into());
    }
    Ok(accuracy)
}
