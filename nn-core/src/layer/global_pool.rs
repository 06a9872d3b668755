//! Global pooling: each of `C` channels (planes of `P` positions, channel-major) becomes its mean
//! ([`GlobalAvgPool`]) or its largest value ([`GlobalMaxPool`]), so a `[C, H, W]` map becomes a vector of `C`
//! values whatever its height and width. The mean is PyTorch's `AdaptiveAvgPool2d(1)` followed by `flatten`
//! (ONNX's `GlobalAveragePool`), the head of every modern small CNN; the largest value over a sentence's
//! positions is the max-over-time pooling of a CNN for sentence classification (Kim 2014).

use crate::float::{Float, lit};
use crate::layer::contract::{Layer, Sink};
use nalgebra::SMatrix;

/// Global average pooling over `C` channels. Has no parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GlobalAvgPool<const C: usize>;

/// Compile-time check that the input holds whole planes of the `C` channels.
struct Planes<const C: usize, const IN: usize>;

impl<const C: usize, const IN: usize> Planes<C, IN> {
    const CHECK: () = assert!(C > 0 && IN.is_multiple_of(C), "global pooling: the input must be C planes");
}

/// From `IN = C * P` values per sample (`C` planes of `P` positions) to `C`.
impl<T: Float, const C: usize, const IN: usize> Layer<T, IN, C> for GlobalAvgPool<C> {
    type Cache<const B: usize> = ();

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, IN, B>) -> SMatrix<T, C, B> {
        let () = Planes::<C, IN>::CHECK;
        let p = IN / C;
        let scale = lit::<T>(1.0 / p as f64);
        let mut y = SMatrix::<T, C, B>::zeros();
        for (yb, xb) in y.as_mut_slice().chunks_exact_mut(C).zip(x.as_slice().chunks_exact(IN)) {
            for (v, plane) in yb.iter_mut().zip(xb.chunks_exact(p)) {
                *v = plane.iter().fold(T::zero(), |a, &b| a + b) * scale;
            }
        }
        y
    }

    /// Every position of a plane gets the plane's output gradient over `P`.
    #[inline]
    fn backward<const B: usize, S: Sink<T, Self>>(
        _sink: S,
        _x: &SMatrix<T, IN, B>,
        _y: &SMatrix<T, C, B>,
        _cache: &mut (),
        dy: &SMatrix<T, C, B>,
        dx: Option<&mut SMatrix<T, IN, B>>,
    ) {
        let () = Planes::<C, IN>::CHECK;
        if let Some(dx) = dx {
            let p = IN / C;
            let scale = lit::<T>(1.0 / p as f64);
            for (dxb, dyb) in dx.as_mut_slice().chunks_exact_mut(IN).zip(dy.as_slice().chunks_exact(C)) {
                for (plane, &d) in dxb.chunks_exact_mut(p).zip(dyb) {
                    plane.fill(d * scale);
                }
            }
        }
    }
}

/// Global max pooling over `C` channels (max over time, for 1-D planes). Has no parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GlobalMaxPool<const C: usize>;

/// The position of the largest value of `plane` (the first of equal ones; `NaN` is never chosen over a number).
#[inline]
fn argmax<T: Float>(plane: &[T]) -> usize {
    let mut best = 0;
    for (i, &v) in plane.iter().enumerate().skip(1) {
        if v > plane[best] || plane[best].to_f64().is_nan() {
            best = i;
        }
    }
    best
}

/// From `IN = C * P` values per sample (`C` planes of `P` positions) to `C`, each plane's largest value.
impl<T: Float, const C: usize, const IN: usize> Layer<T, IN, C> for GlobalMaxPool<C> {
    type Cache<const B: usize> = ();

    #[inline]
    fn forward<const B: usize>(&self, x: &SMatrix<T, IN, B>) -> SMatrix<T, C, B> {
        let () = Planes::<C, IN>::CHECK;
        let p = IN / C;
        let mut y = SMatrix::<T, C, B>::zeros();
        for (yb, xb) in y.as_mut_slice().chunks_exact_mut(C).zip(x.as_slice().chunks_exact(IN)) {
            for (v, plane) in yb.iter_mut().zip(xb.chunks_exact(p)) {
                *v = plane[argmax(plane)];
            }
        }
        y
    }

    /// Each plane's output gradient goes to the position its largest value came from (the first, when equal).
    #[inline]
    fn backward<const B: usize, S: Sink<T, Self>>(
        _sink: S,
        x: &SMatrix<T, IN, B>,
        _y: &SMatrix<T, C, B>,
        _cache: &mut (),
        dy: &SMatrix<T, C, B>,
        dx: Option<&mut SMatrix<T, IN, B>>,
    ) {
        let () = Planes::<C, IN>::CHECK;
        if let Some(dx) = dx {
            let p = IN / C;
            dx.fill(T::zero());
            let columns = dx.as_mut_slice().chunks_exact_mut(IN).zip(x.as_slice().chunks_exact(IN));
            for ((dxb, xb), dyb) in columns.zip(dy.as_slice().chunks_exact(C)) {
                for ((dplane, plane), &d) in dxb.chunks_exact_mut(p).zip(xb.chunks_exact(p)).zip(dyb) {
                    dplane[argmax(plane)] = d;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{STEP, relative_error};
    use crate::layer::Frozen;
    use nalgebra::{matrix, vector};

    #[test]
    fn each_channel_becomes_its_mean() {
        // Two channels of 2x2 (channel-major), two samples.
        let x = matrix![1.0, 0.0; 2.0, 0.0; 3.0, 0.0; 6.0, 4.0; -1.0, 1.0; -1.0, 1.0; -1.0, 1.0; 7.0, 1.0];
        let y = Layer::<f64, 8, 2>::forward(&GlobalAvgPool::<2>, &x);
        assert_eq!(y, matrix![3.0, 1.0; 1.0, 1.0]);
        let mut dx = SMatrix::<f64, 8, 2>::zeros();
        let dy = matrix![4.0, -8.0; 2.0, 0.5];
        <GlobalAvgPool<2> as Layer<f64, 8, 2>>::backward(Frozen(&GlobalAvgPool), &x, &y, &mut (), &dy, Some(&mut dx));
        assert_eq!(dx.column(0).as_slice(), &[1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]);
        assert_eq!(dx.column(1).as_slice(), &[-2.0, -2.0, -2.0, -2.0, 0.125, 0.125, 0.125, 0.125]);
    }

    #[test]
    fn gradient_matches_central_differences() {
        let x = vector![0.3, -1.2, 0.8, 2.1, -0.4, 1.5, -2.0, -0.9, 0.05];
        let w = vector![1.0, -2.0, 0.5];
        let f = |x: &SMatrix<f64, 9, 1>| Layer::<f64, 9, 3>::forward(&GlobalAvgPool::<3>, x).dot(&w);
        let mut dx = SMatrix::<f64, 9, 1>::zeros();
        let y = Layer::<f64, 9, 3>::forward(&GlobalAvgPool::<3>, &x);
        <GlobalAvgPool<3> as Layer<f64, 9, 3>>::backward(Frozen(&GlobalAvgPool), &x, &y, &mut (), &w, Some(&mut dx));
        for i in 0..9 {
            let (mut xp, mut xm) = (x, x);
            xp[i] += STEP;
            xm[i] -= STEP;
            let numeric = (f(&xp) - f(&xm)) / (2.0 * STEP);
            assert!(relative_error(dx[i], numeric) < 1e-6, "{i}: {} vs {numeric}", dx[i]);
        }
    }

    #[test]
    fn each_channel_becomes_its_largest_value_and_its_gradient_goes_there() {
        // Two channels of four positions, two samples; the second sample's first channel has a tie.
        let x = matrix![1.0, 5.0; 4.0, 5.0; -3.0, 0.0; 2.0, 1.0; -1.0, -7.0; -0.5, -6.0; -2.0, -9.0; -0.75, -8.0];
        let y = Layer::<f64, 8, 2>::forward(&GlobalMaxPool::<2>, &x);
        assert_eq!(y, matrix![4.0, 5.0; -0.5, -6.0]);
        let mut dx = SMatrix::<f64, 8, 2>::from_element(9.0);
        let dy = matrix![3.0, -1.0; 2.0, 0.5];
        <GlobalMaxPool<2> as Layer<f64, 8, 2>>::backward(Frozen(&GlobalMaxPool), &x, &y, &mut (), &dy, Some(&mut dx));
        assert_eq!(dx.column(0).as_slice(), &[0.0, 3.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0]);
        assert_eq!(dx.column(1).as_slice(), &[-1.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0]);
        // NaN is never the maximum over numbers.
        let with_nan = vector![f64::NAN, 1.0, 3.0, 2.0];
        assert_eq!(Layer::<f64, 4, 1>::forward(&GlobalMaxPool::<1>, &with_nan)[0], 3.0);
    }

    #[test]
    fn max_pool_gradient_matches_central_differences() {
        // Distinct values, more than STEP apart, so the maximum does not move under the differences.
        let x = vector![0.3, -1.2, 0.8, 2.1, -0.4, 1.5, -2.0, -0.9, 0.05];
        let w = vector![1.0, -2.0, 0.5];
        let f = |x: &SMatrix<f64, 9, 1>| Layer::<f64, 9, 3>::forward(&GlobalMaxPool::<3>, x).dot(&w);
        let mut dx = SMatrix::<f64, 9, 1>::zeros();
        let y = Layer::<f64, 9, 3>::forward(&GlobalMaxPool::<3>, &x);
        <GlobalMaxPool<3> as Layer<f64, 9, 3>>::backward(Frozen(&GlobalMaxPool), &x, &y, &mut (), &w, Some(&mut dx));
        for i in 0..9 {
            let (mut xp, mut xm) = (x, x);
            xp[i] += STEP;
            xm[i] -= STEP;
            let numeric = (f(&xp) - f(&xm)) / (2.0 * STEP);
            assert!((dx[i] - numeric).abs() < 1e-9, "{i}: {} vs {numeric}", dx[i]);
        }
    }
}
