//! Feature scaling fitted on a training [`Table`] and applied to the others (and to new inputs): standardisation
//! and min-max scaling.

use std::format;
use std::vec::Vec;

use super::{DataError, Table};

/// Standardisation: each feature minus its training mean, over its training standard deviation (the
/// population one, as scikit-learn's `StandardScaler`). A feature constant in training is only centred.
///
/// ```
/// use nn_core::data::{Standardize, Table};
///
/// let train = Table::from_rows(&[[1.0, 10.0], [3.0, 10.0]], &[0, 1])?;
/// let mut test = Table::from_rows(&[[5.0, 11.0]], &[0])?;
/// let scale = Standardize::fit(&train);
/// assert_eq!((scale.mean(), scale.std()), (&[2.0, 10.0][..], &[1.0, 0.0][..]));
/// scale.apply(&mut test)?;
/// assert_eq!(test.row(0), &[3.0, 1.0]);
/// # Ok::<(), nn_core::data::DataError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Standardize {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl Standardize {
    /// The means and standard deviations of `train`'s features (an empty table gives means 0 and deviations 0).
    pub fn fit(train: &Table) -> Standardize {
        let (f, n) = (train.features(), train.len().max(1) as f64);
        let mut mean = std::vec![0.0; f];
        (0..train.len()).for_each(|i| mean.iter_mut().zip(train.row(i)).for_each(|(m, v)| *m += v / n));
        let mut var = std::vec![0.0; f];
        for i in 0..train.len() {
            var.iter_mut().zip(train.row(i)).zip(&mean).for_each(|((s, v), m)| *s += (v - m) * (v - m) / n);
        }
        Standardize { mean, std: var.iter().map(|v| v.sqrt()).collect() }
    }

    /// The training means, per feature.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The training standard deviations, per feature.
    pub fn std(&self) -> &[f64] {
        &self.std
    }

    /// Scales one row of features in place (for an input to predict on).
    ///
    /// # Errors
    ///
    /// [`DataError::Mismatch`] when the row does not have the fitted number of features.
    pub fn apply_row(&self, row: &mut [f64]) -> Result<(), DataError> {
        affine_row(row, &self.mean, &self.std)
    }

    /// Scales every row of `table` in place.
    ///
    /// # Errors
    ///
    /// [`DataError::Mismatch`] when the table does not have the fitted number of features.
    pub fn apply(&self, table: &mut Table) -> Result<(), DataError> {
        affine_table(table, &self.mean, &self.std)
    }
}

/// Min-max scaling: each feature mapped linearly so that its training minimum is 0 and maximum 1 (values
/// outside the training range land outside `[0, 1]`). A feature constant in training is only shifted.
#[derive(Clone, Debug, PartialEq)]
pub struct MinMax {
    min: Vec<f64>,
    max: Vec<f64>,
    /// `max - min`, per feature.
    range: Vec<f64>,
}

impl MinMax {
    /// The minima and maxima of `train`'s features.
    pub fn fit(train: &Table) -> MinMax {
        let f = train.features();
        let (mut min, mut max) = (std::vec![f64::INFINITY; f], std::vec![f64::NEG_INFINITY; f]);
        for i in 0..train.len() {
            for ((lo, hi), &v) in min.iter_mut().zip(&mut max).zip(train.row(i)) {
                (*lo, *hi) = (lo.min(v), hi.max(v));
            }
        }
        if train.is_empty() {
            min.fill(0.0);
            max.fill(0.0);
        }
        let range = max.iter().zip(&min).map(|(hi, lo)| hi - lo).collect();
        MinMax { min, max, range }
    }

    /// The training minima, per feature.
    pub fn min(&self) -> &[f64] {
        &self.min
    }

    /// The training maxima, per feature.
    pub fn max(&self) -> &[f64] {
        &self.max
    }

    /// Scales one row of features in place.
    ///
    /// # Errors
    ///
    /// [`DataError::Mismatch`] when the row does not have the fitted number of features.
    pub fn apply_row(&self, row: &mut [f64]) -> Result<(), DataError> {
        affine_row(row, &self.min, &self.range)
    }

    /// Scales every row of `table` in place.
    ///
    /// # Errors
    ///
    /// [`DataError::Mismatch`] when the table does not have the fitted number of features.
    pub fn apply(&self, table: &mut Table) -> Result<(), DataError> {
        affine_table(table, &self.min, &self.range)
    }
}

/// `row[i] = (row[i] - shift[i]) / scale[i]`, a zero scale taken as 1 (a feature constant in training is only
/// shifted).
fn affine_row(row: &mut [f64], shift: &[f64], scale: &[f64]) -> Result<(), DataError> {
    check(shift.len(), row.len(), "a row")?;
    for ((v, a), s) in row.iter_mut().zip(shift).zip(scale) {
        *v = (*v - a) / if *s > 0.0 { *s } else { 1.0 };
    }
    Ok(())
}

/// [`affine_row`] on every row of `table`.
fn affine_table(table: &mut Table, shift: &[f64], scale: &[f64]) -> Result<(), DataError> {
    check(shift.len(), table.features(), table.source())?;
    let f = table.features().max(1);
    table.values.chunks_exact_mut(f).try_for_each(|row| affine_row(row, shift, scale))
}

/// An error unless `found` features are the `fitted` ones.
fn check(fitted: usize, found: usize, data: &str) -> Result<(), DataError> {
    if fitted == found {
        return Ok(());
    }
    Err(DataError::Mismatch {
        data: data.into(),
        expected: format!("the {} the scaling was fitted on", super::table::count(fitted, "feature")),
        found: super::table::count(found, "feature"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn fitted_on_training_rows_and_applied_to_others() {
        let train = Table::from_rows(&[[0.0, 2.0, 5.0], [4.0, 2.0, 7.0], [2.0, 2.0, 6.0]], &[0, 1, 0]).unwrap();
        let s = Standardize::fit(&train);
        let sd = (8.0f64 / 3.0).sqrt();
        assert!((s.std()[0] - sd).abs() < 1e-15);
        let mut t = train.clone();
        s.apply(&mut t).unwrap();
        // Standardised training features have mean 0 and deviation 1 (the constant one stays 0).
        let again = Standardize::fit(&t);
        assert!(again.mean().iter().all(|m| m.abs() < 1e-15) && (again.std()[0] - 1.0).abs() < 1e-12);
        assert_eq!(again.std()[1], 0.0);
        let m = MinMax::fit(&train);
        let mut row = [1.0, 3.0, 8.0];
        m.apply_row(&mut row).unwrap();
        assert_eq!(row, [0.25, 1.0, 1.5]);
        let narrow = Table::from_rows(&[[1.0, 2.0]], &[0]).unwrap();
        let e = m.apply(&mut narrow.clone()).unwrap_err();
        assert_eq!(e.to_string(), "arrays: expected the 3 features the scaling was fitted on, found 2 features");
    }
}
