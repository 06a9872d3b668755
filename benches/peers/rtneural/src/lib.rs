//! RTNeural (the C++ compile-time inference library of real-time audio) beside the generated networks: the
//! same shapes as `nn-benches`' per-sample dense and streaming recurrent benchmarks, built by `build.rs` from
//! `RTNEURAL_DIR` with both of its backends (Eigen, xsimd), and loaded with the generated network's weights.
//!
//! A [`Model`] is one RTNeural `ModelT` behind the C entry points of `shim.cpp`: [`Model::forward`] runs one
//! call and returns the outputs (for the agreement checks), [`Model::run`] runs a number of calls in a C++ loop
//! (timed from Rust around the whole loop, so the foreign call is paid once per batch of iterations).
//!
//! Weights are handed over in RTNeural's layouts, converted from the generated layers' (PyTorch's):
//! - `DenseT::setWeights` takes `[out][in]`: the transpose of nalgebra's column-major `out x in` storage.
//! - `LSTMLayerT` takes `W [in][4H]`, `U [H][4H]` (the column-major `4H x in` and `4H x H` storage as it is,
//!   gates in the same order i, f, g, o) and one bias, `b_ih + b_hh`.
//! - `GRULayerT` takes `W [in][3H]`, `U [H][3H]` and biases `[2][3H]` (input side, hidden side), with the gates
//!   in Keras's order z, r, n where PyTorch's is r, z, n; its candidate is Keras's `reset_after` form,
//!   `tanh(W_n x + b_in + r (U_n h + b_hn))`, which is PyTorch's.

use core::ffi::c_void;
use nn_core::prelude::*;

/// An RTNeural backend compiled into this crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// RTNeural on Eigen (its default backend).
    Eigen,
    /// RTNeural on xsimd.
    Xsimd,
}

impl Backend {
    /// The backends built (none without `RTNEURAL_DIR`; Eigen alone without xsimd).
    pub fn available() -> &'static [Backend] {
        if cfg!(no_rtneural) {
            &[]
        } else if cfg!(rtneural_xsimd) {
            &[Backend::Eigen, Backend::Xsimd]
        } else {
            &[Backend::Eigen]
        }
    }

    /// `rtneural_eigen` or `rtneural_xsimd`, the benchmark function's name.
    pub fn label(self) -> &'static str {
        match self {
            Backend::Eigen => "rtneural_eigen",
            Backend::Xsimd => "rtneural_xsimd",
        }
    }
}

/// Why the benchmark runs without RTNeural, or `None` when it is built in.
pub fn missing() -> Option<&'static str> {
    cfg!(no_rtneural).then_some(
        "RTNeural skipped: set RTNEURAL_DIR to an RTNeural source tree (and XSIMD_DIR to xsimd 10 for its xsimd \
         backend), then rebuild",
    )
}

/// The C++ compiler flags RTNeural was built with.
pub fn cxx_flags() -> &'static str {
    option_env!("RTNEURAL_CXXFLAGS").unwrap_or("")
}

/// The shapes of the benchmark, each an RTNeural model type in `shim.cpp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// 2-4-1, tanh then sigmoid.
    Mlp2x4x1,
    /// 16-32-32-4, ReLU, ReLU, linear.
    Mlp16x32x32x4,
    /// 64-128-10, ReLU, linear.
    Mlp64x128x10,
    /// 784-128-10, ReLU, linear.
    Mlp784x128x10,
    /// 256-256-256, ReLU, linear.
    Mlp256x256x256,
    /// An LSTM step, one input, this many hidden units.
    Lstm(usize),
    /// A GRU step, one input, this many hidden units.
    Gru(usize),
}

impl Case {
    /// Inputs per call (per step for a recurrent case).
    pub fn inputs(self) -> usize {
        match self {
            Case::Mlp2x4x1 => 2,
            Case::Mlp16x32x32x4 => 16,
            Case::Mlp64x128x10 => 64,
            Case::Mlp784x128x10 => 784,
            Case::Mlp256x256x256 => 256,
            Case::Lstm(_) | Case::Gru(_) => 1,
        }
    }

    /// Outputs per call.
    pub fn outputs(self) -> usize {
        match self {
            Case::Mlp2x4x1 => 1,
            Case::Mlp16x32x32x4 => 4,
            Case::Mlp64x128x10 | Case::Mlp784x128x10 => 10,
            Case::Mlp256x256x256 => 256,
            Case::Lstm(h) | Case::Gru(h) => h,
        }
    }
}

/// The C entry points of one case and backend.
#[derive(Clone, Copy)]
struct Entry {
    new: unsafe extern "C" fn(*const *const f32) -> *mut c_void,
    free: unsafe extern "C" fn(*mut c_void),
    reset: unsafe extern "C" fn(*mut c_void),
    forward: unsafe extern "C" fn(*mut c_void, *const f32, *mut f32),
    run: unsafe extern "C" fn(*mut c_void, *const f32, u64),
}

/// Declares the entry points of `shim.cpp` for one backend and a function from [`Case`] to them.
macro_rules! backend {
    ($module:ident, $prefix:literal) => {
        #[cfg(not(no_rtneural))]
        mod $module {
            use super::{Case, Entry};
            use core::ffi::c_void;

            macro_rules! case {
                ($name:literal) => {{
                    unsafe extern "C" {
                        #[link_name = concat!($prefix, "_", $name, "_new")]
                        fn new(t: *const *const f32) -> *mut c_void;
                        #[link_name = concat!($prefix, "_", $name, "_free")]
                        fn free(p: *mut c_void);
                        #[link_name = concat!($prefix, "_", $name, "_reset")]
                        fn reset(p: *mut c_void);
                        #[link_name = concat!($prefix, "_", $name, "_forward")]
                        fn forward(p: *mut c_void, x: *const f32, out: *mut f32);
                        #[link_name = concat!($prefix, "_", $name, "_run")]
                        fn run(p: *mut c_void, x: *const f32, n: u64);
                    }
                    Entry { new, free, reset, forward, run }
                }};
            }

            pub(super) fn entry(case: Case) -> Entry {
                match case {
                    Case::Mlp2x4x1 => case!("mlp_2_4_1"),
                    Case::Mlp16x32x32x4 => case!("mlp_16_32_32_4"),
                    Case::Mlp64x128x10 => case!("mlp_64_128_10"),
                    Case::Mlp784x128x10 => case!("mlp_784_128_10"),
                    Case::Mlp256x256x256 => case!("mlp_256_256_256"),
                    Case::Lstm(8) => case!("lstm_8"),
                    Case::Lstm(16) => case!("lstm_16"),
                    Case::Lstm(32) => case!("lstm_32"),
                    Case::Gru(8) => case!("gru_8"),
                    Case::Gru(16) => case!("gru_16"),
                    Case::Gru(32) => case!("gru_32"),
                    other => panic!("no RTNeural model for {other:?}"),
                }
            }
        }
    };
}

backend!(eigen, "eigen");
#[cfg(rtneural_xsimd)]
backend!(xsimd, "xsimd");

/// The entry points of `case` in `backend`.
#[cfg_attr(no_rtneural, allow(unused_variables))]
fn entry(backend: Backend, case: Case) -> Entry {
    match backend {
        #[cfg(not(no_rtneural))]
        Backend::Eigen => eigen::entry(case),
        #[cfg(rtneural_xsimd)]
        Backend::Xsimd => xsimd::entry(case),
        #[allow(unreachable_patterns)]
        other => panic!("RTNeural's {other:?} backend is not built in"),
    }
}

/// One RTNeural model, owned.
pub struct Model {
    ptr: *mut c_void,
    entry: Entry,
    case: Case,
}

impl Model {
    /// An RTNeural model of `case` on `backend`, with the given tensors in RTNeural's layouts (see the crate
    /// documentation; [`dense_tensors`], [`lstm_tensors`] and [`gru_tensors`] make them).
    pub fn new(backend: Backend, case: Case, tensors: &[Vec<f32>]) -> Self {
        let expected = match case {
            Case::Mlp16x32x32x4 => 6,
            Case::Lstm(_) => 3,
            Case::Gru(_) => 4,
            _ => 4,
        };
        assert_eq!(tensors.len(), expected, "{case:?}: tensors");
        let entry = entry(backend, case);
        let pointers: Vec<*const f32> = tensors.iter().map(|t| t.as_ptr()).collect();
        // SAFETY: `pointers` holds as many tensors as the case's constructor reads, each of the size its layer
        // reads (the callers convert whole generated layers of the same shape); the shim copies them.
        let ptr = unsafe { (entry.new)(pointers.as_ptr()) };
        assert!(!ptr.is_null());
        Self { ptr, entry, case }
    }

    /// Zeroes the model's state (the recurrent cells') and its position in the input signal.
    pub fn reset(&mut self) {
        // SAFETY: `ptr` is a live model of this entry's case.
        unsafe { (self.entry.reset)(self.ptr) }
    }

    /// One call on `x` (one step's input for a recurrent case), returning the outputs.
    pub fn forward(&mut self, x: &[f32]) -> Vec<f32> {
        assert_eq!(x.len(), self.case.inputs(), "{:?}: inputs", self.case);
        let mut out = vec![0.0; self.case.outputs()];
        // SAFETY: `x` holds the model's inputs and `out` its outputs.
        unsafe { (self.entry.forward)(self.ptr, x.as_ptr(), out.as_mut_ptr()) };
        out
    }

    /// `iters` calls in a C++ loop: on `x` for a dense case, on successive samples of `signal` (1024 values,
    /// wrapping) for a recurrent one, the state and position carried from call to call.
    pub fn run(&mut self, x: &[f32], iters: u64) {
        match self.case {
            Case::Lstm(_) | Case::Gru(_) => assert_eq!(x.len(), 1024, "the signal"),
            case => assert_eq!(x.len(), case.inputs(), "{case:?}: inputs"),
        }
        // SAFETY: `x` holds the model's inputs (a dense case reads as many as it has; the constructor's shape
        // matched them), or the 1024-sample signal the recurrent loop indexes with a mask.
        unsafe { (self.entry.run)(self.ptr, x.as_ptr(), iters) }
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from this entry's `new` and is freed once.
        unsafe { (self.entry.free)(self.ptr) }
    }
}

/// The tensors of a generated multilayer perceptron for RTNeural: per dense layer its weight `[out][in]`
/// (row-major) and its bias, in declaration order.
pub fn dense_tensors<N: Parameters<f32>>(net: &N) -> Vec<Vec<f32>> {
    let mut out = Vec::new();
    net.visit(|t| {
        if t.name.tensor == "weight" {
            let (rows, cols) = (t.rows, t.cols);
            out.push((0..rows * cols).map(|k| t.data[(k % cols) * rows + k / cols]).collect());
        } else {
            out.push(t.data.to_vec());
        }
    });
    out
}

/// The tensors of a generated LSTM layer for RTNeural: `W [in][4H]`, `U [H][4H]`, `b_ih + b_hh`.
pub fn lstm_tensors<const I: usize, const H: usize, const G: usize, const L: usize, const S: usize, const K: usize>(
    layer: &nn_core::layer::Lstm<f32, I, H, G, L, S, K>,
) -> Vec<Vec<f32>> {
    let bias = (layer.bias_ih + layer.bias_hh).as_slice().to_vec();
    vec![layer.weight_ih.as_slice().to_vec(), layer.weight_hh.as_slice().to_vec(), bias]
}

/// The tensors of a generated GRU layer for RTNeural: `W [in][3H]`, `U [H][3H]`, `b_ih`, `b_hh`, every row's
/// gate blocks reordered from PyTorch's r, z, n to Keras's z, r, n.
pub fn gru_tensors<const I: usize, const H: usize, const G: usize, const L: usize, const S: usize, const K: usize>(
    layer: &nn_core::layer::Gru<f32, I, H, G, L, S, K>,
) -> Vec<Vec<f32>> {
    // Column-major `3H x n` storage is `[n][3H]` row-major; swap the first two blocks of every row.
    let reorder = |data: &[f32]| -> Vec<f32> {
        data.chunks_exact(3 * H)
            .flat_map(|row| row[H..2 * H].iter().chain(&row[..H]).chain(&row[2 * H..]))
            .copied()
            .collect()
    };
    vec![
        reorder(layer.weight_ih.as_slice()),
        reorder(layer.weight_hh.as_slice()),
        reorder(layer.bias_ih.as_slice()),
        reorder(layer.bias_hh.as_slice()),
    ]
}
