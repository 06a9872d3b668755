//! The GAN of the `gan2d` example, as a library function so that a test can run it on a fixed seed: a generator
//! learns to draw from a ring of eight two-dimensional Gaussians, the classic picture of mode coverage.

use nn_core::gan::{GeneratorLoss, discriminator_gradients, generator_gradients};
use nn_core::nalgebra::{SMatrix, Vector2};
use nn_core::prelude::*;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_core::rand::{RngExt, SeedableRng};
use nn_core::rand_distr::{Distribution, StandardNormal};

/// Noise values the generator reads.
pub const NOISE: usize = 4;
/// Samples per discriminator and generator step.
pub const BATCH: usize = 64;
/// Modes on the ring.
pub const MODES: usize = 8;
/// The ring's radius.
pub const RADIUS: f32 = 2.0;
/// The standard deviation of each mode.
pub const SPREAD: f32 = 0.05;

network! {
    /// Noise to a point of the plane.
    pub struct Generator<f32> {
        input: NOISE,
        fc1: Dense(64), Relu,
        fc2: Dense(64), Relu,
        out: Dense(2),
    }
}

network! {
    /// A point of the plane to the logit of "real".
    pub struct Discriminator<f32> {
        input: 2,
        fc1: Dense(64), LeakyRelu(0.2),
        fc2: Dense(64), LeakyRelu(0.2),
        out: Dense(1),
    }
}

/// The centre of mode `k`.
pub fn mode(k: usize) -> Vector2<f32> {
    let a = 2.0 * std::f32::consts::PI * k as f32 / MODES as f32;
    Vector2::new(RADIUS * a.cos(), RADIUS * a.sin())
}

/// A batch of real samples: a mode at random, plus Gaussian noise of [`SPREAD`].
pub fn real_batch(rng: &mut ChaCha8Rng) -> SMatrix<f32, 2, BATCH> {
    let mut x = SMatrix::<f32, 2, BATCH>::zeros();
    for mut c in x.column_iter_mut() {
        let centre = mode(rng.random_range(0..MODES));
        for r in 0..2 {
            let e: f32 = StandardNormal.sample(rng);
            c[r] = centre[r] + SPREAD * e;
        }
    }
    x
}

/// A batch of standard normal noise.
pub fn noise_batch(rng: &mut ChaCha8Rng) -> SMatrix<f32, NOISE, BATCH> {
    SMatrix::from_fn(|_, _| StandardNormal.sample(rng))
}

/// What [`train_gan2d`] reports.
pub struct GanRun {
    /// The trained generator.
    pub generator: Box<Generator>,
    /// Samples drawn at each snapshot step (the step, then the points).
    pub snapshots: Vec<(usize, Vec<Vector2<f32>>)>,
    /// Discriminator and generator loss, averaged over each snapshot interval.
    pub losses: Vec<(usize, f32, f32)>,
}

/// Trains the pair for `steps` steps (one discriminator and one generator update each, Adam with
/// `beta1 = 0.5`), keeping `per_snapshot` generated points at `snapshots` evenly spaced steps and at the end.
pub fn train_gan2d(seed: u64, steps: usize, snapshots: usize, per_snapshot: usize) -> GanRun {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut g = Generator::boxed_init(&mut rng);
    let mut d = Discriminator::boxed_init(&mut rng);
    let (mut g_grads, mut d_grads, mut scratch) =
        (Generator::boxed_zeroed(), Discriminator::boxed_zeroed(), Discriminator::boxed_zeroed());
    let (mut g_opt, mut d_opt) = (Adam::with(1e-3, 0.5, 0.999, 1e-8), Adam::with(1e-3, 0.5, 0.999, 1e-8));
    let every = (steps / snapshots.max(1)).max(1);
    let mut run = GanRun { generator: Generator::boxed_zeroed(), snapshots: Vec::new(), losses: Vec::new() };
    let (mut d_sum, mut g_sum, mut n) = (0.0, 0.0, 0);
    for step in 0..=steps {
        if step % every == 0 || step == steps {
            run.snapshots.push((step, sample(&g, per_snapshot, &mut rng)));
            if n > 0 {
                run.losses.push((step, d_sum / n as f32, g_sum / n as f32));
            }
            (d_sum, g_sum, n) = (0.0, 0.0, 0);
        }
        if step == steps {
            break;
        }
        let real = real_batch(&mut rng);
        let fake = g.forward_batch::<BATCH>(&noise_batch(&mut rng));
        d_grads.fill(0.0);
        d_sum += discriminator_gradients::<_, _, BATCH>(&*d, &real, &fake, &mut d_grads, &mut rng);
        d_opt.step(&mut *d, &d_grads);

        g_grads.fill(0.0);
        let z = noise_batch(&mut rng);
        g_sum += generator_gradients::<_, _, _, BATCH>(
            &*g,
            &*d,
            &z,
            GeneratorLoss::NonSaturating,
            &mut g_grads,
            &mut scratch,
            &mut rng,
        );
        g_opt.step(&mut *g, &g_grads);
        n += 1;
    }
    run.generator = g;
    run
}

/// `n` points drawn from the generator.
pub fn sample(g: &Generator, n: usize, rng: &mut ChaCha8Rng) -> Vec<Vector2<f32>> {
    (0..n)
        .map(|_| {
            let z = SMatrix::<f32, NOISE, 1>::from_fn(|_, _| StandardNormal.sample(rng));
            g.forward(&z)
        })
        .collect()
}

/// For each mode, how many of `points` lie within three standard deviations ([`SPREAD`]) of its centre.
pub fn mode_counts(points: &[Vector2<f32>]) -> [usize; MODES] {
    let mut counts = [0; MODES];
    for p in points {
        if let Some(k) = (0..MODES).find(|&k| (p - mode(k)).norm() < 3.0 * SPREAD) {
            counts[k] += 1;
        }
    }
    counts
}

/// Modes holding at least `share` of `points` (a mode the generator draws from, not a stray sample).
pub fn modes_covered(points: &[Vector2<f32>], share: f32) -> usize {
    mode_counts(points).iter().filter(|&&c| c as f32 >= share * points.len() as f32).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_covers_at_least_seven_of_the_eight_modes() {
        let run = train_gan2d(7, 10_000, 1, 2000);
        let points = &run.snapshots.last().expect("a final snapshot").1;
        let counts = mode_counts(points);
        let covered = modes_covered(points, 0.02);
        assert!(covered >= 7, "modes covered: {covered}, samples per mode {counts:?}");
        // Most samples land on a mode, not between them.
        let on_modes: usize = counts.iter().sum();
        assert!(on_modes as f32 >= 0.5 * points.len() as f32, "{on_modes} of {} on a mode", points.len());
    }
}
