//! The four two-dimensional classification datasets of the TensorFlow Playground web demo (circle, XOR, two
//! Gaussians, spiral), generated as the demo's `dataset.ts` defines them, from a seed, with its noise parameter
//! (the demo's slider divided by 100, so 0 to 0.5), and split into training and test points as the demo does:
//! shuffled, then the first part for training.

use nn_core::SeededRng;
use nn_core::rand::RngExt;
use nn_core::rand::seq::SliceRandom;
use nn_core::rand_distr::{Distribution, StandardNormal};
use std::f32::consts::PI;

/// The demo draws the square `[-EXTENT, EXTENT]` on both axes: at its noise levels (up to 0.5) every point of the
/// circle, XOR and spiral lies in it, and all but the tails of the Gaussians.
pub const EXTENT: f32 = 6.0;

/// The circle's outer radius (the demo's `radius`): positive points lie within half of it, negative points
/// between 0.7 of it and all of it.
pub const CIRCLE_RADIUS: f32 = 5.0;

/// The gap the XOR dataset leaves either side of each axis.
pub const XOR_PADDING: f32 = 0.3;

/// The centre of the positive Gaussian is `(GAUSS_CENTRE, GAUSS_CENTRE)`, that of the negative one its opposite.
pub const GAUSS_CENTRE: f32 = 2.0;

/// The largest radius of the spiral's arms.
pub const SPIRAL_RADIUS: f32 = 5.0;

/// Turns of each spiral arm from its centre to [`SPIRAL_RADIUS`].
pub const SPIRAL_TURNS: f32 = 1.75;

/// A labelled point of the plane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point2 {
    /// The first coordinate.
    pub x: f32,
    /// The second coordinate.
    pub y: f32,
    /// The class: `true` for the demo's label +1 (drawn blue), `false` for -1 (drawn orange).
    pub positive: bool,
}

/// One of the demo's four classification datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
    /// A disc of positive points (radius 2.5) inside a ring of negative ones (radii 3.5 to 5). Noise moves the
    /// point at which the label is decided, not the point, so it flips labels near the circle of radius 2.5.
    Circle,
    /// Points uniform in the square of side 10, pushed 0.3 away from both axes; positive where `x y >= 0`.
    /// Noise moves the point at which the label is decided, as for the circle.
    Xor,
    /// Two Gaussians centred at (2, 2) (positive) and (-2, -2) (negative), variance 0.5 without noise, up to 4
    /// at noise 0.5.
    Gaussians,
    /// Two interleaved arms of 1.75 turns from the centre to radius 5, the second the first turned by half a
    /// turn; noise moves each point by up to `noise` along each axis.
    Spiral,
}

impl Dataset {
    /// The four datasets, in the demo's order.
    pub const ALL: [Dataset; 4] = [Dataset::Circle, Dataset::Xor, Dataset::Gaussians, Dataset::Spiral];

    /// A short lower-case name (`"circle"`), for file names and tables.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Circle => "circle",
            Dataset::Xor => "xor",
            Dataset::Gaussians => "gaussians",
            Dataset::Spiral => "spiral",
        }
    }

    /// `n` points of this dataset at noise level `noise` (0 to 0.5 in the demo), drawn from `rng`, in the demo's
    /// order (for the circle, Gaussians and spiral: the `n / 2` positive points first; an odd `n` gives `n - 1`
    /// points for them, as the demo's loops do).
    pub fn generate(self, n: usize, noise: f32, rng: &mut SeededRng) -> Vec<Point2> {
        match self {
            Dataset::Circle => circle(n, noise, rng),
            Dataset::Xor => xor(n, noise, rng),
            Dataset::Gaussians => gaussians(n, noise, rng),
            Dataset::Spiral => spiral(n, noise, rng),
        }
    }
}

/// A sample of the uniform distribution on `[a, b)`.
fn uniform(rng: &mut SeededRng, a: f32, b: f32) -> f32 {
    rng.random_range(a..b)
}

/// The demo's `classifyCircleData`.
fn circle(n: usize, noise: f32, rng: &mut SeededRng) -> Vec<Point2> {
    let r = CIRCLE_RADIUS;
    let mut points = Vec::with_capacity(n);
    for (inner, outer) in [(0.0, 0.5 * r), (0.7 * r, r)] {
        for _ in 0..n / 2 {
            let radius = uniform(rng, inner, outer);
            let angle = uniform(rng, 0.0, 2.0 * PI);
            let (x, y) = (radius * angle.sin(), radius * angle.cos());
            let (nx, ny) = (uniform(rng, -r, r) * noise, uniform(rng, -r, r) * noise);
            let positive = (x + nx).hypot(y + ny) < 0.5 * r;
            points.push(Point2 { x, y, positive });
        }
    }
    points
}

/// The demo's `classifyXORData`.
fn xor(n: usize, noise: f32, rng: &mut SeededRng) -> Vec<Point2> {
    let pad = |v: f32| if v > 0.0 { v + XOR_PADDING } else { v - XOR_PADDING };
    (0..n)
        .map(|_| {
            let x = pad(uniform(rng, -5.0, 5.0));
            let y = pad(uniform(rng, -5.0, 5.0));
            let (nx, ny) = (uniform(rng, -5.0, 5.0) * noise, uniform(rng, -5.0, 5.0) * noise);
            Point2 { x, y, positive: (x + nx) * (y + ny) >= 0.0 }
        })
        .collect()
}

/// The demo's `classifyTwoGaussData`: the variance grows linearly from 0.5 at noise 0 to 4 at noise 0.5.
fn gaussians(n: usize, noise: f32, rng: &mut SeededRng) -> Vec<Point2> {
    let sd = (0.5 + 7.0 * noise).sqrt();
    let mut points = Vec::with_capacity(n);
    for (c, positive) in [(GAUSS_CENTRE, true), (-GAUSS_CENTRE, false)] {
        for _ in 0..n / 2 {
            let (ex, ey): (f32, f32) = (StandardNormal.sample(rng), StandardNormal.sample(rng));
            points.push(Point2 { x: c + sd * ex, y: c + sd * ey, positive });
        }
    }
    points
}

/// The demo's `classifySpiralData`: point `i` of an arm of `m = n / 2` lies at radius `5 i / m` and angle
/// `1.75 * 2 pi * i / m` (plus half a turn for the negative arm), measured from the second axis.
fn spiral(n: usize, noise: f32, rng: &mut SeededRng) -> Vec<Point2> {
    let m = n / 2;
    let mut points = Vec::with_capacity(n);
    for (turn, positive) in [(0.0, true), (PI, false)] {
        for i in 0..m {
            let f = i as f32 / m as f32;
            let (r, t) = (f * SPIRAL_RADIUS, SPIRAL_TURNS * f * 2.0 * PI + turn);
            let x = r * t.sin() + uniform(rng, -1.0, 1.0) * noise;
            let y = r * t.cos() + uniform(rng, -1.0, 1.0) * noise;
            points.push(Point2 { x, y, positive });
        }
    }
    points
}

/// Shuffles `points` with `rng` and splits them: the first `round(train_fraction * len)` for training, the rest
/// for testing (the demo's "ratio of training to test data", 50% by default).
pub fn train_test_split(
    mut points: Vec<Point2>,
    train_fraction: f32,
    rng: &mut SeededRng,
) -> (Vec<Point2>, Vec<Point2>) {
    points.shuffle(rng);
    let cut = ((train_fraction.clamp(0.0, 1.0) * points.len() as f32).round() as usize).min(points.len());
    let test = points.split_off(cut);
    (points, test)
}

/// The fraction of `points` for which `predict(x, y)` (true for the positive class) equals the label.
pub fn classification_accuracy(points: &[Point2], mut predict: impl FnMut(f32, f32) -> bool) -> f64 {
    if points.is_empty() {
        return 0.0;
    }
    let right = points.iter().filter(|p| predict(p.x, p.y) == p.positive).count();
    right as f64 / points.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use nn_core::seeded_rng;

    const N: usize = 1000;

    fn positives(points: &[Point2]) -> usize {
        points.iter().filter(|p| p.positive).count()
    }

    #[test]
    fn every_dataset_has_n_points_in_the_square_and_is_reproducible() {
        for d in Dataset::ALL {
            for noise in [0.0, 0.25, 0.5] {
                let a = d.generate(N, noise, &mut seeded_rng(3));
                assert_eq!(a.len(), N, "{}", d.name());
                assert!(a == d.generate(N, noise, &mut seeded_rng(3)), "{} is not reproducible", d.name());
                // Without noise the spiral is the same for every seed, as in the demo.
                let fixed = d == Dataset::Spiral && noise == 0.0;
                let other = d.generate(N, noise, &mut seeded_rng(4));
                assert_eq!(a == other, fixed, "{} at noise {noise}: same points from another seed", d.name());
                if d != Dataset::Gaussians {
                    // Gaussian tails may pass any bound; the others are bounded by construction.
                    let far = a.iter().find(|p| p.x.abs() > EXTENT || p.y.abs() > EXTENT);
                    assert!(far.is_none(), "{} at noise {noise}: {far:?} outside the square", d.name());
                }
            }
        }
    }

    #[test]
    fn classes_are_balanced() {
        for d in [Dataset::Circle, Dataset::Gaussians, Dataset::Spiral] {
            // Half of the points of each class, the positive ones first (without noise for the circle, whose
            // noise flips labels).
            let points = d.generate(N, 0.0, &mut seeded_rng(1));
            assert_eq!(positives(&points), N / 2, "{}", d.name());
            assert!(points[..N / 2].iter().all(|p| p.positive), "{}", d.name());
        }
        // XOR: each quadrant with probability 1/4, so about half positive (10 standard deviations are 158).
        let xor = positives(&Dataset::Xor.generate(N, 0.0, &mut seeded_rng(1)));
        assert!((400..=600).contains(&xor), "{xor} positive of {N}");
    }

    #[test]
    fn circle_without_noise_has_its_gap_and_its_labels() {
        for p in Dataset::Circle.generate(N, 0.0, &mut seeded_rng(2)) {
            let r = p.x.hypot(p.y);
            assert!(r <= 2.5 + 1e-4 || (3.5 - 1e-4..=5.0 + 1e-4).contains(&r), "radius {r} in the gap");
            assert_eq!(p.positive, r < 2.5, "radius {r}");
        }
        // Noise flips some labels of points near the boundary, never of the farthest.
        let noisy = Dataset::Circle.generate(N, 0.5, &mut seeded_rng(2));
        let flipped = noisy.iter().filter(|p| p.positive != (p.x.hypot(p.y) < 2.5)).count();
        assert!(flipped > 0, "noise 0.5 flips no label");
    }

    #[test]
    fn xor_without_noise_keeps_off_the_axes_and_labels_by_sign() {
        for p in Dataset::Xor.generate(N, 0.0, &mut seeded_rng(5)) {
            for v in [p.x, p.y] {
                assert!((XOR_PADDING..=5.0 + XOR_PADDING).contains(&v.abs()), "coordinate {v}");
            }
            assert_eq!(p.positive, p.x * p.y > 0.0, "{p:?}");
        }
    }

    #[test]
    fn gaussians_have_their_centres_and_variance() {
        for (noise, variance) in [(0.0, 0.5), (0.5, 4.0)] {
            let points = Dataset::Gaussians.generate(20_000, noise, &mut seeded_rng(6));
            for (half, centre) in [(&points[..10_000], GAUSS_CENTRE), (&points[10_000..], -GAUSS_CENTRE)] {
                let mean = half.iter().map(|p| f64::from(p.x + p.y) / 2.0).sum::<f64>() / half.len() as f64;
                let var =
                    half.iter().map(|p| (f64::from(p.x) - f64::from(centre)).powi(2)).sum::<f64>() / half.len() as f64;
                assert!((mean - f64::from(centre)).abs() < 0.05, "mean {mean}, centre {centre}");
                assert!((var / variance - 1.0).abs() < 0.05, "variance {var}, expected {variance}");
            }
        }
    }

    #[test]
    fn spiral_arms_grow_in_radius_and_mirror_each_other() {
        let points = Dataset::Spiral.generate(N, 0.0, &mut seeded_rng(7));
        let (first, second) = points.split_at(N / 2);
        for (i, (a, b)) in first.iter().zip(second).enumerate() {
            let r = SPIRAL_RADIUS * i as f32 / (N / 2) as f32;
            assert!((a.x.hypot(a.y) - r).abs() < 1e-4, "point {i} of the first arm");
            // The second arm is the first turned by half a turn: each point the opposite of its partner.
            assert!((a.x + b.x).abs() < 1e-4 && (a.y + b.y).abs() < 1e-4, "point {i}: {a:?} and {b:?}");
            assert!(a.positive && !b.positive);
        }
        // 1.75 turns: from the start along the second axis the angle reaches 1.75 * 360 degrees at the end
        // (the last point, i = m - 1, just short of it).
        let last = first[N / 2 - 1];
        let angle = last.x.atan2(last.y).rem_euclid(2.0 * PI);
        let expected = (SPIRAL_TURNS * 2.0 * PI * (N / 2 - 1) as f32 / (N / 2) as f32).rem_euclid(2.0 * PI);
        assert!((angle - expected).abs() < 1e-3, "angle {angle}, expected {expected}");
        // With noise every point moves at most `noise` along each axis.
        let noisy = Dataset::Spiral.generate(N, 0.3, &mut seeded_rng(7));
        let moved = noisy.iter().zip(&points).map(|(a, b)| (a.x - b.x).abs().max((a.y - b.y).abs()));
        assert!(moved.clone().all(|d| d <= 0.3 + 1e-5));
        assert!(moved.fold(0.0, f32::max) > 0.25, "noise 0.3 hardly moves the points");
    }

    #[test]
    fn split_keeps_every_point_once() {
        let points = Dataset::Xor.generate(501, 0.1, &mut seeded_rng(8));
        let (train, test) = train_test_split(points.clone(), 0.5, &mut seeded_rng(9));
        assert_eq!((train.len(), test.len()), (251, 250));
        let key = |p: &Point2| (p.x.to_bits(), p.y.to_bits(), p.positive);
        let mut all: Vec<_> = train.iter().chain(&test).map(key).collect();
        let mut original: Vec<_> = points.iter().map(key).collect();
        all.sort_unstable();
        original.sort_unstable();
        assert_eq!(all, original);
        assert_ne!(train[..], points[..251], "not shuffled");
        assert_eq!(train_test_split(points.clone(), 0.0, &mut seeded_rng(9)).0.len(), 0);
        assert_eq!(train_test_split(points, 1.0, &mut seeded_rng(9)).1.len(), 0);
    }

    #[test]
    fn accuracy_counts_agreement() {
        let points = Dataset::Xor.generate(400, 0.0, &mut seeded_rng(10));
        assert_eq!(classification_accuracy(&points, |x, y| x * y > 0.0), 1.0);
        assert_eq!(classification_accuracy(&points, |x, y| x * y <= 0.0), 0.0);
        let constant = classification_accuracy(&points, |_, _| true);
        assert!((constant - positives(&points) as f64 / 400.0).abs() < 1e-12);
        assert_eq!(classification_accuracy(&[], |_, _| true), 0.0);
    }
}
