//! Your own data as a [`Table`] (from arrays, CSV files with the `csv` feature, NumPy `.npy`/`.npz` files with
//! the `npy` feature; both on by default), with seeded stratified splits, [`Standardize`] and [`MinMax`] scaling
//! and conversion into a network's samples; and loaders for the real datasets bundled in the repository's
//! `data/` folder (needs the `std` feature).
//!
//! - [`load_digits`] reads `data/digits.csv.gz`: the UCI optical-digits test set (1,797 images of 8x8
//!   pixels with values 0..=16), one gzip-compressed CSV row per image, the 64 pixels then the label.
//! - [`load_mnist`] reads `data/mnist10k.bin.gz`: 10,000 MNIST digits (28x28 bytes) in a small binary
//!   format, shuffled once so that any fixed split is class-balanced.
//!
//! - [`load_text`] reads a gzip-compressed UTF-8 text such as `data/alice.txt.gz` (Lewis Carroll's *Alice's
//!   Adventures in Wonderland*, public domain); [`Text`] turns it into character ids and one-hot sequences
//!   for character-level language models.
//!
//! The image sets give a [`Dataset`]: features as `f32` scaled to `[0, 1]`, labels `0..=9`. The repository's
//! convention for a train/test split is a fixed cut with [`Dataset::split`]: MNIST's first 8,000 samples
//! train and the last 2,000 test; the digits' first 1,437 (80 %) train and the last 360 test. The digits
//! rows are in their original order (0, 1, 2, ..., 9, 0, 1, ...), which makes that cut class-balanced too.
//!
//! `data/README.md` records where each file comes from, its licence, the script that made it, its format
//! and its checksum.
//!
//! Every failure — a missing file, a stream that is not gzip, a malformed row or header, a truncated file —
//! is a [`DataError`] naming the path and, for bad content, the line or byte offset; nothing panics on bad
//! input.
//!
//! ```no_run
//! use nn_core::data::load_mnist;
//!
//! let mnist = load_mnist("data/mnist10k.bin.gz")?;
//! let (train, test) = mnist.split(8_000);
//! let train = train.pairs::<f32, 784, 10>()?; // (input, one-hot target) pairs
//! assert_eq!((train.len(), test.len()), (8_000, 2_000));
//! # Ok::<(), nn_core::data::DataError>(())
//! ```

use core::fmt;
use std::format;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::string::String;
use std::vec::Vec;

use crate::Float;
use nalgebra::SVector;

#[cfg(feature = "csv")]
mod from_csv;
#[cfg(feature = "npy")]
mod from_npy;
mod scale;
mod table;

#[cfg(feature = "csv")]
pub use from_csv::{Column, CsvOptions};
pub use scale::{MinMax, Standardize};
pub use table::{Table, Target};

/// Number of classes of both bundled datasets (the digits 0 to 9).
const CLASSES: usize = 10;

/// Pixels per digits image (8x8).
const DIGITS_FEATURES: usize = 64;

/// Largest pixel value of the digits set (the count of ink pixels in a 4x4 block).
const DIGITS_MAX: u8 = 16;

/// Magic bytes that open an uncompressed MNIST file.
const MNIST_MAGIC: &[u8; 8] = b"NNMNIST1";

/// Bytes before the labels: the magic and three `u32` (count, rows, cols).
const MNIST_HEADER: usize = 20;

/// Limit on the decompressed size of a file, so a corrupt or hostile stream cannot exhaust memory.
const MAX_DECOMPRESSED: u64 = 1 << 30;

/// A labelled classification dataset held in memory.
///
/// Sample `i` has [`features()`](Self::features) values in `[0, 1]` ([`pixels(i)`](Self::pixels)) and a
/// label below [`classes()`](Self::classes) ([`label(i)`](Self::label)).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    features: usize,
    classes: usize,
    pixels: Vec<f32>,
    labels: Vec<u8>,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// `true` when there is no sample (only possible after a [`split`](Self::split)).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of features (pixels) of each sample: 64 for the digits, 784 for MNIST.
    pub fn features(&self) -> usize {
        self.features
    }

    /// Number of classes: labels are `0..classes()`. Both bundled datasets have 10.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The label of sample `i`.
    ///
    /// # Panics
    ///
    /// When `i >= len()`, like slice indexing.
    pub fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }

    /// All labels, in sample order.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The features of sample `i`, scaled to `[0, 1]` (row-major for images).
    ///
    /// # Panics
    ///
    /// When `i >= len()`, like slice indexing.
    pub fn pixels(&self, i: usize) -> &[f32] {
        &self.pixels[i * self.features..(i + 1) * self.features]
    }

    /// The first `at` samples and the rest, in order; `at` is clamped to [`len()`](Self::len), so either part
    /// may be empty.
    pub fn split(&self, at: usize) -> (Dataset, Dataset) {
        let at = at.min(self.len());
        let cut = at * self.features;
        let part = |pixels: &[f32], labels: &[u8]| Dataset {
            features: self.features,
            classes: self.classes,
            pixels: pixels.to_vec(),
            labels: labels.to_vec(),
        };
        (part(&self.pixels[..cut], &self.labels[..at]), part(&self.pixels[cut..], &self.labels[at..]))
    }

    /// The same samples in an order drawn from `seed` (a Fisher-Yates shuffle with [`crate::SeededRng`]): the
    /// same seed gives the same order on every platform, so a split of the result is a fixed random split.
    #[must_use]
    pub fn shuffled(&self, seed: u64) -> Dataset {
        use rand::seq::SliceRandom;
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut crate::seeded_rng(seed));
        let mut pixels = Vec::with_capacity(self.pixels.len());
        for &i in &order {
            pixels.extend_from_slice(self.pixels(i));
        }
        Dataset {
            features: self.features,
            classes: self.classes,
            pixels,
            labels: order.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// The same samples as a [`Table`] (features as `f64`, the labels as classes `0..classes()`), to split,
    /// scale and convert like any other table.
    pub fn table(&self) -> Table {
        let names = (0..self.features).map(|i| format!("x{i}")).collect();
        let labels = self.labels.iter().map(|&l| usize::from(l)).collect();
        let classes = (0..self.classes).map(|c| format!("{c}")).collect();
        Table {
            source: String::from("the bundled dataset"),
            names,
            values: self.pixels.iter().map(|&v| f64::from(v)).collect(),
            target: Target::Classes { labels, names: classes },
        }
    }

    /// Every sample as an `(input, target)` pair of vectors: the features converted to `T`, and a one-hot
    /// target with `1` at the label's index.
    ///
    /// `I` must equal [`features()`](Self::features) and `O` be at least [`classes()`](Self::classes) (any
    /// outputs beyond the classes stay `0`); otherwise the result is [`DataError::SizeMismatch`].
    #[allow(clippy::type_complexity)] // the signature spells out the pair type on purpose
    pub fn pairs<T: Float, const I: usize, const O: usize>(
        &self,
    ) -> Result<Vec<(SVector<T, I>, SVector<T, O>)>, DataError> {
        if I != self.features || O < self.classes {
            return Err(DataError::SizeMismatch {
                inputs: I,
                outputs: O,
                features: self.features,
                classes: self.classes,
            });
        }
        let mut out = Vec::with_capacity(self.len());
        for (i, &label) in self.labels.iter().enumerate() {
            let pixels = self.pixels(i);
            let input = SVector::<T, I>::from_fn(|r, _| T::from_f64(f64::from(pixels[r])));
            let mut target = SVector::<T, O>::zeros();
            target[usize::from(label)] = T::one();
            out.push((input, target));
        }
        Ok(out)
    }
}

/// Where in a file's (decompressed) content a [`DataError::Malformed`] was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// A 1-based line of a text file.
    Line(usize),
    /// A 0-based byte offset into a binary file's decompressed content.
    Byte(usize),
    /// A 1-based line and 1-based column (field) of a CSV file.
    Cell {
        /// The line.
        line: usize,
        /// The field, counted from 1.
        column: usize,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Byte(n) => write!(f, "byte {n}"),
            Location::Cell { line, column } => write!(f, "line {line}, column {column}"),
        }
    }
}

/// Why a dataset could not be loaded or converted.
#[derive(Debug)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The file is not gzip, or its compressed stream is corrupt, truncated or implausibly large.
    Compressed {
        /// The file.
        path: PathBuf,
        /// What the decompressor said.
        source: io::Error,
    },
    /// The decompressed content does not follow the format.
    Malformed {
        /// The file.
        path: PathBuf,
        /// Where the problem is.
        location: Location,
        /// What the format requires there.
        expected: String,
        /// What the file has instead.
        found: String,
    },
    /// Data whose sizes, types or values are not what was asked of it: a [`Table`] made of arrays of
    /// different lengths, a NumPy array of another dtype or shape, a table whose features are not a network's
    /// inputs. Names the data (`"wine.npy (float64 (<f8), shape [178, 13])"`), what was expected and what was
    /// found.
    Mismatch {
        /// The data: a file, an array of one, or `"arrays"`.
        data: String,
        /// What it must be.
        expected: String,
        /// What it is.
        found: String,
    },
    /// [`Dataset::pairs`] was asked for vectors whose sizes do not fit the dataset.
    SizeMismatch {
        /// The requested input size `I`.
        inputs: usize,
        /// The requested target size `O`.
        outputs: usize,
        /// The dataset's features per sample, which `I` must equal.
        features: usize,
        /// The dataset's classes, which `O` must reach.
        classes: usize,
    },
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            DataError::Compressed { path, source } => {
                write!(f, "{} is not a valid gzip file: {source}", path.display())
            }
            DataError::Malformed { path, location, expected, found } => {
                write!(f, "{}, {location}: expected {expected}, found {found}", path.display())
            }
            DataError::Mismatch { data, expected, found } => write!(f, "{data}: expected {expected}, found {found}"),
            DataError::SizeMismatch { inputs, outputs, features, classes } => write!(
                f,
                "cannot make pairs of {inputs} inputs and {outputs} outputs from a dataset of {features} \
                 features and {classes} classes (inputs must equal features, outputs must be at least classes)"
            ),
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DataError::Io { source, .. } | DataError::Compressed { source, .. } => Some(source),
            DataError::Malformed { .. } | DataError::Mismatch { .. } | DataError::SizeMismatch { .. } => None,
        }
    }
}

/// Reads a whole gzip file and returns its decompressed content.
fn read_gzip(path: &Path) -> Result<Vec<u8>, DataError> {
    let compressed = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let compressed_err = |source| DataError::Compressed { path: path.to_path_buf(), source };
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(compressed_err)?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        let message = format!("decompresses to more than {MAX_DECOMPRESSED} bytes");
        return Err(compressed_err(io::Error::new(io::ErrorKind::InvalidData, message)));
    }
    Ok(out)
}

/// A short, quoted rendering of untrusted text for an error message.
fn quoted(text: &str) -> String {
    const MAX: usize = 32;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{:?}...", &text[..end]),
        None => format!("{text:?}"),
    }
}

/// Parses a CSV field as an integer in `0..=max`; accepts `7`, `7.0` and surrounding spaces.
fn parse_small(field: &str, max: u8) -> Option<u8> {
    let field = field.trim();
    if let Ok(v) = field.parse::<u8>() {
        return (v <= max).then_some(v);
    }
    let v = field.parse::<f64>().ok()?;
    // The range check rejects NaN and infinities; the cast is exact for an integral value in range.
    (v.fract() == 0.0 && (0.0..=f64::from(max)).contains(&v)).then_some(v as u8)
}

/// Loads the 8x8 digits from a gzip-compressed CSV such as the bundled `data/digits.csv.gz`.
///
/// Each non-blank line holds 65 comma-separated integers: 64 pixels in `0..=16` (row-major), then the label
/// in `0..=9`. Pixels are scaled by `1/16`. At least one row is required; blank lines are skipped.
///
/// # Errors
///
/// [`DataError::Io`] when the file cannot be read, [`DataError::Compressed`] when it is not valid gzip, and
/// [`DataError::Malformed`] (with the line number) for text that is not UTF-8, a row without 65 values, a
/// value that is not an integer in range, or a file without rows.
pub fn load_digits(path: impl AsRef<Path>) -> Result<Dataset, DataError> {
    let path = path.as_ref();
    let bytes = read_gzip(path)?;
    let malformed = |location, expected: &str, found: String| DataError::Malformed {
        path: path.to_path_buf(),
        location,
        expected: expected.into(),
        found,
    };
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        malformed(Location::Line(line), "UTF-8 text", format!("an invalid byte at offset {}", e.valid_up_to()))
    })?;

    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = Location::Line(index + 1);
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != DIGITS_FEATURES + 1 {
            return Err(malformed(at, "65 comma-separated values", format!("{} values", fields.len())));
        }
        for (column, field) in fields[..DIGITS_FEATURES].iter().enumerate() {
            let v = parse_small(field, DIGITS_MAX).ok_or_else(|| {
                malformed(at, "a pixel value 0..=16", format!("{} in column {}", quoted(field), column + 1))
            })?;
            pixels.push(f32::from(v) / f32::from(DIGITS_MAX));
        }
        let field = fields[DIGITS_FEATURES];
        let label = parse_small(field, (CLASSES - 1) as u8)
            .ok_or_else(|| malformed(at, "a label 0..=9 in column 65", quoted(field)))?;
        labels.push(label);
    }
    if labels.is_empty() {
        return Err(malformed(Location::Line(1), "at least one row", "no rows".into()));
    }
    Ok(Dataset { features: DIGITS_FEATURES, classes: CLASSES, pixels, labels })
}

/// Loads MNIST images from the gzip-compressed binary format of the bundled `data/mnist10k.bin.gz`.
///
/// The decompressed content is: the 8 bytes `NNMNIST1`; `count`, `rows` and `cols` as little-endian `u32`;
/// `count` label bytes (`0..=9`); then `count * rows * cols` pixel bytes, image after image, row-major.
/// Pixels are scaled by `1/255`. `count`, `rows` and `cols` must be non-zero and nothing may follow the
/// pixels.
///
/// # Errors
///
/// [`DataError::Io`] when the file cannot be read, [`DataError::Compressed`] when it is not valid gzip, and
/// [`DataError::Malformed`] (with the byte offset into the decompressed content) for a wrong magic, a bad or
/// inconsistent header, a label above 9, a truncated file or trailing bytes.
pub fn load_mnist(path: impl AsRef<Path>) -> Result<Dataset, DataError> {
    let path = path.as_ref();
    let bytes = read_gzip(path)?;
    let malformed = |offset, expected: String, found: String| DataError::Malformed {
        path: path.to_path_buf(),
        location: Location::Byte(offset),
        expected,
        found,
    };
    if bytes.len() < MNIST_HEADER {
        return Err(malformed(
            bytes.len(),
            format!("a {MNIST_HEADER}-byte header"),
            format!("end of data after {} bytes", bytes.len()),
        ));
    }
    if &bytes[..8] != MNIST_MAGIC {
        let found = format!("{:?}", String::from_utf8_lossy(&bytes[..8]));
        return Err(malformed(0, "the magic \"NNMNIST1\"".into(), found));
    }
    let field =
        |offset: usize| u32::from_le_bytes([bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]]);
    let header: [(usize, &str); 3] = [(8, "image count"), (12, "row count"), (16, "column count")];
    let mut dims = [0usize; 3];
    for (dim, (offset, what)) in dims.iter_mut().zip(header) {
        let value = field(offset);
        if value == 0 {
            return Err(malformed(offset, format!("a non-zero {what}"), "0".into()));
        }
        *dim = usize::try_from(value)
            .map_err(|_| malformed(offset, format!("a {what} this platform can address"), format!("{value}")))?;
    }
    let [count, rows, cols] = dims;
    let too_large = || malformed(8, "sizes whose product fits in memory".into(), format!("{count} x {rows} x {cols}"));
    let features = rows.checked_mul(cols).ok_or_else(too_large)?;
    let expected_len = count
        .checked_mul(features)
        .and_then(|n| n.checked_add(count))
        .and_then(|n| n.checked_add(MNIST_HEADER))
        .ok_or_else(too_large)?;
    if bytes.len() < expected_len {
        return Err(malformed(
            bytes.len(),
            format!("{expected_len} bytes for {count} images of {rows}x{cols} (truncated file?)"),
            format!("end of data after {} bytes", bytes.len()),
        ));
    }
    if bytes.len() > expected_len {
        let found = format!("{} trailing bytes", bytes.len() - expected_len);
        return Err(malformed(expected_len, "end of data".into(), found));
    }

    let labels = bytes[MNIST_HEADER..MNIST_HEADER + count].to_vec();
    if let Some(i) = labels.iter().position(|&l| usize::from(l) >= CLASSES) {
        let found = format!("{} (label of image {i})", labels[i]);
        return Err(malformed(MNIST_HEADER + i, "a label 0..=9".into(), found));
    }
    let pixels = bytes[MNIST_HEADER + count..].iter().map(|&p| f32::from(p) / 255.0).collect();
    Ok(Dataset { features, classes: CLASSES, pixels, labels })
}

/// Loads a gzip-compressed UTF-8 text, such as the bundled `data/alice.txt.gz`.
///
/// # Errors
///
/// [`DataError::Io`] when the file cannot be read, [`DataError::Compressed`] when it is not valid gzip, and
/// [`DataError::Malformed`] (with the byte offset) when the content is not UTF-8.
pub fn load_text(path: impl AsRef<Path>) -> Result<String, DataError> {
    let path = path.as_ref();
    let bytes = read_gzip(path)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let found = format!("{:?}", &e.as_bytes()[at..(at + 4).min(e.as_bytes().len())]);
        DataError::Malformed { path: path.to_path_buf(), location: Location::Byte(at), expected: "UTF-8".into(), found }
    })
}

/// A text as character ids over its own alphabet (the distinct characters, sorted), for character-level models.
///
/// ```
/// use nn_core::data::Text;
///
/// let text = Text::new("abracadabra");
/// assert_eq!(text.alphabet(), &['a', 'b', 'c', 'd', 'r']);
/// assert_eq!(&text.ids()[..4], &[0, 1, 4, 0]);
/// // Windows of 3 steps over an alphabet padded to 6: inputs "abr", "aca", ... and targets one step ahead.
/// let pairs = text.windows::<f32, 3, 6, 18>(3).unwrap();
/// assert_eq!(pairs.len(), 3);
/// assert_eq!(pairs[0].0[1 * 6 + 1], 1.0); // step 1 of the input is 'b'
/// assert_eq!(pairs[0].1[0 * 6 + 1], 1.0); // step 0 of the target is 'b' too
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    alphabet: Vec<char>,
    ids: Vec<usize>,
}

impl Text {
    /// The text's characters as ids into its sorted alphabet.
    pub fn new(text: &str) -> Text {
        let mut alphabet: Vec<char> = text.chars().collect();
        alphabet.sort_unstable();
        alphabet.dedup();
        let ids = text.chars().map(|c| alphabet.binary_search(&c).unwrap_or(0)).collect();
        Text { alphabet, ids }
    }

    /// The distinct characters, sorted; a character's id is its index here.
    pub fn alphabet(&self) -> &[char] {
        &self.alphabet
    }

    /// The text as ids.
    pub fn ids(&self) -> &[usize] {
        &self.ids
    }

    /// The id of `c`, if the text has it.
    pub fn id(&self, c: char) -> Option<usize> {
        self.alphabet.binary_search(&c).ok()
    }

    /// The character of `id`, if there is one.
    pub fn char(&self, id: usize) -> Option<char> {
        self.alphabet.get(id).copied()
    }

    /// Non-overlapping windows of `STEPS` characters every `stride` characters, one-hot over `V >= alphabet`
    /// classes and time-major (`N = STEPS * V` values): each input paired with the same window one character
    /// later, the next-character targets of a language model.
    ///
    /// # Errors
    ///
    /// [`DataError::SizeMismatch`] when `N` is not `STEPS * V` or `V` is smaller than the alphabet.
    #[allow(clippy::type_complexity)] // the signature spells out the pair type on purpose
    pub fn windows<T: Float, const STEPS: usize, const V: usize, const N: usize>(
        &self,
        stride: usize,
    ) -> Result<Vec<(SVector<T, N>, SVector<T, N>)>, DataError> {
        if N != STEPS * V || V < self.alphabet.len() || STEPS == 0 {
            return Err(DataError::SizeMismatch {
                inputs: N,
                outputs: V,
                features: STEPS * V,
                classes: self.alphabet.len(),
            });
        }
        let mut out = Vec::new();
        let mut start = 0;
        while start + STEPS < self.ids.len() {
            let (mut x, mut t) = (SVector::<T, N>::zeros(), SVector::<T, N>::zeros());
            for s in 0..STEPS {
                x[s * V + self.ids[start + s]] = T::one();
                t[s * V + self.ids[start + s + 1]] = T::one();
            }
            out.push((x, t));
            start += stride.max(1);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::string::ToString;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const DIGITS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits.csv.gz");
    const MNIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/mnist10k.bin.gz");
    const ALICE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/alice.txt.gz");

    #[test]
    fn the_bundled_text_loads_with_its_documented_size_and_alphabet() {
        let text = load_text(ALICE).unwrap();
        assert_eq!(text.len(), 148_476);
        assert!(text.trim_start().starts_with("ALICE'S ADVENTURES IN WONDERLAND"), "{:?}", &text[..40]);
        let t = Text::new(&text);
        assert_eq!(t.alphabet().len(), 71);
        assert_eq!(t.ids().len(), 148_476);
        let lower = Text::new(&text.to_lowercase());
        assert_eq!(lower.alphabet().len(), 45);
        assert!(t.windows::<f32, 4, 70, 280>(4).is_err());
    }

    #[test]
    fn text_that_is_not_utf8_is_an_error_with_its_offset() {
        let f = TempFile::gzipped("bad.txt.gz", b"caf\xe9 au lait");
        match load_text(&f.0) {
            Err(DataError::Malformed { location: Location::Byte(3), .. }) => {}
            other => panic!("{other:?}"),
        }
        let plain = TempFile::new("plain.txt", b"not gzip");
        assert!(matches!(load_text(&plain.0), Err(DataError::Compressed { .. })));
    }

    /// A file under the temporary folder, removed when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, content: &[u8]) -> TempFile {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("nn-core-data-{}-{n}-{name}", std::process::id()));
            std::fs::write(&path, content).unwrap();
            TempFile(path)
        }

        fn gzipped(name: &str, content: &[u8]) -> TempFile {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(content).unwrap();
            TempFile::new(name, &gz.finish().unwrap())
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn mnist_bytes(count: u32, rows: u32, cols: u32, labels: &[u8], pixels: &[u8]) -> Vec<u8> {
        let mut out = MNIST_MAGIC.to_vec();
        for v in [count, rows, cols] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(labels);
        out.extend_from_slice(pixels);
        out
    }

    fn class_counts(d: &Dataset) -> [usize; CLASSES] {
        let mut counts = [0; CLASSES];
        for &l in d.labels() {
            counts[usize::from(l)] += 1;
        }
        counts
    }

    #[test]
    fn bundled_digits() {
        let d = load_digits(DIGITS).unwrap();
        assert_eq!((d.len(), d.features(), d.classes()), (1797, 64, 10));
        assert_eq!(&d.labels()[..12], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
        // First row: raw values sum to 294, so 294 / 16 after scaling (exact in f32).
        assert_eq!(d.pixels(0).iter().sum::<f32>(), 18.375);
        assert_eq!(&d.pixels(0)[..4], &[0.0, 0.0, 5.0 / 16.0, 13.0 / 16.0]);
        assert!(d.pixels(1796).iter().all(|&p| (0.0..=1.0).contains(&p)));
        assert_eq!(class_counts(&d), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
        let (train, test) = d.split(1437);
        assert_eq!((train.len(), test.len()), (1437, 360));
        assert!(class_counts(&test).iter().all(|&n| (33..=37).contains(&n)), "{:?}", class_counts(&test));
        assert_eq!(test.pixels(0), d.pixels(1437));
    }

    #[test]
    fn bundled_mnist() {
        let d = load_mnist(MNIST).unwrap();
        assert_eq!((d.len(), d.features(), d.classes()), (10_000, 784, 10));
        assert_eq!(&d.labels()[..10], &[8, 0, 2, 0, 0, 0, 9, 6, 4, 1]);
        // First image: its bytes sum to 24984.
        let bytes: f32 = d.pixels(0).iter().map(|p| (p * 255.0).round()).sum();
        assert_eq!(bytes, 24_984.0);
        assert!((d.pixels(0).iter().sum::<f32>() - 24_984.0 / 255.0).abs() < 1e-3);
        assert_eq!(class_counts(&d), [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
        let (train, test) = d.split(8_000);
        assert_eq!((train.len(), test.len()), (8_000, 2_000));
        let counts = class_counts(&test);
        assert!(counts.iter().all(|&n| (150..=250).contains(&n)), "{counts:?}");
    }

    #[test]
    fn pairs_are_one_hot() {
        let d = load_digits(DIGITS).unwrap().split(20).0;
        let pairs = d.pairs::<f64, 64, 10>().unwrap();
        assert_eq!(pairs.len(), 20);
        for (i, (x, t)) in pairs.iter().enumerate() {
            assert_eq!(t.sum(), 1.0);
            assert_eq!(t[usize::from(d.label(i))], 1.0);
            assert_eq!(x[10], f64::from(d.pixels(i)[10]));
        }
        // Extra outputs are allowed and stay zero.
        let wide = d.pairs::<f32, 64, 12>().unwrap();
        assert_eq!(wide[0].1[11], 0.0);
    }

    #[test]
    fn pairs_size_mismatch() {
        let d = load_digits(DIGITS).unwrap();
        let e = d.pairs::<f32, 63, 10>().unwrap_err();
        assert!(matches!(e, DataError::SizeMismatch { inputs: 63, features: 64, .. }), "{e:?}");
        let message = e.to_string();
        assert!(message.contains("63") && message.contains("64"), "{message}");
        assert!(matches!(d.pairs::<f32, 64, 9>(), Err(DataError::SizeMismatch { outputs: 9, classes: 10, .. })));
    }

    #[test]
    fn split_clamps() {
        let d = load_digits(DIGITS).unwrap();
        let (all, none) = d.split(usize::MAX);
        assert_eq!((all.len(), none.len()), (1797, 0));
        assert!(none.is_empty() && !all.is_empty());
        assert_eq!(none.pairs::<f32, 64, 10>().unwrap().len(), 0);
        let (none, all) = d.split(0);
        assert_eq!((none.len(), all.len()), (0, 1797));
    }

    #[test]
    fn missing_file_is_io_error_naming_the_path() {
        let path = std::env::temp_dir().join(format!("nn-core-data-{}-missing.bin.gz", std::process::id()));
        for e in [load_mnist(&path).unwrap_err(), load_digits(&path).unwrap_err()] {
            assert!(matches!(&e, DataError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound));
            let message = e.to_string();
            assert!(message.starts_with("cannot read ") && message.contains(&*path.to_string_lossy()), "{message}");
            assert!(std::error::Error::source(&e).is_some());
        }
    }

    #[test]
    fn not_gzip() {
        let f = TempFile::new("plain.csv", b"0,0,0\n");
        let e = load_digits(&f.0).unwrap_err();
        assert!(matches!(e, DataError::Compressed { .. }), "{e:?}");
        assert!(e.to_string().contains("gzip"), "{e}");
        let e = load_mnist(&f.0).unwrap_err();
        assert!(matches!(e, DataError::Compressed { .. }), "{e:?}");
    }

    #[test]
    fn truncated_gzip_stream() {
        let compressed = std::fs::read(MNIST).unwrap();
        let f = TempFile::new("cut.bin.gz", &compressed[..compressed.len() / 2]);
        assert!(matches!(load_mnist(&f.0), Err(DataError::Compressed { .. })));
    }

    #[test]
    fn small_mnist_roundtrip() {
        let f = TempFile::gzipped("ok.bin.gz", &mnist_bytes(2, 1, 2, &[9, 0], &[0, 255, 51, 102]));
        let d = load_mnist(&f.0).unwrap();
        assert_eq!((d.len(), d.features(), d.labels()), (2, 2, &[9u8, 0][..]));
        assert_eq!(d.pixels(0), &[0.0, 1.0]);
        assert_eq!(d.pixels(1), &[0.2, 0.4]);
    }

    #[test]
    fn truncated_mnist() {
        let f = TempFile::gzipped("short.bin.gz", &mnist_bytes(3, 2, 2, &[1, 2, 3], &[7; 11]));
        let e = load_mnist(&f.0).unwrap_err();
        assert!(matches!(&e, DataError::Malformed { location: Location::Byte(34), .. }), "{e:?}");
        assert!(e.to_string().contains("35 bytes"), "{e}");
        let f = TempFile::gzipped("header.bin.gz", &MNIST_MAGIC[..]);
        assert!(matches!(load_mnist(&f.0), Err(DataError::Malformed { location: Location::Byte(8), .. })));
        let f = TempFile::gzipped("long.bin.gz", &mnist_bytes(1, 1, 1, &[1], &[7, 7]));
        assert!(matches!(load_mnist(&f.0), Err(DataError::Malformed { location: Location::Byte(22), .. })));
    }

    #[test]
    fn bad_mnist_headers() {
        let mut bytes = mnist_bytes(1, 1, 1, &[1], &[7]);
        bytes[..8].copy_from_slice(b"NNMNIST2");
        let f = TempFile::gzipped("magic.bin.gz", &bytes);
        let e = load_mnist(&f.0).unwrap_err();
        assert!(matches!(&e, DataError::Malformed { location: Location::Byte(0), .. }), "{e:?}");
        assert!(e.to_string().contains("NNMNIST2"), "{e}");

        let f = TempFile::gzipped("label.bin.gz", &mnist_bytes(2, 1, 1, &[1, 10], &[7, 7]));
        let e = load_mnist(&f.0).unwrap_err();
        assert!(matches!(&e, DataError::Malformed { location: Location::Byte(21), .. }), "{e:?}");

        let f = TempFile::gzipped("zero.bin.gz", &mnist_bytes(0, 28, 28, &[], &[]));
        assert!(matches!(load_mnist(&f.0), Err(DataError::Malformed { location: Location::Byte(8), .. })));

        // Sizes whose product overflows or is absurd must be an error, not an allocation or a panic.
        let f = TempFile::gzipped("huge.bin.gz", &mnist_bytes(u32::MAX, u32::MAX, u32::MAX, &[], &[]));
        assert!(matches!(load_mnist(&f.0), Err(DataError::Malformed { .. })));
    }

    #[test]
    fn bad_digits_rows() {
        let good = "0,".repeat(64) + "3";
        let bad_value = good.replacen("0,", "17,", 1);
        let f = TempFile::gzipped("value.csv.gz", format!("{good}\n{bad_value}\n").as_bytes());
        let e = load_digits(&f.0).unwrap_err();
        assert!(matches!(&e, DataError::Malformed { location: Location::Line(2), .. }), "{e:?}");
        let message = e.to_string();
        assert!(message.contains("line 2") && message.contains("\"17\"") && message.contains("0..=16"), "{message}");

        let f = TempFile::gzipped("label.csv.gz", (good.clone() + "\n" + &"0,".repeat(64) + "10").as_bytes());
        assert!(matches!(load_digits(&f.0), Err(DataError::Malformed { location: Location::Line(2), .. })));

        let f = TempFile::gzipped("columns.csv.gz", ("0,".repeat(63) + "3").as_bytes());
        let e = load_digits(&f.0).unwrap_err();
        assert!(e.to_string().contains("64 values"), "{e}");

        for (name, text) in [("word.csv.gz", good.replacen('0', "x", 1)), ("nan.csv.gz", good.replacen('0', "NaN", 1))]
        {
            let f = TempFile::gzipped(name, text.as_bytes());
            assert!(matches!(load_digits(&f.0), Err(DataError::Malformed { location: Location::Line(1), .. })));
        }

        let f = TempFile::gzipped("empty.csv.gz", b"\n\n");
        assert!(matches!(load_digits(&f.0), Err(DataError::Malformed { .. })));

        let f = TempFile::gzipped("utf8.csv.gz", &[b'0', b'\n', 0xff]);
        assert!(matches!(load_digits(&f.0), Err(DataError::Malformed { location: Location::Line(2), .. })));

        // Floats with an integral value and Windows line ends are accepted.
        let text = [good.replacen("0,", "16.0,", 1), good.clone()].join("\r\n");
        let f = TempFile::gzipped("crlf.csv.gz", text.as_bytes());
        let d = load_digits(&f.0).unwrap();
        assert_eq!((d.len(), d.pixels(0)[0], d.label(1)), (2, 1.0, 3));
    }
}
