//! Weights in and out as [safetensors](https://huggingface.co/docs/safetensors), with PyTorch `state_dict`
//! names and layouts, so a model trained here loads into the equivalent PyTorch model and back.
//!
//! Every parameter and every state tensor (batch norm's running statistics) is written under its dotted name
//! (`fc1.weight`, `bn1.running_var`). Matrices are written row-major with shape `[rows, cols]` (a dense weight is
//! PyTorch's `[out, in]`), vectors with shape `[n]`; the scalar type is the network's (`F32` or `F64`).
//!
//! Loading validates the whole file before changing anything: a missing tensor, an unexpected one, a wrong shape
//! or dtype, a truncated file or a corrupt header is an [`Err`] naming the tensor, both shapes or the problem,
//! and the network is left as it was. [`Policy::Lenient`] accepts missing and extra tensors instead (reporting
//! them). A NaN or infinite value is an error under [`Policy::Strict`] (unless allowed with
//! [`Policy::allow_non_finite`]) and counted in the report under [`Policy::Lenient`]. PyTorch's
//! `num_batches_tracked` counter of a batch-norm layer (an `I64` scalar) is accepted and ignored where the network
//! has that batch-norm layer; anywhere else it is a tensor like any other the network lacks.

use crate::float::Float;
use crate::params::{Layout, Parameters, Shape, Tensor};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

/// What to do with tensors the file and the network do not share.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// Every tensor of the network must be in the file and nothing else may be (the default).
    #[default]
    Strict,
    /// Missing tensors keep their current values and extra ones are ignored; both are listed in the report.
    Lenient,
}

impl Policy {
    /// This policy, with NaN and infinite values loaded (and counted in the report) instead of refused.
    ///
    /// ```
    /// use nn_core::io::{LoadOptions, NonFinite, Policy};
    ///
    /// let options = Policy::Strict.allow_non_finite();
    /// assert_eq!(options, LoadOptions { policy: Policy::Strict, non_finite: NonFinite::Allow });
    /// ```
    pub fn allow_non_finite(self) -> LoadOptions {
        LoadOptions { policy: self, non_finite: NonFinite::Allow }
    }
}

/// What a load does with NaN and infinite values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NonFinite {
    /// The load fails with [`WeightsError::NonFinite`], naming the tensor and the position.
    #[default]
    Reject,
    /// They are loaded, and [`LoadReport::non_finite`] counts them per tensor.
    Allow,
}

/// How to load: which tensors must match ([`Policy`]) and what to do with NaN and infinite values. A [`Policy`]
/// converts into the options it implies: [`Policy::Strict`] rejects non-finite values, [`Policy::Lenient`] loads
/// and counts them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Which tensors must match.
    pub policy: Policy,
    /// What to do with NaN and infinite values.
    pub non_finite: NonFinite,
}

impl From<Policy> for LoadOptions {
    fn from(policy: Policy) -> Self {
        let non_finite = match policy {
            Policy::Strict => NonFinite::Reject,
            Policy::Lenient => NonFinite::Allow,
        };
        LoadOptions { policy, non_finite }
    }
}

/// What a load did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Tensors read from the file.
    pub loaded: usize,
    /// Network tensors the file lacked (only under [`Policy::Lenient`]).
    pub missing: Vec<String>,
    /// File tensors the network lacks (only under [`Policy::Lenient`]; the `num_batches_tracked` counter of a
    /// batch-norm layer the network has is not listed).
    pub unexpected: Vec<String>,
    /// Tensors loaded with NaN or infinite values, and how many each holds (only when they are allowed:
    /// [`Policy::Lenient`], or [`Policy::allow_non_finite`]).
    pub non_finite: Vec<(String, usize)>,
}

/// Why weights could not be loaded or saved.
#[derive(Debug)]
#[non_exhaustive]
pub enum WeightsError {
    /// The bytes are not a safetensors file, or its header is corrupt or truncated (the parser's message).
    Format(String),
    /// A tensor's data runs past the end of the file (a truncated file).
    Truncated {
        /// The tensor.
        name: String,
        /// Bytes the header promises for the data section.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// The network has a tensor the file lacks.
    Missing {
        /// The tensor.
        name: String,
    },
    /// The file has a tensor the network lacks.
    Unexpected {
        /// The tensor.
        name: String,
    },
    /// A tensor has another shape in the file than in the network.
    Shape {
        /// The tensor.
        name: String,
        /// The network's shape.
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },
    /// A tensor has another element type in the file than the network's scalar.
    Dtype {
        /// The tensor.
        name: String,
        /// The network's type (`F32` or `F64`).
        expected: String,
        /// The file's type.
        found: String,
    },
    /// A tensor holds a NaN or infinite value (refused unless allowed: see [`NonFinite`]).
    NonFinite {
        /// The tensor.
        name: String,
        /// The first such value's position, one index per dimension of the file's shape (row-major).
        position: Vec<usize>,
        /// The value.
        value: f64,
        /// How many of the tensor's values are not finite.
        count: usize,
    },
    /// An int8 tensor's quantisation is unusable: a scale that is not positive and finite, a zero point
    /// outside `i8`, or a layer whose calibration saw no finite value.
    Quantization {
        /// The tensor or layer.
        name: String,
        /// What is wrong.
        what: String,
    },
    /// Reading or writing the file failed.
    #[cfg(feature = "std")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightsError::Format(m) => write!(f, "not a valid safetensors file: {m}"),
            WeightsError::Truncated { name, expected, found } => {
                write!(f, "truncated file: tensor `{name}` needs {expected} bytes of data, the file has {found}")
            }
            WeightsError::Missing { name } => write!(f, "tensor `{name}` is missing from the file"),
            WeightsError::Unexpected { name } => {
                write!(f, "the file has a tensor `{name}` that the network does not (load leniently to ignore it)")
            }
            WeightsError::Shape { name, expected, found } => {
                write!(f, "tensor `{name}` has shape {found:?} in the file, the network needs {expected:?}")
            }
            WeightsError::Dtype { name, expected, found } => {
                write!(f, "tensor `{name}` is {found} in the file, the network needs {expected}")
            }
            WeightsError::NonFinite { name, position, value, count } => write!(
                f,
                "tensor `{name}` holds {value} at {position:?} ({count} non-finite value{} in all; load with \
                 `Policy::allow_non_finite` to accept them)",
                if *count == 1 { "" } else { "s" }
            ),
            WeightsError::Quantization { name, what } => write!(f, "`{name}`: {what}"),
            #[cfg(feature = "std")]
            WeightsError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for WeightsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WeightsError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The dtype of `T` in a safetensors file.
fn dtype<T: Float>() -> Dtype {
    if core::mem::size_of::<T>() == 4 { Dtype::F32 } else { Dtype::F64 }
}

/// Every tensor, parameters then state, as (name, tensor).
fn all<T: Float, P: Parameters<T>>(params: &P) -> Vec<(String, Tensor<'_, T>)> {
    let tensors = (0..P::TENSORS).filter_map(|i| params.tensor(i));
    let buffers = (0..P::BUFFERS).filter_map(|i| params.buffer(i));
    tensors.chain(buffers).map(|t| (t.name.to_string(), t)).collect()
}

/// The bytes of a tensor in the external (row-major, little-endian) layout.
fn external_bytes<T: Float>(t: &Tensor<'_, T>) -> Vec<u8> {
    let size = core::mem::size_of::<T>();
    let mut out = Vec::with_capacity(core::mem::size_of_val(t.data));
    let mut push = |v: T| {
        if size == 4 {
            out.extend_from_slice(&(v.to_f64() as f32).to_le_bytes());
        } else {
            out.extend_from_slice(&v.to_f64().to_le_bytes());
        }
    };
    match t.layout {
        Layout::Vector => t.data.iter().for_each(|&v| push(v)),
        Layout::Matrix | Layout::Kernel2d { .. } | Layout::Kernel1d { .. } => {
            for r in 0..t.rows {
                for c in 0..t.cols {
                    push(t.data[c * t.rows + r]);
                }
            }
        }
    }
    out
}

/// Serialises every parameter and state tensor of `params` as a safetensors file in memory.
///
/// Next to each batch norm's running statistics it writes PyTorch's `num_batches_tracked` counter (an `I64`
/// scalar, 0), so that PyTorch's strict `load_state_dict` finds every key it expects.
pub fn to_bytes<T: Float, P: Parameters<T>>(params: &P) -> Result<Vec<u8>, WeightsError> {
    let tensors = all(params);
    let mut bytes: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::with_capacity(tensors.len());
    for (name, t) in &tensors {
        bytes.push((name.clone(), dtype::<T>(), t.layout.shape(t.rows, t.cols).dims().to_vec(), external_bytes(t)));
        if let Some(layer) = name.strip_suffix(".running_mean") {
            let counter = alloc::format!("{layer}.num_batches_tracked");
            bytes.push((counter, Dtype::I64, Vec::new(), 0i64.to_le_bytes().to_vec()));
        }
    }
    let mut views = Vec::with_capacity(bytes.len());
    for (name, dtype, shape, data) in &bytes {
        let view = TensorView::new(*dtype, shape.clone(), data).map_err(|e| WeightsError::Format(e.to_string()))?;
        views.push((name.as_str(), view));
    }
    safetensors::serialize(views, None).map_err(|e| WeightsError::Format(e.to_string()))
}

/// Loads every parameter and state tensor of `params` from safetensors bytes, after validating the whole file.
/// `options` is a [`Policy`] or [`LoadOptions`].
pub fn from_bytes<T: Float, P: Parameters<T>>(
    params: &mut P,
    bytes: &[u8],
    options: impl Into<LoadOptions>,
) -> Result<LoadReport, WeightsError> {
    let LoadOptions { policy, non_finite } = options.into();
    let file = SafeTensors::deserialize(bytes).map_err(|e| match e {
        safetensors::SafeTensorError::MetadataIncompleteBuffer => {
            WeightsError::Format("the data section is shorter than the header says (truncated file)".to_string())
        }
        e => WeightsError::Format(e.to_string()),
    })?;
    let mut report = LoadReport::default();
    let names = all(params);
    // Validate everything first, so a failing load changes nothing.
    let mut plan: Vec<(usize, TensorView<'_>)> = Vec::new();
    for (i, (name, t)) in names.iter().enumerate() {
        let view = match file.tensor(name) {
            Ok(v) => v,
            Err(_) if policy == Policy::Lenient => {
                report.missing.push(name.clone());
                continue;
            }
            Err(_) => return Err(WeightsError::Missing { name: name.clone() }),
        };
        let expected: Shape = t.layout.shape(t.rows, t.cols);
        if view.shape() != expected.dims() {
            return Err(WeightsError::Shape {
                name: name.clone(),
                expected: expected.dims().to_vec(),
                found: view.shape().to_vec(),
            });
        }
        if view.dtype() != dtype::<T>() {
            return Err(WeightsError::Dtype {
                name: name.clone(),
                expected: dtype::<T>().to_string(),
                found: view.dtype().to_string(),
            });
        }
        let need = core::mem::size_of_val(t.data);
        if view.data().len() != need {
            return Err(WeightsError::Truncated { name: name.clone(), expected: need, found: view.data().len() });
        }
        let bad = values::<T>(&view).filter(|v| !v.is_finite()).count();
        if bad > 0 {
            if non_finite == NonFinite::Reject {
                let (k, value) = values::<T>(&view).enumerate().find(|(_, v)| !v.is_finite()).unwrap_or_default();
                let position = unravel(k, view.shape());
                return Err(WeightsError::NonFinite {
                    name: name.clone(),
                    position,
                    value: value.to_f64(),
                    count: bad,
                });
            }
            report.non_finite.push((name.clone(), bad));
        }
        plan.push((i, view));
    }
    let known = |n: &str| names.iter().any(|(k, _)| k == n);
    for name in file.names() {
        if known(name) {
            continue;
        }
        // PyTorch's counter of a batch-norm layer the network has: an `I64` scalar, ignored.
        if let Some(layer) = name.strip_suffix(".num_batches_tracked")
            && known(&alloc::format!("{layer}.running_mean"))
        {
            let view = file.tensor(name).map_err(|e| WeightsError::Format(e.to_string()))?;
            if !view.shape().is_empty() {
                return Err(WeightsError::Shape {
                    name: name.to_string(),
                    expected: Vec::new(),
                    found: view.shape().to_vec(),
                });
            }
            if view.dtype() != Dtype::I64 {
                return Err(WeightsError::Dtype {
                    name: name.to_string(),
                    expected: Dtype::I64.to_string(),
                    found: view.dtype().to_string(),
                });
            }
            continue;
        }
        match policy {
            Policy::Strict => return Err(WeightsError::Unexpected { name: name.to_string() }),
            Policy::Lenient => report.unexpected.push(name.to_string()),
        }
    }
    report.unexpected.sort();
    drop(names);

    for (i, view) in plan {
        let tensor = if i < P::TENSORS { params.tensor_mut(i) } else { params.buffer_mut(i - P::TENSORS) };
        let Some(t) = tensor else { continue };
        let values = values::<T>(&view);
        match t.layout {
            Layout::Vector => t.data.iter_mut().zip(values).for_each(|(d, v)| *d = v),
            Layout::Matrix | Layout::Kernel2d { .. } | Layout::Kernel1d { .. } => {
                // Row-major outside, column-major here.
                for (k, v) in values.enumerate() {
                    let (r, c) = (k / t.cols, k % t.cols);
                    t.data[c * t.rows + r] = v;
                }
            }
        }
        report.loaded += 1;
    }
    Ok(report)
}

/// The values of a tensor whose dtype and size were checked against `T`, in the file's (row-major) order.
fn values<'a, T: Float>(view: &'a TensorView<'_>) -> impl Iterator<Item = T> + 'a {
    view.data().chunks_exact(core::mem::size_of::<T>()).map(|b| {
        if b.len() == 4 {
            T::from_f64(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        } else {
            T::from_f64(f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        }
    })
}

/// The row-major position of element `k` in a tensor of `shape`.
fn unravel(mut k: usize, shape: &[usize]) -> Vec<usize> {
    let mut position = alloc::vec![0; shape.len()];
    for (p, &n) in position.iter_mut().zip(shape).rev() {
        *p = k % n.max(1);
        k /= n.max(1);
    }
    position
}

/// Writes `params` to `path` as safetensors. The file is written next to its destination under a temporary
/// name of its own and renamed over it only when complete and synced, so an interrupted save never leaves a
/// half-written file in place of a good one, and saves racing to one path (threads or processes) leave one of
/// the complete files.
#[cfg(feature = "std")]
pub fn save<T: Float, P: Parameters<T>>(params: &P, path: impl AsRef<std::path::Path>) -> Result<(), WeightsError> {
    write_atomically(path.as_ref(), &to_bytes(params)?)
}

/// Writes `bytes` to `path` as [`save`] does: under a temporary name of its own, synced, then renamed over it.
#[cfg(feature = "std")]
pub(crate) fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), WeightsError> {
    use std::io::Write;
    /// Saves made by this process so far: with the process id, a temporary name no other save uses.
    static SAVES: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
    let io = |source| WeightsError::Io { path: path.to_path_buf(), source };
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // Created only if new: a leftover of a crashed process that had the same id is never written into (the
    // next number is tried).
    let (tmp, mut file) = loop {
        let n = SAVES.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_file_name(alloc::format!(".{file_name}.{}.{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => break (tmp, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(e)),
        }
    };
    let result = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Reads `path` and loads it into `params` (see [`from_bytes`]); `options` is a [`Policy`] or [`LoadOptions`].
#[cfg(feature = "std")]
pub fn load<T: Float, P: Parameters<T>>(
    params: &mut P,
    path: impl AsRef<std::path::Path>,
    options: impl Into<LoadOptions>,
) -> Result<LoadReport, WeightsError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| WeightsError::Io { path: path.to_path_buf(), source })?;
    from_bytes(params, &bytes, options)
}
