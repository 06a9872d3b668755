//! Reading a [`Table`] from NumPy `.npy` and `.npz` files: a 2-D array of features and a 1-D array of labels,
//! with dtypes and shapes checked and named in every error.

use std::format;
use std::io::Read;
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use super::table::{Target, count};
use super::{DataError, Location, Table};
use npyz::{DType, NpyFile, Order, TypeChar};

/// One array read from a file: its values as `f64` in C order, its shape and dtype.
struct Array {
    values: Vec<f64>,
    shape: Vec<u64>,
    /// NumPy's spelling, `float64 (<f8)`.
    dtype: String,
    /// Whether the dtype is an integer or boolean one (labels that are classes).
    integral: bool,
    /// `x.npy` or `data.npz, array "x"`, for messages.
    name: String,
}

impl Array {
    /// `x.npy (float32 (<f4), shape [150, 4])`.
    fn describe(&self) -> String {
        format!("{} ({}, shape {:?})", self.name, self.dtype, self.shape)
    }
}

/// NumPy's name of a plain dtype, or `None` for one a table cannot hold.
fn numpy_name(c: TypeChar, size: u64) -> Option<&'static str> {
    Some(match (c, size) {
        (TypeChar::Float, 2) => "float16",
        (TypeChar::Float, 4) => "float32",
        (TypeChar::Float, 8) => "float64",
        (TypeChar::Int, 1) => "int8",
        (TypeChar::Int, 2) => "int16",
        (TypeChar::Int, 4) => "int32",
        (TypeChar::Int, 8) => "int64",
        (TypeChar::Uint, 1) => "uint8",
        (TypeChar::Uint, 2) => "uint16",
        (TypeChar::Uint, 4) => "uint32",
        (TypeChar::Uint, 8) => "uint64",
        (TypeChar::Bool, 1) => "bool",
        _ => return None,
    })
}

/// Reads one `.npy` array from `bytes` (the file, or a member of an `.npz`), `name` saying which for errors.
fn read_array(bytes: &[u8], path: &Path, name: String) -> Result<Array, DataError> {
    let malformed = |location, expected: String, found: String| DataError::Malformed {
        path: path.to_path_buf(),
        location,
        expected,
        found,
    };
    let npy = NpyFile::new(bytes)
        .map_err(|e| malformed(Location::Byte(0), format!("a NumPy array header ({name})"), e.to_string()))?;
    let header_len = header_len(bytes);
    let shape = npy.shape().to_vec();
    let DType::Plain(ty) = npy.dtype() else {
        let expected = "a plain numeric dtype (float, int, uint or bool)".into();
        return Err(DataError::Mismatch {
            data: format!("{name} (shape {shape:?})"),
            expected,
            found: "a structured dtype".into(),
        });
    };
    let Some(numpy) = numpy_name(ty.type_char(), ty.size_field()).filter(|n| *n != "float16") else {
        let expected = "float32, float64, an integer or a bool dtype".into();
        return Err(DataError::Mismatch {
            data: format!("{name} (shape {shape:?})"),
            expected,
            found: format!("dtype {ty}"),
        });
    };
    let fortran = npy.order() == Order::Fortran;
    let truncated = |e: std::io::Error| {
        let expected = format!("{} of {numpy} after the header ({name})", count(npy_len(&shape), "value"));
        malformed(Location::Byte(header_len), expected, e.to_string())
    };
    let values: Vec<f64> = match (ty.type_char(), ty.size_field()) {
        (TypeChar::Float, 4) => npy.into_vec::<f32>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Float, _) => npy.into_vec::<f64>().map_err(truncated)?,
        (TypeChar::Int, 1) => npy.into_vec::<i8>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Int, 2) => npy.into_vec::<i16>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Int, 4) => npy.into_vec::<i32>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Int, _) => npy.into_vec::<i64>().map_err(truncated)?.into_iter().map(|v| v as f64).collect(),
        (TypeChar::Uint, 1) => npy.into_vec::<u8>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Uint, 2) => npy.into_vec::<u16>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Uint, 4) => npy.into_vec::<u32>().map_err(truncated)?.into_iter().map(f64::from).collect(),
        (TypeChar::Uint, _) => npy.into_vec::<u64>().map_err(truncated)?.into_iter().map(|v| v as f64).collect(),
        _ => npy.into_vec::<bool>().map_err(truncated)?.into_iter().map(|b| f64::from(u8::from(b))).collect(),
    };
    let values = if fortran && shape.len() == 2 {
        // Column-major on disk: to rows.
        let (r, c) = (shape[0] as usize, shape[1] as usize);
        (0..r * c).map(|i| values[(i % c) * r + i / c]).collect()
    } else {
        values
    };
    let integral = matches!(ty.type_char(), TypeChar::Int | TypeChar::Uint | TypeChar::Bool);
    Ok(Array { values, shape, dtype: format!("{numpy} ({ty})"), integral, name })
}

/// The bytes before a `.npy` file's data: magic (6), version (2), the header's length (2 bytes in version 1,
/// 4 after) and the header.
fn header_len(bytes: &[u8]) -> usize {
    let at = |i: usize| bytes.get(i).map_or(0, |&b| usize::from(b));
    if at(6) == 1 { 10 + (at(8) | at(9) << 8) } else { 12 + (at(8) | at(9) << 8 | at(10) << 16 | at(11) << 24) }
}

/// The product of a shape.
fn npy_len(shape: &[u64]) -> usize {
    shape.iter().product::<u64>() as usize
}

/// The table of `x` (features, `[rows, features]` or `[rows]`) and `y` (labels: integers or bools `[rows]` are
/// classes, floats `[rows]` or `[rows, targets]` regression targets), named after `x`, its dtype and shape.
fn table(x: Array, y: Array) -> Result<Table, DataError> {
    let rows = x.shape.first().copied().unwrap_or(0) as usize;
    let features = match x.shape.len() {
        1 => 1,
        2 => x.shape[1] as usize,
        _ => {
            let expected = "features of shape [rows, features]".into();
            return Err(DataError::Mismatch {
                data: x.describe(),
                expected,
                found: format!("{} dimensions", x.shape.len()),
            });
        }
    };
    let y_rows = y.shape.first().copied().unwrap_or(0) as usize;
    let width = match y.shape.len() {
        1 => 1,
        2 => y.shape[1] as usize,
        n => {
            let expected = "labels of shape [rows] (or targets [rows, targets])".into();
            return Err(DataError::Mismatch { data: y.describe(), expected, found: format!("{n} dimensions") });
        }
    };
    if y_rows != rows {
        let expected = format!("a label for each of the {} of {}", count(rows, "row"), x.describe());
        return Err(DataError::Mismatch { data: y.describe(), expected, found: count(y_rows, "row") });
    }
    let target = if y.integral {
        if width != 1 {
            let expected = "class labels of shape [rows]".into();
            return Err(DataError::Mismatch { data: y.describe(), expected, found: format!("{width} per row") });
        }
        if let Some(i) = y.values.iter().position(|&v| v < 0.0) {
            let expected = "class indices of at least 0".into();
            return Err(DataError::Mismatch {
                data: y.describe(),
                expected,
                found: format!("{} in row {i}", y.values[i]),
            });
        }
        let labels: Vec<usize> = y.values.iter().map(|&v| v as usize).collect();
        let classes = labels.iter().max().map_or(0, |m| m + 1);
        Target::Classes { labels, names: (0..classes).map(|c| c.to_string()).collect() }
    } else {
        Target::Values { values: y.values, width }
    };
    let names = (0..features).map(|i| format!("x{i}")).collect();
    Table::new(x.describe(), names, x.values, target)
}

/// A file's name for messages.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// A whole file.
fn read(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })
}

impl Table {
    /// Reads features and labels from two `.npy` files (`np.save`): features of shape `[rows, features]` (or
    /// `[rows]`, one feature) in any float or integer dtype; labels of shape `[rows]`, an integer or bool dtype
    /// for class indices, or a float dtype (`[rows]` or `[rows, targets]`) for regression targets. C and
    /// Fortran order are both read.
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] when a file cannot be read; [`DataError::Malformed`] when one is not a `.npy` file or
    /// its data is cut short; [`DataError::Mismatch`] naming the file, its dtype and shape for a dtype a table
    /// cannot hold (complex, strings, structured, float16), shapes of other dimensions, different numbers of
    /// rows, negative class indices or non-finite values.
    pub fn read_npy(features: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<Table, DataError> {
        let (fp, lp) = (features.as_ref(), labels.as_ref());
        let x = read_array(&read(fp)?, fp, file_name(fp))?;
        let y = read_array(&read(lp)?, lp, file_name(lp))?;
        table(x, y)
    }

    /// Reads features and labels from two arrays of one `.npz` file (`np.savez(path, x=..., y=...)`, compressed
    /// or not), named `features` and `labels`; each as in [`Table::read_npy`].
    ///
    /// # Errors
    ///
    /// As [`Table::read_npy`]; also [`DataError::Malformed`] when the file is not a zip archive, and
    /// [`DataError::Mismatch`] listing the arrays it has when one of the names is not there.
    pub fn read_npz(path: impl AsRef<Path>, features: &str, labels: &str) -> Result<Table, DataError> {
        let path = path.as_ref();
        let bytes = read(path)?;
        let malformed = |expected: &str, found: String| DataError::Malformed {
            path: path.to_path_buf(),
            location: Location::Byte(0),
            expected: expected.into(),
            found,
        };
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes[..]))
            .map_err(|e| malformed("a NumPy .npz (zip) file", e.to_string()))?;
        let mut have: Vec<String> =
            archive.file_names_raw().map(|n| String::from_utf8_lossy(n).trim_end_matches(".npy").to_string()).collect();
        have.sort();
        let mut member = |key: &str| -> Result<Array, DataError> {
            let entry = format!("{key}.npy");
            let mut file = archive.by_name(&entry).map_err(|_| DataError::Mismatch {
                data: file_name(path),
                expected: format!("an array named {key:?}"),
                found: format!("the arrays {have:?}"),
            })?;
            let mut data = Vec::new();
            file.read_to_end(&mut data).map_err(|e| malformed("a readable zip member", format!("{entry}: {e}")))?;
            read_array(&data, path, format!("{}, array {key:?}", file_name(path)))
        };
        let x = member(features)?;
        let y = member(labels)?;
        table(x, y)
    }
}
