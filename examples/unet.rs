//! A small U-Net segments the discs in noisy synthetic images: each 32 x 32 picture holds discs and rectangles of
//! the same brightness under Gaussian noise, and the mask to predict marks the discs only, so a pixel's value
//! alone cannot say whether it belongs to the mask; its surroundings (the shape it is part of) can. The network
//! is the paper's design scaled down: two levels down (8, 16, 32 channels, two 3x3 convolutions each), back up
//! by transposed convolutions and one 3x3 convolution per level, the features of each level on the way down
//! joined to the way up by a nested `Concat([], [...])`; trained with Adam on the per-pixel binary cross-entropy
//! of its [1, 32, 32] logits (1,500 training images, 6 epochs: under a minute on one core).
//!
//! It prints the test pixel accuracy and the intersection over union (IoU) of the predicted discs against two
//! baselines computed here, thresholding the noisy input and thresholding it after a 3 x 3 mean filter (each at
//! the threshold best on the training images), and writes `unet.png` (in `target/nn-examples/`, or `--out DIR`):
//! rows of inputs, predicted masks and true masks. It exits with status 1 unless the U-Net reaches 95% pixel
//! accuracy and beats the better baseline's IoU by 0.15.
//!
//! ```text
//! cargo run --release --example unet
//! ```

use nn_core::prelude::*;
use nn_core::rand::RngExt;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_core::rand_distr::{Distribution, StandardNormal};
use nn_core::train::Sample;
use nn_examples::EpochBar;

/// The images' side.
const SIDE: usize = 32;
/// Pixels per image.
const PIXELS: usize = SIDE * SIDE;

network! {
    /// [1, 32, 32] -> [8, 32, 32] -> [16, 16, 16] -> [32, 8, 8] and back up, each level's features joined to what
    /// comes back up to it (16 + 16, then 8 + 8 channels) -> [1, 32, 32] logits, one per pixel.
    pub struct SmallUNet<f32> {
        input: [1, 32, 32],
        Conv2d(8, kernel = 3, padding = 1), Relu, Conv2d(8, kernel = 3, padding = 1), Relu,
        Concat([], [
            MaxPool2d(2),
            Conv2d(16, kernel = 3, padding = 1), Relu, Conv2d(16, kernel = 3, padding = 1), Relu,
            Concat([], [
                MaxPool2d(2),
                Conv2d(32, kernel = 3, padding = 1), Relu, Conv2d(32, kernel = 3, padding = 1), Relu,
                ConvTranspose2d(16, kernel = 2, stride = 2),
            ]),
            Conv2d(16, kernel = 3, padding = 1), Relu,
            ConvTranspose2d(8, kernel = 2, stride = 2),
        ]),
        Conv2d(8, kernel = 3, padding = 1), Relu,
        out: Conv2d(1, kernel = 1),
    }
}

/// Images to train on, to pick the epoch with (early stopping), and to test on.
const TRAIN: usize = 1_500;
const VALID: usize = 200;
const TEST: usize = 500;
const EPOCHS: usize = 6;
/// Batches of 16 (of 32, the training step's temporaries overflow the main thread's 8 MiB stack).
const BATCH: usize = 16;
/// The noise's standard deviation (shapes are 1, the background 0).
const NOISE: f32 = 0.5;

/// A noisy image and its mask (1 on the discs), both row-major.
fn picture(rng: &mut ChaCha8Rng) -> (Vector<f32, PIXELS>, Vector<f32, PIXELS>) {
    let mut shapes = [0.0f32; PIXELS];
    let mut mask = [0.0f32; PIXELS];
    for _ in 0..rng.random_range(1..=2) {
        // A rectangle of 5 to 11 pixels a side, drawn first so that a disc over it stays a disc in the mask.
        let (w, h) = (rng.random_range(5..=11), rng.random_range(5..=11));
        let (x0, y0) = (rng.random_range(0..=SIDE - w), rng.random_range(0..=SIDE - h));
        for y in y0..y0 + h {
            shapes[y * SIDE + x0..y * SIDE + x0 + w].fill(1.0);
        }
    }
    for _ in 0..rng.random_range(1..=2) {
        let r: f32 = rng.random_range(3.0..6.5);
        let (cx, cy): (f32, f32) = (rng.random_range(r..SIDE as f32 - r), rng.random_range(r..SIDE as f32 - r));
        for (i, (s, m)) in shapes.iter_mut().zip(mask.iter_mut()).enumerate() {
            let (x, y) = ((i % SIDE) as f32 + 0.5, (i / SIDE) as f32 + 0.5);
            if (x - cx).powi(2) + (y - cy).powi(2) <= r * r {
                (*s, *m) = (1.0, 1.0);
            }
        }
    }
    let noisy = Vector::from_fn(|i, _| {
        let e: f32 = StandardNormal.sample(rng);
        shapes[i] + NOISE * e
    });
    (noisy, Vector::from_column_slice(&mask))
}

/// Each pixel's mean over its 3 x 3 neighbourhood (the pixels inside the image).
fn mean_filter(x: &Vector<f32, PIXELS>) -> Vector<f32, PIXELS> {
    Vector::from_fn(|i, _| {
        let (x0, y0) = (i % SIDE, i / SIDE);
        let (mut sum, mut n) = (0.0, 0.0);
        for y in y0.saturating_sub(1)..=(y0 + 1).min(SIDE - 1) {
            for x1 in x0.saturating_sub(1)..=(x0 + 1).min(SIDE - 1) {
                sum += x[y * SIDE + x1];
                n += 1.0;
            }
        }
        sum / n
    })
}

/// Pixel accuracy and IoU (intersection over union of the foreground) of predicted masks against true ones,
/// over all images together.
#[derive(Clone, Copy, Debug)]
struct Scores {
    /// The fraction of pixels predicted right.
    accuracy: f64,
    /// Pixels in both masks over pixels in either.
    iou: f64,
}

/// The [`Scores`] of predicted masks, each paired with its true mask.
fn scores<'a>(pairs: impl Iterator<Item = (&'a [bool], &'a Vector<f32, PIXELS>)>) -> Scores {
    let (mut right, mut total, mut both, mut either) = (0usize, 0usize, 0usize, 0usize);
    for (predicted, truth) in pairs {
        for (&p, &t) in predicted.iter().zip(truth.iter()) {
            let t = t > 0.5;
            right += usize::from(p == t);
            both += usize::from(p && t);
            either += usize::from(p || t);
            total += 1;
        }
    }
    Scores { accuracy: right as f64 / total as f64, iou: both as f64 / either.max(1) as f64 }
}

/// Thresholding `filter`ed images: the threshold (on a grid of 0.01) with the best IoU on `data`, and its scores
/// on `test`.
fn threshold_baseline(
    filter: impl Fn(&Vector<f32, PIXELS>) -> Vector<f32, PIXELS>,
    data: &[Sample<SmallUNet>],
    test: &[Sample<SmallUNet>],
) -> (f32, Scores) {
    let filtered = |set: &[Sample<SmallUNet>]| -> Vec<(Vector<f32, PIXELS>, Vector<f32, PIXELS>)> {
        set.iter().map(|(x, t)| (filter(x), *t)).collect()
    };
    let score = |set: &[(Vector<f32, PIXELS>, Vector<f32, PIXELS>)], threshold: f32| {
        let masks: Vec<Vec<bool>> = set.iter().map(|(x, _)| x.iter().map(|&v| v > threshold).collect()).collect();
        scores(masks.iter().map(Vec::as_slice).zip(set.iter().map(|(_, t)| t)))
    };
    let (data, test) = (filtered(data), filtered(test));
    let best = (0..=100)
        .map(|k| k as f32 / 100.0)
        .map(|threshold| (threshold, score(&data, threshold).iou))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0.5, |(threshold, _)| threshold);
    (best, score(&test, best))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = seeded_rng(11);
    let data: Vec<Sample<SmallUNet>> = (0..TRAIN + VALID + TEST).map(|_| picture(&mut rng)).collect();
    let (fit, rest) = data.split_at(TRAIN);
    let (valid, test) = rest.split_at(VALID);
    println!("{}", SmallUNet::SUMMARY);
    let foreground = test.iter().map(|(_, t)| t.sum()).sum::<f32>() / (TEST * PIXELS) as f32;
    println!("{TRAIN} training, {VALID} validation and {TEST} test images; discs cover {:.1}%", 100.0 * foreground);

    let mut net = SmallUNet::boxed_init(&mut seeded_rng(3));
    let mut adam = Adam::new(4e-3);
    let bar = EpochBar::new(EPOCHS * fit.len().div_ceil(BATCH), "bce")?;
    let started = std::time::Instant::now();
    let report = Trainer::new(&mut *net, &mut adam, BinaryCrossEntropyWithLogits)
        .epochs(EPOCHS)
        .seed(3)
        .early_stopping(3)
        .on_progress(|p| bar.update(p))
        .fit::<BATCH>(fit, valid)?;
    bar.finish();
    println!("trained {} epochs in {:.1} s", report.epochs.len(), started.elapsed().as_secs_f64());

    // The U-Net's mask: the pixels whose logit is positive (probability above one half).
    let mut cache = nn_core::boxed_zeroed::<<SmallUNet as Network>::Cache>();
    let predicted: Vec<Vec<bool>> =
        test.iter().map(|(x, _)| net.forward_in(x, &mut cache).iter().map(|&z| z > 0.0).collect()).collect();
    let unet = scores(predicted.iter().map(Vec::as_slice).zip(test.iter().map(|(_, t)| t)));
    let (raw_at, raw) = threshold_baseline(|x| *x, fit, test);
    let (mean_at, mean) = threshold_baseline(mean_filter, fit, test);
    println!("test pixels, {TEST} images:                  accuracy     IoU");
    println!("  U-Net                                        {:6.2}%  {:.3}", 100.0 * unet.accuracy, unet.iou);
    println!("  the input above {raw_at:.2}                         {:6.2}%  {:.3}", 100.0 * raw.accuracy, raw.iou);
    println!("  the 3x3 mean of the input above {mean_at:.2}         {:6.2}%  {:.3}", 100.0 * mean.accuracy, mean.iou);

    let shown = 10;
    let as_image = |m: &[bool]| m.iter().map(|&p| f32::from(u8::from(p))).collect::<Vec<f32>>();
    // The noisy inputs drawn with -0.5 as black and 1.5 as white.
    let inputs: Vec<Vec<f32>> =
        test[..shown].iter().map(|(x, _)| x.iter().map(|v| (v + 0.5) / 2.0).collect()).collect();
    let masks: Vec<Vec<f32>> = predicted[..shown].iter().map(|m| as_image(m)).collect();
    let rows = vec![
        inputs.iter().map(Vec::as_slice).collect(),
        masks.iter().map(Vec::as_slice).collect(),
        test[..shown].iter().map(|(_, t)| t.as_slice()).collect(),
    ];
    let grid = nn_examples::paths::output("unet.png")?;
    nn_examples::save_image_grid(&grid, &rows, SIDE, SIDE, 3)?;
    println!("inputs, predicted masks and true masks written to {}", grid.display());

    let best_baseline = raw.iou.max(mean.iou);
    if unet.accuracy < 0.95 || unet.iou < best_baseline + 0.15 {
        eprintln!(
            "FAILED: the U-Net needs 95% pixel accuracy and an IoU 0.15 above the better baseline's ({best_baseline:.3})"
        );
        std::process::exit(1);
    }
    Ok(())
}
