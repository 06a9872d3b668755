//! Reading a [`Table`] from a CSV file: header handling, the label column by name or index, and an error naming
//! the line and column of anything malformed.

use std::format;
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use super::table::{Target, classes_of, count};
use super::{DataError, Location, Table, quoted};

/// Which column of a CSV file holds the label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// The column with this header (needs a header).
    Name(String),
    /// The column at this 0-based index.
    Index(usize),
    /// The last column (the default).
    Last,
}

/// How [`Table::read_csv`] reads a file: whether the first line is a header (default yes), which column is the
/// label (default the last), the delimiter (default `,`), and whether the label is a class (default) or a
/// number to regress on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    header: bool,
    label: Column,
    delimiter: u8,
    regression: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { header: true, label: Column::Last, delimiter: b',', regression: false }
    }
}

impl CsvOptions {
    /// A header line, the label in the last column, commas, class labels.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the first line is a header of column names (otherwise features are named `x0`, `x1`, ...).
    #[must_use]
    pub fn header(mut self, header: bool) -> Self {
        self.header = header;
        self
    }

    /// The label is the column named `name` in the header.
    #[must_use]
    pub fn label_name(mut self, name: &str) -> Self {
        self.label = Column::Name(name.into());
        self
    }

    /// The label is the column at 0-based `index`.
    #[must_use]
    pub fn label_index(mut self, index: usize) -> Self {
        self.label = Column::Index(index);
        self
    }

    /// The field delimiter (`b';'`, `b'\t'`).
    #[must_use]
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// The label is a number to regress on (one target per row), not a class.
    #[must_use]
    pub fn regression(mut self) -> Self {
        self.regression = true;
        self
    }
}

impl Table {
    /// Reads a CSV file (gzip-compressed when its name ends in `.gz`): every column but the label is a feature
    /// and must hold a finite number in every row; the label column holds class labels (integers `0, 1, ...`
    /// are their own indices; other text names classes, indexed in sorted order) or, with
    /// [`CsvOptions::regression`], numbers. Blank lines are skipped; fields may be quoted.
    ///
    /// ```
    /// use nn_core::data::{CsvOptions, Table};
    ///
    /// let dir = std::env::temp_dir().join("nn-core-doc-csv");
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("flowers.csv");
    /// std::fs::write(&path, "petal,sepal,species\n1.4,5.1,setosa\n4.7,7.0,versicolor\n1.3,4.9,setosa\n").unwrap();
    /// let table = Table::read_csv(&path, &CsvOptions::new().label_name("species"))?;
    /// assert_eq!((table.len(), table.features(), table.labels()), (3, 2, &[0, 1, 0][..]));
    /// assert_eq!(table.class_names(), ["setosa", "versicolor"]);
    ///
    /// std::fs::write(&path, "petal,sepal,species\n1.4,5.1,setosa\n4.7,seven,versicolor\n").unwrap();
    /// let e = Table::read_csv(&path, &CsvOptions::new()).unwrap_err();
    /// assert!(e.to_string().ends_with("line 3, column 2: expected a finite number (\"sepal\"), found \"seven\""));
    /// # Ok::<(), nn_core::data::DataError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] or [`DataError::Compressed`] when the file cannot be read; [`DataError::Malformed`]
    /// naming the line (and column) for a row with another number of fields than the first, a feature that is
    /// not a finite number, an empty label, a label column that does not exist, text that is not UTF-8, or a
    /// file without rows.
    pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Table, DataError> {
        let path = path.as_ref();
        let bytes = if path.extension().is_some_and(|e| e == "gz") {
            super::read_gzip(path)?
        } else {
            std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?
        };
        parse(&bytes, path, options)
    }
}

/// [`Table::read_csv`] on the file's content.
fn parse(bytes: &[u8], path: &Path, options: &CsvOptions) -> Result<Table, DataError> {
    let malformed = |location, expected: String, found: String| DataError::Malformed {
        path: path.to_path_buf(),
        location,
        expected,
        found,
    };
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(options.delimiter).from_reader(bytes);
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(1, |p| p.line() as usize);
            malformed(Location::Line(line), "UTF-8 CSV".into(), e.to_string())
        })?;
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let line = record.position().map_or(1, |p| p.line() as usize);
        records.push((line, record));
    }
    let mut rows = records.into_iter();
    let header: Option<Vec<String>> = if options.header {
        let (_, h) =
            rows.next().ok_or_else(|| malformed(Location::Line(1), "a header line".into(), "an empty file".into()))?;
        Some(h.iter().map(|s| s.trim().to_string()).collect())
    } else {
        None
    };
    let rows: Vec<_> = rows.collect();
    let Some(width) = header.as_ref().map(Vec::len).or_else(|| rows.first().map(|(_, r)| r.len())) else {
        return Err(malformed(Location::Line(1), "at least one row".into(), "an empty file".into()));
    };
    if rows.is_empty() {
        return Err(malformed(Location::Line(2), "at least one row after the header".into(), "none".into()));
    }
    let label = match &options.label {
        Column::Last => width - 1,
        Column::Index(i) if *i < width => *i,
        Column::Index(i) => {
            let found = count(width, "column");
            return Err(malformed(Location::Line(1), format!("a label column at index {i}"), found));
        }
        Column::Name(name) => {
            let Some(h) = &header else {
                return Err(malformed(Location::Line(1), format!("a header naming {name:?}"), "no header".into()));
            };
            h.iter().position(|c| c == name).ok_or_else(|| {
                malformed(Location::Line(1), format!("a column named {name:?}"), format!("the columns {h:?}"))
            })?
        }
    };
    if width < 2 {
        return Err(malformed(Location::Line(1), "a feature column and a label column".into(), count(width, "column")));
    }
    let names: Vec<String> = match &header {
        Some(h) => h.iter().enumerate().filter(|(c, _)| *c != label).map(|(_, n)| n.clone()).collect(),
        None => (0..width - 1).map(|i| format!("x{i}")).collect(),
    };
    let column_name = |c: usize| header.as_ref().map_or_else(|| format!("column {}", c + 1), |h| format!("{:?}", h[c]));

    let mut values = Vec::with_capacity(rows.len() * (width - 1));
    let mut labels = Vec::with_capacity(rows.len());
    for (line, record) in &rows {
        if record.len() != width {
            let expected =
                format!("{} (as the {})", count(width, "field"), if header.is_some() { "header" } else { "first row" });
            return Err(malformed(Location::Line(*line), expected, count(record.len(), "field")));
        }
        for (c, field) in record.iter().enumerate() {
            let at = Location::Cell { line: *line, column: c + 1 };
            if c == label {
                if field.trim().is_empty() {
                    return Err(malformed(at, format!("a label ({})", column_name(c)), "an empty field".into()));
                }
                labels.push(field.trim().to_string());
                continue;
            }
            let v = field.trim().parse::<f64>().ok().filter(|v| v.is_finite());
            let v = v.ok_or_else(|| malformed(at, format!("a finite number ({})", column_name(c)), quoted(field)))?;
            values.push(v);
        }
    }
    let target = if options.regression {
        let mut targets = Vec::with_capacity(labels.len());
        for ((line, _), l) in rows.iter().zip(&labels) {
            let at = Location::Cell { line: *line, column: label + 1 };
            let v = l.parse::<f64>().ok().filter(|v| v.is_finite());
            targets
                .push(v.ok_or_else(|| malformed(at, format!("a finite target ({})", column_name(label)), quoted(l)))?);
        }
        Target::Values { values: targets, width: 1 }
    } else {
        let (labels, names) = classes_of(&labels);
        Target::Classes { labels, names }
    };
    let source = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    Table::new(source, names, values, target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    fn read(text: &str, options: &CsvOptions) -> Result<Table, DataError> {
        parse(text.as_bytes(), Path::new("t.csv"), options)
    }

    #[test]
    fn header_label_column_and_regression() {
        let t = read("a,class,b\n1,2,3\n4,0,6\n\n7,1,9\n", &CsvOptions::new().label_name("class")).unwrap();
        assert_eq!(
            (t.values(), t.labels(), t.feature_names()),
            (&[1.0, 3.0, 4.0, 6.0, 7.0, 9.0][..], &[2, 0, 1][..], &["a".to_string(), "b".into()][..])
        );
        let t = read("1;2;3\n4;5;6\n", &CsvOptions::new().header(false).delimiter(b';').label_index(0).regression())
            .unwrap();
        assert_eq!(
            (t.values(), t.target()),
            (&[2.0, 3.0, 5.0, 6.0][..], &Target::Values { values: vec![1.0, 4.0], width: 1 })
        );
        assert_eq!(t.feature_names(), ["x0", "x1"]);
        let quoted_fields = read("\"x, y\",label\n\"1.5\",\"a b\"\n", &CsvOptions::new()).unwrap();
        assert_eq!((quoted_fields.row(0), quoted_fields.class_names()), (&[1.5][..], &["a b".to_string()][..]));
    }

    #[test]
    fn malformed_files_name_the_line_and_column() {
        let cases = [
            (
                "a,b,c\n1,2,0\n3,4\n",
                CsvOptions::new(),
                "t.csv, line 3: expected 3 fields (as the header), found 2 fields",
            ),
            (
                "a,b,c\n1,x,0\n",
                CsvOptions::new(),
                "t.csv, line 2, column 2: expected a finite number (\"b\"), found \"x\"",
            ),
            (
                "a,b,c\n1,inf,0\n",
                CsvOptions::new(),
                "t.csv, line 2, column 2: expected a finite number (\"b\"), found \"inf\"",
            ),
            (
                "a,b,c\n1,2,\n",
                CsvOptions::new(),
                "t.csv, line 2, column 3: expected a label (\"c\"), found an empty field",
            ),
            (
                "a,b,c\n1,2,0\n",
                CsvOptions::new().label_name("y"),
                "t.csv, line 1: expected a column named \"y\", found the columns [\"a\", \"b\", \"c\"]",
            ),
            (
                "a,b,c\n1,2,0\n",
                CsvOptions::new().label_index(3),
                "t.csv, line 1: expected a label column at index 3, found 3 columns",
            ),
            ("a,b,c\n", CsvOptions::new(), "t.csv, line 2: expected at least one row after the header, found none"),
            ("", CsvOptions::new(), "t.csv, line 1: expected a header line, found an empty file"),
            (
                "1,2,x\n",
                CsvOptions::new().header(false).regression(),
                "t.csv, line 1, column 3: expected a finite target (column 3), found \"x\"",
            ),
        ];
        for (text, options, message) in cases {
            assert_eq!(read(text, &options).unwrap_err().to_string(), message, "{text:?}");
        }
        let e = parse(b"a,b\n1,\xff\n", Path::new("t.csv"), &CsvOptions::new()).unwrap_err();
        assert!(e.to_string().starts_with("t.csv, line 2"), "{e}");
    }
}
