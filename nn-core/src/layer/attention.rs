//! Attention over every state of an encoder, scored by dot products (Luong) or by a small additive network
//! (Bahdanau): the [`Attention`] trait, [`DotAttention`] and [`AdditiveAttention`].

use crate::activation::softmax_in_place;
use crate::float::Float;
use crate::init::Init;
use crate::kernel;
use crate::params::{Parameters, Tensor, TensorMut};
use nalgebra::{SMatrix, SVector};
use rand::Rng;

/// What attending gives: the context and the weights it was made with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attended<T: Float, const E: usize, const S: usize> {
    /// `sum_s a_s k_s`, `E` values.
    pub context: SVector<T, E>,
    /// `a = softmax(score)`: one weight per state, summing to 1.
    pub weights: SVector<T, S>,
}

/// Attention over every state of an encoder: a query (a decoder's state) scores each of `S` encoder states, the
/// scores become weights by a softmax, and the context is the weighted sum of the states.
///
/// ```text
/// score_s = q . k_s                             dot product (Luong), Q = E; times 1/sqrt(E) when scaled
/// score_s = v . tanh(W_q q + W_k k_s)           additive (Bahdanau), W_q: A x Q, W_k: A x E, v: A
/// a = softmax(score)                            the weights, S values summing to 1 (a heat map's row)
/// c = sum_s a_s k_s                             the context, E values
/// ```
///
/// Backward, from `dc` = dL/dc:
///
/// ```text
/// da_s = dc . k_s     dk_s += a_s dc     dscore_s = a_s (da_s - sum_r a_r da_r)
/// dot:       dq = sum_s dscore_s k_s / r     dk_s += dscore_s q / r              (r = sqrt(E) scaled, else 1)
/// additive:  u_s = tanh(W_q q + W_k k_s)     dv += sum_s dscore_s u_s
///            dz_s = dscore_s v * (1 - u_s^2)     dW_q += (sum_s dz_s) q^T     dq = W_q^T sum_s dz_s
///            dW_k += sum_s dz_s k_s^T            dk_s += W_k^T dz_s
/// ```
///
/// States are the columns of an `E x S` matrix: the time-major output of a recurrent layer over `S` steps (`S * E`
/// values, step after step) has exactly this storage, see [`as_states`]. A decoder attends to the same states at
/// every output step, so what depends on the states alone (`W_k k_s` for every `s`) is computed once per
/// sequence ([`Attention::keys`]) and its gradient summed over the steps before it is passed back once
/// ([`Attention::keys_backward`]). [`Attention::forward`] and [`Attention::backward`] do both for a single
/// query.
///
/// ```
/// use nn_core::layer::{Attention, DotAttention};
/// use nn_core::nalgebra::{matrix, vector};
///
/// // Three states of two values; the query points along the second, so the scores are 0, 4 and 2.
/// let states = matrix![1.0, 0.0, 0.5;
///                      0.0, 1.0, 0.5];
/// let out = DotAttention::<false>.forward(&vector![0.0, 4.0], &states);
/// let (e2, e4) = (2.0_f64.exp(), 4.0_f64.exp());
/// let expected = vector![1.0, e4, e2] / (1.0 + e4 + e2);
/// assert!((out.weights - expected).abs().max() < 1e-15);
/// assert!((out.context - states * expected).abs().max() < 1e-15);
/// ```
///
/// Here a query has `Q` values and the `S` states `E` values each. The parameters, if any, are visited through
/// [`Parameters`]; gradients are a value of the same type, and every backward **adds** into them and into
/// dL/d(states).
pub trait Attention<T: Float, const Q: usize, const E: usize, const S: usize>: Parameters<T> + Sized {
    /// What depends on the states alone, computed once for all the queries that attend to them.
    type Keys: Copy + core::fmt::Debug + bytemuck::Zeroable;
    /// What one training forward keeps for its backward (the weights, and for additive attention the `tanh`s).
    type Keep: Copy + core::fmt::Debug + bytemuck::Zeroable;

    /// The part of the scores that depends on the states alone.
    fn keys(&self, states: &SMatrix<T, E, S>) -> Self::Keys;

    /// Training forward of one query against `states`, whose [`Attention::keys`] are `keys`: the context and the
    /// weights, and in `keep` what [`Attention::attend_backward`] needs.
    fn attend_train(
        &self,
        query: &SVector<T, Q>,
        states: &SMatrix<T, E, S>,
        keys: &Self::Keys,
        keep: &mut Self::Keep,
    ) -> Attended<T, E, S>;

    /// Backward of one [`Attention::attend_train`] from `dcontext` = dL/dc: returns dL/dq, **adds** dL/d(states)
    /// through the context and the scores' direct use of the states into `dstates`, dL/d(keys) into `dkeys`, and
    /// the parameter gradients into `grads`.
    #[allow(clippy::too_many_arguments)]
    fn attend_backward(
        &self,
        query: &SVector<T, Q>,
        states: &SMatrix<T, E, S>,
        keep: &Self::Keep,
        dcontext: &SVector<T, E>,
        dstates: &mut SMatrix<T, E, S>,
        dkeys: &mut Self::Keys,
        grads: &mut Self,
    ) -> SVector<T, Q>;

    /// Backward of [`Attention::keys`]: from `dkeys` (summed over every query), **adds** dL/d(states) into
    /// `dstates` and the parameter gradients into `grads`.
    fn keys_backward(
        &self,
        states: &SMatrix<T, E, S>,
        dkeys: &Self::Keys,
        dstates: &mut SMatrix<T, E, S>,
        grads: &mut Self,
    );

    /// Inference of one query, keys already computed. Allocates nothing.
    #[inline]
    fn attend(&self, query: &SVector<T, Q>, states: &SMatrix<T, E, S>, keys: &Self::Keys) -> Attended<T, E, S> {
        let mut keep = bytemuck::Zeroable::zeroed();
        self.attend_train(query, states, keys, &mut keep)
    }

    /// Inference of one query: the context and the weights (what a heat map draws).
    #[inline]
    fn forward(&self, query: &SVector<T, Q>, states: &SMatrix<T, E, S>) -> Attended<T, E, S> {
        self.attend(query, states, &self.keys(states))
    }

    /// Training forward of one query: as [`Attention::forward`], keeping in `keep` what [`Attention::backward`]
    /// needs.
    #[inline]
    fn forward_train(
        &self,
        query: &SVector<T, Q>,
        states: &SMatrix<T, E, S>,
        keep: &mut Self::Keep,
    ) -> Attended<T, E, S> {
        self.attend_train(query, states, &self.keys(states), keep)
    }

    /// Backward of one [`Attention::forward_train`] from `dcontext` = dL/dc: returns dL/dq, **adds** dL/d(states)
    /// into `dstates` and the parameter gradients into `grads`.
    #[inline]
    fn backward(
        &self,
        query: &SVector<T, Q>,
        states: &SMatrix<T, E, S>,
        keep: &Self::Keep,
        dcontext: &SVector<T, E>,
        dstates: &mut SMatrix<T, E, S>,
        grads: &mut Self,
    ) -> SVector<T, Q> {
        let mut dkeys = bytemuck::Zeroable::zeroed();
        let dq = self.attend_backward(query, states, keep, dcontext, dstates, &mut dkeys, grads);
        self.keys_backward(states, &dkeys, dstates, grads);
        dq
    }
}

/// The `S` states of a time-major sequence (`N = S * E` values, as a recurrent layer returns every step) seen as
/// the columns of an `E x S` matrix, without copying. Any other `N` fails to compile.
#[inline]
pub fn as_states<T: Float, const E: usize, const S: usize, const N: usize>(seq: &SVector<T, N>) -> &SMatrix<T, E, S> {
    const { assert!(N == E * S, "a sequence of S states of E values has S * E values") };
    bytemuck::cast_ref(seq)
}

/// The weights of `scores` and the context they make: softmax in place, then `sum_s a_s k_s`.
#[inline]
fn weigh<T: Float, const E: usize, const S: usize>(
    mut scores: SVector<T, S>,
    states: &SMatrix<T, E, S>,
) -> Attended<T, E, S> {
    softmax_in_place(scores.as_mut_slice());
    let mut context = SVector::<T, E>::zeros();
    kernel::gemv_acc(states, scores.as_slice(), context.as_mut_slice());
    Attended { context, weights: scores }
}

/// The softmax's backward with the context's: dL/d(scores) from `dcontext`, and `a_s dc` added into each
/// `dstates` column.
#[inline]
fn unweigh<T: Float, const E: usize, const S: usize>(
    weights: &SVector<T, S>,
    states: &SMatrix<T, E, S>,
    dcontext: &SVector<T, E>,
    dstates: &mut SMatrix<T, E, S>,
) -> SVector<T, S> {
    // da_s = dc . k_s
    let mut da = SVector::<T, S>::zeros();
    kernel::gemv_t_acc(states, dcontext.as_slice(), da.as_mut_slice());
    kernel::ger_vec_acc(dcontext.as_slice(), weights.as_slice(), dstates);
    let mean = weights.dot(&da);
    SVector::from_fn(|s, _| weights[s] * (da[s] - mean))
}

/// Dot-product attention (Luong et al. 2015, "dot"): `score_s = q . k_s`, the query as long as a state; with
/// `SCALED`, divided by `sqrt(E)` (Vaswani et al. 2017), which keeps the scores of long vectors from saturating the
/// softmax. No parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct DotAttention<const SCALED: bool = false>;

impl<const SCALED: bool> DotAttention<SCALED> {
    /// The factor the dot products are multiplied by: `1 / sqrt(E)` when scaled, else 1.
    #[inline]
    pub fn scale<T: Float, const E: usize>() -> T {
        if SCALED { T::one() / T::from_f64(E as f64).sqrt() } else { T::one() }
    }
}

impl<T: Float, const SCALED: bool> Parameters<T> for DotAttention<SCALED> {
    const TENSORS: usize = 0;

    fn tensor(&self, _index: usize) -> Option<Tensor<'_, T>> {
        None
    }

    fn tensor_mut(&mut self, _index: usize) -> Option<TensorMut<'_, T>> {
        None
    }
}

/// Nothing to initialise.
impl<const SCALED: bool> crate::Initialize for DotAttention<SCALED> {
    fn init<R: Rng + ?Sized>(&mut self, _rng: &mut R) {}
}

impl<T: Float, const E: usize, const S: usize, const SCALED: bool> Attention<T, E, E, S> for DotAttention<SCALED> {
    /// The states are their own keys: nothing to compute.
    type Keys = ();
    /// The weights.
    type Keep = SVector<T, S>;

    #[inline]
    fn keys(&self, _states: &SMatrix<T, E, S>) {}

    #[inline]
    fn attend_train(
        &self,
        query: &SVector<T, E>,
        states: &SMatrix<T, E, S>,
        _keys: &(),
        keep: &mut SVector<T, S>,
    ) -> Attended<T, E, S> {
        let mut scores = SVector::<T, S>::zeros();
        kernel::gemv_t_acc(states, query.as_slice(), scores.as_mut_slice());
        if SCALED {
            scores *= Self::scale::<T, E>();
        }
        let out = weigh(scores, states);
        *keep = out.weights;
        out
    }

    #[inline]
    fn attend_backward(
        &self,
        query: &SVector<T, E>,
        states: &SMatrix<T, E, S>,
        keep: &SVector<T, S>,
        dcontext: &SVector<T, E>,
        dstates: &mut SMatrix<T, E, S>,
        _dkeys: &mut (),
        _grads: &mut Self,
    ) -> SVector<T, E> {
        let mut dscores = unweigh(keep, states, dcontext, dstates);
        if SCALED {
            dscores *= Self::scale::<T, E>();
        }
        kernel::ger_vec_acc(query.as_slice(), dscores.as_slice(), dstates);
        let mut dq = SVector::<T, E>::zeros();
        kernel::gemv_acc(states, dscores.as_slice(), dq.as_mut_slice());
        dq
    }

    #[inline]
    fn keys_backward(
        &self,
        _states: &SMatrix<T, E, S>,
        _dkeys: &(),
        _dstates: &mut SMatrix<T, E, S>,
        _grads: &mut Self,
    ) {
    }
}

/// Additive attention (Bahdanau, Cho and Bengio 2015): `score_s = v . tanh(W_q q + W_k k_s)` with a hidden layer of
/// `A` units between a query of `Q` values and states of `E` values, which need not have the same size.
///
/// Tensors, as three bias-free PyTorch `Linear` layers would name them: `query.weight` (`W_q`, `[A, Q]`),
/// `key.weight` (`W_k`, `[A, E]`) and `score.weight` (`v`, `[1, A]`).
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct AdditiveAttention<T, const Q: usize, const E: usize, const A: usize>
where
    T: Float,
{
    /// `W_q`, `A x Q`: the query's side of the hidden layer (`query.weight`).
    pub query: SMatrix<T, A, Q>,
    /// `W_k`, `A x E`: the states' side of the hidden layer (`key.weight`).
    pub key: SMatrix<T, A, E>,
    /// `v`, `1 x A`: the hidden layer to a score (`score.weight`).
    pub score: SMatrix<T, 1, A>,
}

/// What [`AdditiveAttention`] keeps for the backward of one query.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[bytemuck(crate = "bytemuck")]
pub struct AdditiveKeep<T, const A: usize, const S: usize>
where
    T: Float,
{
    /// `u_s = tanh(W_q q + W_k k_s)`, one column per state.
    pub hidden: SMatrix<T, A, S>,
    /// The weights.
    pub weights: SVector<T, S>,
}

impl<T: Float, const Q: usize, const E: usize, const A: usize> AdditiveAttention<T, Q, E, A> {
    /// Attention from its three weights.
    pub const fn new(query: SMatrix<T, A, Q>, key: SMatrix<T, A, E>, score: SMatrix<T, 1, A>) -> Self {
        Self { query, key, score }
    }

    /// Every weight from Glorot's uniform distribution (fan in and out of each matrix).
    pub fn init<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        Init::XavierUniform.fill(self.query.as_mut_slice(), Q, A, rng);
        Init::XavierUniform.fill(self.key.as_mut_slice(), E, A, rng);
        Init::XavierUniform.fill(self.score.as_mut_slice(), A, 1, rng);
    }
}

impl<T: Float, const Q: usize, const E: usize, const A: usize> crate::Initialize for AdditiveAttention<T, Q, E, A> {
    fn init<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        AdditiveAttention::init(self, rng);
    }
}

impl<T: Float, const Q: usize, const E: usize, const A: usize> Parameters<T> for AdditiveAttention<T, Q, E, A> {
    const TENSORS: usize = 3;

    fn tensor(&self, index: usize) -> Option<Tensor<'_, T>> {
        match index {
            0 => Some(Tensor::matrix("weight", &self.query).in_layer("query")),
            1 => Some(Tensor::matrix("weight", &self.key).in_layer("key")),
            2 => Some(Tensor::matrix("weight", &self.score).in_layer("score")),
            _ => None,
        }
    }

    fn tensor_mut(&mut self, index: usize) -> Option<TensorMut<'_, T>> {
        match index {
            0 => Some(TensorMut::matrix("weight", &mut self.query).in_layer("query")),
            1 => Some(TensorMut::matrix("weight", &mut self.key).in_layer("key")),
            2 => Some(TensorMut::matrix("weight", &mut self.score).in_layer("score")),
            _ => None,
        }
    }
}

impl<T: Float, const Q: usize, const E: usize, const A: usize, const S: usize> Attention<T, Q, E, S>
    for AdditiveAttention<T, Q, E, A>
{
    /// `W_k k_s` for every state, one column each.
    type Keys = SMatrix<T, A, S>;
    type Keep = AdditiveKeep<T, A, S>;

    #[inline]
    fn keys(&self, states: &SMatrix<T, E, S>) -> SMatrix<T, A, S> {
        let mut keys = SMatrix::<T, A, S>::zeros();
        kernel::gemm_acc(&self.key, states, &mut keys);
        keys
    }

    #[inline]
    fn attend_train(
        &self,
        query: &SVector<T, Q>,
        states: &SMatrix<T, E, S>,
        keys: &SMatrix<T, A, S>,
        keep: &mut AdditiveKeep<T, A, S>,
    ) -> Attended<T, E, S> {
        let mut projected = SVector::<T, A>::zeros();
        kernel::gemv_acc(&self.query, query.as_slice(), projected.as_mut_slice());
        let mut scores = SVector::<T, S>::zeros();
        let columns = keep.hidden.as_mut_slice().chunks_exact_mut(A.max(1)).zip(keys.as_slice().chunks_exact(A.max(1)));
        for ((u, k), score) in columns.zip(scores.iter_mut()) {
            for ((u, &k), &p) in u.iter_mut().zip(k).zip(projected.iter()) {
                *u = (p + k).fast_tanh();
            }
            *score = kernel::dot(u, self.score.as_slice());
        }
        let out = weigh(scores, states);
        keep.weights = out.weights;
        out
    }

    #[inline]
    fn attend_backward(
        &self,
        query: &SVector<T, Q>,
        states: &SMatrix<T, E, S>,
        keep: &AdditiveKeep<T, A, S>,
        dcontext: &SVector<T, E>,
        dstates: &mut SMatrix<T, E, S>,
        dkeys: &mut SMatrix<T, A, S>,
        grads: &mut Self,
    ) -> SVector<T, Q> {
        let dscores = unweigh(&keep.weights, states, dcontext, dstates);
        let mut dprojected = SVector::<T, A>::zeros();
        let columns =
            keep.hidden.as_slice().chunks_exact(A.max(1)).zip(dkeys.as_mut_slice().chunks_exact_mut(A.max(1)));
        for ((u, dk), &ds) in columns.zip(dscores.iter()) {
            for (a, ((&u, dk), dp)) in u.iter().zip(dk.iter_mut()).zip(dprojected.iter_mut()).enumerate() {
                grads.score[a] += ds * u;
                let dz = ds * self.score[a] * (T::one() - u * u);
                *dk += dz;
                *dp += dz;
            }
        }
        kernel::ger_vec_acc(dprojected.as_slice(), query.as_slice(), &mut grads.query);
        let mut dq = SVector::<T, Q>::zeros();
        kernel::gemv_t_acc(&self.query, dprojected.as_slice(), dq.as_mut_slice());
        dq
    }

    #[inline]
    fn keys_backward(
        &self,
        states: &SMatrix<T, E, S>,
        dkeys: &SMatrix<T, A, S>,
        dstates: &mut SMatrix<T, E, S>,
        grads: &mut Self,
    ) {
        kernel::ger_acc(dkeys, states, &mut grads.key);
        *dstates += kernel::gemm_tn(&self.key, dkeys);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{STEP, relative_error};
    use crate::layer::recurrent::testing::{fill_params, filled};
    use nalgebra::{matrix, vector};

    fn close(got: f64, want: f64) {
        assert!((got - want).abs() < 1e-14, "got {got}, want {want}");
    }

    #[test]
    fn dot_product_by_hand() {
        // Two orthogonal states; the query is the first one.
        let states = matrix![1.0, 0.0;
                             0.0, 1.0];
        let e = 1.0_f64.exp();
        let out = DotAttention::<false>.forward(&vector![1.0, 0.0], &states);
        close(out.weights[0], e / (e + 1.0));
        close(out.weights[1], 1.0 / (e + 1.0));
        assert_eq!(out.context, out.weights);
        // Scaled: the scores are 1/sqrt(2) and 0.
        let r = (0.5_f64).sqrt().exp();
        let out = DotAttention::<true>.forward(&vector![1.0, 0.0], &states);
        close(out.weights[0], r / (r + 1.0));
        // Three states of three values: c = sum_s a_s k_s.
        let states = matrix![1.0, 2.0, 0.0;
                             0.0, 1.0, -1.0;
                             3.0, 0.0, 1.0];
        let q = vector![0.5, -1.0, 0.25];
        let scores = [0.5 + 0.75, 1.0 - 1.0, 1.0 + 0.25];
        let sum: f64 = scores.iter().map(|s| s.exp()).sum();
        let a: [f64; 3] = core::array::from_fn(|s| scores[s].exp() / sum);
        let out = DotAttention::<false>.forward(&q, &states);
        for s in 0..3 {
            close(out.weights[s], a[s]);
        }
        close(out.context[0], a[0] + 2.0 * a[1]);
        close(out.context[1], a[1] - a[2]);
        close(out.context[2], 3.0 * a[0] + a[2]);
    }

    #[test]
    fn additive_by_hand() {
        // One hidden unit: score_s = v tanh(w_q q + w_k k_s).
        let att = AdditiveAttention::<f64, 1, 1, 1>::new(matrix![0.5], matrix![2.0], matrix![-1.5]);
        let states = matrix![1.0, -0.5, 0.0];
        let q = vector![0.8];
        let scores = [1.0, -0.5, 0.0].map(|k: f64| -1.5 * (0.5 * 0.8 + 2.0 * k).tanh());
        let sum: f64 = scores.iter().map(|s| s.exp()).sum();
        let out = att.forward(&q, &states);
        for s in 0..3 {
            close(out.weights[s], scores[s].exp() / sum);
        }
        close(out.context[0], out.weights[0] - 0.5 * out.weights[1]);
        assert!(att.tensor(2).expect("v").name.matches("score.weight"));
        assert!(att.tensor(0).expect("W_q").name.matches("query.weight"));
        assert!(att.tensor(1).expect("W_k").name.matches("key.weight"));
    }

    #[test]
    fn large_scores_give_finite_weights() {
        let states = matrix![1000.0, -1000.0, 999.0];
        let out = DotAttention::<false>.forward(&vector![1.0], &states);
        assert!(out.weights.iter().all(|w| w.is_finite()) && (out.weights.sum() - 1.0).abs() < 1e-12);
        close(out.weights[1], 0.0);
        let out = DotAttention::<false>.forward(&vector![1.0f32], &states.cast::<f32>());
        assert!(out.weights.iter().all(|w| w.is_finite()) && out.weights[0] > 0.7);
    }

    #[test]
    fn states_are_the_steps_of_a_sequence() {
        let seq = SVector::<f64, 6>::from_fn(|i, _| i as f64);
        let k: &SMatrix<f64, 2, 3> = as_states(&seq);
        assert_eq!(k.column(1).as_slice(), &[2.0, 3.0]);
    }

    /// The loss `sum_j wc_j c_j(q_j)` over `N` queries attending to the same states with shared keys.
    fn objective<M, const Q: usize, const E: usize, const S: usize, const N: usize>(
        att: &M,
        queries: &[SVector<f64, Q>; N],
        states: &SMatrix<f64, E, S>,
        w: &[SVector<f64, E>; N],
    ) -> f64
    where
        M: Attention<f64, Q, E, S>,
    {
        let keys = att.keys(states);
        queries.iter().zip(w).map(|(q, w)| att.attend(q, states, &keys).context.dot(w)).sum()
    }

    /// The largest relative error of every parameter's, query's and state's gradient against central differences,
    /// for `N` queries sharing keys (`N = 1` goes through `forward_train` and `backward`).
    fn check<M, const Q: usize, const E: usize, const S: usize, const N: usize>(
        att: &mut M,
        grads: &mut M,
        seed: u64,
    ) -> f64
    where
        M: Attention<f64, Q, E, S>,
    {
        let states = filled::<E, S>(seed, 1.0);
        let queries: [SVector<f64, Q>; N] = core::array::from_fn(|j| filled::<Q, 1>(seed + 10 + j as u64, 1.5));
        let w: [SVector<f64, E>; N] = core::array::from_fn(|j| filled::<E, 1>(seed + 20 + j as u64, 1.0));
        grads.fill(0.0);
        let mut dstates = SMatrix::<f64, E, S>::zeros();
        let mut dq = [SVector::<f64, Q>::zeros(); N];
        if N == 1 {
            let mut keep = bytemuck::Zeroable::zeroed();
            let out = att.forward_train(&queries[0], &states, &mut keep);
            assert_eq!(out, att.forward(&queries[0], &states));
            dq[0] = att.backward(&queries[0], &states, &keep, &w[0], &mut dstates, grads);
        } else {
            let keys = att.keys(&states);
            let mut dkeys = bytemuck::Zeroable::zeroed();
            for j in 0..N {
                let mut keep = bytemuck::Zeroable::zeroed();
                att.attend_train(&queries[j], &states, &keys, &mut keep);
                dq[j] = att.attend_backward(&queries[j], &states, &keep, &w[j], &mut dstates, &mut dkeys, grads);
            }
            att.keys_backward(&states, &dkeys, &mut dstates, grads);
        }
        let mut worst: f64 = 0.0;
        for t in 0..M::TENSORS {
            let len = att.tensor(t).map_or(0, |p| p.data.len());
            for i in 0..len {
                let mut at = |h: f64| {
                    let p = att.tensor_mut(t).expect("tensor");
                    let saved = p.data[i];
                    p.data[i] = saved + h;
                    let l = objective(att, &queries, &states, &w);
                    att.tensor_mut(t).expect("tensor").data[i] = saved;
                    l
                };
                let numeric = (at(STEP) - at(-STEP)) / (2.0 * STEP);
                worst = worst.max(relative_error(grads.tensor(t).expect("tensor").data[i], numeric));
            }
        }
        for j in 0..N {
            for i in 0..Q {
                let at = |h: f64| {
                    let mut qs = queries;
                    qs[j][i] += h;
                    objective(att, &qs, &states, &w)
                };
                worst = worst.max(relative_error(dq[j][i], (at(STEP) - at(-STEP)) / (2.0 * STEP)));
            }
        }
        for i in 0..E * S {
            let at = |h: f64| {
                let mut k = states;
                k.as_mut_slice()[i] += h;
                objective(att, &queries, &k, &w)
            };
            worst = worst.max(relative_error(dstates.as_slice()[i], (at(STEP) - at(-STEP)) / (2.0 * STEP)));
        }
        worst
    }

    #[test]
    fn dot_product_gradients_match_central_differences() {
        let e = check::<_, 4, 4, 5, 1>(&mut DotAttention::<false>, &mut DotAttention::<false>, 1);
        assert!(e < 1e-6, "dot: {e:e}");
        let e = check::<_, 4, 4, 5, 1>(&mut DotAttention::<true>, &mut DotAttention::<true>, 2);
        assert!(e < 1e-6, "scaled dot: {e:e}");
        let e = check::<_, 3, 3, 6, 3>(&mut DotAttention::<true>, &mut DotAttention::<true>, 3);
        assert!(e < 1e-6, "scaled dot, three queries: {e:e}");
        let e = check::<_, 2, 2, 1, 1>(&mut DotAttention::<false>, &mut DotAttention::<false>, 4);
        assert!(e < 1e-6, "one state: {e:e}");
    }

    #[test]
    fn additive_gradients_match_central_differences() {
        let mut att: AdditiveAttention<f64, 3, 4, 5> = bytemuck::Zeroable::zeroed();
        let mut grads = att;
        fill_params(&mut att, 5, 0.8);
        let e = check::<_, 3, 4, 6, 1>(&mut att, &mut grads, 6);
        assert!(e < 1e-6, "additive: {e:e}");
        let e = check::<_, 3, 4, 6, 4>(&mut att, &mut grads, 7);
        assert!(e < 1e-6, "additive, four queries sharing keys: {e:e}");
        let mut att: AdditiveAttention<f64, 2, 2, 3> = bytemuck::Zeroable::zeroed();
        let mut grads = att;
        att.init(&mut crate::seeded_rng(8));
        let e = check::<_, 2, 2, 3, 2>(&mut att, &mut grads, 9);
        assert!(e < 1e-6, "initialised: {e:e}");
    }
}
