//! Token embeddings (PyTorch's `nn.Embedding`): a table of `VOCAB` learned vectors of `DIM` values, looked up by
//! token id. A sequence of `S` ids becomes `S` vectors one after the other (time-major, the layout a recurrent
//! layer of `network!` reads as `Seq(S, DIM)`); the gradient of a lookup goes back into the rows it read.
//!
//! Ids are validated once, when a [`Tokens`] is built, so the lookup itself cannot fail.
//!
//! In a `network!` declaration (`input: 8, Embedding(100, 16), Lstm(32)`) the table is a layer whose input is
//! the ids carried as numbers: the network's `check_input` (and `Network::try_forward`, and `Trainer::fit` for
//! every sample) refuses anything that is not such an id with a [`TokenError`]; the layer itself writes `NaN`
//! for a step whose id is not one, so an unchecked input can never read outside the table. With
//! `output = channels` the `S` vectors come out channel-major (`[DIM, S]`, the layout `Conv1d` reads) instead
//! of one after the other.
//!
//! ```
//! use nn_core::layer::{Embedding, Tokens};
//! use nn_core::nalgebra::{SMatrix, SVector};
//!
//! let mut table = Embedding::<f64, 5, 2>::new(SMatrix::from_fn(|token, j| (10 * token + j) as f64));
//! let tokens = Tokens::<3, 5>::new([4, 0, 4]).unwrap();
//! let x: SVector<f64, 6> = table.forward(&tokens);
//! assert_eq!(x.as_slice(), &[40.0, 41.0, 0.0, 1.0, 40.0, 41.0]);
//! assert!(Tokens::<3, 5>::new([1, 5, 2]).is_err()); // 5 is not below the vocabulary size
//! ```

use crate::float::Float;
use crate::layer::contract::{Layer, Sink, Stream};
use crate::params::{Parameters, Tensor, TensorMut};
use core::fmt;
use nalgebra::{SMatrix, SVector};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// `S` token ids, each below `VOCAB`: the input of an [`Embedding`] with that vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tokens<const S: usize, const VOCAB: usize>([usize; S]);

/// Why ids were refused: the position of the first bad one and what it was.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenError {
    /// Where in the sequence.
    pub position: usize,
    /// The value found (as given; an integer id is exact).
    pub value: f64,
    /// The vocabulary size it had to stay below.
    pub vocab: usize,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "token {} at position {} is not an id of a vocabulary of {} (an integer from 0 to {})",
            self.value,
            self.position,
            self.vocab,
            self.vocab.saturating_sub(1)
        )
    }
}

impl core::error::Error for TokenError {}

impl<const S: usize, const VOCAB: usize> Tokens<S, VOCAB> {
    /// The ids, if every one is below `VOCAB`.
    pub fn new(ids: [usize; S]) -> Result<Self, TokenError> {
        match ids.iter().position(|&id| id >= VOCAB) {
            Some(position) => Err(TokenError { position, value: ids[position] as f64, vocab: VOCAB }),
            None => Ok(Self(ids)),
        }
    }

    /// The ids carried as numbers in a network input (a whole number from 0 to `VOCAB - 1` each; anything else,
    /// `NaN` included, is refused).
    pub fn from_values<T: Float>(values: &SVector<T, S>) -> Result<Self, TokenError> {
        let mut ids = [0; S];
        for (position, (id, &v)) in ids.iter_mut().zip(values.iter()).enumerate() {
            *id = token_id(v, VOCAB).ok_or(TokenError { position, value: v.to_f64(), vocab: VOCAB })?;
        }
        Ok(Self(ids))
    }

    /// The ids.
    pub const fn ids(&self) -> &[usize; S] {
        &self.0
    }

    /// The ids as the numbers a network whose first layer is an `Embedding` takes as its input.
    pub fn values<T: Float>(&self) -> SVector<T, S> {
        SVector::from_fn(|i, _| T::from_f64(self.0[i] as f64))
    }
}

/// The id a number carries, if it is a whole number below `vocab` (`NaN` and infinities are not).
#[inline]
pub fn token_id<T: Float>(value: T, vocab: usize) -> Option<usize> {
    let v = value.to_f64();
    (v >= 0.0 && v < vocab as f64 && v == (v as usize) as f64).then_some(v as usize)
}

/// A table of `VOCAB` embeddings of `DIM` values; row `t` of `weight` is token `t`'s vector (PyTorch's
/// `Embedding.weight`, `[num_embeddings, embedding_dim]`). As a layer it writes the looked-up vectors one after
/// the other (time-major, a sequence of `DIM` features per step), or, when `CHANNELS`, channel-major: `DIM`
/// planes of one value per token, the input of a `Conv1d`.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Embedding<T, const VOCAB: usize, const DIM: usize, const CHANNELS: bool = false>
where
    T: Float,
{
    /// The table, one row per token.
    pub weight: SMatrix<T, VOCAB, DIM>,
}

/// Compile-time check that `OUT = S * DIM`.
struct Lookup<const S: usize, const DIM: usize, const OUT: usize>;

impl<const S: usize, const DIM: usize, const OUT: usize> Lookup<S, DIM, OUT> {
    const CHECK: () = assert!(OUT == S * DIM, "Embedding: the output has DIM values for each of the S tokens");
}

impl<T: Float, const VOCAB: usize, const DIM: usize, const CHANNELS: bool> Embedding<T, VOCAB, DIM, CHANNELS> {
    /// A table from its rows.
    pub const fn new(weight: SMatrix<T, VOCAB, DIM>) -> Self {
        Self { weight }
    }

    /// Every entry from the standard normal distribution (PyTorch's initialisation).
    pub fn init<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        for v in self.weight.as_mut_slice() {
            let draw: f64 = StandardNormal.sample(rng);
            *v = T::from_f64(draw);
        }
    }

    /// The `S` vectors of `tokens`, one after the other.
    #[inline]
    pub fn forward<const S: usize, const OUT: usize>(&self, tokens: &Tokens<S, VOCAB>) -> SVector<T, OUT> {
        let () = Lookup::<S, DIM, OUT>::CHECK;
        let mut y = SVector::<T, OUT>::zeros();
        for (step, &id) in y.as_mut_slice().chunks_exact_mut(DIM.max(1)).zip(tokens.ids()) {
            for (j, v) in step.iter_mut().enumerate() {
                *v = self.weight[(id, j)];
            }
        }
        y
    }

    /// Backward: adds each step's slice of dL/dy into the row of the token it looked up (a token seen twice
    /// gets both). The ids have no gradient.
    #[inline]
    pub fn backward<const S: usize, const OUT: usize>(
        &self,
        tokens: &Tokens<S, VOCAB>,
        dy: &SVector<T, OUT>,
        grads: &mut Self,
    ) {
        let () = Lookup::<S, DIM, OUT>::CHECK;
        for (step, &id) in dy.as_slice().chunks_exact(DIM.max(1)).zip(tokens.ids()) {
            for (j, &d) in step.iter().enumerate() {
                grads.weight[(id, j)] += d;
            }
        }
    }
}

/// Where step `t`'s value `j` of `S` steps goes in the layer's output: `t * DIM + j`, or `j * S + t` channel-major.
#[inline(always)]
const fn at<const DIM: usize, const CHANNELS: bool>(s: usize, t: usize, j: usize) -> usize {
    if CHANNELS { j * s + t } else { t * DIM + j }
}

/// The layer: `S` ids in (whole numbers below `VOCAB`, one per step), `OUT = S * DIM` values out. An id that is
/// not one gives `NaN` for its step's values (check inputs first: `Tokens::from_values`); the ids get no
/// gradient (`dx` is zero).
impl<T: Float, const VOCAB: usize, const DIM: usize, const CHANNELS: bool, const S: usize, const OUT: usize>
    Layer<T, S, OUT> for Embedding<T, VOCAB, DIM, CHANNELS>
{
    type Cache<const B: usize> = ();

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, S, B>) -> SMatrix<T, OUT, B> {
        let () = Lookup::<S, DIM, OUT>::CHECK;
        let nan = T::from_f64(f64::NAN);
        let mut y = SMatrix::<T, OUT, B>::zeros();
        for (xb, yb) in x.as_slice().chunks_exact(S.max(1)).zip(y.as_mut_slice().chunks_exact_mut(OUT.max(1))) {
            for (t, &v) in xb.iter().enumerate() {
                let id = token_id(v, VOCAB);
                for j in 0..DIM {
                    yb[at::<DIM, CHANNELS>(S, t, j)] = id.map_or(nan, |id| self.weight[(id, j)]);
                }
            }
        }
        y
    }

    #[inline]
    fn backward<const B: usize, Q: Sink<T, Self>>(
        mut sink: Q,
        x: &SMatrix<T, S, B>,
        _y: &SMatrix<T, OUT, B>,
        _cache: &mut (),
        dy: &SMatrix<T, OUT, B>,
        dx: Option<&mut SMatrix<T, S, B>>,
    ) {
        let () = Lookup::<S, DIM, OUT>::CHECK;
        if let Some((target, scale)) = sink.target() {
            for (xb, db) in x.as_slice().chunks_exact(S.max(1)).zip(dy.as_slice().chunks_exact(OUT.max(1))) {
                for (t, &v) in xb.iter().enumerate() {
                    if let Some(id) = token_id(v, VOCAB) {
                        for j in 0..DIM {
                            target.weight[(id, j)] += scale * db[at::<DIM, CHANNELS>(S, t, j)];
                        }
                    }
                }
            }
        }
        if let Some(dx) = dx {
            dx.fill(T::zero());
        }
    }
}

/// Streaming: one id in, its vector out (time-major tables only: a channel-major output mixes the steps).
impl<T: Float, const VOCAB: usize, const DIM: usize> Stream<T, 1, DIM> for Embedding<T, VOCAB, DIM, false> {
    type State = ();

    #[inline]
    fn step(&self, _state: &mut (), x: &SVector<T, 1>) -> SVector<T, DIM> {
        match token_id(x[0], VOCAB) {
            Some(id) => self.weight.row(id).transpose(),
            None => SVector::repeat(T::from_f64(f64::NAN)),
        }
    }
}

impl<T: Float, const VOCAB: usize, const DIM: usize, const CHANNELS: bool> Parameters<T>
    for Embedding<T, VOCAB, DIM, CHANNELS>
{
    const TENSORS: usize = 1;

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        (index == 0).then(|| Tensor::matrix("weight", &self.weight))
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        (index == 0).then(|| TensorMut::matrix("weight", &mut self.weight))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{STEP, relative_error};
    use rand::SeedableRng;
    use rand::rngs::ChaCha8Rng;

    #[test]
    fn lookup_and_its_gradient() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut table = Embedding::<f64, 6, 3>::new(SMatrix::zeros());
        table.init(&mut rng);
        let tokens = Tokens::<4, 6>::new([2, 5, 2, 0]).expect("ids below 6");
        let y: SVector<f64, 12> = table.forward(&tokens);
        assert_eq!(&y.as_slice()[3..6], table.weight.row(5).transpose().as_slice());
        let w = SVector::<f64, 12>::from_fn(|i, _| 1.0 + 0.1 * i as f64);
        let mut grads = Embedding::<f64, 6, 3>::new(SMatrix::zeros());
        table.backward(&tokens, &w, &mut grads);
        // Token 2 appears twice: its row collects steps 0 and 2.
        assert!((grads.weight[(2, 1)] - (w[1] + w[7])).abs() < 1e-15);
        assert_eq!(grads.weight.row(1).iter().copied().collect::<std::vec::Vec<_>>(), [0.0; 3]);
        let mut worst: f64 = 0.0;
        for k in 0..18 {
            let (mut p, mut m) = (table, table);
            p.weight.as_mut_slice()[k] += STEP;
            m.weight.as_mut_slice()[k] -= STEP;
            let f = |t: &Embedding<f64, 6, 3>| t.forward::<4, 12>(&tokens).dot(&w);
            worst = worst.max(relative_error(grads.weight.as_slice()[k], (f(&p) - f(&m)) / (2.0 * STEP)));
        }
        assert!(worst < 1e-6, "max relative error {worst:e}");
    }

    #[test]
    fn ids_are_checked_once_when_the_tokens_are_built() {
        assert_eq!(Tokens::<2, 4>::new([3, 4]), Err(TokenError { position: 1, value: 4.0, vocab: 4 }));
        let ok = Tokens::<3, 4>::from_values(&SVector::<f32, 3>::new(0.0, 3.0, 1.0)).expect("whole numbers below 4");
        assert_eq!(ok.ids(), &[0, 3, 1]);
        for bad in [-1.0, 2.5, 4.0, f32::NAN] {
            let e = Tokens::<3, 4>::from_values(&SVector::<f32, 3>::new(1.0, bad, 0.0)).expect_err("refused");
            assert_eq!(e.position, 1);
        }
        let shown = std::format!("{}", Tokens::<1, 4>::new([9]).expect_err("refused"));
        assert_eq!(shown, "token 9 at position 0 is not an id of a vocabulary of 4 (an integer from 0 to 3)");
        let t = Embedding::<f32, 4, 2>::new(SMatrix::zeros());
        assert_eq!(Parameters::<f32>::tensor(&t, 0).map(|t| (t.rows, t.cols)), Some((4, 2)));
    }

    /// The layer contract, both layouts: the lookup's values and, against central differences, the gradient of
    /// `sum w * y` with respect to every table entry, through `Accumulate` and through `Descend`.
    fn check_layer<const CHANNELS: bool>() {
        use crate::layer::{Accumulate, Descend, Layer};
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut table = Embedding::<f64, 5, 3, CHANNELS>::new(SMatrix::zeros());
        table.init(&mut rng);
        // Two samples of four ids; id 4 twice in the first.
        let x = SMatrix::<f64, 4, 2>::from_column_slice(&[4.0, 1.0, 4.0, 0.0, 2.0, 3.0, 3.0, 1.0]);
        let y: SMatrix<f64, 12, 2> = Layer::forward(&table, &x);
        let at = |t: usize, j: usize| if CHANNELS { j * 4 + t } else { t * 3 + j };
        assert_eq!(y[(at(1, 2), 0)], table.weight[(1, 2)]);
        assert_eq!(y[(at(3, 0), 1)], table.weight[(1, 0)]);
        let w = SMatrix::<f64, 12, 2>::from_fn(|i, b| 0.3 + 0.1 * i as f64 - 0.7 * b as f64);
        let mut grads = Embedding::<f64, 5, 3, CHANNELS>::new(SMatrix::zeros());
        let mut dx = SMatrix::<f64, 4, 2>::from_element(1.0);
        <Embedding<f64, 5, 3, CHANNELS> as Layer<f64, 4, 12>>::backward(
            Accumulate { layer: &table, grads: &mut grads },
            &x,
            &y,
            &mut (),
            &w,
            Some(&mut dx),
        );
        assert_eq!(dx, SMatrix::<f64, 4, 2>::zeros(), "ids have no gradient");
        let mut worst: f64 = 0.0;
        for k in 0..15 {
            let (mut p, mut m) = (table, table);
            p.weight.as_mut_slice()[k] += STEP;
            m.weight.as_mut_slice()[k] -= STEP;
            let f = |t: &Embedding<f64, 5, 3, CHANNELS>| Layer::<f64, 4, 12>::forward(t, &x).component_mul(&w).sum();
            worst = worst.max(relative_error(grads.weight.as_slice()[k], (f(&p) - f(&m)) / (2.0 * STEP)));
        }
        assert!(worst < 1e-6, "max relative error {worst:e}");
        // Token 4's row: steps 0 and 2 of the first sample; an unused id's row is untouched.
        assert!((grads.weight[(4, 1)] - (w[(at(0, 1), 0)] + w[(at(2, 1), 0)])).abs() < 1e-15);
        // Plain gradient descent in place moves the table by -lr times the same gradient.
        let mut moved = table;
        <Embedding<f64, 5, 3, CHANNELS> as Layer<f64, 4, 12>>::backward(
            Descend { layer: &mut moved, lr: 0.5 },
            &x,
            &y,
            &mut (),
            &w,
            None,
        );
        assert!((moved.weight - (table.weight - grads.weight * 0.5)).abs().max() < 1e-15);
        // Something that is no id gives NaN for its step only.
        let bad = SMatrix::<f64, 4, 1>::from_column_slice(&[1.0, 5.0, 0.5, 2.0]);
        let y: SMatrix<f64, 12, 1> = Layer::forward(&table, &bad);
        for t in 0..4 {
            assert_eq!(y[(at(t, 1), 0)].is_nan(), t == 1 || t == 2, "step {t}");
        }
    }

    #[test]
    fn the_layer_as_a_sequence_and_as_channels() {
        check_layer::<false>();
        check_layer::<true>();
    }
}
