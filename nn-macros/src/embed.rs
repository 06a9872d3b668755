//! Weights compiled in: the file named by `#[weights = "..."]` is read while the macro expands, checked tensor by
//! tensor against the declaration, and turned into constant data for code generation.

use crate::errors::Errors;
use crate::messages;
use crate::model::{Dim, Layer, Model};
use safetensors::tensor::{Dtype, SafeTensors};
use std::path::{Path, PathBuf};

/// The checked contents of a weights file.
pub struct Embedded {
    /// The file, absolute (for `include_bytes!`, which makes Cargo rebuild when it changes).
    pub path: PathBuf,
    /// For every layer with parameters, in order, its tensors' values in nalgebra's column-major order, each
    /// with its number of rows.
    pub layers: Vec<Vec<(Vec<f64>, usize)>>,
}

/// A tensor a layer expects: its name, its external shape, and whether it is a matrix.
pub struct Expected {
    /// The tensor's full name (`fc1.weight`).
    pub name: String,
    /// Its shape, in PyTorch's layout.
    pub shape: Vec<usize>,
    /// Whether it is a matrix (its values then turn column-major), else a vector.
    pub matrix: bool,
}

impl Expected {
    /// The layer's matrix `tensor` (`weight`), of `shape`.
    pub fn matrix(l: &Layer, tensor: &str, shape: Vec<usize>) -> Self {
        Expected { name: format!("{}.{tensor}", l.name), shape, matrix: true }
    }

    /// The layer's vector `tensor` (`bias`), of `n` values.
    pub fn vector(l: &Layer, tensor: &str, n: usize) -> Self {
        Expected { name: format!("{}.{tensor}", l.name), shape: vec![n], matrix: false }
    }
}

/// A literal size (the model refuses `#[weights]` with `const` sizes).
pub fn lit(d: &Dim) -> usize {
    match d {
        Dim::Lit(n) => *n,
        // The model refuses `#[weights]` with `const` sizes before this runs.
        Dim::Const(_) => 0,
    }
}

/// Reads and checks the file of `#[weights]`, resolved against `base` (the directory of the declaring file).
pub fn read(m: &Model, base: &Path) -> Result<Option<Embedded>, syn::Error> {
    let Some(lit_path) = &m.weights else { return Ok(None) };
    let shown = lit_path.value();
    let path = base.join(&shown);
    let bytes = std::fs::read(&path).map_err(|e| {
        syn::Error::new(lit_path.span(), messages::unreadable_weights(&shown, &path.display().to_string(), e))
    })?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| syn::Error::new(lit_path.span(), messages::not_safetensors(&shown, e)))?;
    let want = match m.scalar {
        crate::model::Scalar::F32 => Dtype::F32,
        crate::model::Scalar::F64 => Dtype::F64,
    };

    let mut errors = Errors::default();
    let mut layers = Vec::new();
    let mut known = Vec::new();
    for l in m.param_layers() {
        let mut tensors = Vec::new();
        for e in l.kind.tensors(l) {
            known.push(e.name.clone());
            let Ok(view) = file.tensor(&e.name) else {
                errors.at(lit_path, messages::missing_tensor(&e.name, &shown));
                continue;
            };
            if view.shape() != e.shape.as_slice() {
                errors.at(lit_path, messages::tensor_shape_differs(&e.name, view.shape(), &shown, &e.shape));
                continue;
            }
            if view.dtype() != want {
                let scalar = if want == Dtype::F32 { "f32" } else { "f64" };
                errors.at(lit_path, messages::tensor_dtype_differs(&e.name, view.dtype(), &shown, scalar));
                continue;
            }
            let values: Vec<f64> = match want {
                Dtype::F32 => view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                    .collect(),
                _ => view
                    .data()
                    .chunks_exact(8)
                    .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                    .collect(),
            };
            if let Some(k) = values.iter().position(|v| !v.is_finite()) {
                errors.at(lit_path, messages::non_finite_tensor(&e.name, values[k], k));
                continue;
            }
            let rows = e.shape[0];
            let cols = values.len() / rows.max(1);
            tensors.push((if e.matrix { column_major(&values, rows, cols) } else { values }, rows));
        }
        layers.push(tensors);
    }
    let is_known = |n: &str| known.iter().any(|k| k == n);
    let mut extra: Vec<&str> = file.names().into_iter().filter(|n| !is_known(n)).collect();
    extra.sort_unstable();
    for n in extra {
        // PyTorch's counter of a batch-norm layer the network has, an `I64` scalar: ignored.
        if let Some(layer) = n.strip_suffix(".num_batches_tracked")
            && is_known(&format!("{layer}.running_mean"))
            && let Ok(view) = file.tensor(n)
        {
            if !view.shape().is_empty() || view.dtype() != Dtype::I64 {
                errors.at(lit_path, messages::counter_not_an_i64_scalar(n, view.dtype(), view.shape(), &shown));
            }
            continue;
        }
        errors.at(lit_path, messages::undeclared_tensor(&shown, n, &m.name.to_string()));
    }
    errors.finish()?;
    let path = path.canonicalize().unwrap_or(path);
    Ok(Some(Embedded { path, layers }))
}

/// Row-major `[rows, cols]` values in nalgebra's column-major order.
fn column_major(v: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    (0..cols).flat_map(|c| (0..rows).map(move |r| v[r * cols + c])).collect()
}
