//! A network used as a layer of another: `name: Network(Type)` in `network!`.

use crate::layer::contract::{Layer, Sink};
use crate::network::BatchNetwork;
use nalgebra::SMatrix;

/// A network `N` seen as a layer from `I` values to `O` (its `INPUTS` and `OUTPUTS`; the declaration that nests
/// it checks the sizes at compile time). A transparent wrapper: `Nested::wrap_ref(&net)` borrows a network as a
/// layer without moving it.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::TransparentWrapper)]
#[repr(transparent)]
pub struct Nested<N>(pub N);

impl<N: BatchNetwork, const I: usize, const O: usize> Layer<N::Scalar, I, O> for Nested<N> {
    type Cache<const B: usize> = N::BatchCache<B>;

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<N::Scalar, I, B>) -> SMatrix<N::Scalar, O, B> {
        bytemuck::cast(self.0.forward_batch::<B>(bytemuck::cast_ref(x)))
    }

    #[inline]
    fn forward_train<const B: usize, R: rand::Rng + ?Sized>(
        &self,
        x: &SMatrix<N::Scalar, I, B>,
        y: &mut SMatrix<N::Scalar, O, B>,
        cache: &mut N::BatchCache<B>,
        rng: &mut R,
    ) {
        *y = bytemuck::cast(self.0.forward_train_batch_in::<B, R>(bytemuck::cast_ref(x), cache, rng));
    }

    #[inline]
    fn backward<const B: usize, S: Sink<N::Scalar, Self>>(
        mut sink: S,
        _x: &SMatrix<N::Scalar, I, B>,
        _y: &SMatrix<N::Scalar, O, B>,
        cache: &mut N::BatchCache<B>,
        dy: &SMatrix<N::Scalar, O, B>,
        dx: Option<&mut SMatrix<N::Scalar, I, B>>,
    ) {
        let inner = sink.part(|n| &n.0, |n| &mut n.0);
        N::backward_batch_in::<B, _>(inner, cache, bytemuck::cast_ref(dy), dx.map(bytemuck::cast_mut));
    }

    #[inline]
    fn update_statistics<const B: usize>(&mut self, cache: &N::BatchCache<B>) {
        self.0.update_statistics::<B>(cache);
    }
}
