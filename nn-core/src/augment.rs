//! Data augmentation for images and cross-validation folds: what `Trainer` needs to train on more than the
//! samples it was given, and to judge a model on every sample once.
//!
//! [`ImageAugment`] transforms one image in place (channel-major `[C, H, W]`, the layout of every image input of
//! `network!`): a random shift by up to a few pixels with zeros coming in, a random horizontal flip, Gaussian
//! noise. Given to [`Trainer::augment`](crate::train::Trainer::augment), it runs on every sample as its batch is
//! gathered, from the trainer's seeded generator, so each epoch sees new variants and the same seed gives the
//! same run. [`k_folds`] splits a data set into `k` seeded folds.
//!
//! ```
//! use nn_core::augment::{ImageAugment, k_folds};
//!
//! // A 1x3x3 image, shifted by one pixel to the right with the flip and the noise turned off.
//! let mut image = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
//! ImageAugment::new(1, 3, 3).shift_exactly(0, 1, &mut image);
//! assert_eq!(image, [0.0, 1.0, 2.0, 0.0, 4.0, 5.0, 0.0, 7.0, 8.0]);
//! // Ten samples in three folds: every sample validated once, fold sizes 4, 3 and 3.
//! let folds = k_folds(&(0..10).collect::<Vec<_>>(), 3, 7);
//! assert_eq!(folds.iter().map(|(train, valid)| (train.len(), valid.len())).collect::<Vec<_>>(), [(6, 4), (7, 3), (7, 3)]);
//! ```

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
