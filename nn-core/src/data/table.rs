//! [`Table`]: your own data, one row per sample, from arrays, CSV or NumPy files, typed into a network's
//! [`Sample`]s with the sizes checked once.

use core::fmt;
use std::collections::BTreeSet;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use super::DataError;
use crate::Float;
use crate::buffer::Buffer;
use crate::network::Network;
use crate::train::Sample;
use nalgebra::SVector;

/// What a [`Table`] holds besides its features: a class per row, or numbers to regress on.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// One class index per row, each below `names.len()` (the number of classes).
    Classes {
        /// The rows' classes.
        labels: Vec<usize>,
        /// The classes' names, in index order (`"0"`, `"1"`, ... for numeric labels).
        names: Vec<String>,
    },
    /// `width` numbers per row, row after row.
    Values {
        /// The targets, row-major.
        values: Vec<f64>,
        /// Targets per row.
        width: usize,
    },
}

/// A labelled table in memory: `len()` rows of `features()` finite numbers each, and a [`Target`] per row.
///
/// Made from arrays ([`Table::classification`], [`Table::from_rows`], [`Table::regression`]), from a CSV file
/// ([`Table::read_csv`]) or from NumPy files ([`Table::read_npy`], [`Table::read_npz`]); split with
/// [`Table::split`] (stratified by class, seeded), scaled with [`Standardize`](super::Standardize) or
/// [`MinMax`](super::MinMax) fitted on the training part, and typed into a network's samples by
/// [`Table::samples`], which checks the sizes once and names both when they differ.
///
/// ```
/// use nn_core::data::Table;
/// use nn_core::prelude::*;
///
/// network! { struct Net<f32> { input: 2, hidden: Dense(8), Tanh, out: Dense(2) } }
/// network! { struct Wide<f32> { input: 3, out: Dense(2) } }
///
/// let table = Table::from_rows(&[[0.0, 1.0], [1.0, 0.5], [0.2, 0.9], [0.9, 0.1]], &[0, 1, 0, 1])?;
/// let [train, test] = table.split([0.5, 0.5], 7)?; // one row of each class in each part
/// let train: Vec<Sample<Net>> = train.samples::<Net>()?; // inputs and one-hot targets
/// assert_eq!((train.len(), test.len()), (2, 2));
/// let e = table.samples::<Wide>().unwrap_err(); // sizes that do not fit are an error naming both
/// assert_eq!(e.to_string(), "arrays: expected the network's 3 inputs and 2 outputs, found 2 features and 2 classes (4 rows)");
/// # Ok::<(), nn_core::data::DataError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Where the rows came from, for error messages (`"wine.csv"`, `"arrays"`).
    pub(super) source: String,
    pub(super) names: Vec<String>,
    pub(super) values: Vec<f64>,
    pub(super) target: Target,
}

/// `"{n} {what}s"` with the plural only where it belongs.
pub(super) fn count(n: usize, what: &str) -> String {
    match (n, what.ends_with('s')) {
        (1, _) => format!("1 {what}"),
        (_, true) => format!("{n} {what}es"),
        _ => format!("{n} {what}s"),
    }
}

impl Table {
    /// The checked constructor every other one ends in.
    pub(super) fn new(
        source: String,
        names: Vec<String>,
        values: Vec<f64>,
        target: Target,
    ) -> Result<Table, DataError> {
        let mismatch = |expected: String, found: String| DataError::Mismatch { data: source.clone(), expected, found };
        let features = names.len();
        let rows = match &target {
            Target::Classes { labels, names: classes } => {
                if let Some((row, &label)) = labels.iter().enumerate().find(|(_, l)| **l >= classes.len()) {
                    let expected = format!("class indices below {}", classes.len());
                    return Err(mismatch(expected, format!("class {label} in row {row}")));
                }
                labels.len()
            }
            Target::Values { values: t, width } => {
                if *width == 0 || t.len() % width != 0 {
                    let expected = format!("rows of {}", count(*width, "target"));
                    return Err(mismatch(expected, count(t.len(), "target value")));
                }
                if let Some(i) = t.iter().position(|v| !v.is_finite()) {
                    let found = format!("{} in row {}", t[i], i / width);
                    return Err(mismatch("finite targets".into(), found));
                }
                t.len() / width
            }
        };
        if features == 0 {
            return Err(mismatch("at least one feature".into(), "none".into()));
        }
        if values.len() != rows * features {
            let expected =
                format!("{} of {} for {}", count(rows, "row"), count(features, "feature"), count(rows, "label"));
            return Err(mismatch(expected, count(values.len(), "feature value")));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            let found = format!("{} in row {}, feature {}", values[i], i / features, i % features);
            return Err(mismatch("finite features".into(), found));
        }
        Ok(Table { source, names, values, target })
    }

    /// A classification table of `features` numbers per row (`values`, row after row) and the rows' class
    /// indices; the classes are `0..=max(labels)`, named by their numbers.
    ///
    /// # Errors
    ///
    /// [`DataError::Mismatch`] when `values` is not `labels.len() * features` long, `features` is 0, or a
    /// value is not finite.
    pub fn classification(features: usize, values: Vec<f64>, labels: Vec<usize>) -> Result<Table, DataError> {
        let classes = labels.iter().max().map_or(0, |m| m + 1);
        let names = (0..features).map(|i| format!("x{i}")).collect();
        let target = Target::Classes { labels, names: (0..classes).map(|c| c.to_string()).collect() };
        Table::new("arrays".into(), names, values, target)
    }

    /// A classification table from rows of numbers (`f32`, `f64` or integers) and their class indices.
    ///
    /// # Errors
    ///
    /// As [`Table::classification`]; also when there are not as many labels as rows.
    pub fn from_rows<V: Copy + Into<f64>, const F: usize>(
        rows: &[[V; F]],
        labels: &[usize],
    ) -> Result<Table, DataError> {
        if rows.len() != labels.len() {
            let (expected, found) =
                (format!("a label for each of the {}", count(rows.len(), "row")), count(labels.len(), "label"));
            return Err(DataError::Mismatch { data: "arrays".into(), expected, found });
        }
        let values = rows.iter().flat_map(|r| r.iter().map(|&v| v.into())).collect();
        Table::classification(F, values, labels.to_vec())
    }

    /// A regression table: `features` numbers per row and `width` targets per row, both row after row.
    ///
    /// # Errors
    ///
    /// [`DataError::Mismatch`] when the lengths disagree or a number is not finite.
    pub fn regression(features: usize, values: Vec<f64>, width: usize, targets: Vec<f64>) -> Result<Table, DataError> {
        let names = (0..features).map(|i| format!("x{i}")).collect();
        Table::new("arrays".into(), names, values, Target::Values { values: targets, width })
    }

    /// The same rows with the classes named `names` (in index order), for a table whose labels are indices.
    ///
    /// # Errors
    ///
    /// [`DataError::Mismatch`] for a regression table, or fewer names than classes.
    pub fn with_class_names(mut self, names: &[&str]) -> Result<Table, DataError> {
        let classes = self.classes();
        match &mut self.target {
            Target::Classes { names: old, .. } if names.len() >= classes => {
                *old = names.iter().map(|s| s.to_string()).collect();
                Ok(self)
            }
            _ => Err(DataError::Mismatch {
                data: self.source.clone(),
                expected: format!("a name for each of the {}", count(classes, "class")),
                found: count(names.len(), "name"),
            }),
        }
    }

    /// Rows (samples).
    pub fn len(&self) -> usize {
        self.values.len() / self.names.len().max(1)
    }

    /// `true` without rows (possible after a [`split`](Self::split)).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Features per row.
    pub fn features(&self) -> usize {
        self.names.len()
    }

    /// The features' names: a CSV file's header, else `x0`, `x1`, ...
    pub fn feature_names(&self) -> &[String] {
        &self.names
    }

    /// Where the rows came from (a file name, or `"arrays"`), as error messages name it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Row `i`'s features.
    ///
    /// # Panics
    ///
    /// When `i >= len()`, like slice indexing.
    pub fn row(&self, i: usize) -> &[f64] {
        let f = self.features();
        &self.values[i * f..(i + 1) * f]
    }

    /// Every row's features, row after row.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The targets.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The number of classes (0 for a regression table).
    pub fn classes(&self) -> usize {
        match &self.target {
            Target::Classes { names, .. } => names.len(),
            Target::Values { .. } => 0,
        }
    }

    /// The classes' names in index order (empty for a regression table).
    pub fn class_names(&self) -> &[String] {
        match &self.target {
            Target::Classes { names, .. } => names,
            Target::Values { .. } => &[],
        }
    }

    /// Row `i`'s class, for a classification table.
    pub fn label(&self, i: usize) -> Option<usize> {
        match &self.target {
            Target::Classes { labels, .. } => labels.get(i).copied(),
            Target::Values { .. } => None,
        }
    }

    /// The class indices of every row (empty for a regression table).
    pub fn labels(&self) -> &[usize] {
        match &self.target {
            Target::Classes { labels, .. } => labels,
            Target::Values { .. } => &[],
        }
    }

    /// Rows per class, in class order (empty for a regression table).
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = std::vec![0; self.classes()];
        self.labels().iter().for_each(|&l| counts[l] += 1);
        counts
    }

    /// The rows `indices`, in that order (an index may repeat).
    ///
    /// # Panics
    ///
    /// When an index is not below `len()`, like slice indexing.
    pub fn select(&self, indices: &[usize]) -> Table {
        let mut values = Vec::with_capacity(indices.len() * self.features());
        indices.iter().for_each(|&i| values.extend_from_slice(self.row(i)));
        let target = match &self.target {
            Target::Classes { labels, names } => {
                Target::Classes { labels: indices.iter().map(|&i| labels[i]).collect(), names: names.clone() }
            }
            Target::Values { values: t, width } => Target::Values {
                values: indices.iter().flat_map(|&i| t[i * width..(i + 1) * width].iter().copied()).collect(),
                width: *width,
            },
        };
        Table { source: self.source.clone(), names: self.names.clone(), values, target }
    }

    /// The rows in an order drawn from `seed` (the same on every platform).
    #[must_use]
    pub fn shuffled(&self, seed: u64) -> Table {
        use rand::seq::SliceRandom;
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut crate::seeded_rng(seed));
        self.select(&order)
    }

    /// Splits the rows into `K` parts of the given fractions (`[0.6, 0.2, 0.2]`: train, validation, test),
    /// drawn with `seed`. A classification table is split class by class (stratified), so each part has the
    /// classes in the table's proportions, to a row; each part's rows are then shuffled. Sizes are rounded by
    /// largest remainder, so the parts always add up to the table.
    ///
    /// # Errors
    ///
    /// [`DataError::Mismatch`] when a fraction is negative or not finite, or they do not add up to 1 (within
    /// 1e-9).
    pub fn split<const K: usize>(&self, fractions: [f64; K], seed: u64) -> Result<[Table; K], DataError> {
        use rand::seq::SliceRandom;
        let sum: f64 = fractions.iter().sum();
        if K == 0 || fractions.iter().any(|f| !f.is_finite() || *f < 0.0) || (sum - 1.0).abs() > 1e-9 {
            return Err(DataError::Mismatch {
                data: self.source.clone(),
                expected: "fractions of at least 0 that add up to 1".into(),
                found: format!("{fractions:?}"),
            });
        }
        let mut rng = crate::seeded_rng(seed);
        let groups: Vec<Vec<usize>> = match &self.target {
            Target::Classes { labels, .. } => {
                (0..self.classes()).map(|c| (0..labels.len()).filter(|&i| labels[i] == c).collect()).collect()
            }
            Target::Values { .. } => std::vec![(0..self.len()).collect()],
        };
        let mut parts: [Vec<usize>; K] = core::array::from_fn(|_| Vec::new());
        for mut group in groups {
            group.shuffle(&mut rng);
            let mut start = 0;
            for (part, n) in parts.iter_mut().zip(apportion(group.len(), &fractions)) {
                part.extend_from_slice(&group[start..start + n]);
                start += n;
            }
        }
        Ok(parts.map(|mut p| {
            p.shuffle(&mut rng);
            self.select(&p)
        }))
    }

    /// Every row as a sample of `N`: the features as its input and the target as its output.
    ///
    /// A classification table gives one-hot targets, so the network has one output per class; a network with
    /// a single output on a two-class table (a logistic output, [`BinaryCrossEntropyWithLogits`]) gets the
    /// class index, 0 or 1. A regression table's targets are the outputs.
    ///
    /// [`BinaryCrossEntropyWithLogits`]: crate::loss::BinaryCrossEntropyWithLogits
    ///
    /// # Errors
    ///
    /// [`DataError::Mismatch`] naming the network's sizes and the table's (with where it came from) when the
    /// features are not the network's inputs or the targets are not its outputs.
    pub fn samples<N: Network>(&self) -> Result<Vec<Sample<N>>, DataError> {
        let inputs = <N::Input as Buffer<N::Scalar>>::FEATURES * <N::Input as Buffer<N::Scalar>>::SAMPLES;
        let outputs = <N::Output as Buffer<N::Scalar>>::FEATURES * <N::Output as Buffer<N::Scalar>>::SAMPLES;
        let mut out = Vec::with_capacity(self.len());
        self.convert(inputs, outputs, |x, t| {
            let input = <N::Input as Buffer<N::Scalar>>::from_fn(|i| N::Scalar::from_f64(x[i]));
            let mut target = <N::Output as Buffer<N::Scalar>>::zeros();
            t(target.as_mut_slice());
            out.push((input, target));
        })?;
        Ok(out)
    }

    /// Every row as an `(input, target)` pair of vectors, as [`Table::samples`] for a network of `I` inputs and
    /// `O` outputs.
    ///
    /// # Errors
    ///
    /// As [`Table::samples`].
    #[allow(clippy::type_complexity)] // the signature spells out the pair type on purpose
    pub fn pairs<T: Float, const I: usize, const O: usize>(
        &self,
    ) -> Result<Vec<(SVector<T, I>, SVector<T, O>)>, DataError> {
        let mut out = Vec::with_capacity(self.len());
        self.convert(I, O, |x, t| {
            let mut target = SVector::<T, O>::zeros();
            t(target.as_mut_slice());
            out.push((SVector::from_fn(|i, _| T::from_f64(x[i])), target));
        })?;
        Ok(out)
    }

    /// Checks the sizes against `inputs` and `outputs`, then calls `push` with each row's features and a
    /// function that writes its target into a zeroed output.
    fn convert<T: Float>(
        &self,
        inputs: usize,
        outputs: usize,
        mut push: impl FnMut(&[f64], &dyn Fn(&mut [T])),
    ) -> Result<(), DataError> {
        let described = match &self.target {
            Target::Classes { .. } => {
                format!("{} and {}", count(self.features(), "feature"), count(self.classes(), "class"))
            }
            Target::Values { width, .. } => {
                format!("{} and {}", count(self.features(), "feature"), count(*width, "target"))
            }
        };
        let fits = inputs == self.features()
            && match &self.target {
                Target::Classes { .. } => outputs == self.classes() || (outputs == 1 && self.classes() == 2),
                Target::Values { width, .. } => outputs == *width,
            };
        if !fits {
            let expected = format!("the network's {} and {}", count(inputs, "input"), count(outputs, "output"));
            let found = format!("{described} ({})", count(self.len(), "row"));
            return Err(DataError::Mismatch { data: self.source.clone(), expected, found });
        }
        for i in 0..self.len() {
            match &self.target {
                Target::Classes { labels, .. } => {
                    let label = labels[i];
                    if outputs == 1 {
                        push(self.row(i), &|t: &mut [T]| t[0] = T::from_f64(label as f64));
                    } else {
                        push(self.row(i), &|t: &mut [T]| t[label] = T::one());
                    }
                }
                Target::Values { values, width } => {
                    let row = &values[i * width..(i + 1) * width];
                    push(self.row(i), &|t: &mut [T]| t.iter_mut().zip(row).for_each(|(t, &v)| *t = T::from_f64(v)));
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for Table {
    /// `wine.csv: 178 rows of 13 features, 3 classes (59, 71, 48)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} of {}", self.source, count(self.len(), "row"), count(self.features(), "feature"))?;
        match &self.target {
            Target::Classes { .. } => {
                let counts: Vec<String> = self.class_counts().iter().map(|c| c.to_string()).collect();
                write!(f, ", {} ({})", count(self.classes(), "class"), counts.join(", "))
            }
            Target::Values { width, .. } => write!(f, ", {}", count(*width, "target")),
        }
    }
}

/// `n` items shared by `fractions` (adding up to 1): each part's exact share rounded down, the rest to the
/// largest remainders (ties to the earlier part).
fn apportion<const K: usize>(n: usize, fractions: &[f64; K]) -> [usize; K] {
    let exact: [f64; K] = fractions.map(|f| f * n as f64);
    let mut parts = exact.map(|e| e.floor() as usize);
    let mut left = n.saturating_sub(parts.iter().sum());
    let mut order: Vec<usize> = (0..K).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for &k in order.iter().cycle().take(K * 2) {
        if left == 0 {
            break;
        }
        if fractions[k] > 0.0 {
            parts[k] += 1;
            left -= 1;
        }
    }
    parts
}

/// The classes of string labels: numeric labels (`0`, `1.0`, `2`) are their own indices (`0..=max`), anything
/// else is named, indices in sorted order. Returns the labels and the classes' names.
#[cfg_attr(not(feature = "csv"), allow(dead_code))]
pub(super) fn classes_of(labels: &[String]) -> (Vec<usize>, Vec<String>) {
    let numeric: Option<Vec<usize>> = labels
        .iter()
        .map(|l| {
            let v = l.trim().parse::<f64>().ok()?;
            (v.fract() == 0.0 && (0.0..1e6).contains(&v)).then_some(v as usize)
        })
        .collect();
    if let Some(indices) = numeric {
        let classes = indices.iter().max().map_or(0, |m| m + 1);
        return (indices, (0..classes).map(|c| c.to_string()).collect());
    }
    let names: Vec<String> = labels.iter().map(|l| l.trim().to_string()).collect::<BTreeSet<_>>().into_iter().collect();
    let indices = labels.iter().map(|l| names.binary_search(&l.trim().to_string()).unwrap_or(0)).collect();
    (indices, names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    fn three_classes() -> Table {
        // 10, 20 and 30 rows of classes 0, 1, 2: feature 0 is the row number, feature 1 the class.
        let labels: Vec<usize> = (0..60).map(|i| usize::from(i >= 10) + usize::from(i >= 30)).collect();
        let values = (0..60).flat_map(|i| [f64::from(i), labels[i as usize] as f64]).collect();
        Table::classification(2, values, labels).unwrap()
    }

    #[test]
    fn a_split_is_stratified_seeded_and_covers_every_row_once() {
        let t = three_classes();
        let [a, b, c] = t.split([0.5, 0.3, 0.2], 3).unwrap();
        assert_eq!(
            (a.class_counts(), b.class_counts(), c.class_counts()),
            (vec![5, 10, 15], vec![3, 6, 9], vec![2, 4, 6])
        );
        let mut rows: Vec<i64> = [&a, &b, &c].iter().flat_map(|p| (0..p.len()).map(|i| p.row(i)[0] as i64)).collect();
        rows.sort_unstable();
        assert_eq!(rows, (0..60).collect::<Vec<_>>());
        // Features stay with their labels.
        assert!((0..a.len()).all(|i| a.row(i)[1] as usize == a.label(i).unwrap()));
        assert_eq!(t.split([0.5, 0.3, 0.2], 3).unwrap()[1], b);
        assert_ne!(t.split([0.5, 0.3, 0.2], 4).unwrap()[1], b);
        assert!(t.split([0.5, 0.6], 1).is_err());
        assert!(t.split([1.5, -0.5], 1).is_err());
        // 7 rows in thirds: 3, 2, 2 by largest remainder, and a class of one row goes to the largest share.
        assert_eq!(apportion(7, &[1.0 / 3.0; 3]).iter().sum::<usize>(), 7);
        assert_eq!(apportion(1, &[0.8, 0.2]), [1, 0]);
        assert_eq!(apportion(10, &[0.0, 1.0]), [0, 10]);
    }

    #[test]
    fn constructors_name_what_is_wrong() {
        let e = Table::classification(3, vec![1.0; 5], vec![0, 1]).unwrap_err();
        assert_eq!(e.to_string(), "arrays: expected 2 rows of 3 features for 2 labels, found 5 feature values");
        let e = Table::classification(2, vec![1.0, f64::NAN, 0.0, 0.0], vec![0, 1]).unwrap_err();
        assert_eq!(e.to_string(), "arrays: expected finite features, found NaN in row 0, feature 1");
        let e = Table::from_rows(&[[1.0f32, 2.0]], &[0, 1]).unwrap_err();
        assert_eq!(e.to_string(), "arrays: expected a label for each of the 1 row, found 2 labels");
        let e = Table::regression(1, vec![1.0, 2.0], 2, vec![0.0; 3]).unwrap_err();
        assert_eq!(e.to_string(), "arrays: expected rows of 2 targets, found 3 target values");
    }

    #[test]
    fn samples_are_one_hot_or_the_class_or_the_values() {
        let t = Table::from_rows(&[[1u8, 2], [3, 4]], &[1, 0]).unwrap();
        let pairs = t.pairs::<f64, 2, 2>().unwrap();
        assert_eq!((pairs[0].0.as_slice(), pairs[0].1.as_slice()), (&[1.0, 2.0][..], &[0.0, 1.0][..]));
        let logistic = t.pairs::<f32, 2, 1>().unwrap();
        assert_eq!((logistic[0].1[0], logistic[1].1[0]), (1.0, 0.0));
        let e = t.pairs::<f32, 3, 2>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "arrays: expected the network's 3 inputs and 2 outputs, found 2 features and 2 classes (2 rows)"
        );
        let r = Table::regression(1, vec![0.5, 1.5], 2, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let pairs = r.pairs::<f64, 1, 2>().unwrap();
        assert_eq!(pairs[1].1.as_slice(), &[3.0, 4.0]);
        assert!(r.pairs::<f64, 1, 1>().is_err());
        assert_eq!(r.to_string(), "arrays: 2 rows of 1 feature, 2 targets");
    }

    #[test]
    fn string_labels_are_named_classes_in_sorted_order() {
        let labels: Vec<String> =
            ["setosa", "virginica", "setosa", "versicolor"].iter().map(|s| s.to_string()).collect();
        let (indices, names) = classes_of(&labels);
        assert_eq!(
            (indices, names),
            (vec![0, 2, 0, 1], vec!["setosa".to_string(), "versicolor".into(), "virginica".into()])
        );
        let numeric: Vec<String> = ["2", "0", "1.0"].iter().map(|s| s.to_string()).collect();
        assert_eq!(classes_of(&numeric).0, vec![2, 0, 1]);
    }
}
