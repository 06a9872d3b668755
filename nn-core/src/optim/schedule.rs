//! Learning-rate schedules: the rate `eta_t` of the notes' `theta(t+1) = theta(t) - eta_t grad`, as a function of
//! the epoch and of the iteration (the update's number, counting from 0), times the optimizer's own rate.
//!
//! [`Trainer::schedule`](crate::train::Trainer::schedule) sets the optimizer's rate before every update from a
//! [`Schedule`] and an optional linear warm-up ([`Trainer::warmup`](crate::train::Trainer::warmup)); each
//! epoch's [`EpochStats`](crate::train::EpochStats) records the rate of its last update.
//!
//! ```
//! use nn_core::optim::Schedule;
//!
//! // PyTorch's StepLR(step_size = 10, gamma = 0.5): halved every ten epochs.
//! let s = Schedule::Step { every: 10, gamma: 0.5 };
//! assert_eq!((s.factor(0, 0), s.factor(9, 900), s.factor(10, 1000), s.factor(25, 2500)), (1.0, 1.0, 0.5, 0.25));
//! // Cosine annealing over 100 epochs from the base rate down to 1% of it.
//! let c = Schedule::Cosine { epochs: 100, min: 0.01 };
//! assert!((c.factor(50, 0) - 0.505).abs() < 1e-12 && (c.factor(100, 0) - 0.01).abs() < 1e-12);
//! ```

/// How the learning rate changes over training, as a factor of the optimizer's rate (`factor(0, 0) = 1` for
/// every schedule).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Schedule {
    /// The optimizer's rate throughout.
    #[default]
    Constant,
    /// Step decay: times `gamma` every `every` epochs, `gamma^floor(epoch / every)` (PyTorch's `StepLR`).
    Step {
        /// Epochs between decays (0 is taken as 1).
        every: usize,
        /// The factor of each decay.
        gamma: f64,
    },
    /// Exponential decay per epoch, `gamma^epoch` (PyTorch's `ExponentialLR`).
    Exponential {
        /// The factor per epoch.
        gamma: f64,
    },
    /// Cosine annealing from 1 at epoch 0 down to `min` at epoch `epochs`, then `min`:
    /// `min + (1 - min) (1 + cos(pi epoch / epochs)) / 2` (PyTorch's `CosineAnnealingLR` with `T_max = epochs`
    /// and `eta_min = min` times the base rate).
    Cosine {
        /// The epochs over which the rate falls.
        epochs: usize,
        /// The final factor.
        min: f64,
    },
    /// A rate falling with every update, `1 / (1 + decay t)` for iteration `t`: the per-iteration `eta_t` of
    /// stochastic approximation (Robbins and Monro), which satisfies `sum eta_t = inf` and `sum eta_t^2 < inf`.
    InverseTime {
        /// How fast it falls per update.
        decay: f64,
    },
}

impl Schedule {
    /// The factor of the base rate at `epoch` (counting from 0) and `iteration` (updates before this one, over
    /// the whole run).
    #[must_use]
    pub fn factor(&self, epoch: usize, iteration: usize) -> f64 {
        match *self {
            Schedule::Constant => 1.0,
            Schedule::Step { every, gamma } => powi(gamma, epoch / every.max(1)),
            Schedule::Exponential { gamma } => powi(gamma, epoch),
            Schedule::Cosine { epochs, min } => {
                let progress = if epochs == 0 { 1.0 } else { (epoch as f64 / epochs as f64).min(1.0) };
                min + (1.0 - min) * (1.0 + cos_pi(progress)) / 2.0
            }
            Schedule::InverseTime { decay } => 1.0 / (1.0 + decay * iteration as f64),
        }
    }
}

/// The factor of a linear warm-up over `iterations` updates at update `iteration`: `(iteration + 1) / iterations`
/// until it reaches 1 (the first update runs at `1 / iterations` of the rate), then 1.
#[must_use]
pub fn warmup_factor(iterations: usize, iteration: usize) -> f64 {
    if iteration >= iterations { 1.0 } else { (iteration + 1) as f64 / iterations as f64 }
}

/// `x^n` by squaring (exact for the small integer powers schedules use, and available without `std`).
fn powi(x: f64, n: usize) -> f64 {
    let (mut result, mut base, mut n) = (1.0, x, n);
    while n > 0 {
        if n & 1 == 1 {
            result *= base;
        }
        base *= base;
        n >>= 1;
    }
    result
}

/// `cos(pi p)`.
fn cos_pi(p: f64) -> f64 {
    libm::cos(core::f64::consts::PI * p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schedule_starts_at_one_and_follows_its_formula() {
        let all = [
            Schedule::Constant,
            Schedule::Step { every: 3, gamma: 0.1 },
            Schedule::Exponential { gamma: 0.9 },
            Schedule::Cosine { epochs: 10, min: 0.0 },
            Schedule::InverseTime { decay: 0.01 },
        ];
        for s in all {
            assert_eq!(s.factor(0, 0), 1.0, "{s:?}");
        }
        let step = Schedule::Step { every: 3, gamma: 0.1 };
        assert_eq!([0, 2, 3, 5, 6].map(|e| step.factor(e, 0)), [1.0, 1.0, 0.1, 0.1, 0.1 * 0.1]);
        assert!((Schedule::Exponential { gamma: 0.9 }.factor(4, 0) - 0.9f64.powi(4)).abs() < 1e-15);
        let cosine = Schedule::Cosine { epochs: 10, min: 0.0 };
        for e in 0..=12 {
            let want = if e >= 10 { 0.0 } else { (1.0 + (core::f64::consts::PI * e as f64 / 10.0).cos()) / 2.0 };
            assert!((cosine.factor(e, 0) - want).abs() < 1e-15, "epoch {e}");
        }
        assert_eq!(Schedule::InverseTime { decay: 0.5 }.factor(7, 4), 1.0 / 3.0);
        assert_eq!([0, 1, 3, 4, 100].map(|i| warmup_factor(4, i)), [0.25, 0.5, 1.0, 1.0, 1.0]);
        assert_eq!(warmup_factor(0, 0), 1.0);
    }
}
