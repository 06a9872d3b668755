//! Seeded weight initialisation: Xavier (Glorot) for sigmoid/tanh-like layers, He (Kaiming) for ReLU-like ones.

use crate::float::Float;
use rand::Rng;
use rand::distr::{Distribution, Uniform};
use rand_distr::Normal;

/// How a weight tensor is initialised. Biases always start at zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Init {
    /// Glorot uniform: `U(-a, a)` with `a = sqrt(6 / (fan_in + fan_out))`.
    XavierUniform,
    /// Glorot normal: `N(0, 2 / (fan_in + fan_out))`.
    XavierNormal,
    /// Kaiming uniform for ReLU: `U(-a, a)` with `a = sqrt(6 / fan_in)`.
    HeUniform,
    /// Kaiming normal for ReLU: `N(0, 2 / fan_in)`.
    HeNormal,
    /// All zeros (useful for tests; a hidden layer initialised this way never breaks symmetry).
    Zeros,
}

impl Init {
    /// Fills `data` for a layer with `fan_in` inputs and `fan_out` outputs, drawing from `rng`.
    ///
    /// Samples are drawn in `f64` and rounded, so an `f32` and an `f64` network from the same seed start from
    /// the same weights up to rounding.
    pub fn fill<T: Float, R: Rng + ?Sized>(self, data: &mut [T], fan_in: usize, fan_out: usize, rng: &mut R) {
        let fan_in = fan_in.max(1) as f64;
        let fan_out = fan_out.max(1) as f64;
        match self {
            Init::XavierUniform => uniform(data, (6.0 / (fan_in + fan_out)).sqrt(), rng),
            Init::HeUniform => uniform(data, (6.0 / fan_in).sqrt(), rng),
            Init::XavierNormal => normal(data, (2.0 / (fan_in + fan_out)).sqrt(), rng),
            Init::HeNormal => normal(data, (2.0 / fan_in).sqrt(), rng),
            Init::Zeros => data.fill(T::zero()),
        }
    }
}

fn uniform<T: Float, R: Rng + ?Sized>(data: &mut [T], a: f64, rng: &mut R) {
    // `a` is positive and finite for every fan, so the range is valid.
    if let Ok(d) = Uniform::new_inclusive(-a, a) {
        for v in data {
            *v = T::from_f64(d.sample(rng));
        }
    }
}

fn normal<T: Float, R: Rng + ?Sized>(data: &mut [T], std: f64, rng: &mut R) {
    if let Ok(d) = Normal::new(0.0, std) {
        for v in data {
            *v = T::from_f64(d.sample(rng));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::ChaCha8Rng;

    #[test]
    fn ranges_and_spreads_follow_the_fans() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut w = [0.0f64; 4000];
        Init::XavierUniform.fill(&mut w, 30, 10, &mut rng);
        let a = (6.0f64 / 40.0).sqrt();
        assert!(w.iter().all(|v| v.abs() <= a));
        assert!(w.iter().any(|v| v.abs() > 0.9 * a));
        Init::HeNormal.fill(&mut w, 50, 10, &mut rng);
        let var = w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64;
        assert!((var - 2.0 / 50.0).abs() < 0.1 * 2.0 / 50.0, "variance {var}");
        Init::Zeros.fill(&mut w, 50, 10, &mut rng);
        assert!(w.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn same_seed_same_weights() {
        let mut a = [0.0f32; 64];
        let mut b = [0.0f32; 64];
        Init::HeUniform.fill(&mut a, 8, 8, &mut ChaCha8Rng::seed_from_u64(1));
        Init::HeUniform.fill(&mut b, 8, 8, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(a, b);
        Init::HeUniform.fill(&mut b, 8, 8, &mut ChaCha8Rng::seed_from_u64(2));
        assert_ne!(a, b);
    }
}
