//! Generative adversarial training, as the course writes it: a generator `G` maps noise `z` to samples, a
//! discriminator `D` outputs one logit, `D(x)` being the probability `sigmoid(logit)` that `x` is real.
//!
//! ```text
//! min_G max_D  V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]
//! L_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))]                         (discriminator_gradients)
//! L_G = -E_z[log D(G(z))]          the non-saturating form            (GeneratorLoss::NonSaturating)
//! L_G =  E_z[log(1 - D(G(z)))]     the minimax form, which saturates   (GeneratorLoss::Minimax)
//! ```
//!
//! Both networks are ordinary `network!` networks (`G`'s output batch is `D`'s input batch, checked by the
//! compiler); these functions compute one batch's gradients and leave the optimizer steps to the caller, so
//! any optimizer, learning rate or number of discriminator steps per generator step can be used. A conditional
//! GAN passes the condition in the inputs: `G` gets `[z; label]`, `D` gets `[x; label]` ([`crate::layer::concat()`]).
//!
//! The course's simple conditional GAN, the auxiliary-classifier GAN, has `D` answer twice: the source `D_x` and
//! the class `D_c` ([`auxiliary_discriminator_gradients`], [`auxiliary_generator_gradients`]). The lecture
//! writes its discriminator loss with the adversarial form on the classifier too, the original paper has `D`
//! classify generated samples; [`AuxiliaryForm`] chooses:
//!
//! ```text
//! L_D = -E[log D_x(x)] - E[log(1 - D_x(G(z, c)))] - E[log D_c(x)] - E[log(1 - D_c(G(z, c)))]   (Reject, lecture)
//! L_D = -E[log D_x(x)] - E[log(1 - D_x(G(z, c)))] - E[log D_c(x)] - E[log D_c(G(z, c))]         (Classify, paper)
//! L_G = -E[log D_x(G(z, c))] - E[log D_c(G(z, c))]                                              (both)
//! ```
//!
//! All losses are on logits ([`BinaryCrossEntropyWithLogits`]), so no `log` of a saturated sigmoid is taken.

use crate::buffer::Buffer;
use crate::float::Float;
use crate::layer::{Accumulate, concat, split};
use crate::loss::{BinaryCrossEntropyWithLogits, Loss};
use crate::network::{BatchNetwork, Network};
use crate::scratch::with_scratch;
use nalgebra::SMatrix;

/// Which generator loss to minimise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GeneratorLoss {
    /// `-E[log D(G(z))]`: strong gradients while the discriminator still rejects the samples (the usual choice).
    #[default]
    NonSaturating,
    /// `E[log(1 - D(G(z)))]`, the game's own value: its gradient vanishes when `D(G(z))` is near 0, early in
    /// training.
    Minimax,
}

/// A batch buffer with every entry `v`.
fn filled<T: Float, B: Buffer<T>>(v: T) -> B {
    let mut b = B::zeros();
    b.as_mut_slice().fill(v);
    b
}

/// Adds the gradient of `L_D` on a batch of `real` samples and a batch of generated ones (`fake`) into
/// `grads`, and returns `L_D` (each half the mean over its batch).
pub fn discriminator_gradients<D, R, const B: usize>(
    d: &D,
    real: &D::InputBatch<B>,
    fake: &D::InputBatch<B>,
    grads: &mut D,
    rng: &mut R,
) -> D::Scalar
where
    D: BatchNetwork,
    R: rand::Rng + ?Sized,
{
    let bce = BinaryCrossEntropyWithLogits;
    with_scratch(|cache: &mut D::BatchCache<B>| {
        let y = d.forward_train_batch_in::<B, R>(real, cache, rng);
        let one = <D::Scalar as num_traits::One>::one();
        let (real_loss, dy) = bce.value_and_gradient(&y, &filled::<D::Scalar, D::OutputBatch<B>>(one));
        D::backward_batch_in::<B, _>(Accumulate { layer: d, grads: &mut *grads }, cache, &dy, None);
        let y = d.forward_train_batch_in::<B, R>(fake, cache, rng);
        let (fake_loss, dy) = bce.value_and_gradient(&y, &D::OutputBatch::<B>::zeros());
        D::backward_batch_in::<B, _>(Accumulate { layer: d, grads }, cache, &dy, None);
        real_loss + fake_loss
    })
}

/// Generates a batch from the noise `z` and adds the gradient of `L_G` (in the chosen `form`) with respect to
/// the generator's parameters into `g_grads`; returns `L_G`. The gradient reaches `G` through `D`'s input
/// gradient; `D`'s own parameter gradients are written to `d_scratch` and mean nothing (zero it before using
/// it for anything else).
#[allow(clippy::too_many_arguments)]
pub fn generator_gradients<G, D, R, const B: usize>(
    g: &G,
    d: &D,
    z: &G::InputBatch<B>,
    form: GeneratorLoss,
    g_grads: &mut G,
    d_scratch: &mut D,
    rng: &mut R,
) -> G::Scalar
where
    G: BatchNetwork,
    D: BatchNetwork<Scalar = G::Scalar, InputBatch<B> = G::OutputBatch<B>>,
    R: rand::Rng + ?Sized,
{
    with_scratch(|g_cache: &mut G::BatchCache<B>| {
        with_scratch(|d_cache: &mut D::BatchCache<B>| {
            let x = g.forward_train_batch_in::<B, R>(z, g_cache, rng);
            let y = d.forward_train_batch_in::<B, R>(&x, d_cache, rng);
            let (loss, dy) = generator_loss::<G::Scalar, D::OutputBatch<B>>(&y, form);
            let mut dx = D::InputBatch::<B>::zeros();
            D::backward_batch_in::<B, _>(Accumulate { layer: d, grads: d_scratch }, d_cache, &dy, Some(&mut dx));
            G::backward_batch_in::<B, _>(Accumulate { layer: g, grads: g_grads }, g_cache, &dx, None);
            loss
        })
    })
}

/// [`generator_gradients`] for a conditional GAN: `G` reads its noise and the condition together (`z` already
/// holds both, as `G`'s input), and `D` reads the generated sample with the same `condition` appended
/// (`[G(z); condition]`, the layout of [`crate::layer::concat()`]). The gradient reaching `G` is the part of
/// `D`'s input gradient that belongs to the sample.
#[allow(clippy::too_many_arguments)]
pub fn conditional_generator_gradients<T, G, D, R, const X: usize, const C: usize, const XC: usize, const B: usize>(
    g: &G,
    d: &D,
    z: &G::InputBatch<B>,
    condition: &SMatrix<T, C, B>,
    form: GeneratorLoss,
    g_grads: &mut G,
    d_scratch: &mut D,
    rng: &mut R,
) -> T
where
    T: Float,
    G: BatchNetwork<Scalar = T, OutputBatch<B> = SMatrix<T, X, B>>,
    D: BatchNetwork<Scalar = T, InputBatch<B> = SMatrix<T, XC, B>>,
    R: rand::Rng + ?Sized,
{
    with_scratch(|g_cache: &mut G::BatchCache<B>| {
        with_scratch(|d_cache: &mut D::BatchCache<B>| {
            let x = g.forward_train_batch_in::<B, R>(z, g_cache, rng);
            let joined: SMatrix<T, XC, B> = concat(&x, condition);
            let y = d.forward_train_batch_in::<B, R>(&joined, d_cache, rng);
            let (loss, dy) = generator_loss::<T, D::OutputBatch<B>>(&y, form);
            let mut d_joined = SMatrix::<T, XC, B>::zeros();
            let sink = Accumulate { layer: d, grads: d_scratch };
            D::backward_batch_in::<B, _>(sink, d_cache, &dy, Some(&mut d_joined));
            let (dx, _) = split::<T, X, C, XC, B>(&d_joined);
            G::backward_batch_in::<B, _>(Accumulate { layer: g, grads: g_grads }, g_cache, &dx, None);
            loss
        })
    })
}

/// The generator's loss on the discriminator's logits `y` and its gradient.
fn generator_loss<T: Float, Y: Buffer<T>>(y: &Y, form: GeneratorLoss) -> (T, Y) {
    let bce = BinaryCrossEntropyWithLogits;
    match form {
        GeneratorLoss::NonSaturating => bce.value_and_gradient(y, &filled::<T, Y>(T::one())),
        GeneratorLoss::Minimax => {
            // log(1 - D) = -BCE(logit, target 0).
            let (l, mut dy) = bce.value_and_gradient(y, &Y::zeros());
            dy.as_mut_slice().iter_mut().for_each(|v| *v = -*v);
            (-l, dy)
        }
    }
}

/// A class label at or beyond the number of classes an auxiliary-classifier discriminator has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelError {
    /// The sample (column) with the bad label.
    pub sample: usize,
    /// The label.
    pub label: usize,
    /// How many classes there are.
    pub classes: usize,
}

impl core::fmt::Display for LabelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "sample {}: label {} is not one of the {} classes", self.sample, self.label, self.classes)
    }
}

impl core::error::Error for LabelError {}

/// What an auxiliary-classifier discriminator learns to say of the class of a generated sample `G(z, c)`.
///
/// The two forms differ only there; on real samples both minimise `-log D_c(x)` (cross-entropy of the class
/// logits against the label), and the generator's loss is the same, `-log D_x(G(z, c)) - log D_c(G(z, c))`.
/// `D_x` is the sigmoid of the source logit, `D_c` the softmax probability of class `c`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuxiliaryForm {
    /// The original paper's (Odena, Olah and Shlens 2017): `D` also classifies generated samples as the class
    /// asked for, minimising `-log D_c(G(z, c))`, so that its class logits teach the generator what each class
    /// looks like from the first step.
    #[default]
    Classify,
    /// The lecture's: `D` learns to deny generated samples their class, minimising `-log(1 - D_c(G(z, c)))`,
    /// the adversarial loss applied to the classifier as well as to the source:
    ///
    /// ```text
    /// L_D = -E[log D_x(x)] - E[log(1 - D_x(G(z, c)))] - E[log D_c(x)] - E[log(1 - D_c(G(z, c)))]
    /// ```
    Reject,
}

/// What the class logits of one batch are trained towards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClassTarget {
    /// `-log softmax(z)_label`.
    Label,
    /// `-log(1 - softmax(z)_label)`.
    NotLabel,
}

/// The two losses of an auxiliary-classifier GAN on one batch, and the gradient with respect to the
/// discriminator's outputs: row 0 is the source logit ("real"), rows `1..O` the class logits (at least two).
fn auxiliary_loss<T: Float, const O: usize, const B: usize>(
    y: &SMatrix<T, O, B>,
    real: bool,
    labels: &[usize; B],
    target: ClassTarget,
) -> Result<(T, T, SMatrix<T, O, B>), LabelError> {
    const {
        assert!(O >= 3, "an auxiliary-classifier discriminator has a source logit and at least two class logits");
    }
    let classes = O - 1;
    if let Some((sample, &label)) = labels.iter().enumerate().find(|(_, l)| **l >= classes) {
        return Err(LabelError { sample, label, classes });
    }
    let bce = BinaryCrossEntropyWithLogits;
    let scale = T::one() / T::from_f64(B.max(1) as f64);
    let source_target = [if real { T::one() } else { T::zero() }];
    let (mut source, mut class) = (T::zero(), T::zero());
    let mut dy = SMatrix::<T, O, B>::zeros();
    for ((yc, mut dc), &label) in y.column_iter().zip(dy.column_iter_mut()).zip(labels) {
        let (yc, d) = (yc.as_slice(), dc.as_mut_slice());
        source += bce.sample_value(&yc[..1], &source_target);
        bce.sample_gradient(&yc[..1], &source_target, &mut d[..1]);
        let logits = &yc[1..];
        let log_z = crate::loss::log_sum_exp(logits);
        match target {
            // Softmax cross-entropy of the class logits against the label: p - onehot(label).
            ClassTarget::Label => {
                class += log_z - logits[label];
                for (k, (g, &z)) in d[1..].iter_mut().zip(logits).enumerate() {
                    *g = (z - log_z).exp() - if k == label { T::one() } else { T::zero() };
                }
            }
            // -log(1 - p_label) = log_sum_exp(z) - log_sum_exp(z without the label), without forming 1 - p;
            // its gradient is p_k minus, off the label, the softmax q_k of the other logits.
            ClassTarget::NotLabel => {
                let others = logits.iter().enumerate().filter(|(k, _)| *k != label).map(|(_, &z)| z);
                let max = others.clone().fold(logits[usize::from(label == 0)], Float::max);
                let log_rest = max + others.fold(T::zero(), |acc, z| acc + (z - max).exp()).ln();
                class += log_z - log_rest;
                for (k, (g, &z)) in d[1..].iter_mut().zip(logits).enumerate() {
                    let p = (z - log_z).exp();
                    *g = if k == label { p } else { p - (z - log_rest).exp() };
                }
            }
        }
    }
    dy.as_mut_slice().iter_mut().for_each(|v| *v *= scale);
    Ok((source * scale, class * scale, dy))
}

/// The discriminator's gradients in an auxiliary-classifier GAN (AC-GAN, the course's simple conditional GAN):
/// `D` outputs a source logit and `O - 1` class logits; it learns to tell real from generated and to classify
/// real samples, minimising `BCE(source, real) + BCE(source, fake) + CE(class of real)` plus, for the generated
/// samples, the paper's `CE(class of fake)` or the lecture's `-log(1 - D_c(fake))` as `form` says. Adds the
/// gradients into `grads` and returns the source and class losses, or the first label that is not a class.
///
/// `O` is at least 3 (two classes); fewer is a compile error.
#[allow(clippy::too_many_arguments)]
pub fn auxiliary_discriminator_gradients<T, D, R, const O: usize, const B: usize>(
    d: &D,
    real: &D::InputBatch<B>,
    real_labels: &[usize; B],
    fake: &D::InputBatch<B>,
    fake_labels: &[usize; B],
    form: AuxiliaryForm,
    grads: &mut D,
    rng: &mut R,
) -> Result<(T, T), LabelError>
where
    T: Float,
    D: BatchNetwork<Scalar = T, OutputBatch<B> = SMatrix<T, O, B>>,
    R: rand::Rng + ?Sized,
{
    let fake_target = match form {
        AuxiliaryForm::Classify => ClassTarget::Label,
        AuxiliaryForm::Reject => ClassTarget::NotLabel,
    };
    with_scratch(|cache_real: &mut D::BatchCache<B>| {
        with_scratch(|cache_fake: &mut D::BatchCache<B>| {
            let y_real = d.forward_train_batch_in::<B, R>(real, cache_real, rng);
            let (s_real, c_real, dy_real) = auxiliary_loss(&y_real, true, real_labels, ClassTarget::Label)?;
            let y_fake = d.forward_train_batch_in::<B, R>(fake, cache_fake, rng);
            let (s_fake, c_fake, dy_fake) = auxiliary_loss(&y_fake, false, fake_labels, fake_target)?;
            D::backward_batch_in::<B, _>(Accumulate { layer: d, grads: &mut *grads }, cache_real, &dy_real, None);
            D::backward_batch_in::<B, _>(Accumulate { layer: d, grads }, cache_fake, &dy_fake, None);
            Ok((s_real + s_fake, c_real + c_fake))
        })
    })
}

/// The generator's gradients in an auxiliary-classifier GAN: `G(z)` (with the labels already in `z`) should
/// pass as real and be classified as `labels`: `BCE(source, real) + CE(class)` (the non-saturating form).
/// `D`'s parameter gradients go to `d_scratch`. Returns the source and class losses.
#[allow(clippy::too_many_arguments)]
pub fn auxiliary_generator_gradients<T, G, D, R, const O: usize, const B: usize>(
    g: &G,
    d: &D,
    z: &G::InputBatch<B>,
    labels: &[usize; B],
    g_grads: &mut G,
    d_scratch: &mut D,
    rng: &mut R,
) -> Result<(T, T), LabelError>
where
    T: Float,
    G: BatchNetwork<Scalar = T>,
    D: BatchNetwork<Scalar = T, InputBatch<B> = G::OutputBatch<B>, OutputBatch<B> = SMatrix<T, O, B>>,
    R: rand::Rng + ?Sized,
{
    with_scratch(|g_cache: &mut G::BatchCache<B>| {
        with_scratch(|d_cache: &mut D::BatchCache<B>| {
            let x = g.forward_train_batch_in::<B, R>(z, g_cache, rng);
            let y = d.forward_train_batch_in::<B, R>(&x, d_cache, rng);
            let (source, class, dy) = auxiliary_loss(&y, true, labels, ClassTarget::Label)?;
            let mut dx = D::InputBatch::<B>::zeros();
            D::backward_batch_in::<B, _>(Accumulate { layer: d, grads: d_scratch }, d_cache, &dy, Some(&mut dx));
            G::backward_batch_in::<B, _>(Accumulate { layer: g, grads: g_grads }, g_cache, &dx, None);
            Ok((source, class))
        })
    })
}

/// `D(x)` for one sample: the discriminator's probability that `x` is real.
pub fn probability_real<D: Network>(d: &D, x: &D::Input) -> D::Scalar
where
    D::Output: Buffer<D::Scalar>,
{
    let logit = d.forward(x).as_slice()[0];
    crate::activation::sigmoid(logit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Parameters;
    use nalgebra::{SMatrix, matrix, vector};
    use rand::SeedableRng;
    use rand::rngs::ChaCha8Rng;

    crate::network! {
        struct Line<f64> { input: 1, fc: Dense(1) }
    }

    fn line(w: f64, b: f64) -> Line {
        let mut l = Line::zeroed();
        l.fc.weight = matrix![w];
        l.fc.bias = vector![b];
        l
    }

    /// `G(z) = 2 z + 0.5` on one number, `D(x) = sigmoid(1.5 x - 0.25)`: both losses and a gradient of each by
    /// hand.
    #[test]
    fn one_dimensional_losses_and_gradients_match_the_formulas() {
        let (g, d) = (line(2.0, 0.5), line(1.5, -0.25));
        let s = |v: f64| 1.0 / (1.0 + (-v).exp());
        let logit = |x: f64| 1.5 * x - 0.25;
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let (real, z) = (SMatrix::<f64, 1, 2>::new(1.0, -2.0), SMatrix::<f64, 1, 2>::new(0.3, -0.7));
        let fake = SMatrix::<f64, 1, 2>::from_fn(|_, c| 2.0 * z[c] + 0.5);

        let mut dg = Line::zeroed();
        let l_d = discriminator_gradients::<_, _, 2>(&d, &real, &fake, &mut dg, &mut rng);
        let want = -(0..2).map(|c| s(logit(real[c])).ln() + (1.0 - s(logit(fake[c]))).ln()).sum::<f64>() / 2.0;
        assert!((l_d - want).abs() < 1e-12, "{l_d} vs {want}");
        // dL_D/da = mean((D(x) - 1) x) + mean(D(G(z)) G(z)).
        let da = (0..2).map(|c| (s(logit(real[c])) - 1.0) * real[c] + s(logit(fake[c])) * fake[c]).sum::<f64>() / 2.0;
        assert!((dg.fc.weight[0] - da).abs() < 1e-12);

        for form in [GeneratorLoss::NonSaturating, GeneratorLoss::Minimax] {
            let (mut gg, mut scratch) = (Line::zeroed(), Line::zeroed());
            let l_g = generator_gradients::<_, _, _, 2>(&g, &d, &z, form, &mut gg, &mut scratch, &mut rng);
            // d/dw of the loss: the chain through D's logit (slope 1.5) and G (slope z).
            let (want_l, want_dw) = match form {
                GeneratorLoss::NonSaturating => (
                    -(0..2).map(|c| s(logit(fake[c])).ln()).sum::<f64>() / 2.0,
                    (0..2).map(|c| (s(logit(fake[c])) - 1.0) * 1.5 * z[c]).sum::<f64>() / 2.0,
                ),
                GeneratorLoss::Minimax => (
                    (0..2).map(|c| (1.0 - s(logit(fake[c]))).ln()).sum::<f64>() / 2.0,
                    -(0..2).map(|c| s(logit(fake[c])) * 1.5 * z[c]).sum::<f64>() / 2.0,
                ),
            };
            assert!((l_g - want_l).abs() < 1e-12, "{form:?}: {l_g} vs {want_l}");
            assert!((gg.fc.weight[0] - want_dw).abs() < 1e-12, "{form:?}");
            assert_eq!(gg.param_count(), 2);
        }
        assert!((probability_real(&d, &vector![1.0]) - s(1.25)).abs() < 1e-15);
    }

    crate::network! {
        #[derive(Clone)]
        struct Gen<f64> { input: 3, fc: Dense(2), Tanh }
    }

    crate::network! {
        struct Disc<f64> { input: 4, fc: Dense(3), Tanh, out: Dense(1) }
    }

    /// The conditional generator's gradient against central differences of its loss, `D` reading `[G(z); c]`.
    #[test]
    fn conditional_generator_gradient_matches_central_differences() {
        use crate::Initialize;
        use crate::gradcheck::{STEP, relative_error};
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let (mut g, mut d) = (Gen::zeroed(), Disc::zeroed());
        g.init(&mut rng);
        d.init(&mut rng);
        let z = SMatrix::<f64, 3, 4>::from_fn(|r, c| ((r * 4 + c) as f64 * 0.9).sin());
        let cond = SMatrix::<f64, 2, 4>::from_fn(|r, c| if (c + r) % 2 == 0 { 1.0 } else { 0.0 });
        for form in [GeneratorLoss::NonSaturating, GeneratorLoss::Minimax] {
            let (mut gg, mut scratch) = (Gen::zeroed(), Disc::zeroed());
            let loss = conditional_generator_gradients::<f64, _, _, _, 2, 2, 4, 4>(
                &g,
                &d,
                &z,
                &cond,
                form,
                &mut gg,
                &mut scratch,
                &mut rng,
            );
            let value = |g: &Gen| {
                let joined: SMatrix<f64, 4, 4> = concat(&g.forward_batch::<4>(&z), &cond);
                generator_loss::<f64, SMatrix<f64, 1, 4>>(&d.forward_batch::<4>(&joined), form).0
            };
            assert!((loss - value(&g)).abs() < 1e-12);
            let mut worst: f64 = 0.0;
            for i in 0..Parameters::<f64>::param_count(&g) {
                let nudge = |h: f64| {
                    let mut p = g.clone();
                    let mut k = i;
                    p.visit_mut(|t| {
                        if k < t.data.len() {
                            t.data[k] += h;
                        }
                        k = k.wrapping_sub(t.data.len());
                    });
                    value(&p)
                };
                let numeric = (nudge(STEP) - nudge(-STEP)) / (2.0 * STEP);
                let mut analytic = 0.0;
                let mut k = i;
                gg.visit(|t| {
                    if k < t.data.len() {
                        analytic = t.data[k];
                    }
                    k = k.wrapping_sub(t.data.len());
                });
                worst = worst.max(relative_error(analytic, numeric));
            }
            assert!(worst < 1e-6, "{form:?}: max relative error {worst:e}");
        }
    }

    /// The largest relative error between `grads` and central differences of `f` around `net`.
    fn worst_error<N: Parameters<f64> + Clone>(net: &N, grads: &N, f: impl Fn(&N) -> f64) -> f64 {
        use crate::gradcheck::{STEP, relative_error};
        let at = |n: &N, i: usize| {
            let mut k = i;
            let mut v = 0.0;
            n.visit(|t| {
                if k < t.data.len() {
                    v = t.data[k];
                }
                k = k.wrapping_sub(t.data.len());
            });
            v
        };
        let nudged = |i: usize, h: f64| {
            let mut p = net.clone();
            let mut k = i;
            p.visit_mut(|t| {
                if k < t.data.len() {
                    t.data[k] += h;
                }
                k = k.wrapping_sub(t.data.len());
            });
            f(&p)
        };
        (0..net.param_count())
            .map(|i| relative_error(at(grads, i), (nudged(i, STEP) - nudged(i, -STEP)) / (2.0 * STEP)))
            .fold(0.0, f64::max)
    }

    /// The lecture's class term on generated samples, `-log(1 - D_c)`, by hand: logits `[1, 2, 0]` (after the
    /// source logit) and label 1 give `D_c = e^2 / (e + e^2 + 1)`; a confident wrong answer stays finite.
    #[test]
    fn lecture_class_term_is_minus_log_one_minus_the_class_probability() {
        let y = SMatrix::<f64, 4, 2>::from_column_slice(&[0.5, 1.0, 2.0, 0.0, 0.0, 0.0, 60.0, 0.0]);
        let (e, e2) = (1f64.exp(), 2f64.exp());
        let p = e2 / (e + e2 + 1.0);
        let (_, class, dy) = auxiliary_loss(&y, false, &[1, 1], ClassTarget::NotLabel).expect("labels");
        // The second sample: 1 - p = 2 / (2 + e^60), so the term is log(1 + e^60 / 2), about 60 - ln 2.
        let second = (1.0 + 60f64.exp() / 2.0).ln();
        assert!((class - (-(1.0 - p).ln() + second) / 2.0).abs() < 1e-12, "{class}");
        // d/dz_k of -log(1 - p_c) is p_c (onehot_c(k) - p_k) / (1 - p_c); the batch mean halves it.
        let probs = [e / (e + e2 + 1.0), p, 1.0 / (e + e2 + 1.0)];
        for (k, &p_k) in probs.iter().enumerate() {
            let want = p * (if k == 1 { 1.0 } else { 0.0 } - p_k) / (1.0 - p) / 2.0;
            assert!((dy[(k + 1, 0)] - want).abs() < 1e-12, "k = {k}: {} vs {want}", dy[(k + 1, 0)]);
        }
        assert!(dy.iter().all(|v| v.is_finite()));
        // The source term of a generated sample: BCE against 0, the same in both forms.
        let s = 1.0 / (1.0 + (-0.5f64).exp());
        assert!((dy[(0, 0)] - s / 2.0).abs() < 1e-12);
    }

    crate::network! {
        #[derive(Clone)]
        struct AcDisc<f64> { input: 2, fc: Dense(4), Tanh, out: Dense(4) }
    }

    /// AC-GAN: both networks' gradients against central differences of the losses they minimise, the
    /// discriminator's in both forms.
    #[test]
    fn auxiliary_classifier_gradients_match_central_differences() {
        use crate::Initialize;
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let (mut g, mut d) = (Gen::zeroed(), AcDisc::zeroed());
        g.init(&mut rng);
        d.init(&mut rng);
        let real = SMatrix::<f64, 2, 3>::from_fn(|r, c| ((r + 3 * c) as f64 * 0.7).cos());
        let z = SMatrix::<f64, 3, 3>::from_fn(|r, c| ((r * 3 + c) as f64 * 1.3).sin());
        let (real_labels, fake_labels) = ([0, 2, 1], [1, 1, 0]);
        let fake = g.forward_batch::<3>(&z);
        let total = |s: f64, c: f64| s + c;
        for (form, target) in
            [(AuxiliaryForm::Classify, ClassTarget::Label), (AuxiliaryForm::Reject, ClassTarget::NotLabel)]
        {
            let d_loss = |d: &AcDisc| {
                let (a, b, _) = auxiliary_loss(&d.forward_batch::<3>(&real), true, &real_labels, ClassTarget::Label)
                    .expect("labels");
                let (e, f, _) =
                    auxiliary_loss(&d.forward_batch::<3>(&fake), false, &fake_labels, target).expect("labels");
                a + b + e + f
            };
            let mut dg = AcDisc::zeroed();
            let (s, c) = auxiliary_discriminator_gradients::<f64, _, _, 4, 3>(
                &d,
                &real,
                &real_labels,
                &fake,
                &fake_labels,
                form,
                &mut dg,
                &mut rng,
            )
            .expect("labels below 3");
            assert!((total(s, c) - d_loss(&d)).abs() < 1e-12);
            let worst = worst_error(&d, &dg, d_loss);
            assert!(worst < 1e-6, "{form:?}: max relative error {worst:e}");
        }

        let g_loss = |g: &Gen| {
            let (a, b, _) = auxiliary_loss(
                &d.forward_batch::<3>(&g.forward_batch::<3>(&z)),
                true,
                &fake_labels,
                ClassTarget::Label,
            )
            .expect("labels");
            a + b
        };
        let (mut gg, mut scratch) = (Gen::zeroed(), AcDisc::zeroed());
        let (s, c) = auxiliary_generator_gradients::<f64, _, _, _, 4, 3>(
            &g,
            &d,
            &z,
            &fake_labels,
            &mut gg,
            &mut scratch,
            &mut rng,
        )
        .expect("labels below 3");
        assert!((total(s, c) - g_loss(&g)).abs() < 1e-12);
        assert!(worst_error(&g, &gg, g_loss) < 1e-6);

        // A label that is not a class is an error, not a panic.
        let bad = auxiliary_generator_gradients::<f64, _, _, _, 4, 3>(
            &g,
            &d,
            &z,
            &[0, 3, 1],
            &mut gg,
            &mut scratch,
            &mut rng,
        );
        assert_eq!(bad, Err(LabelError { sample: 1, label: 3, classes: 3 }));
    }
}
