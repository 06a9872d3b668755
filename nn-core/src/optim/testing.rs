//! Fixtures shared by the optimizer tests.

use super::Optimizer;
use crate::layer::Dense;
use crate::loss::{Loss, MeanSquaredError};
use nalgebra::{SVector, matrix, vector};

/// The small problem of the step-by-step tests: weights `[1, -2]`, bias `0.5`.
pub(super) type Tiny = Dense<f64, 2, 1>;

/// θ_0 = (w_0, w_1, b) = (1, -2, 0.5).
pub(super) fn theta0() -> Tiny {
    Dense::new(matrix![1.0, -2.0], vector![0.5])
}

/// `(w_0, w_1, b)`.
pub(super) fn flat(p: &Tiny) -> [f64; 3] {
    [p.weight[0], p.weight[1], p.bias[0]]
}

/// Three steps from θ_0 on `L(θ) = 1/2 |θ|^2`, whose gradient is θ itself; θ after each step.
pub(super) fn three_steps<O: Optimizer<f64, Tiny>>(opt: &mut O) -> [[f64; 3]; 3] {
    let mut p = theta0();
    core::array::from_fn(|_| {
        let g = p;
        opt.step(&mut p, &g);
        flat(&p)
    })
}

/// Every coordinate within `tol` of the reference.
#[track_caller]
pub(super) fn assert_steps(what: &str, actual: [[f64; 3]; 3], expected: [[f64; 3]; 3], tol: f64) {
    for (k, (a, e)) in actual.iter().zip(&expected).enumerate() {
        for (j, (a, e)) in a.iter().zip(e).enumerate() {
            assert!((a - e).abs() <= tol, "{what}: step {}, coordinate {j}: {a} != {e} (tolerance {tol})", k + 1);
        }
    }
}

/// Inputs of the least-squares task.
const XS: [[f64; 3]; 6] =
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0], [1.0, -1.0, 0.5], [-0.5, 2.0, 1.0]];

/// The linear target `y = 2 x_0 - x_1 + 0.5 x_2 + 0.3`, which a `Dense<f64, 3, 1>` represents exactly.
fn target(x: &[f64; 3]) -> f64 {
    2.0 * x[0] - x[1] + 0.5 * x[2] + 0.3
}

/// Mean over the samples of the mean squared error, and its gradient (accumulated by `backward`, then averaged).
fn loss_and_gradient(p: &Dense<f64, 3, 1>, grads: &mut Dense<f64, 3, 1>) -> f64 {
    *grads = bytemuck::Zeroable::zeroed();
    let mut loss = 0.0;
    for x in &XS {
        let t = vector![target(x)];
        let x = SVector::from(*x);
        let (l, dy) = MeanSquaredError.value_and_gradient(&p.forward(&x), &t);
        p.backward(&x, &dy, grads);
        loss += l;
    }
    let n = XS.len() as f64;
    grads.weight /= n;
    grads.bias /= n;
    loss / n
}

/// Full-batch steps of a least-squares fit from all-zero parameters; the number of steps taken when the loss
/// first falls below `1e-4`. Panics if that takes more than `max_steps`.
#[track_caller]
pub(super) fn steps_to_fit<O: Optimizer<f64, Dense<f64, 3, 1>>>(opt: &mut O, max_steps: usize) -> usize {
    let mut p: Dense<f64, 3, 1> = bytemuck::Zeroable::zeroed();
    let mut g = p;
    for step in 0..=max_steps {
        let loss = loss_and_gradient(&p, &mut g);
        assert!(loss.is_finite(), "loss diverged at step {step}");
        if loss < 1e-4 {
            return step;
        }
        opt.step(&mut p, &g);
    }
    panic!("loss still {} after {max_steps} steps", loss_and_gradient(&p, &mut g));
}
