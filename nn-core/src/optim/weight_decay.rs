//! L2 weight decay, as the course writes it: the regularised risk `R = L + (lambda / 2) sum w^2` over the
//! weights.

#[cfg(feature = "alloc")]
use super::Optimizer;
use crate::float::{Float, lit};
use crate::params::{Parameters, TensorName};
#[cfg(feature = "alloc")]
use alloc::boxed::Box;

/// `true` for the tensors weight decay applies to: those named `weight` (the last part of the dotted name, so
/// `fc1.weight`, `0.out.weight`). Biases are not decayed.
///
/// A batch-norm layer's scale is also named `weight` (as in PyTorch) and is therefore decayed too.
pub fn is_decayed(name: &TensorName) -> bool {
    name.tensor == "weight"
}

/// The course's L2 penalty `(lambda / 2) sum w^2`, summed over every weight tensor (biases excluded).
///
/// Add it to the data loss to report the regularised risk `R = L + penalty`.
pub fn l2_penalty<T: Float, P: Parameters<T>>(params: &P, lambda: T) -> T {
    let mut sum = T::zero();
    params.visit(|t| {
        if is_decayed(&t.name) {
            for &w in t.data {
                sum += w * w;
            }
        }
    });
    lit::<T>(0.5) * lambda * sum
}

/// Adds the gradient of [`l2_penalty`] to `grads`: `g += lambda w` for every weight, biases untouched.
///
/// Minimising the regularised risk `R = L + (lambda / 2) sum w^2` with any optimizer means handing it these
/// gradients. Call this after backprop and before [`Optimizer::step`](super::Optimizer::step) when the gradients
/// are yours to modify; it allocates nothing. `WeightDecay` does the same inside an optimizer.
///
/// Relation to PyTorch:
///
/// - `weight_decay=lambda` in `SGD`, `Adagrad`, `Adadelta`, `RMSprop` and `Adam` adds `lambda theta` to the
///   gradient before the update, exactly like this, **but to every parameter, biases included**. For the same
///   numbers in PyTorch, put the biases in a parameter group with `weight_decay=0`:
///   `SGD([{"params": weights, "weight_decay": lam}, {"params": biases}], lr, momentum=mu)` is
///   `WeightDecay::new(Momentum::pytorch(lr, mu), lam)`.
/// - `AdamW` is different: it decouples the decay from the gradient, `theta -= lr lambda theta` beside the Adam
///   step, so the decay is not divided by `sqrt(vhat)`. Adam on these gradients is PyTorch's
///   `Adam(weight_decay=lambda)` (on the weights only), not `AdamW`.
pub fn add_l2_gradient<T: Float, P: Parameters<T>>(params: &P, grads: &mut P, lambda: T) {
    for i in 0..P::TENSORS {
        if let (Some(w), Some(g)) = (params.tensor(i), grads.tensor_mut(i))
            && is_decayed(&w.name)
        {
            for (g, &w) in g.data.iter_mut().zip(w.data) {
                *g += lambda * w;
            }
        }
    }
}

/// An optimizer minimising the regularised risk `R = L + (lambda / 2) sum w^2`: each step hands `inner` the
/// gradients with `lambda w` added to the weights (biases unchanged).
///
/// The caller's gradients are not modified: the decayed gradients go to a buffer of the network's type `P`,
/// allocated once on the heap, so a step allocates nothing but reads and writes one more copy of the
/// parameters. When the gradients can be modified, [`add_l2_gradient`] before the step avoids that copy.
///
/// `WeightDecay::new(opt, lambda)` is PyTorch's optimizer with `weight_decay=lambda` restricted to the weights
/// (biases in a parameter group without decay); it is not `AdamW`. See [`add_l2_gradient`] for details.
#[cfg(feature = "alloc")]
#[derive(Clone, Debug)]
pub struct WeightDecay<O, T, P> {
    /// The optimizer that takes the decayed gradients.
    pub inner: O,
    /// The decay `lambda`.
    pub lambda: T,
    decayed: Box<P>,
}

#[cfg(feature = "alloc")]
impl<O, T: Float, P: Parameters<T> + bytemuck::Zeroable> WeightDecay<O, T, P> {
    /// `inner`, stepping on the gradients of `L + (lambda / 2) sum w^2`.
    pub fn new(inner: O, lambda: T) -> Self {
        Self { inner, lambda, decayed: crate::boxed_zeroed() }
    }
}

#[cfg(feature = "alloc")]
impl<O: Optimizer<T, P>, T: Float, P: Parameters<T>> Optimizer<T, P> for WeightDecay<O, T, P> {
    fn learning_rate(&self) -> Option<T> {
        self.inner.learning_rate()
    }

    fn set_learning_rate(&mut self, lr: T) {
        self.inner.set_learning_rate(lr);
    }

    fn step(&mut self, params: &mut P, grads: &P) {
        let lambda = self.lambda;
        for i in 0..P::TENSORS {
            if let (Some(w), Some(g), Some(d)) = (params.tensor(i), grads.tensor(i), self.decayed.tensor_mut(i)) {
                if is_decayed(&w.name) {
                    for ((d, &g), &w) in d.data.iter_mut().zip(g.data).zip(w.data) {
                        *d = g + lambda * w;
                    }
                } else {
                    d.data.copy_from_slice(g.data);
                }
            }
        }
        self.inner.step(params, &self.decayed);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Tiny, assert_steps, flat, theta0, three_steps};
    use super::super::{Momentum, Sgd};
    use super::*;
    use crate::Chain;
    use crate::layer::{Dense, DenseNoBias};
    use nalgebra::{matrix, vector};

    #[test]
    fn penalty_counts_weights_only() {
        // w = (1, -2), b = 0.5, lambda = 0.1: 0.1 / 2 * (1 + 4) = 0.25 (0.2625 if the bias were counted).
        assert!((l2_penalty(&theta0(), 0.1) - 0.25).abs() < 1e-16);
        let net = Chain { first: theta0(), second: DenseNoBias::<f64, 1, 1>::without_bias(matrix![3.0]) };
        assert_eq!(alloc::format!("{}", net.tensor(2).unwrap().name), "1.weight");
        assert!((l2_penalty(&net, 0.1) - 0.7).abs() < 1e-15); // 0.05 * (1 + 4 + 9)
    }

    #[test]
    fn gradient_adds_lambda_w_to_weights_and_leaves_biases() {
        let p = theta0();
        let mut g = Dense::<f64, 2, 1>::new(matrix![0.5, -1.0], vector![2.0]);
        add_l2_gradient(&p, &mut g, 0.1);
        assert_eq!(g.weight, matrix![0.5 + 0.1 * 1.0, -1.0 + 0.1 * -2.0]);
        assert_eq!(g.bias, vector![2.0]);
    }

    #[test]
    fn gradient_is_the_derivative_of_the_penalty() {
        let p = theta0();
        let mut g: Tiny = bytemuck::Zeroable::zeroed();
        add_l2_gradient(&p, &mut g, 0.3);
        let h = 1e-6;
        for (k, (i, j)) in [(0, 0), (0, 1), (1, 0)].into_iter().enumerate() {
            let (mut plus, mut minus) = (p, p);
            plus.tensor_mut(i).unwrap().data[j] += h;
            minus.tensor_mut(i).unwrap().data[j] -= h;
            let numeric = (l2_penalty(&plus, 0.3) - l2_penalty(&minus, 0.3)) / (2.0 * h);
            assert!((numeric - flat(&g)[k]).abs() < 1e-9, "coordinate {k}: {numeric} vs {}", flat(&g)[k]);
        }
    }

    #[test]
    fn wrapper_decays_weights_not_biases_and_leaves_the_gradients_alone() {
        let mut p = theta0();
        let g = Dense::<f64, 2, 1>::new(matrix![0.5, -1.0], vector![2.0]);
        let mut opt = WeightDecay::new(Sgd::new(0.1), 0.1);
        opt.step(&mut p, &g);
        // w -= 0.1 (g + 0.1 w): 1 - 0.1 * 0.6 = 0.94, -2 - 0.1 * (-1.2) = -1.88; b -= 0.1 * 2 = 0.3.
        assert!((p.weight[0] - 0.94).abs() < 1e-15 && (p.weight[1] + 1.88).abs() < 1e-15);
        assert_eq!(p.bias[0], 0.5 - 0.1 * 2.0);
        assert_eq!(g, Dense::new(matrix![0.5, -1.0], vector![2.0]));
        // Same numbers as decaying the gradients in place.
        let (mut q, mut gq) = (theta0(), g);
        add_l2_gradient(&q, &mut gq, 0.1);
        Sgd::new(0.1).step(&mut q, &gq);
        assert_eq!(p, q);
    }

    #[test]
    fn wrapped_pytorch_momentum_matches_torch_sgd_with_weight_decay_on_the_weights() {
        // torch.optim.SGD([{"params": [weight], "weight_decay": 0.5}, {"params": [bias]}], lr=0.1, momentum=0.9)
        // written out in python floats, on L = 1/2 |theta|^2 (g = theta): for a weight d = g + 0.5 theta = 1.5
        // theta; buf = d (first step), then 0.9 buf + d; theta -= 0.1 buf. Weights by hand:
        // 1: buf = 1.5,                         theta = 1 - 0.15 = 0.85
        // 2: buf = 1.35 + 1.275 = 2.625,        theta = 0.85 - 0.2625 = 0.5875
        // 3: buf = 2.3625 + 0.88125 = 3.24375,  theta = 0.5875 - 0.324375 = 0.263125   (times theta0)
        // The bias is undecayed: 0.9, 0.72, 0.486 times 0.5, as in plain SGD with momentum.
        let steps = three_steps(&mut WeightDecay::new(Momentum::pytorch(0.1, 0.9), 0.5));
        let expected = [[0.85, -1.7, 0.45], [0.5875, -1.175, 0.36], [0.263125, -0.52625, 0.243]];
        assert_steps("sgd momentum weight decay", steps, expected, 1e-15);
    }
}
