//! Output sizes of convolutions, the facts that `nn-core` (at run time and in the `const` assertions it checks)
//! and the `network!` macro of `nn-macros` (while it expands) must agree on, written once.
//!
//! Pooling windows use [`conv_out`] too: a window is a kernel with a dilation of 1 and, by default, a stride of
//! its own size.
//!
//! The functions are `const` and never overflow: sizes so large that an intermediate value would not fit a
//! `usize` give 0, as a kernel that does not fit does.
//!
//! ```
//! use nn_shapes::{conv_out, conv_transpose_out};
//!
//! // LeNet-5 on a 28 x 28 digit: a 5 x 5 convolution, then 2 x 2 pooling.
//! assert_eq!(conv_out(28, 5, 1, 0, 1), 24);
//! assert_eq!(conv_out(24, 2, 2, 0, 1), 12);
//! // A transposed convolution of stride 2 with output padding 1 undoes a 3-wide, stride-2 convolution.
//! assert_eq!(conv_out(7, 3, 2, 1, 1), 4);
//! assert_eq!(conv_transpose_out(4, 3, 2, 1, 1, 0), 7);
//! assert_eq!(conv_transpose_out(4, 3, 2, 1, 1, 1), 8);
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// The reach of a kernel of `k` taps with dilation `d`: `d(k - 1) + 1` (1 for `k = 0`), or `None` if it overflows.
#[inline]
const fn dilated_span(k: usize, d: usize) -> Option<usize> {
    match d.checked_mul(k.saturating_sub(1)) {
        Some(gaps) => gaps.checked_add(1),
        None => None,
    }
}

/// The length of `n` values with `p` zeros added on each side, `n + 2p`, or `None` if it overflows.
#[inline]
const fn padded(n: usize, p: usize) -> Option<usize> {
    match p.checked_mul(2) {
        Some(both) => n.checked_add(both),
        None => None,
    }
}

/// The output length of a convolution (or pooling window) along one axis: `floor((n + 2p - d(k - 1) - 1) / s) + 1`
/// for `n` input values, a kernel of `k` taps, stride `s`, `p` zeros of padding on each side and dilation `d`
/// (PyTorch's `Conv1d`/`Conv2d` formula).
///
/// 0 when nothing fits: the dilated kernel is longer than the padded input, `k` or `s` is 0, or `n + 2p` or
/// `d(k - 1) + 1` does not fit a `usize`.
///
/// ```
/// # use nn_shapes::conv_out;
/// assert_eq!(conv_out(224, 7, 2, 3, 1), 112); // ResNet's first convolution
/// assert_eq!(conv_out(7, 3, 1, 0, 2), 3); // dilated to 5 taps
/// assert_eq!(conv_out(2, 3, 1, 0, 1), 0); // the kernel does not fit
/// ```
#[inline]
pub const fn conv_out(n: usize, k: usize, s: usize, p: usize, d: usize) -> usize {
    let (Some(span), Some(padded)) = (dilated_span(k, d), padded(n, p)) else { return 0 };
    if s == 0 || k == 0 || padded < span { 0 } else { (padded - span) / s + 1 }
}

/// The output length of a transposed convolution along one axis: `(n - 1)s - 2p + d(k - 1) + output_padding + 1`
/// for `n` input values, a kernel of `k` taps, stride `s`, padding `p` (removed from each side of the output),
/// dilation `d` and `output_padding` extra values on one side (PyTorch's `ConvTranspose1d`/`ConvTranspose2d`
/// formula).
///
/// 0 when that is not positive (the padding removes everything), or when `(n - 1)s + d(k - 1) + output_padding + 1`
/// does not fit a `usize`.
///
/// ```
/// # use nn_shapes::conv_transpose_out;
/// assert_eq!(conv_transpose_out(4, 4, 2, 1, 1, 0), 8); // a DCGAN generator's up-sampling
/// assert_eq!(conv_transpose_out(14, 2, 2, 0, 1, 0), 28);
/// assert_eq!(conv_transpose_out(1, 1, 1, 1, 1, 0), 0); // the padding removes the one value
/// ```
#[inline]
pub const fn conv_transpose_out(n: usize, k: usize, s: usize, p: usize, d: usize, output_padding: usize) -> usize {
    let (Some(stepped), Some(span)) = (n.saturating_sub(1).checked_mul(s), dilated_span(k, d)) else { return 0 };
    let grown = match stepped.checked_add(span) {
        Some(g) => g.checked_add(output_padding),
        None => None,
    };
    match grown {
        // When `2p` does not fit, it exceeds `grown` too: nothing is left either way.
        Some(grown) => grown.saturating_sub(p.saturating_mul(2)),
        None => 0,
    }
}

/// PyTorch's `state_dict` names of the tensors of layer `l0` to `l7` of a recurrent module (`nn.RNN`, `nn.LSTM`,
/// `nn.GRU` with `num_layers` up to 8), in the order the runtime stores them: input-side weights `[G, I]`,
/// hidden-side weights `[G, H]`, then the two biases `[G]` (`G` gate rows).
pub const RECURRENT_TENSORS: [[&str; 4]; 8] = [
    ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"],
    ["weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"],
    ["weight_ih_l2", "weight_hh_l2", "bias_ih_l2", "bias_hh_l2"],
    ["weight_ih_l3", "weight_hh_l3", "bias_ih_l3", "bias_hh_l3"],
    ["weight_ih_l4", "weight_hh_l4", "bias_ih_l4", "bias_hh_l4"],
    ["weight_ih_l5", "weight_hh_l5", "bias_ih_l5", "bias_hh_l5"],
    ["weight_ih_l6", "weight_hh_l6", "bias_ih_l6", "bias_hh_l6"],
    ["weight_ih_l7", "weight_hh_l7", "bias_ih_l7", "bias_hh_l7"],
];

/// The names of the reverse direction's tensors of a bidirectional recurrent module (`bidirectional=True`):
/// [`RECURRENT_TENSORS`] with `_reverse` after each.
pub const RECURRENT_REVERSE_TENSORS: [[&str; 4]; 8] = [
    ["weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"],
    ["weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"],
    ["weight_ih_l2_reverse", "weight_hh_l2_reverse", "bias_ih_l2_reverse", "bias_hh_l2_reverse"],
    ["weight_ih_l3_reverse", "weight_hh_l3_reverse", "bias_ih_l3_reverse", "bias_hh_l3_reverse"],
    ["weight_ih_l4_reverse", "weight_hh_l4_reverse", "bias_ih_l4_reverse", "bias_hh_l4_reverse"],
    ["weight_ih_l5_reverse", "weight_hh_l5_reverse", "bias_ih_l5_reverse", "bias_hh_l5_reverse"],
    ["weight_ih_l6_reverse", "weight_hh_l6_reverse", "bias_ih_l6_reverse", "bias_hh_l6_reverse"],
    ["weight_ih_l7_reverse", "weight_hh_l7_reverse", "bias_ih_l7_reverse", "bias_hh_l7_reverse"],
];

/// PyTorch's `BatchNorm1d`/`BatchNorm2d` tensors: the trained `weight` (gamma) and `bias` (beta), then the
/// running statistics used at inference.
pub const BATCH_NORM_TENSORS: [&str; 4] = ["weight", "bias", "running_mean", "running_var"];

#[cfg(test)]
mod tests {
    use super::*;

    /// The formula of [`conv_out`] in wide integers, without the overflow guard (the sizes tested stay small).
    fn conv_reference(n: usize, k: usize, s: usize, p: usize, d: usize) -> usize {
        let (n, k, s, p, d) = (n as i128, k as i128, s as i128, p as i128, d as i128);
        let span = d * (k - 1).max(0) + 1;
        if s == 0 || k == 0 || n + 2 * p < span { 0 } else { ((n + 2 * p - span) / s + 1) as usize }
    }

    /// The formula of [`conv_transpose_out`] in wide integers.
    fn transpose_reference(n: usize, k: usize, s: usize, p: usize, d: usize, op: usize) -> usize {
        let (n, k, s, p, d, op) = (n as i128, k as i128, s as i128, p as i128, d as i128, op as i128);
        ((n - 1).max(0) * s + d * (k - 1).max(0) + op + 1 - 2 * p).max(0) as usize
    }

    #[test]
    fn convolutions_of_known_networks() {
        // An MNIST digit under a 5 x 5 kernel.
        assert_eq!(conv_out(28, 5, 1, 0, 1), 24);
        // LeNet-5: 32 x 32 -> conv 5 -> 28 -> pool 2 -> 14 -> conv 5 -> 10 -> pool 2 -> 5.
        assert_eq!(conv_out(32, 5, 1, 0, 1), 28);
        assert_eq!(conv_out(28, 2, 2, 0, 1), 14);
        assert_eq!(conv_out(14, 5, 1, 0, 1), 10);
        assert_eq!(conv_out(10, 2, 2, 0, 1), 5);
        // ResNet's stem: 224 -> conv 7, stride 2, padding 3 -> 112 -> max pool 3, stride 2, padding 1 -> 56.
        assert_eq!(conv_out(224, 7, 2, 3, 1), 112);
        assert_eq!(conv_out(112, 3, 2, 1, 1), 56);
        // "Same" padding keeps the size; dilation widens the kernel.
        assert_eq!(conv_out(32, 3, 1, 1, 1), 32);
        assert_eq!(conv_out(7, 3, 1, 0, 2), 3);
        assert_eq!(conv_out(5, 3, 2, 1, 1), 3);
        // Nothing fits: a kernel longer than the input, a stride or kernel of 0.
        assert_eq!(conv_out(2, 3, 1, 0, 1), 0);
        assert_eq!(conv_out(4, 3, 1, 0, 2), 0);
        assert_eq!(conv_out(8, 2, 0, 0, 1), 0);
        assert_eq!(conv_out(8, 0, 1, 0, 1), 0);
    }

    #[test]
    fn transposed_convolutions_of_known_networks() {
        // DCGAN's generator: 4 -> 8 -> 16 -> 32 with kernel 4, stride 2, padding 1.
        assert_eq!(conv_transpose_out(4, 4, 2, 1, 1, 0), 8);
        assert_eq!(conv_transpose_out(8, 4, 2, 1, 1, 0), 16);
        assert_eq!(conv_transpose_out(16, 4, 2, 1, 1, 0), 32);
        assert_eq!(conv_transpose_out(14, 2, 2, 0, 1, 0), 28);
        assert_eq!(conv_transpose_out(3, 3, 2, 1, 1, 1), 6);
        assert_eq!(conv_transpose_out(5, 3, 1, 0, 2, 0), 9);
        assert_eq!(conv_transpose_out(1, 1, 1, 1, 1, 0), 0);
        assert_eq!(conv_transpose_out(0, 3, 2, 0, 1, 0), 3);
    }

    #[test]
    fn a_transposed_convolution_restores_the_size_a_convolution_took() {
        for n in 1..50 {
            for (k, s, p) in [(3, 2, 1), (4, 2, 1), (5, 3, 2), (2, 2, 0)] {
                let out = conv_out(n, k, s, p, 1);
                if out == 0 {
                    continue;
                }
                // The sizes that map to `out` differ by less than the stride: output padding picks one.
                let back = conv_transpose_out(out, k, s, p, 1, 0);
                assert!(back <= n && n < back + s, "n {n}, k {k}, s {s}, p {p}: {out} -> {back}");
                assert_eq!(conv_transpose_out(out, k, s, p, 1, n - back), n);
            }
        }
    }

    #[test]
    fn small_sizes_follow_the_formulas_exactly() {
        for n in 0..24 {
            for k in 0..7 {
                for s in 0..4 {
                    for p in 0..4 {
                        for d in 0..4 {
                            assert_eq!(conv_out(n, k, s, p, d), conv_reference(n, k, s, p, d), "{n} {k} {s} {p} {d}");
                            for op in 0..3 {
                                let want = transpose_reference(n, k, s, p, d, op);
                                assert_eq!(conv_transpose_out(n, k, s, p, d, op), want, "{n} {k} {s} {p} {d} {op}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn huge_sizes_give_zero_instead_of_wrapping() {
        const MAX: usize = usize::MAX;
        // Fits exactly: no overflow, the formula holds.
        assert_eq!(conv_out(MAX, 3, 1, 0, 1), MAX - 2);
        assert_eq!(conv_out(MAX, 1, MAX, 0, 1), 1);
        assert_eq!(conv_transpose_out(MAX, 1, 1, 0, 1, 0), MAX);
        assert_eq!(conv_transpose_out(3, 3, 2, MAX / 2, 1, 1), 0);
        // `n + 2p`, `2p`, `d(k - 1) + 1`, `(n - 1)s` or the grown size overflow.
        assert_eq!(conv_out(MAX, 3, 1, 1, 1), 0);
        assert_eq!(conv_out(4, 3, 1, MAX / 2 + 1, 1), 0);
        assert_eq!(conv_out(MAX, MAX, 1, 0, 2), 0);
        assert_eq!(conv_out(MAX, 2, 1, 0, MAX), 0);
        assert_eq!(conv_transpose_out(MAX, 3, 2, 0, 1, 0), 0);
        assert_eq!(conv_transpose_out(2, MAX, 1, 0, 2, 0), 0);
        assert_eq!(conv_transpose_out(MAX, 1, 1, 0, 1, 1), 0);
        assert_eq!(conv_transpose_out(3, 3, 2, MAX, 1, 1), 0);
    }

    #[test]
    fn the_sizes_are_known_at_compile_time() {
        const LENET: usize = conv_out(conv_out(28, 5, 1, 0, 1), 2, 2, 0, 1);
        const UP: usize = conv_transpose_out(LENET, 2, 2, 0, 1, 0);
        assert_eq!((LENET, UP), (12, 24));
    }

    #[test]
    fn reverse_names_are_the_names_with_reverse_after() {
        for (names, reverse) in RECURRENT_TENSORS.iter().zip(&RECURRENT_REVERSE_TENSORS) {
            for (n, r) in names.iter().zip(reverse) {
                assert_eq!(r.strip_suffix("_reverse"), Some(*n));
            }
        }
    }

    #[test]
    fn recurrent_tensor_names_follow_pytorch() {
        assert_eq!(RECURRENT_TENSORS[0], ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]);
        for (l, names) in RECURRENT_TENSORS.iter().enumerate() {
            for (name, stem) in names.iter().zip(["weight_ih", "weight_hh", "bias_ih", "bias_hh"]) {
                let digit = [b'0' + l as u8];
                let digit = core::str::from_utf8(&digit).unwrap();
                assert_eq!(name.strip_prefix(stem).and_then(|r| r.strip_prefix("_l")), Some(digit));
            }
        }
    }
}
