//! Variational autoencoders (Kingma and Welling, *Auto-Encoding Variational Bayes*, 2014) over two ordinary
//! `network!` networks: an encoder for `q(z | x)` and a decoder for `p(x | z)`.
//!
//! The encoder maps an input `x` to `2 L` numbers, the mean and log-variance of a diagonal Gaussian over the
//! code `z` (`L` numbers): **rows `0..L` are the mean, rows `L..2 L` the log-variance**, as PyTorch code writes
//! `mu, logvar = encoder(x).chunk(2, dim=-1)`. Declare its last layer `Dense(2 * L)` with no activation. The
//! decoder maps a code to the parameters of `p(x | z)`: with [`Likelihood::Bernoulli`] (the default) the logits
//! of independent Bernoulli values (declare it without a final `Sigmoid`; the loss is
//! [`BinaryCrossEntropyWithLogits`], stable on any logit), with [`Likelihood::Gaussian`] the means of
//! independent Gaussians of a fixed standard deviation.
//!
//! ```text
//! z      = mu + exp(logvar / 2) * eps,   eps ~ N(0, I)                 the reparameterisation (reparameterize)
//! -ELBO  = E_q[-log p(x | z)] + KL(q(z | x) || N(0, I))                 (NegativeElbo: reconstruction + kl)
//! KL     = -1/2 sum_l (1 + logvar_l - mu_l^2 - exp(logvar_l))           in closed form (kl_divergence)
//! ```
//!
//! [`Vae::gradients`] draws `eps` from the caller's generator, computes one batch's negative ELBO (the
//! reconstruction term summed over features, both terms averaged over the batch) and adds its gradients into the
//! encoder's and the decoder's gradient networks, the encoder's through the sampling by the reparameterisation;
//! [`Vae::gradients_with_noise`] does the same for a given `eps`, which makes it deterministic (what a gradient
//! check needs). The optimizer steps are the caller's, as in [`crate::gan`]. [`Vae::beta`] weighs the KL term
//! (a beta-VAE; 1, the ELBO itself, by default).
//!
//! ```
//! use nn_core::prelude::*;
//! use nn_core::vae::{Estimate, Vae};
//! use nn_core::nalgebra::SMatrix;
//!
//! network! {
//!     /// Four pixels to the mean and log-variance of a 1-D code.
//!     #[derive(Clone)]
//!     struct Encoder<f64> { input: 4, fc: Dense(8), Tanh, stats: Dense(2) }
//! }
//! network! {
//!     /// A 1-D code to four pixel logits.
//!     #[derive(Clone)]
//!     struct Decoder<f64> { input: 1, fc: Dense(8), Tanh, logits: Dense(4) }
//! }
//!
//! // Two patterns, each pixel on or off: a 1-D code can tell them apart.
//! let x = SMatrix::<f64, 4, 2>::from_column_slice(&[1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]);
//! let mut rng = seeded_rng(7);
//! let (mut enc, mut dec) = (Encoder::boxed_init(&mut rng), Decoder::boxed_init(&mut rng));
//! let (mut enc_grads, mut dec_grads) = (Encoder::boxed_zeroed(), Decoder::boxed_zeroed());
//! let (mut enc_opt, mut dec_opt) = (Adam::new(0.02), Adam::new(0.02));
//! let vae = Vae::default();
//! let data = [x.column(0).into_owned(), x.column(1).into_owned()];
//! let before = vae.evaluate(&*enc, &*dec, &data, Estimate::Samples(50), &mut rng);
//! for _ in 0..300 {
//!     enc_grads.fill(0.0);
//!     dec_grads.fill(0.0);
//!     vae.gradients(&*enc, &*dec, &x, &mut enc_grads, &mut dec_grads, &mut rng);
//!     enc_opt.step(&mut *enc, &enc_grads);
//!     dec_opt.step(&mut *dec, &dec_grads);
//! }
//! let after = vae.evaluate(&*enc, &*dec, &data, Estimate::Samples(50), &mut rng);
//! // 4 ln 2 = 2.77 nats per pattern at the start; a code that tells them apart needs about ln 2 of KL.
//! assert!(after.total() < 0.6 * before.total(), "{before:?} -> {after:?}");
//! let generated = vae.sample(&*dec, &mut rng); // pixel probabilities of a code drawn from N(0, 1)
//! assert!(generated.iter().all(|p| (0.0..=1.0).contains(p)));
//! ```

use crate::buffer::Buffer;
use crate::float::Float;
use crate::layer::{Accumulate, split};
use crate::loss::{BinaryCrossEntropyWithLogits, Loss};
use crate::network::{BatchNetwork, Network};
use crate::scratch::with_scratch;
use nalgebra::{SMatrix, SVector};
use rand_distr::{Distribution, StandardNormal};

/// The decoder's distribution `p(x | z)`, whose negative log-likelihood is the reconstruction term.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Likelihood {
    /// Independent Bernoulli values with the decoder's outputs as logits: `-log p(x | z) = sum_i BCE(y_i, x_i)`
    /// ([`BinaryCrossEntropyWithLogits`] summed over features). A log-likelihood for binary data; grey levels
    /// in `[0, 1]` are accepted too (as often done with MNIST), the term then being a cross-entropy that bounds
    /// no likelihood. The decoded mean is `sigmoid(y)`.
    #[default]
    Bernoulli,
    /// Independent Gaussians of standard deviation `sigma` (the value held) around the decoder's outputs:
    /// `-log p(x | z) = sum_i (x_i - y_i)^2 / (2 sigma^2) + D ln(sigma sqrt(2 pi))`, a squared error with
    /// its constant, so that the ELBO stays a bound in nats. `sigma > 0`. The decoded mean is `y`.
    Gaussian(f64),
}

impl Likelihood {
    /// `-log p(x | z)` of one sample whose decoder output is `y`.
    pub fn negative_log_likelihood<T: Float>(&self, y: &[T], x: &[T]) -> T {
        let n = T::from_f64(y.len() as f64);
        match *self {
            Likelihood::Bernoulli => BinaryCrossEntropyWithLogits.sample_value(y, x) * n,
            Likelihood::Gaussian(sigma) => {
                let half_precision = T::from_f64(0.5 / (sigma * sigma));
                let constant = T::from_f64((sigma * (2.0 * core::f64::consts::PI).sqrt()).ln());
                let squares = y.iter().zip(x).fold(T::zero(), |acc, (&y, &x)| acc + (y - x) * (y - x));
                squares * half_precision + constant * n
            }
        }
    }

    /// The gradient of [`Likelihood::negative_log_likelihood`] with respect to `y`, times `scale`, written into
    /// `g`.
    fn gradient<T: Float>(&self, y: &[T], x: &[T], scale: T, g: &mut [T]) {
        match *self {
            Likelihood::Bernoulli => {
                BinaryCrossEntropyWithLogits.sample_gradient(y, x, g);
                // The loss's gradient is of the mean over features; this one is of the sum.
                let n = T::from_f64(y.len() as f64);
                g.iter_mut().for_each(|g| *g *= n * scale);
            }
            Likelihood::Gaussian(sigma) => {
                let precision = T::from_f64(1.0 / (sigma * sigma)) * scale;
                for ((g, &y), &x) in g.iter_mut().zip(y).zip(x) {
                    *g = (y - x) * precision;
                }
            }
        }
    }

    /// The mean of `p(x | z)` for the decoder output `y`, in place: `sigmoid(y)` for Bernoulli values, `y` for
    /// Gaussians.
    pub fn mean_in_place<T: Float>(&self, y: &mut [T]) {
        if *self == Likelihood::Bernoulli {
            y.iter_mut().for_each(|v| *v = crate::activation::sigmoid(*v));
        }
    }
}

/// The two terms of the negative evidence lower bound, each the mean over samples: `-ELBO = reconstruction + kl`,
/// in nats per sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NegativeElbo<T> {
    /// `E_q[-log p(x | z)]`, estimated at the codes drawn (summed over features).
    pub reconstruction: T,
    /// `KL(q(z | x) || N(0, I))`, exact.
    pub kl: T,
}

impl<T: Float> NegativeElbo<T> {
    /// `reconstruction + kl`: the negative ELBO, an upper bound on `-log p(x)` (in expectation over the draws).
    pub fn total(&self) -> T {
        self.reconstruction + self.kl
    }

    /// `reconstruction + beta kl`: what [`Vae::gradients`] minimises with [`Vae::beta`] set to `beta`.
    pub fn objective(&self, beta: f64) -> T {
        self.reconstruction + T::from_f64(beta) * self.kl
    }
}

/// How [`Vae::evaluate`] takes the expectation over `q(z | x)` in the reconstruction term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Estimate {
    /// The mean of `Samples(n)` single-draw estimates per input: an unbiased estimate of the negative ELBO
    /// (`Samples(0)` is taken as one draw).
    Samples(usize),
    /// One decode of the mean code (`z = mu`): deterministic, and not the ELBO (it leaves out the spread of
    /// `q`, so it is usually lower).
    AtMean,
}

/// A variational autoencoder's objective: the decoder's [`Likelihood`] and the weight `beta` of the KL term.
/// The networks, their gradients and their optimizers are the caller's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Vae {
    /// The decoder's distribution.
    pub likelihood: Likelihood,
    /// The weight of the KL term in the objective minimised (1: the negative ELBO).
    pub beta: f64,
}

impl Default for Vae {
    fn default() -> Self {
        Self::new()
    }
}

/// A `R x C` matrix of independent standard normal values drawn from `rng`: the noise `eps` of
/// [`reparameterize`], or codes from the prior `N(0, I)` for [`Vae::sample`].
pub fn normal<T: Float, const R: usize, const C: usize, G: rand::Rng + ?Sized>(rng: &mut G) -> SMatrix<T, R, C> {
    SMatrix::from_fn(|_, _| {
        let v: f64 = StandardNormal.sample(rng);
        T::from_f64(v)
    })
}

/// `z = mu + exp(logvar / 2) * eps` per column, from the encoder's output `stats` (`mu` in rows `0..L`, `logvar`
/// in rows `L..2 L`). `TL` must be `2 L` (checked at compile time).
pub fn reparameterize<T: Float, const L: usize, const TL: usize, const B: usize>(
    stats: &SMatrix<T, TL, B>,
    eps: &SMatrix<T, L, B>,
) -> SMatrix<T, L, B> {
    let (mu, logvar) = split::<T, L, L, TL, B>(stats);
    let half = T::from_f64(0.5);
    SMatrix::from_fn(|r, c| mu[(r, c)] + (logvar[(r, c)] * half).exp() * eps[(r, c)])
}

/// `KL(N(mu, diag(exp(logvar))) || N(0, I)) = -1/2 sum_l (1 + logvar_l - mu_l^2 - exp(logvar_l))` for each
/// column of `stats` (laid out as for [`reparameterize`]), averaged over the columns.
pub fn kl_divergence<T: Float, const L: usize, const TL: usize, const B: usize>(stats: &SMatrix<T, TL, B>) -> T {
    let (mu, logvar) = split::<T, L, L, TL, B>(stats);
    let sum = mu.iter().zip(logvar.iter()).fold(T::zero(), |acc, (&m, &lv)| acc + (T::one() + lv - m * m - lv.exp()));
    -T::from_f64(0.5) * sum / T::from_f64(B.max(1) as f64)
}

/// The mean and the log-variance of `q(z | x)`: the encoder's output, split.
pub fn posterior<T, E, const L: usize, const TL: usize>(encoder: &E, x: &E::Input) -> (SVector<T, L>, SVector<T, L>)
where
    T: Float,
    E: Network<Scalar = T, Output = SVector<T, TL>>,
{
    split::<T, L, L, TL, 1>(&encoder.forward(x))
}

/// The mean of `q(z | x)`: the code of `x` (a point of the latent map). `L` is the code's size, taken from the
/// result's type (`let z: SVector<f32, 2> = encode(&encoder, &x)`).
pub fn encode<T, E, const L: usize, const TL: usize>(encoder: &E, x: &E::Input) -> SVector<T, L>
where
    T: Float,
    E: Network<Scalar = T, Output = SVector<T, TL>>,
{
    posterior::<T, E, L, TL>(encoder, x).0
}

impl Vae {
    /// Bernoulli values, `beta = 1`.
    #[must_use]
    pub const fn new() -> Self {
        Self { likelihood: Likelihood::Bernoulli, beta: 1.0 }
    }

    /// Weighs the KL term by `beta` in the objective (a beta-VAE).
    #[must_use]
    pub const fn beta(mut self, beta: f64) -> Self {
        self.beta = beta;
        self
    }

    /// The decoder's distribution.
    #[must_use]
    pub const fn likelihood(mut self, likelihood: Likelihood) -> Self {
        self.likelihood = likelihood;
        self
    }

    /// One batch (`x`: `B` samples as columns) with `eps` drawn from `rng`: see [`Vae::gradients_with_noise`].
    #[allow(clippy::too_many_arguments)]
    pub fn gradients<T, E, Dc, R, const D: usize, const L: usize, const TL: usize, const B: usize>(
        &self,
        encoder: &E,
        decoder: &Dc,
        x: &SMatrix<T, D, B>,
        encoder_grads: &mut E,
        decoder_grads: &mut Dc,
        rng: &mut R,
    ) -> NegativeElbo<T>
    where
        T: Float,
        E: BatchNetwork<Scalar = T, InputBatch<B> = SMatrix<T, D, B>, OutputBatch<B> = SMatrix<T, TL, B>>,
        Dc: BatchNetwork<Scalar = T, InputBatch<B> = SMatrix<T, L, B>, OutputBatch<B> = SMatrix<T, D, B>>,
        R: rand::Rng + ?Sized,
    {
        let eps = normal::<T, L, B, R>(rng);
        self.gradients_with_noise(encoder, decoder, x, &eps, encoder_grads, decoder_grads, rng)
    }

    /// One batch at the given noise `eps` (one column per sample): encodes `x`, draws `z` by
    /// [`reparameterize`], decodes, and **adds** the gradients of `reconstruction + beta kl` (each term the mean
    /// over the batch) into `encoder_grads` and `decoder_grads`. Returns both terms. The encoder's gradient has
    /// two parts: the reconstruction's, through `z` (`dz/dmu = 1`, `dz/dlogvar = eps exp(logvar / 2) / 2`),
    /// and the KL term's, in closed form (`mu`, `(exp(logvar) - 1) / 2`). `rng` draws dropout masks only.
    #[allow(clippy::too_many_arguments)]
    pub fn gradients_with_noise<T, E, Dc, R, const D: usize, const L: usize, const TL: usize, const B: usize>(
        &self,
        encoder: &E,
        decoder: &Dc,
        x: &SMatrix<T, D, B>,
        eps: &SMatrix<T, L, B>,
        encoder_grads: &mut E,
        decoder_grads: &mut Dc,
        rng: &mut R,
    ) -> NegativeElbo<T>
    where
        T: Float,
        E: BatchNetwork<Scalar = T, InputBatch<B> = SMatrix<T, D, B>, OutputBatch<B> = SMatrix<T, TL, B>>,
        Dc: BatchNetwork<Scalar = T, InputBatch<B> = SMatrix<T, L, B>, OutputBatch<B> = SMatrix<T, D, B>>,
        R: rand::Rng + ?Sized,
    {
        let scale = T::one() / T::from_f64(B.max(1) as f64);
        let (half, beta) = (T::from_f64(0.5), T::from_f64(self.beta));
        with_scratch(|enc_cache: &mut E::BatchCache<B>| {
            with_scratch(|dec_cache: &mut Dc::BatchCache<B>| {
                let stats = encoder.forward_train_batch_in::<B, R>(x, enc_cache, rng);
                let z = reparameterize(&stats, eps);
                let y = decoder.forward_train_batch_in::<B, R>(&z, dec_cache, rng);
                let (reconstruction, dy) = self.reconstruction_and_gradient(&y, x, scale);
                let mut dz = SMatrix::<T, L, B>::zeros();
                let sink = Accumulate { layer: decoder, grads: decoder_grads };
                Dc::backward_batch_in::<B, _>(sink, dec_cache, &dy, Some(&mut dz));
                let (mu, logvar) = split::<T, L, L, TL, B>(&stats);
                let d_stats = SMatrix::<T, TL, B>::from_fn(|r, c| {
                    if r < L {
                        dz[(r, c)] + beta * mu[(r, c)] * scale
                    } else {
                        let (lv, k) = (logvar[(r - L, c)], r - L);
                        dz[(k, c)] * eps[(k, c)] * (lv * half).exp() * half
                            + beta * half * (lv.exp() - T::one()) * scale
                    }
                });
                E::backward_batch_in::<B, _>(
                    Accumulate { layer: encoder, grads: encoder_grads },
                    enc_cache,
                    &d_stats,
                    None,
                );
                NegativeElbo { reconstruction, kl: kl_divergence::<T, L, TL, B>(&stats) }
            })
        })
    }

    /// Both terms of the negative ELBO of the batch `x` at the noise `eps`, by inference (dropout off, batch
    /// norm's running statistics): the value whose gradient [`Vae::gradients_with_noise`] computes for networks
    /// without dropout or batch norm.
    pub fn negative_elbo<T, E, Dc, const D: usize, const L: usize, const TL: usize, const B: usize>(
        &self,
        encoder: &E,
        decoder: &Dc,
        x: &SMatrix<T, D, B>,
        eps: &SMatrix<T, L, B>,
    ) -> NegativeElbo<T>
    where
        T: Float,
        E: BatchNetwork<Scalar = T, InputBatch<B> = SMatrix<T, D, B>, OutputBatch<B> = SMatrix<T, TL, B>>,
        Dc: BatchNetwork<Scalar = T, InputBatch<B> = SMatrix<T, L, B>, OutputBatch<B> = SMatrix<T, D, B>>,
    {
        let stats = encoder.forward_batch::<B>(x);
        let y = decoder.forward_batch::<B>(&reparameterize(&stats, eps));
        let reconstruction = self.reconstruction(y.as_slice(), x.as_slice(), D) / T::from_f64(B.max(1) as f64);
        NegativeElbo { reconstruction, kl: kl_divergence::<T, L, TL, B>(&stats) }
    }

    /// The negative ELBO's two terms averaged over `data`, by inference (dropout off, batch norm's running
    /// statistics), in `f64`; the reconstruction term as `estimate` says, each draw of `eps` from `rng`. Zero
    /// for no data.
    pub fn evaluate<T, E, Dc, R, const L: usize, const TL: usize>(
        &self,
        encoder: &E,
        decoder: &Dc,
        data: &[E::Input],
        estimate: Estimate,
        rng: &mut R,
    ) -> NegativeElbo<f64>
    where
        T: Float,
        E: Network<Scalar = T, Output = SVector<T, TL>>,
        Dc: Network<Scalar = T, Input = SVector<T, L>, Output = E::Input>,
        R: rand::Rng + ?Sized,
    {
        let (mut reconstruction, mut kl) = (0.0, 0.0);
        for x in data {
            let stats = encoder.forward(x);
            kl += kl_divergence::<T, L, TL, 1>(&stats).to_f64();
            let mu = split::<T, L, L, TL, 1>(&stats).0;
            let term = |z: &SVector<T, L>| {
                self.likelihood.negative_log_likelihood(decoder.forward(z).as_slice(), x.as_slice())
            };
            reconstruction += match estimate {
                Estimate::AtMean => term(&mu).to_f64(),
                Estimate::Samples(n) => {
                    let n = n.max(1);
                    (0..n).map(|_| term(&reparameterize(&stats, &normal::<T, L, 1, R>(rng))).to_f64()).sum::<f64>()
                        / n as f64
                }
            };
        }
        let n = data.len().max(1) as f64;
        NegativeElbo { reconstruction: reconstruction / n, kl: kl / n }
    }

    /// The mean of `p(x | z)` at the code `z`: pixel probabilities for Bernoulli values, the decoder's output
    /// for Gaussians.
    pub fn decode<T, Dc, const L: usize>(&self, decoder: &Dc, z: &SVector<T, L>) -> Dc::Output
    where
        T: Float,
        Dc: Network<Scalar = T, Input = SVector<T, L>>,
    {
        let mut y = decoder.forward(z);
        self.likelihood.mean_in_place(y.as_mut_slice());
        y
    }

    /// A generated sample: [`Vae::decode`] of a code drawn from the prior `N(0, I)` with `rng`.
    pub fn sample<T, Dc, R, const L: usize>(&self, decoder: &Dc, rng: &mut R) -> Dc::Output
    where
        T: Float,
        Dc: Network<Scalar = T, Input = SVector<T, L>>,
        R: rand::Rng + ?Sized,
    {
        self.decode(decoder, &normal::<T, L, 1, R>(rng))
    }

    /// `decode(encode(x))`: the reconstruction of `x` through the mean code.
    pub fn reconstruct<T, E, Dc, const L: usize, const TL: usize>(
        &self,
        encoder: &E,
        decoder: &Dc,
        x: &E::Input,
    ) -> Dc::Output
    where
        T: Float,
        E: Network<Scalar = T, Output = SVector<T, TL>>,
        Dc: Network<Scalar = T, Input = SVector<T, L>>,
    {
        self.decode(decoder, &encode::<T, E, L, TL>(encoder, x))
    }

    /// The summed reconstruction term of the samples (columns of `features` values) in `y` against `x`.
    fn reconstruction<T: Float>(&self, y: &[T], x: &[T], features: usize) -> T {
        y.chunks_exact(features.max(1))
            .zip(x.chunks_exact(features.max(1)))
            .fold(T::zero(), |acc, (y, x)| acc + self.likelihood.negative_log_likelihood(y, x))
    }

    /// The batch's mean reconstruction term and its gradient with respect to the decoder's outputs.
    fn reconstruction_and_gradient<T: Float, const D: usize, const B: usize>(
        &self,
        y: &SMatrix<T, D, B>,
        x: &SMatrix<T, D, B>,
        scale: T,
    ) -> (T, SMatrix<T, D, B>) {
        let mut dy = SMatrix::<T, D, B>::zeros();
        for ((yc, xc), mut gc) in y.column_iter().zip(x.column_iter()).zip(dy.column_iter_mut()) {
            self.likelihood.gradient(yc.as_slice(), xc.as_slice(), scale, gc.as_mut_slice());
        }
        (self.reconstruction(y.as_slice(), x.as_slice(), D) * scale, dy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Initialize;
    use crate::gradcheck::check_parameters;
    use crate::params::Parameters;
    use nalgebra::{matrix, vector};

    crate::network! {
        #[derive(Clone)]
        struct Enc<f64> { input: 5, fc: Dense(4), Tanh, stats: Dense(4) }
    }

    crate::network! {
        #[derive(Clone)]
        struct Dec<f64> { input: 2, fc: Dense(3), Tanh, out: Dense(5) }
    }

    /// Seeded networks, three grey-level inputs and noise that is not zero.
    fn setup() -> (Enc, Dec, SMatrix<f64, 5, 3>, SMatrix<f64, 2, 3>) {
        let mut rng = crate::seeded_rng(11);
        let (mut enc, mut dec) = (Enc::zeroed(), Dec::zeroed());
        enc.init(&mut rng);
        dec.init(&mut rng);
        // Biases away from zero, so that no derivative is zero by symmetry.
        enc.stats.bias = vector![0.3, -0.2, 0.4, -0.5];
        dec.out.bias = vector![0.1, -0.3, 0.2, 0.0, -0.1];
        let x = SMatrix::<f64, 5, 3>::from_fn(|r, c| ((r * 3 + c) as f64 * 0.77).sin().abs());
        let eps = matrix![0.8, -1.3, 0.2; -0.4, 0.6, 1.7];
        (enc, dec, x, eps)
    }

    /// The whole objective's gradient with respect to every encoder and decoder parameter, at fixed noise,
    /// against central differences: both likelihoods, with and without a weight on the KL term.
    #[test]
    fn gradients_match_central_differences() {
        let (enc, dec, x, eps) = setup();
        for vae in [
            Vae::new(),
            Vae::new().beta(0.25),
            Vae::new().likelihood(Likelihood::Gaussian(0.7)),
            Vae::new().likelihood(Likelihood::Gaussian(1.5)).beta(2.0),
        ] {
            let (mut eg, mut dg) = (Enc::zeroed(), Dec::zeroed());
            let mut rng = crate::seeded_rng(0);
            let terms = vae.gradients_with_noise(&enc, &dec, &x, &eps, &mut eg, &mut dg, &mut rng);
            let value = vae.negative_elbo(&enc, &dec, &x, &eps);
            assert!((terms.reconstruction - value.reconstruction).abs() < 1e-12, "{vae:?}");
            assert!((terms.kl - value.kl).abs() < 1e-12, "{vae:?}");
            assert!(terms.kl > 0.0 && terms.reconstruction > 0.0);

            let mut e = enc.clone();
            let report = check_parameters(&mut e, &eg, |e| vae.negative_elbo(e, &dec, &x, &eps).objective(vae.beta));
            assert_eq!(report.checked, enc.param_count());
            assert!(report.max_relative_error < 1e-6, "{vae:?}, encoder: {report:?}");
            let mut d = dec.clone();
            let report = check_parameters(&mut d, &dg, |d| vae.negative_elbo(&enc, d, &x, &eps).objective(vae.beta));
            assert_eq!(report.checked, dec.param_count());
            assert!(report.max_relative_error < 1e-6, "{vae:?}, decoder: {report:?}");
        }
    }

    /// The closed form against the numbers worked by hand, and the reparameterisation at one point.
    #[test]
    fn kl_and_reparameterisation_match_hand_computed_values() {
        // Sample 0: mu = (0.5, -1), logvar = (0.2, -0.7):
        // -1/2 [(1 + 0.2 - 0.25 - e^0.2) + (1 - 0.7 - 1 - e^-0.7)] = 0.7339940309757897. Sample 1: N(0, I), 0.
        let stats = matrix![0.5, 0.0; -1.0, 0.0; 0.2, 0.0; -0.7, 0.0];
        assert!((kl_divergence::<f64, 2, 4, 2>(&stats) - 0.7339940309757897 / 2.0).abs() < 1e-15);
        let one: SMatrix<f64, 4, 1> = stats.column(0).into_owned();
        assert!((kl_divergence::<f64, 2, 4, 1>(&one) - 0.7339940309757897).abs() < 1e-15);
        // z = mu + e^(logvar/2) eps with eps = (1, -2): 0.5 + e^0.1, -1 - 2 e^-0.35.
        let z = reparameterize(&one, &vector![1.0, -2.0]);
        assert!((z[0] - 1.6051709180756477).abs() < 1e-15 && (z[1] + 2.409376179437427).abs() < 1e-15, "{z}");
        let mut through = Through4::zeroed();
        through.fc.weight = SMatrix::identity();
        assert_eq!(
            posterior::<f64, _, 2, 4>(&through, &vector![0.5, -1.0, 0.2, -0.7]),
            (vector![0.5, -1.0], vector![0.2, -0.7])
        );
        // Gaussian likelihood: 1/2 (0.5^2 + 1^2) / 0.25 + 2 ln(0.5 sqrt(2 pi)).
        let want = 0.5 * 1.25 / 0.25 + 2.0 * (0.5 * (2.0 * core::f64::consts::PI).sqrt()).ln();
        let got = Likelihood::Gaussian(0.5).negative_log_likelihood(&[1.0, 2.0], &[0.5, 1.0]);
        assert!((got - want).abs() < 1e-14, "{got} vs {want}");
        // Bernoulli: ln(1 + e^-2) + ln(1 + e^1) for logits (2, 1) against (1, 0).
        let got = Likelihood::Bernoulli.negative_log_likelihood(&[2.0, 1.0], &[1.0, 0.0]);
        assert!((got - ((-2.0f64).exp().ln_1p() + 1.0f64.exp().ln_1p())).abs() < 1e-14);
    }

    crate::network! {
        /// Set to pass its input through: the encoder's output is what the test writes.
        struct Through4<f64> { input: 4, fc: Dense(4) }
    }

    /// With `eps = 0` the code is the mean, and the gradient is a plain autoencoder's (decoding the mean) plus
    /// the KL term's closed-form gradient, computed here by a separate route.
    #[test]
    fn at_zero_noise_the_gradient_is_an_autoencoders_plus_the_kl_terms() {
        let (enc, dec, x, _) = setup();
        let mut rng = crate::seeded_rng(0);
        let (mut eg, mut dg) = (Enc::zeroed(), Dec::zeroed());
        let terms = Vae::new().gradients_with_noise(&enc, &dec, &x, &SMatrix::zeros(), &mut eg, &mut dg, &mut rng);

        // The autoencoder x -> mu -> logits, with the reconstruction summed over the 5 features.
        let (stats, enc_cache) = enc.forward_train_batch::<3, _>(&x, &mut rng);
        let (mu, logvar) = split::<f64, 2, 2, 4, 3>(&stats);
        let (y, dec_cache) = dec.forward_train_batch::<3, _>(&mu, &mut rng);
        let bce = BinaryCrossEntropyWithLogits;
        assert!((terms.reconstruction - 5.0 * bce.value(&y, &x)).abs() < 1e-12);
        let (mut ae_enc, mut ae_dec, mut kl_enc) = (Enc::zeroed(), Dec::zeroed(), Enc::zeroed());
        let dz = dec.backward_batch::<3>(&dec_cache, &(bce.gradient(&y, &x) * 5.0), &mut ae_dec);
        let d_stats: SMatrix<f64, 4, 3> = crate::layer::concat(&dz, &SMatrix::<f64, 2, 3>::zeros());
        enc.backward_batch::<3>(&enc_cache, &d_stats, &mut ae_enc);
        // The KL term: d/dmu = mu / B, d/dlogvar = (e^logvar - 1) / 2B.
        let kl_stats: SMatrix<f64, 4, 3> = crate::layer::concat(&(mu / 3.0), &logvar.map(|lv| (lv.exp() - 1.0) / 6.0));
        enc.backward_batch::<3>(&enc_cache, &kl_stats, &mut kl_enc);

        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| (a - b).abs() <= 1e-12 * a.abs().max(1.0));
        let mut checked = 0;
        for t in 0..Enc::TENSORS {
            let (g, a, k) = (eg.tensor(t).unwrap(), ae_enc.tensor(t).unwrap(), kl_enc.tensor(t).unwrap());
            let sum: alloc::vec::Vec<f64> = a.data.iter().zip(k.data).map(|(a, k)| a + k).collect();
            assert!(close(g.data, &sum), "{}", g.name);
            // Both parts matter: neither alone is the gradient.
            assert!(!close(g.data, a.data) && !close(g.data, k.data), "{}", g.name);
            checked += g.data.len();
        }
        for t in 0..Dec::TENSORS {
            let (g, a) = (dg.tensor(t).unwrap(), ae_dec.tensor(t).unwrap());
            assert!(close(g.data, a.data), "{}", g.name);
            checked += g.data.len();
        }
        assert_eq!(checked, enc.param_count() + dec.param_count());
    }

    /// The evaluation at the mean is the batch value at zero noise; sampled evaluations are reproducible from a
    /// seed and average to the expectation the batch value estimates.
    #[test]
    fn evaluation_agrees_with_the_batch_value() {
        let (enc, dec, x, _) = setup();
        let vae = Vae::new();
        let data: alloc::vec::Vec<SVector<f64, 5>> = x.column_iter().map(|c| c.into_owned()).collect();
        let at_mean = vae.evaluate(&enc, &dec, &data, Estimate::AtMean, &mut crate::seeded_rng(1));
        let batch = vae.negative_elbo(&enc, &dec, &x, &SMatrix::zeros());
        assert!((at_mean.reconstruction - batch.reconstruction).abs() < 1e-12);
        assert!((at_mean.kl - batch.kl).abs() < 1e-12);
        let sampled = |seed| vae.evaluate(&enc, &dec, &data, Estimate::Samples(4_000), &mut crate::seeded_rng(seed));
        assert_eq!(sampled(2), sampled(2));
        assert_eq!(sampled(2).kl, at_mean.kl);
        // The same expectation by batches of noise: the two estimates agree within their sampling error.
        let mut rng = crate::seeded_rng(3);
        let by_batches = (0..4_000)
            .map(|_| vae.negative_elbo(&enc, &dec, &x, &normal::<f64, 2, 3, _>(&mut rng)).reconstruction)
            .sum::<f64>()
            / 4_000.0;
        let s = sampled(2).reconstruction;
        assert!((s - by_batches).abs() < 0.01 * s, "{s} vs {by_batches}");
        assert!((s - at_mean.reconstruction).abs() > 1e-3, "the spread of q changes the expectation");
        // Decoding: probabilities of the decoder's logits; the reconstruction goes through the mean code.
        let z = encode::<f64, _, 2, 4>(&enc, &data[0]);
        assert_eq!(z, split::<f64, 2, 2, 4, 1>(&enc.forward(&data[0])).0);
        let p = vae.reconstruct(&enc, &dec, &data[0]);
        let logits = dec.forward(&z);
        assert!(p.iter().zip(logits.iter()).all(|(p, l)| (p - 1.0 / (1.0 + (-l).exp())).abs() < 1e-15));
        let gaussian = Vae::new().likelihood(Likelihood::Gaussian(1.0));
        assert_eq!(gaussian.decode(&dec, &z), logits);
        let drawn = vae.sample(&dec, &mut crate::seeded_rng(4));
        assert_eq!(drawn, vae.decode(&dec, &normal::<f64, 2, 1, _>(&mut crate::seeded_rng(4))));
    }
}
