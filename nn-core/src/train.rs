//! Mini-batch training: epochs, seeded shuffling, const-size batches, validation, early stopping that restores
//! the best weights, per-epoch loss and accuracy, a progress callback, and divergence reported as an error.

pub use crate::argmax;
use crate::buffer::Buffer;
use crate::float::Float;
use crate::layer::{Accumulate, TokenError};
use crate::loss::Loss;
use crate::network::{BatchNetwork, Network};
use crate::optim::{Optimizer, Schedule, warmup_factor};
use crate::{Boxed, SeededRng, seeded_rng};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use rand::seq::SliceRandom;

/// One labelled sample: an input and its target.
pub type Sample<N> = (<N as Network>::Input, <N as Network>::Output);

/// A network the [`Trainer`] trains, in one name: generic code over networks bounds on `N: Trainable` (and
/// `Trainable<Scalar = f64>` for one scalar type) rather than spelling out the traits. Every `network!`
/// network is one (the macro implements `Clone` for it).
///
/// ```
/// use nn_core::prelude::*;
///
/// /// Trains any network for `epochs` on `data` and gives its accuracy there.
/// fn fit_and_score<N: Trainable>(net: &mut N, data: &[Sample<N>], epochs: usize) -> Result<f64, TrainError> {
///     let mut adam = Adam::new(N::Scalar::from_f64(0.05));
///     Trainer::new(net, &mut adam, SoftmaxCrossEntropy).epochs(epochs).fit_without_validation::<4>(data)?;
///     Ok(net.evaluate(data, &SoftmaxCrossEntropy).accuracy)
/// }
///
/// network! { struct Or<f32> { input: 2, out: Dense(2) } }
/// let data: Vec<Sample<Or>> = [([0.0, 0.0], 0), ([0.0, 1.0], 1), ([1.0, 0.0], 1), ([1.0, 1.0], 1)]
///     .iter()
///     .map(|&(x, class)| (Or::input_from_slice(&x).unwrap(), Vector::from_fn(|i, _| f32::from(i == class))))
///     .collect();
/// let mut net = Or::boxed_init(&mut seeded_rng(1));
/// assert_eq!(fit_and_score(&mut *net, &data, 200)?, 1.0);
/// # Ok::<(), TrainError>(())
/// ```
pub trait Trainable: BatchNetwork + Boxed + Clone {
    /// Loss and accuracy in inference mode over `data` (batches of [`EVALUATION_BATCH`], the rest one by one):
    /// [`evaluate`] without naming the batch size.
    fn evaluate<L: Loss<Self::Scalar>>(&self, data: &[Sample<Self>], loss: &L) -> Metrics {
        evaluate::<Self, L, EVALUATION_BATCH>(self, data, loss)
    }
}

impl<N: BatchNetwork + Boxed + Clone> Trainable for N {}

/// The batch size of [`Trainable::evaluate`].
pub const EVALUATION_BATCH: usize = 16;

/// Loss and accuracy of one pass over a data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics {
    /// Mean loss per sample.
    pub loss: f64,
    /// Fraction of samples whose largest output is at the target's largest entry (classification accuracy).
    pub accuracy: f64,
}

/// What one epoch measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss and accuracy over the epoch's batches (as trained, with dropout and batch statistics).
    pub train: Metrics,
    /// Validation loss and accuracy after the epoch (inference mode), if a validation set was given.
    pub valid: Option<Metrics>,
    /// The learning rate of the epoch's last update, for an optimizer that has one.
    pub lr: Option<f64>,
}

/// Progress reported to the callback.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Progress {
    /// A batch was trained.
    Batch {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// Batches per epoch.
        batches: usize,
        /// The batch's mean loss.
        loss: f64,
    },
    /// An epoch ended.
    Epoch(EpochStats),
}

/// The outcome of [`Trainer::fit`].
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Every epoch trained, in order.
    pub epochs: Vec<EpochStats>,
    /// The epoch whose weights the network holds at the end, when early stopping was on (the best validation
    /// loss); `None` otherwise.
    pub best_epoch: Option<usize>,
    /// Whether training stopped before the last epoch because validation loss stopped improving.
    pub stopped_early: bool,
}

/// Why training could not go on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TrainError {
    /// The loss of a batch became `NaN` or infinite. The network holds the weights and statistics of
    /// `restored_epoch`.
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// The loss that was not finite.
        loss: f64,
        /// The epoch whose weights and statistics the network holds now: the best one before (the lowest
        /// validation loss, or training loss without a validation set), or 0 for the weights it started with.
        restored_epoch: usize,
    },
    /// An epoch's mean training loss exceeded [`Trainer::divergence_factor`] times the loss of the first batch
    /// (the network as it started): the loss is exploding even if it has not reached infinity yet. The network
    /// holds the weights and statistics of `restored_epoch`.
    Exploded {
        /// 1-based epoch.
        epoch: usize,
        /// The epoch's mean training loss.
        loss: f64,
        /// The loss of the first batch.
        first: f64,
        /// The factor exceeded.
        factor: f64,
        /// As for [`TrainError::Diverged`].
        restored_epoch: usize,
    },
    /// A learning-rate schedule or warm-up was asked of an optimizer without a learning rate: nothing was
    /// trained.
    NoLearningRate,
    /// A sample's input is not one the network takes (a token id out of its embedding's vocabulary): nothing
    /// was trained.
    InvalidInput {
        /// `"training"` or `"validation"`.
        set: &'static str,
        /// The sample's index in that set.
        sample: usize,
        /// What is wrong with it.
        error: TokenError,
    },
    /// The training set is empty, or the batch size is 0.
    TooFewSamples {
        /// Samples given.
        samples: usize,
        /// The batch size.
        batch: usize,
    },
    /// [`Trainer::fit`] was given an empty validation set: train with [`Trainer::fit_without_validation`] to say
    /// that there is none.
    EmptyValidation,
    /// [`Trainer::early_stopping`] was asked of [`Trainer::fit_without_validation`]: early stopping judges the
    /// validation loss.
    EarlyStoppingWithoutValidation,
}

/// `"the weights of epoch N"`, or of the start.
struct Restored(usize);

impl fmt::Display for Restored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => write!(f, "the network holds the weights it started with"),
            e => write!(f, "the network holds the weights and statistics of epoch {e}, the best before"),
        }
    }
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::Diverged { epoch, batch, loss, restored_epoch } => write!(
                f,
                "training diverged: loss {loss} at epoch {epoch}, batch {batch} (try a smaller learning rate); {}",
                Restored(*restored_epoch)
            ),
            TrainError::Exploded { epoch, loss, first, factor, restored_epoch } => write!(
                f,
                "training diverged: the mean loss of epoch {epoch}, {loss:.6e}, is more than {factor} times the \
                 first batch's {first:.6e} (try a smaller learning rate, or raise `Trainer::divergence_factor`); {}",
                Restored(*restored_epoch)
            ),
            TrainError::NoLearningRate => {
                write!(f, "a learning-rate schedule needs an optimizer with a learning rate")
            }
            TrainError::InvalidInput { set, sample, error } => {
                write!(f, "{set} sample {sample} is not an input of the network: {error}")
            }
            TrainError::TooFewSamples { samples: 0, .. } => write!(f, "there are no training samples"),
            TrainError::TooFewSamples { batch, .. } => write!(f, "a batch of {batch} samples cannot be trained"),
            TrainError::EmptyValidation => {
                write!(f, "the validation set is empty (to train without one, call `Trainer::fit_without_validation`)")
            }
            TrainError::EarlyStoppingWithoutValidation => {
                write!(f, "early stopping needs a validation set (call `Trainer::fit` with one)")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TrainError {}

/// The progress callback a [`Trainer`] holds.
type Callback<'a> = Box<dyn FnMut(&Progress) + 'a>;

/// The augmentation a [`Trainer`] holds: called on every training sample's input values as its batch is
/// gathered.
type Augmentation<'a, T> = Box<dyn FnMut(&mut [T], &mut SeededRng) + 'a>;

/// Trains a network with an optimizer and a loss, in mini-batches of a const size.
///
/// Each epoch shuffles the training set with a generator seeded from [`Trainer::seed`], so the same seed gives
/// the same weights bit for bit, and uses every sample once: when the set is not a multiple of `B`, the last
/// batch of `r < B` samples is one update with the mean loss over those `r` samples, as PyTorch's `DataLoader`
/// without `drop_last`. (That batch runs through the same `B`-sample code, its other columns filled with samples
/// of the epoch whose gradient is zero; only batch normalisation's statistics, which mix columns, see them.)
pub struct Trainer<'a, N: BatchNetwork, O, L> {
    net: &'a mut N,
    opt: &'a mut O,
    loss: L,
    epochs: usize,
    seed: u64,
    patience: Option<usize>,
    clip: Option<f64>,
    divergence: f64,
    schedule: Schedule,
    warmup: usize,
    augment: Option<Augmentation<'a, N::Scalar>>,
    callback: Option<Callback<'a>>,
}

/// The default of [`Trainer::divergence_factor`].
pub const DIVERGENCE_FACTOR: f64 = 1e3;

impl<'a, N, O, L> Trainer<'a, N, O, L>
where
    N: BatchNetwork + Boxed,
    O: Optimizer<N::Scalar, N>,
    L: Loss<N::Scalar>,
{
    /// A trainer for `net` (10 epochs, seed 0, no early stopping, no callback, divergence past
    /// [`DIVERGENCE_FACTOR`]).
    pub fn new(net: &'a mut N, opt: &'a mut O, loss: L) -> Self {
        Self {
            net,
            opt,
            loss,
            epochs: 10,
            seed: 0,
            patience: None,
            clip: None,
            divergence: DIVERGENCE_FACTOR,
            schedule: Schedule::Constant,
            warmup: 0,
            augment: None,
            callback: None,
        }
    }

    /// The number of epochs.
    #[must_use]
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// The seed of the shuffling and dropout generator.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Stops after `patience` epochs without a lower validation loss, and in any case ends with the weights of
    /// the epoch with the lowest validation loss. Needs a validation set.
    #[must_use]
    pub fn early_stopping(mut self, patience: usize) -> Self {
        self.patience = Some(patience);
        self
    }

    /// Rescales each batch's gradient so that its norm over all parameters is at most `max_norm` before the
    /// update (see [`crate::optim::clip_grad_norm`]): the remedy for exploding gradients through time.
    #[must_use]
    pub fn clip_grad_norm(mut self, max_norm: f64) -> Self {
        self.clip = Some(max_norm);
        self
    }

    /// Reports [`TrainError::Exploded`] when an epoch's mean training loss is more than `factor` times the loss of
    /// the first batch (the network as it started; default [`DIVERGENCE_FACTOR`], 1,000): a loss that explodes
    /// without reaching infinity, as with far too large a learning rate. `f64::INFINITY` leaves only non-finite
    /// losses ([`TrainError::Diverged`]). Either way the network is restored to the best epoch before.
    #[must_use]
    pub fn divergence_factor(mut self, factor: f64) -> Self {
        self.divergence = factor;
        self
    }

    /// Sets the optimizer's learning rate before every update to its rate when training starts times the
    /// schedule's factor at that epoch and update (see [`Schedule`]); the rate it started with is given back at
    /// the end. Each epoch's [`EpochStats::lr`] is the rate of its last update.
    #[must_use]
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// A linear warm-up over the first `iterations` updates (the first at `1 / iterations` of the rate), on top of
    /// the [`Trainer::schedule`].
    #[must_use]
    pub fn warmup(mut self, iterations: usize) -> Self {
        self.warmup = iterations;
        self
    }

    /// Transforms every training sample's input as its batch is gathered (a copy: the data set is untouched), with
    /// the trainer's seeded generator, so every epoch sees new variants and the same seed gives the same run:
    /// `.augment(move |x, rng| ImageAugment::new(1, 28, 28).shift(2).apply(x, rng))` (see
    /// [`crate::augment`]). Validation samples are not transformed.
    #[must_use]
    pub fn augment(mut self, f: impl FnMut(&mut [N::Scalar], &mut SeededRng) + 'a) -> Self {
        self.augment = Some(Box::new(f));
        self
    }

    /// Calls `f` after every batch and every epoch (for progress bars and logs).
    #[must_use]
    pub fn on_progress(mut self, f: impl FnMut(&Progress) + 'a) -> Self {
        self.callback = Some(Box::new(f));
        self
    }

    /// Trains in batches of `B` samples on `train`, validating on `valid` after every epoch: the validation loss
    /// decides early stopping ([`Trainer::early_stopping`]) and which weights a diverging run is restored to.
    /// An empty `valid` is [`TrainError::EmptyValidation`]; without a validation set, call
    /// [`Trainer::fit_without_validation`].
    ///
    /// A batch whose loss is not finite ends training with [`TrainError::Diverged`], an epoch whose mean loss
    /// exceeds [`Trainer::divergence_factor`] times the first batch's with [`TrainError::Exploded`]; the network
    /// then holds the weights and statistics of the best epoch before (the lowest validation loss, or training
    /// loss without validation data), or those it started with.
    pub fn fit<const B: usize>(self, train: &[Sample<N>], valid: &[Sample<N>]) -> Result<Report, TrainError> {
        if valid.is_empty() {
            return Err(TrainError::EmptyValidation);
        }
        self.fit_checked::<B>(train, valid)
    }

    /// Trains in batches of `B` samples on `train` without a validation set: each epoch reports its training
    /// loss and accuracy only ([`EpochStats::valid`] is `None`), and a diverging run is restored to the epoch
    /// with the lowest training loss. [`Trainer::early_stopping`] needs validation data, so asking for it here is
    /// [`TrainError::EarlyStoppingWithoutValidation`].
    pub fn fit_without_validation<const B: usize>(self, train: &[Sample<N>]) -> Result<Report, TrainError> {
        if self.patience.is_some() {
            return Err(TrainError::EarlyStoppingWithoutValidation);
        }
        self.fit_checked::<B>(train, &[])
    }

    /// [`Trainer::fit`] once the validation set is settled.
    fn fit_checked<const B: usize>(mut self, train: &[Sample<N>], valid: &[Sample<N>]) -> Result<Report, TrainError> {
        if train.is_empty() || B == 0 {
            return Err(TrainError::TooFewSamples { samples: train.len(), batch: B });
        }
        for (set, data) in [("training", train), ("validation", valid)] {
            for (sample, (x, _)) in data.iter().enumerate() {
                N::check_input(x).map_err(|error| TrainError::InvalidInput { set, sample, error })?;
            }
        }
        let base = self.opt.learning_rate();
        let scheduled = self.schedule != Schedule::Constant || self.warmup > 0;
        if scheduled && base.is_none() {
            return Err(TrainError::NoLearningRate);
        }
        let result = self.run::<B>(train, valid, base.filter(|_| scheduled));
        if let (true, Some(base)) = (scheduled, base) {
            self.opt.set_learning_rate(base);
        }
        result
    }

    /// The epochs of [`Trainer::fit`], on checked data; `base` is the optimizer's starting rate when a schedule
    /// sets it.
    fn run<const B: usize>(
        &mut self,
        train: &[Sample<N>],
        valid: &[Sample<N>],
        base: Option<N::Scalar>,
    ) -> Result<Report, TrainError> {
        let mut iteration = 0;
        let mut rng = seeded_rng(self.seed);
        let mut order: Vec<usize> = (0..train.len()).collect();
        // The indices of a last, partial batch, filled up to `B` with samples of the epoch.
        let mut filled: Vec<usize> = Vec::with_capacity(B);
        let mut grads = N::boxed_zeroed();
        // Caches and batch gradients are allocated once, on the heap, and reused by every step.
        let mut cache = crate::boxed_zeroed::<N::BatchCache<B>>();
        let (mut x, mut t) = (crate::boxed_zeroed::<N::InputBatch<B>>(), crate::boxed_zeroed::<N::OutputBatch<B>>());
        let patience = self.patience.filter(|_| !valid.is_empty());
        // The best epoch so far (0: the weights the network started with): what early stopping ends with, and
        // what a diverging run is restored to.
        let mut best = N::boxed_zeroed();
        best.copy_from(self.net);
        let (mut best_loss, mut best_epoch) = (f64::INFINITY, 0);
        let mut first: Option<f64> = None;
        let mut report = Report { epochs: Vec::new(), best_epoch: None, stopped_early: false };
        let batches = train.len().div_ceil(B);

        for epoch in 1..=self.epochs {
            order.shuffle(&mut rng);
            let (mut loss_sum, mut correct) = (0.0, 0.0);
            for (b, chunk) in order.chunks(B).enumerate() {
                let used = chunk.len();
                let chunk = if used == B {
                    chunk
                } else {
                    filled.clear();
                    filled.extend(order.iter().cycle().take(B));
                    filled[..used].copy_from_slice(chunk);
                    &filled[..]
                };
                gather::<N, B>(train, chunk, &mut x, &mut t);
                if let Some(f) = self.augment.as_mut() {
                    let fi = N::InputBatch::<B>::FEATURES;
                    for column in x.as_mut_slice().chunks_exact_mut(fi.max(1)) {
                        f(column, &mut rng);
                    }
                }
                if let Some(base) = base {
                    let factor = self.schedule.factor(epoch - 1, iteration) * warmup_factor(self.warmup, iteration);
                    self.opt.set_learning_rate(N::Scalar::from_f64(base.to_f64() * factor));
                }
                iteration += 1;
                let (loss, hits) = self.step::<B>(&x, &t, used, &mut grads, &mut cache, &mut rng);
                if !loss.is_finite() {
                    self.net.copy_from(&best);
                    return Err(TrainError::Diverged { epoch, batch: b + 1, loss, restored_epoch: best_epoch });
                }
                first.get_or_insert(loss);
                loss_sum += loss * used as f64;
                correct += hits;
                if let Some(f) = self.callback.as_mut() {
                    f(&Progress::Batch { epoch, batch: b + 1, batches, loss });
                }
            }
            let seen = train.len() as f64;
            let train_metrics = Metrics { loss: loss_sum / seen, accuracy: correct / seen };
            if let Some(first) = first
                && train_metrics.loss > self.divergence * first
            {
                self.net.copy_from(&best);
                let (loss, factor) = (train_metrics.loss, self.divergence);
                return Err(TrainError::Exploded { epoch, loss, first, factor, restored_epoch: best_epoch });
            }
            let valid_metrics = (!valid.is_empty()).then(|| evaluate::<N, L, B>(self.net, valid, &self.loss));
            let lr = self.opt.learning_rate().map(Float::to_f64);
            let stats = EpochStats { epoch, train: train_metrics, valid: valid_metrics, lr };
            report.epochs.push(stats);
            if let Some(f) = self.callback.as_mut() {
                f(&Progress::Epoch(stats));
            }

            let judged = valid_metrics.map_or(train_metrics.loss, |v| v.loss);
            if judged < best_loss {
                (best_loss, best_epoch) = (judged, epoch);
                best.copy_from(self.net);
            } else if let Some(patience) = patience
                && epoch - best_epoch >= patience.max(1)
            {
                report.stopped_early = epoch < self.epochs;
                break;
            }
        }
        if patience.is_some() && best_epoch > 0 {
            self.net.copy_from(&best);
            report.best_epoch = Some(best_epoch);
        }
        Ok(report)
    }

    /// One batch: training forward, loss, backward, running statistics, update. The loss is the mean over the
    /// first `used` columns (the others fill a last, partial batch and get no gradient). Returns that loss and
    /// the summed accuracy of those samples; a non-finite loss leaves the network untouched.
    #[allow(clippy::too_many_arguments)]
    fn step<const B: usize>(
        &mut self,
        x: &N::InputBatch<B>,
        t: &N::OutputBatch<B>,
        used: usize,
        grads: &mut N,
        cache: &mut N::BatchCache<B>,
        rng: &mut SeededRng,
    ) -> (f64, f64) {
        let y = self.net.forward_train_batch_in::<B, _>(x, cache, rng);
        let (loss, dy) = if used == B {
            self.loss.value_and_gradient(&y, t)
        } else {
            leading_value_and_gradient(&self.loss, &y, t, used)
        };
        let loss = loss.to_f64();
        if !loss.is_finite() {
            return (loss, 0.0);
        }
        grads.fill(N::Scalar::from_f64(0.0));
        N::backward_batch_in::<B, _>(Accumulate { layer: &*self.net, grads: &mut *grads }, cache, &dy, None);
        self.net.update_statistics::<B>(cache);
        if let Some(max) = self.clip {
            crate::optim::clip_grad_norm(grads, N::Scalar::from_f64(max));
        }
        self.opt.step(self.net, grads);
        (loss, hits(&self.loss, &y, t, used))
    }
}

/// The mean loss over the first `used` samples (columns) of a batch and its gradient, zero in the other columns.
fn leading_value_and_gradient<T: Float, L: Loss<T>, Y: Buffer<T>>(loss: &L, y: &Y, t: &Y, used: usize) -> (T, Y) {
    let f = Y::FEATURES.max(1);
    let scale = T::one() / T::from_f64(used.max(1) as f64);
    let mut g = Y::zeros();
    let mut sum = T::zero();
    let columns =
        g.as_mut_slice().chunks_exact_mut(f).zip(y.as_slice().chunks_exact(f)).zip(t.as_slice().chunks_exact(f));
    for ((gc, yc), tc) in columns.take(used) {
        sum += loss.sample_value(yc, tc);
        loss.sample_gradient(yc, tc, gc);
        gc.iter_mut().for_each(|v| *v *= scale);
    }
    (sum * scale, g)
}

/// The summed [`Loss::sample_accuracy`] over the first `used` columns of `y` (for classifiers: how many columns
/// have their largest entry where the target's has).
fn hits<T: Float, L: Loss<T>, Y: Buffer<T>>(loss: &L, y: &Y, t: &Y, used: usize) -> f64 {
    let f = Y::FEATURES.max(1);
    let columns = y.as_slice().chunks_exact(f).zip(t.as_slice().chunks_exact(f));
    columns.take(used).map(|(y, t)| loss.sample_accuracy(y, t)).sum()
}

/// Copies the samples `indices` of `data` into the columns of a batch.
fn gather<N: BatchNetwork, const B: usize>(
    data: &[Sample<N>],
    indices: &[usize],
    x: &mut N::InputBatch<B>,
    t: &mut N::OutputBatch<B>,
) {
    let (fi, fo) = (N::InputBatch::<B>::FEATURES, N::OutputBatch::<B>::FEATURES);
    for (b, &i) in indices.iter().enumerate() {
        let (xi, ti) = &data[i];
        x.as_mut_slice()[b * fi..(b + 1) * fi].copy_from_slice(xi.as_slice());
        t.as_mut_slice()[b * fo..(b + 1) * fo].copy_from_slice(ti.as_slice());
    }
}

/// Loss and accuracy of `net` in inference mode over `data`, in batches of `B` (the rest one by one).
pub fn evaluate<N, L, const B: usize>(net: &N, data: &[Sample<N>], loss: &L) -> Metrics
where
    N: BatchNetwork,
    L: Loss<N::Scalar>,
{
    if data.is_empty() {
        return Metrics { loss: 0.0, accuracy: 0.0 };
    }
    let (mut sum, mut correct) = (0.0, 0.0);
    let indices: Vec<usize> = (0..data.len()).collect();
    let mut chunks = indices.chunks_exact(B.max(1));
    if B > 0 {
        // Batches and every layer's output in storage allocated once, whatever the network's size.
        let mut cache = crate::boxed_zeroed::<N::BatchCache<B>>();
        let (mut x, mut t) = (crate::boxed_zeroed::<N::InputBatch<B>>(), crate::boxed_zeroed::<N::OutputBatch<B>>());
        for chunk in chunks.by_ref() {
            gather::<N, B>(data, chunk, &mut x, &mut t);
            let y = net.forward_batch_in::<B>(&x, &mut cache);
            sum += loss.value(&y, &*t).to_f64() * B as f64;
            correct += hits(loss, &y, &*t, B);
        }
    }
    let rest = if B > 0 { chunks.remainder() } else { &indices[..] };
    let mut cache = crate::boxed_zeroed::<N::Cache>();
    for &i in rest {
        let (x, t) = &data[i];
        let y = net.forward_in(x, &mut cache);
        sum += loss.value(&y, t).to_f64();
        correct += hits(loss, &y, t, 1);
    }
    Metrics { loss: sum / data.len() as f64, accuracy: correct / data.len() as f64 }
}

/// The confusion matrix of `net` over `data`: `m[target][predicted]` counts, for `classes` classes (the
/// argmax of the target and of the output).
pub fn confusion<N: Network>(net: &N, data: &[Sample<N>], classes: usize) -> Vec<Vec<usize>> {
    let mut m = alloc::vec![alloc::vec![0usize; classes]; classes];
    for (x, t) in data {
        let (p, a) = (argmax(net.forward(x).as_slice()), argmax(t.as_slice()));
        if a < classes && p < classes {
            m[a][p] += 1;
        }
    }
    m
}
