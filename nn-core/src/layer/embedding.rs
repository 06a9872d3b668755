//! Token embeddings (PyTorch's `nn.Embedding`): a table of `VOCAB` learned vectors of `DIM` values, looked up by
//! token id. A sequence of `S` ids becomes `S` vectors one after the other (time-major, the layout a recurrent
//! layer of `network!` reads as `Seq(S, DIM)`); the gradient of a lookup goes back into the rows it read.
//!
//! Ids are validated once, when a [`Tokens`] is built, so the lookup itself cannot fail.
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
            let v = v.to_f64();
            if !(v >= 0.0 && v < VOCAB as f64 && v == (v as usize) as f64) {
                return Err(TokenError { position, value: v, vocab: VOCAB });
            }
            *id = v as usize;
        }
        Ok(Self(ids))
    }

    /// The ids.
    pub const fn ids(&self) -> &[usize; S] {
        &self.0
    }
}

/// A table of `VOCAB` embeddings of `DIM` values; row `t` of `weight` is token `t`'s vector (PyTorch's
/// `Embedding.weight`, `[num_embeddings, embedding_dim]`).
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct Embedding<T, const VOCAB: usize, const DIM: usize>
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

impl<T: Float, const VOCAB: usize, const DIM: usize> Embedding<T, VOCAB, DIM> {
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

impl<T: Float, const VOCAB: usize, const DIM: usize> Parameters<T> for Embedding<T, VOCAB, DIM> {
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
}
