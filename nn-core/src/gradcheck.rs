//! Numeric gradient checking by central differences, `(f(x + h) - f(x - h)) / 2h`, in `f64`.
//!
//! Each check compares an analytic gradient with the numeric one and reports the largest *relative error*
//! `|a - n| / max(|a|, |n|, FLOOR)`, where [`FLOOR`] keeps gradients that are zero up to rounding from
//! dividing by nothing. A correct gradient with the default step [`STEP`] stays far below `1e-6`.
//!
//! Network checks evaluate the loss through the *training* forward with a freshly seeded generator each time,
//! so dropout draws the same mask in every evaluation (a fixed mask) and batch norm uses batch statistics.

use crate::activation::ActivationLayer;
use crate::buffer::Buffer;
use crate::loss::Loss;
use crate::network::{BatchNetwork, Network};
use crate::params::{Parameters, TensorName};
use nalgebra::SVector;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;

/// The default central-difference step.
pub const STEP: f64 = 1e-6;

/// Below this magnitude a gradient is compared absolutely rather than relatively.
pub const FLOOR: f64 = 1e-3;

/// The relative error of an analytic value against a numeric one.
#[inline]
pub fn relative_error(analytic: f64, numeric: f64) -> f64 {
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(FLOOR)
}

/// Where a gradient check found its largest error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// Element `usize` of the input.
    Input(usize),
    /// Element `usize` (column-major) of a parameter tensor.
    Param(TensorName, usize),
}

/// The outcome of a gradient check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Report {
    /// The largest relative error seen.
    pub max_relative_error: f64,
    /// Where it was seen (`None` if nothing was checked).
    pub worst: Option<Location>,
    /// How many scalar derivatives were compared.
    pub checked: usize,
}

impl Report {
    fn new() -> Self {
        Self { max_relative_error: 0.0, worst: None, checked: 0 }
    }

    fn record(&mut self, at: Location, analytic: f64, numeric: f64) {
        let e = relative_error(analytic, numeric);
        self.checked += 1;
        if e > self.max_relative_error || self.worst.is_none() {
            self.max_relative_error = self.max_relative_error.max(e);
            self.worst = Some(at);
        }
    }
}

/// Checks an activation layer's backward pass at the points `x`, against the scalar objective
/// `sum_i w_i y_i` with fixed weights `w_i = 1 + i/N` (so every output's gradient differs).
pub fn check_activation<A: ActivationLayer<f64>, const N: usize>(act: &A, x: &SVector<f64, N>) -> Report {
    let w = SVector::<f64, N>::from_fn(|i, _| 1.0 + i as f64 / N as f64);
    let y = act.forward(x);
    let dx = act.backward(x, &y, &w);
    let mut report = Report::new();
    for i in 0..N {
        let (mut xp, mut xm) = (*x, *x);
        xp[i] += STEP;
        xm[i] -= STEP;
        // Differences per output before the weighted sum, so rounding scales with the change, not the total.
        let numeric = (act.forward(&xp) - act.forward(&xm)).dot(&w) / (2.0 * STEP);
        report.record(Location::Input(i), dx[i], numeric);
    }
    report
}

/// Checks a loss's gradient with respect to the prediction `y` for the target `t`.
pub fn check_loss<L: Loss<f64>, B: Buffer<f64>>(loss: &L, y: &B, t: &B) -> Report {
    let g = loss.gradient(y, t);
    let mut report = Report::new();
    for i in 0..y.as_slice().len() {
        let numeric = central(|h| {
            let mut yp = y.clone();
            yp.as_mut_slice()[i] += h;
            loss.value(&yp, t)
        });
        report.record(Location::Input(i), g.as_slice()[i], numeric);
    }
    report
}

/// Checks a whole network on one sample: the gradient of `loss(net(x), target)` with respect to every parameter
/// and every input element. `grads` is scratch space for the analytic gradients (a network of the same type;
/// its contents are overwritten), so the check itself allocates nothing. `seed` fixes the dropout masks.
pub fn check_network<N, L>(net: &mut N, x: &N::Input, target: &N::Output, loss: &L, grads: &mut N, seed: u64) -> Report
where
    N: Network<Scalar = f64>,
    L: Loss<f64>,
{
    let rng = || ChaCha8Rng::seed_from_u64(seed);
    grads.fill(0.0);
    let (y, cache) = net.forward_train(x, &mut rng());
    let dx = net.backward(&cache, &loss.gradient(&y, target), grads);
    check(net, grads, x, &dx, |net: &N, x: &N::Input| loss.value(&net.forward_train(x, &mut rng()).0, target))
}

/// Checks a whole network on a batch of `B` samples (columns), through the batched training forward and
/// backward: batch norm's batch statistics and every sample's share of the mean loss are differentiated.
pub fn check_batch<N, L, const B: usize>(
    net: &mut N,
    x: &N::InputBatch<B>,
    target: &N::OutputBatch<B>,
    loss: &L,
    grads: &mut N,
    seed: u64,
) -> Report
where
    N: BatchNetwork<Scalar = f64>,
    L: Loss<f64>,
{
    let rng = || ChaCha8Rng::seed_from_u64(seed);
    grads.fill(0.0);
    let (y, cache) = net.forward_train_batch::<B, _>(x, &mut rng());
    let dx = net.backward_batch::<B>(&cache, &loss.gradient(&y, target), grads);
    check(net, grads, x, &dx, |net: &N, x: &N::InputBatch<B>| {
        loss.value(&net.forward_train_batch::<B, _>(x, &mut rng()).0, target)
    })
}

/// Compares analytic parameter gradients `grads` and input gradient `dx` with central differences of `eval`.
fn check<N: Parameters<f64>, X: Buffer<f64>>(
    net: &mut N,
    grads: &N,
    x: &X,
    dx: &X,
    eval: impl Fn(&N, &X) -> f64,
) -> Report {
    let mut report = check_parameters(net, grads, |net| eval(net, x));
    for i in 0..x.as_slice().len() {
        let numeric = central(|h| {
            let mut xp = x.clone();
            xp.as_mut_slice()[i] += h;
            eval(net, &xp)
        });
        report.record(Location::Input(i), dx.as_slice()[i], numeric);
    }
    report
}

/// Checks `grads`, the analytic gradient of any scalar function of `net`'s parameters, against central
/// differences of `eval` in every parameter (`net` is nudged and restored in place): for objectives that are not
/// one network's loss, such as a variational autoencoder's, whose encoder and decoder are checked one after the
/// other with the other held fixed.
pub fn check_parameters<N: Parameters<f64>>(net: &mut N, grads: &N, eval: impl Fn(&N) -> f64) -> Report {
    let mut report = Report::new();
    for t in 0..N::TENSORS {
        let Some(len) = net.tensor(t).map(|t| t.data.len()) else { continue };
        for i in 0..len {
            let numeric = central(|h| {
                let saved = nudge(net, t, i, h);
                let l = eval(net);
                restore(net, t, i, saved);
                l
            });
            if let Some(g) = grads.tensor(t) {
                report.record(Location::Param(g.name, i), g.data[i], numeric);
            }
        }
    }
    report
}

fn nudge<N: Parameters<f64>>(net: &mut N, t: usize, i: usize, h: f64) -> f64 {
    net.tensor_mut(t).map_or(0.0, |p| {
        let saved = p.data[i];
        p.data[i] = saved + h;
        saved
    })
}

fn restore<N: Parameters<f64>>(net: &mut N, t: usize, i: usize, saved: f64) {
    if let Some(p) = net.tensor_mut(t) {
        p.data[i] = saved;
    }
}

fn central(mut f: impl FnMut(f64) -> f64) -> f64 {
    (f(STEP) - f(-STEP)) / (2.0 * STEP)
}
