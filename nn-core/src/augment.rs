//! Data augmentation for images and cross-validation folds: what `Trainer` needs to train on more than the
//! samples it was given, and to judge a model on every sample once.
//!
//! [`ImageAugment`] transforms one image in place (channel-major `[C, H, W]`, the layout of every image input of
//! `network!`): a random shift by up to a few pixels with zeros coming in, a random horizontal flip, Gaussian
//! noise. Given to [`Trainer::augment`](crate::train::Trainer::augment), it runs on every sample as its batch is
//! gathered, from the trainer's seeded generator, so each epoch sees new variants and the same seed gives the
//! same run. [`Corruption`] corrupts an input for a denoising autoencoder (masking, Gaussian or salt-and-pepper
//! noise): given to the trainer the same way on pairs `(x, x)`, it changes the input the network reads and
//! leaves the target clean. [`k_folds`] splits a data set into `k` seeded folds.
//!
//! ```
//! use nn_core::augment::{Corruption, ImageAugment, k_folds};
//!
//! // A 1x3x3 image, shifted by one pixel to the right with the flip and the noise turned off.
//! let mut image = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
//! ImageAugment::new(1, 3, 3).shift_exactly(0, 1, &mut image);
//! assert_eq!(image, [0.0, 1.0, 2.0, 0.0, 4.0, 5.0, 0.0, 7.0, 8.0]);
//! // Masking noise on a denoising autoencoder's input: every value is kept or set to zero, and the same seed
//! // masks the same values.
//! let (mut a, mut b) = ([0.5f32; 64], [0.5f32; 64]);
//! Corruption::Mask(0.25).apply(&mut a, &mut nn_core::seeded_rng(3));
//! Corruption::Mask(0.25).apply(&mut b, &mut nn_core::seeded_rng(3));
//! assert!(a == b && a.iter().all(|&v| v == 0.0 || v == 0.5) && a.contains(&0.0));
//! // Ten samples in three folds: every sample validated once, fold sizes 4, 3 and 3.
//! let folds = k_folds(&(0..10).collect::<Vec<_>>(), 3, 7);
//! assert_eq!(folds.iter().map(|(train, valid)| (train.len(), valid.len())).collect::<Vec<_>>(), [(6, 4), (7, 3), (7, 3)]);
//! ```

use crate::buffer::Buffer;
use crate::float::Float;
use alloc::vec::Vec;
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// Random transformations of an image of `channels x height x width` values (channel-major), each drawn anew
/// for every call: a shift, a horizontal flip, noise. All off until set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImageAugment {
    /// Channels of the image.
    pub channels: usize,
    /// Its height.
    pub height: usize,
    /// Its width.
    pub width: usize,
    /// The largest shift in each direction, in pixels (each of the two offsets uniform in `-max ..= max`); the
    /// pixels shifted in are zero.
    pub max_shift: usize,
    /// Whether to mirror left and right with probability one half (not for digits, whose mirror images are other
    /// shapes).
    pub flip: bool,
    /// The standard deviation of Gaussian noise added to every value (0 for none).
    pub noise: f64,
}

impl ImageAugment {
    /// No transformation yet, for images of this shape.
    #[must_use]
    pub const fn new(channels: usize, height: usize, width: usize) -> Self {
        Self { channels, height, width, max_shift: 0, flip: false, noise: 0.0 }
    }

    /// Shifts by up to `pixels` in each direction.
    #[must_use]
    pub const fn shift(mut self, pixels: usize) -> Self {
        self.max_shift = pixels;
        self
    }

    /// Mirrors left and right half of the time.
    #[must_use]
    pub const fn flip(mut self) -> Self {
        self.flip = true;
        self
    }

    /// Adds Gaussian noise of standard deviation `std`.
    #[must_use]
    pub const fn noise(mut self, std: f64) -> Self {
        self.noise = std;
        self
    }

    /// One random draw of every transformation set, applied to `image` in place. `image` holds at least
    /// `channels * height * width` values; any others are left alone.
    pub fn apply<T: Float, R: Rng + ?Sized>(&self, image: &mut [T], rng: &mut R) {
        let m = i64::try_from(self.max_shift).unwrap_or(i64::MAX / 2);
        if m > 0 {
            let (dy, dx) = (rng.random_range(-m..=m), rng.random_range(-m..=m));
            self.shift_exactly(dy as isize, dx as isize, image);
        }
        if self.flip && rng.random_bool(0.5) {
            let (w, n) = (self.width, self.values());
            for row in image[..n].chunks_exact_mut(w.max(1)) {
                row.reverse();
            }
        }
        if self.noise > 0.0 {
            for v in &mut image[..self.values()] {
                let z: f64 = StandardNormal.sample(rng);
                *v += T::from_f64(self.noise * z);
            }
        }
    }

    /// Moves every plane `dy` pixels down and `dx` right (negative: up, left); the pixels that come in are zero.
    pub fn shift_exactly<T: Float>(&self, dy: isize, dx: isize, image: &mut [T]) {
        let (h, w) = (self.height as isize, self.width as isize);
        for plane in image[..self.values()].chunks_exact_mut(self.height * self.width.max(1)) {
            // Walk against the shift so that every value is read before it is overwritten.
            let rows: Vec<isize> = if dy > 0 { (0..h).rev().collect() } else { (0..h).collect() };
            let cols: Vec<isize> = if dx > 0 { (0..w).rev().collect() } else { (0..w).collect() };
            for &y in &rows {
                for &x in &cols {
                    let (sy, sx) = (y - dy, x - dx);
                    let v = if (0..h).contains(&sy) && (0..w).contains(&sx) {
                        plane[(sy * w + sx) as usize]
                    } else {
                        T::zero()
                    };
                    plane[(y * w + x) as usize] = v;
                }
            }
        }
    }

    /// The values of one image.
    const fn values(&self) -> usize {
        self.channels * self.height * self.width
    }
}

/// The corruption a denoising autoencoder learns to undo (Vincent et al., *Extracting and composing robust
/// features with denoising autoencoders*, 2008), applied to each value independently with a fresh draw on every
/// call. For training, corrupt the inputs only: on pairs `(x, x)`,
/// `Trainer::augment(move |x, rng| Corruption::Mask(0.3).apply(x, rng))` hands the network a new corruption
/// of every sample in every epoch while the target, which the trainer never augments, stays the clean `x`.
///
/// Probabilities are clamped to `[0, 1]` (`NaN` corrupts nothing).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Corruption {
    /// Masking noise: each value is set to 0 with the probability held, and kept otherwise.
    Mask(f64),
    /// Additive Gaussian noise of the standard deviation held (values may leave the data's range).
    Gaussian(f64),
    /// Salt and pepper: each value is replaced, with the probability held, by 0 or 1 (each half the time), the
    /// ends of the range of pixels in `[0, 1]`; kept otherwise.
    SaltPepper(f64),
}

impl Corruption {
    /// Corrupts every value of `x` in place, drawing from `rng`.
    pub fn apply<T: Float, R: Rng + ?Sized>(&self, x: &mut [T], rng: &mut R) {
        // `p > u` with `u` uniform in [0, 1): probability p, nothing for p <= 0 or NaN, everything for p >= 1.
        let hit = |p: f64, rng: &mut R| p > rng.random::<f64>();
        match *self {
            Corruption::Mask(p) => {
                for v in x {
                    if hit(p, rng) {
                        *v = T::zero();
                    }
                }
            }
            Corruption::Gaussian(sigma) => {
                for v in x {
                    let z: f64 = StandardNormal.sample(rng);
                    *v += T::from_f64(sigma * z);
                }
            }
            Corruption::SaltPepper(p) => {
                for v in x {
                    if hit(p, rng) {
                        *v = if rng.random_bool(0.5) { T::one() } else { T::zero() };
                    }
                }
            }
        }
    }

    /// A corrupted copy of `x` (a sample, or a batch of samples as columns).
    #[must_use]
    pub fn corrupted<T: Float, B: Buffer<T>, R: Rng + ?Sized>(&self, x: &B, rng: &mut R) -> B {
        let mut y = x.clone();
        self.apply(y.as_mut_slice(), rng);
        y
    }
}

/// `k` folds of `data` for cross-validation: the samples shuffled with `seed`, cut into `k` parts whose sizes
/// differ by at most one (the larger first), and for each part the pair (every other sample, that part). Each
/// sample is in exactly one validation part. `k` is clamped to `1 ..= data.len()`.
pub fn k_folds<S: Clone>(data: &[S], k: usize, seed: u64) -> Vec<(Vec<S>, Vec<S>)> {
    let k = k.clamp(1, data.len().max(1));
    let mut order: Vec<usize> = (0..data.len()).collect();
    order.shuffle(&mut crate::seeded_rng(seed));
    let (base, extra) = (data.len() / k, data.len() % k);
    let mut folds = Vec::with_capacity(k);
    let mut start = 0;
    for f in 0..k {
        let end = start + base + usize::from(f < extra);
        let valid = order[start..end].iter().map(|&i| data[i].clone()).collect();
        let train = order[..start].iter().chain(&order[end..]).map(|&i| data[i].clone()).collect();
        folds.push((train, valid));
        start = end;
    }
    folds
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn shifts_flips_and_noise_do_what_they_say() {
        let a = ImageAugment::new(2, 2, 3);
        let mut img: Vec<f64> = (1..=12).map(f64::from).collect();
        a.shift_exactly(1, -1, &mut img);
        assert_eq!(img, [0.0, 0.0, 0.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0.0, 8.0, 9.0, 0.0]);
        // Flips only: every draw is the image or its mirror, and both happen.
        let flip = ImageAugment::new(1, 2, 3).flip();
        let mut rng = crate::seeded_rng(1);
        let (mut same, mut mirrored) = (0, 0);
        for _ in 0..100 {
            let mut x = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
            flip.apply(&mut x, &mut rng);
            match x {
                [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] => same += 1,
                [3.0, 2.0, 1.0, 6.0, 5.0, 4.0] => mirrored += 1,
                other => panic!("{other:?}"),
            }
        }
        assert!(same > 30 && mirrored > 30, "{same} {mirrored}");
        // Noise of standard deviation 0.5: the sample deviation over 10,000 values is close to it.
        let noisy = ImageAugment::new(1, 100, 100).noise(0.5);
        let mut x = vec![0.0f64; 10_000];
        noisy.apply(&mut x, &mut rng);
        let sd = (x.iter().map(|v| v * v).sum::<f64>() / 1e4).sqrt();
        assert!((sd - 0.5).abs() < 0.02, "{sd}");
        // Shifts stay within the bound and keep the image's mass or drop the border.
        let shift = ImageAugment::new(1, 5, 5).shift(2);
        for _ in 0..50 {
            let mut x = [0.0f64; 25];
            x[12] = 1.0;
            shift.apply(&mut x, &mut rng);
            let at = x.iter().position(|&v| v == 1.0).expect("a centre pixel moved by 2 at most stays inside");
            let (y, c) = (at / 5, at % 5);
            assert!(y.abs_diff(2) <= 2 && c.abs_diff(2) <= 2);
        }
        // The same seed, the same draws.
        let all = ImageAugment::new(1, 4, 4).shift(1).flip().noise(0.1);
        let run = |seed| {
            let mut x: Vec<f32> = (0..16).map(|v| v as f32).collect();
            all.apply(&mut x, &mut crate::seeded_rng(seed));
            x
        };
        assert_eq!(run(5), run(5));
    }

    /// Rates and statistics of each corruption over 100,000 values, and the same seed giving the same draws.
    #[test]
    fn corruptions_have_their_rates_and_repeat_with_a_seed() {
        let n = 100_000;
        let run = |c: Corruption, seed: u64| {
            let mut x = vec![0.5f64; n];
            c.apply(&mut x, &mut crate::seeded_rng(seed));
            x
        };
        let share = |x: &[f64], v: f64| x.iter().filter(|&&y| y == v).count() as f64 / n as f64;
        // A share's standard deviation is at most 0.0016 here: every bound below is over four of them.
        let masked = run(Corruption::Mask(0.3), 1);
        assert!((share(&masked, 0.0) - 0.3).abs() < 0.007, "{}", share(&masked, 0.0));
        assert_eq!(share(&masked, 0.0) + share(&masked, 0.5), 1.0);
        let salted = run(Corruption::SaltPepper(0.2), 1);
        let (pepper, salt) = (share(&salted, 0.0), share(&salted, 1.0));
        assert!((pepper - 0.1).abs() < 0.005 && (salt - 0.1).abs() < 0.005, "{pepper} {salt}");
        assert_eq!(pepper + salt + share(&salted, 0.5), 1.0);
        let noisy = run(Corruption::Gaussian(0.3), 1);
        let mean = noisy.iter().sum::<f64>() / n as f64;
        let sd = (noisy.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!((mean - 0.5).abs() < 0.004 && (sd - 0.3).abs() < 0.004, "{mean} {sd}");
        // The ends: nothing, everything, and a probability out of range clamped.
        assert_eq!(run(Corruption::Mask(0.0), 2), vec![0.5; n]);
        assert_eq!(run(Corruption::SaltPepper(f64::NAN), 2), vec![0.5; n]);
        assert_eq!(run(Corruption::Gaussian(0.0), 2), vec![0.5; n]);
        assert!(run(Corruption::Mask(1.5), 2).iter().all(|&v| v == 0.0));
        for c in [Corruption::Mask(0.3), Corruption::SaltPepper(0.2), Corruption::Gaussian(0.3)] {
            assert_eq!(run(c, 5), run(c, 5), "{c:?}");
            assert_ne!(run(c, 5), run(c, 6), "{c:?}");
        }
        // A batch copy is corrupted as its slice is, and the original is untouched.
        let x = nalgebra::SMatrix::<f32, 4, 3>::repeat(0.5);
        let y = Corruption::Mask(0.5).corrupted(&x, &mut crate::seeded_rng(8));
        let mut z = [0.5f32; 12];
        Corruption::Mask(0.5).apply(&mut z, &mut crate::seeded_rng(8));
        assert_eq!((y.as_slice(), x), (&z[..], nalgebra::SMatrix::repeat(0.5)));
    }

    crate::network! {
        /// A denoising autoencoder for 4x4 bar images.
        struct Bars<f32> { input: 16, hidden: Dense(32), Tanh, out: Dense(16), Sigmoid }
    }

    /// A 4x4 image of bars: each of the four rows and four columns drawn with probability 1/4 (at least one).
    fn bars(rng: &mut crate::SeededRng) -> nalgebra::SVector<f32, 16> {
        loop {
            let on: [bool; 8] = core::array::from_fn(|_| rng.random_bool(0.25));
            if on.contains(&true) {
                return nalgebra::SVector::from_fn(|i, _| f32::from(u8::from(on[i / 4] || on[4 + i % 4])));
            }
        }
    }

    /// A denoising autoencoder trained through `Trainer::augment` on pairs `(x, x)` with masking noise: on held-out
    /// images corrupted the same way, its outputs are far closer to the clean images than its inputs are, and
    /// closer than those of the same network trained on clean inputs.
    #[test]
    fn a_denoising_autoencoder_restores_masked_bars() {
        use crate::prelude::*;
        let mut rng = crate::seeded_rng(21);
        let train: Vec<_> = (0..400).map(|_| bars(&mut rng)).map(|x| (x, x)).collect();
        let test: Vec<_> = (0..200).map(|_| bars(&mut rng)).collect();
        let mask = Corruption::Mask(0.25);
        let trained = |corrupt: bool| {
            let mut net = Bars::boxed_init(&mut crate::seeded_rng(1));
            let mut adam = Adam::new(0.02);
            let trainer = Trainer::new(&mut *net, &mut adam, MeanSquaredError).epochs(20).seed(2);
            let trainer = if corrupt { trainer.augment(move |x, rng| mask.apply(x, rng)) } else { trainer };
            trainer.fit_without_validation::<16>(&train).expect("training converges");
            net
        };
        let (denoising, plain) = (trained(true), trained(false));
        let mut rng = crate::seeded_rng(22);
        let (mut corrupted, mut denoised, mut reproduced) = (0.0, 0.0, 0.0);
        for x in &test {
            let noisy = mask.corrupted(x, &mut rng);
            corrupted += MeanSquaredError.value(&noisy, x) / test.len() as f32;
            denoised += MeanSquaredError.value(&denoising.forward(&noisy), x) / test.len() as f32;
            reproduced += MeanSquaredError.value(&plain.forward(&noisy), x) / test.len() as f32;
        }
        // Measured: 0.116 for the masked inputs, 0.042 denoised, 0.060 through the plain autoencoder.
        assert!(corrupted > 0.1, "{corrupted}");
        assert!(denoised < 0.5 * corrupted, "denoised {denoised} against corrupted {corrupted}");
        assert!(denoised < 0.8 * reproduced, "denoised {denoised} against a plain autoencoder's {reproduced}");
    }

    #[test]
    fn every_sample_is_validated_once() {
        let data: Vec<usize> = (0..23).collect();
        let folds = k_folds(&data, 5, 3);
        assert_eq!(folds.len(), 5);
        let mut seen = [0; 23];
        for (train, valid) in &folds {
            assert_eq!(train.len() + valid.len(), 23);
            assert!(valid.len() == 4 || valid.len() == 5);
            for &v in valid {
                seen[v] += 1;
                assert!(!train.contains(&v));
            }
        }
        assert!(seen.iter().all(|&n| n == 1));
        assert_eq!(k_folds(&data, 5, 3), folds);
        assert_ne!(k_folds(&data, 5, 4), folds);
    }
}
