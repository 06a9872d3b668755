//! Where a layer's parameter gradients go during its backward pass: added into a gradient buffer, applied as a
//! plain gradient-descent step in place, or nowhere.

use crate::float::Float;
use crate::params::Parameters;

/// Where the parameter gradients of a layer `L` go during its backward pass.
pub trait Sink<T: Float, L> {
    /// The sink of a part of `L` (one layer of a network).
    type Part<'s, M: 's>: Sink<T, M>
    where
        Self: 's;

    /// The parameters as the forward pass saw them: what dL/dx is computed with.
    fn weights(&self) -> &L;

    /// Where parameter gradients are added, and the factor they are scaled by first: the gradient buffer and
    /// 1 ([`Accumulate`]), or the parameters themselves and `-lr` ([`Descend`]); `None` when the parameters are
    /// frozen. Call it after the last use of [`Sink::weights`].
    fn target(&mut self) -> Option<(&mut L, T)>;

    /// For layers whose input and parameter gradients come out of one pass (backpropagation through time):
    /// runs `f` with the parameters and a buffer to **add** the unscaled parameter gradients into. Accumulation
    /// passes its gradient buffer; gradient descent passes zeroed gradients (on the stack when small, else on
    /// the heap) and then takes the step; a frozen layer passes `None`.
    fn fused<D>(&mut self, f: impl FnOnce(&L, Option<&mut L>) -> D) -> D
    where
        L: Parameters<T> + bytemuck::Zeroable;

    /// The sink of one part of the parameters, given how to reach it.
    fn part<'s, M: 's>(&'s mut self, get: fn(&L) -> &M, get_mut: fn(&mut L) -> &mut M) -> Self::Part<'s, M>;
}

/// Adds parameter gradients into a buffer of the layer's own type (a mini-batch is one `fill(0)` and one
/// backward per sample or batch).
pub struct Accumulate<'a, L> {
    /// The parameters.
    pub layer: &'a L,
    /// The gradients, added into.
    pub grads: &'a mut L,
}

/// Moves the parameters by `-lr` times their gradient during the backward pass, with no gradient buffer.
pub struct Descend<'a, T, L> {
    /// The parameters, updated in place.
    pub layer: &'a mut L,
    /// The learning rate.
    pub lr: T,
}

/// Computes only dL/dx: the parameters are neither changed nor differentiated (a layer without parameters, or
/// one held fixed).
pub struct Frozen<'a, L>(pub &'a L);

impl<'a, T: Float, L> Sink<T, L> for Accumulate<'a, L> {
    type Part<'s, M: 's>
        = Accumulate<'s, M>
    where
        Self: 's;

    #[inline(always)]
    fn weights(&self) -> &L {
        self.layer
    }

    #[inline(always)]
    fn target(&mut self) -> Option<(&mut L, T)> {
        Some((&mut *self.grads, T::one()))
    }

    #[inline(always)]
    fn fused<D>(&mut self, f: impl FnOnce(&L, Option<&mut L>) -> D) -> D
    where
        L: Parameters<T> + bytemuck::Zeroable,
    {
        f(self.layer, Some(&mut *self.grads))
    }

    #[inline(always)]
    fn part<'s, M: 's>(&'s mut self, get: fn(&L) -> &M, get_mut: fn(&mut L) -> &mut M) -> Accumulate<'s, M> {
        Accumulate { layer: get(self.layer), grads: get_mut(self.grads) }
    }
}

impl<'a, T: Float, L> Sink<T, L> for Descend<'a, T, L> {
    type Part<'s, M: 's>
        = Descend<'s, T, M>
    where
        Self: 's;

    #[inline(always)]
    fn weights(&self) -> &L {
        self.layer
    }

    #[inline(always)]
    fn target(&mut self) -> Option<(&mut L, T)> {
        Some((&mut *self.layer, -self.lr))
    }

    #[inline(always)]
    fn fused<D>(&mut self, f: impl FnOnce(&L, Option<&mut L>) -> D) -> D
    where
        L: Parameters<T> + bytemuck::Zeroable,
    {
        crate::scratch::sgd_through_gradients(self.layer, self.lr, |l, g| f(l, Some(g)))
    }

    #[inline(always)]
    fn part<'s, M: 's>(&'s mut self, _get: fn(&L) -> &M, get_mut: fn(&mut L) -> &mut M) -> Descend<'s, T, M> {
        Descend { layer: get_mut(self.layer), lr: self.lr }
    }
}

impl<'a, T: Float, L> Sink<T, L> for Frozen<'a, L> {
    type Part<'s, M: 's>
        = Frozen<'s, M>
    where
        Self: 's;

    #[inline(always)]
    fn weights(&self) -> &L {
        self.0
    }

    #[inline(always)]
    fn target(&mut self) -> Option<(&mut L, T)> {
        None
    }

    #[inline(always)]
    fn fused<D>(&mut self, f: impl FnOnce(&L, Option<&mut L>) -> D) -> D
    where
        L: Parameters<T> + bytemuck::Zeroable,
    {
        f(self.0, None)
    }

    #[inline(always)]
    fn part<'s, M: 's>(&'s mut self, get: fn(&L) -> &M, _get_mut: fn(&mut L) -> &mut M) -> Frozen<'s, M> {
        Frozen(get(self.0))
    }
}
