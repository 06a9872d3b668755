//! Your own data: tables of our own making (`tests/fixtures/tables/make_tables.py`, numpy) loaded from CSV,
//! `.npy` and `.npz`, split, scaled, trained on and evaluated; malformed files refused with errors naming the
//! place.

use nn_core::data::{CsvOptions, DataError, Standardize, Table};
use nn_core::prelude::*;
use std::path::{Path, PathBuf};

network! {
    /// Three classes of 4-D points.
    struct Blobs<f32> { input: 4, hidden: Dense(8), Tanh, out: Dense(3) }
}

network! {
    /// A network whose input is not the tables' width.
    struct TooWide<f32> { input: 5, out: Dense(3) }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tables").join(name)
}

/// A file of `content` in a fresh temporary folder.
fn temp_file(name: &str, content: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nn-tables-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// A version-1 `.npy` file by hand: `descr` (`"<f8"`), the shape, and the raw little-endian data.
fn npy(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if shape.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn i64_bytes(values: &[i64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Trains `Blobs` on a stratified 60/20/20 split of `table`, standardised on the training part, and returns
/// the test accuracy.
fn train_and_test(table: &Table) -> Result<f64, Box<dyn std::error::Error>> {
    let [mut train, mut valid, mut test] = table.split([0.6, 0.2, 0.2], 11)?;
    assert_eq!(
        (train.class_counts(), valid.class_counts(), test.class_counts()),
        (vec![18; 3], vec![6; 3], vec![6; 3])
    );
    let scale = Standardize::fit(&train);
    for part in [&mut train, &mut valid, &mut test] {
        scale.apply(part)?;
    }
    let (train, valid, test) = (train.samples::<Blobs>()?, valid.samples::<Blobs>()?, test.samples::<Blobs>()?);
    let mut net = Blobs::boxed_init(&mut seeded_rng(4));
    let mut adam = Adam::new(0.02);
    // 54 training rows in batches of 16: four updates an epoch, the last of 6 rows.
    let report =
        Trainer::new(&mut *net, &mut adam, SoftmaxCrossEntropy).epochs(40).seed(2).fit::<16>(&train, &valid)?;
    assert_eq!(report.epochs.len(), 40);
    Ok(net.evaluate(&test, &SoftmaxCrossEntropy).accuracy)
}

#[test]
fn a_csv_file_loads_trains_and_evaluates() {
    let table = Table::read_csv(fixture("blobs.csv"), &CsvOptions::new().label_name("colour")).unwrap();
    assert_eq!((table.len(), table.features(), table.classes()), (90, 4, 3));
    assert_eq!(table.feature_names(), ["a", "b", "c", "d"]);
    assert_eq!(table.class_names(), ["blue", "green", "red"]);
    assert_eq!(table.to_string(), "blobs.csv: 90 rows of 4 features, 3 classes (30, 30, 30)");
    assert_eq!(table.row(0), &[2.12265, -0.376792, -0.49549, 1.86659]);
    assert_eq!(table.label(0), Some(2)); // red
    let accuracy = train_and_test(&table).unwrap();
    assert!(accuracy >= 0.94, "test accuracy {accuracy}");
}

#[test]
fn npy_and_npz_files_load_the_same_rows_and_train() {
    let csv = Table::read_csv(fixture("blobs.csv"), &CsvOptions::new().label_name("colour")).unwrap();
    // Features float32 in Fortran order, labels int32 with red = 0, green = 1, blue = 2.
    let npy = Table::read_npy(fixture("blobs_x.npy"), fixture("blobs_y.npy")).unwrap();
    assert_eq!(npy.source(), "blobs_x.npy (float32 (<f4), shape [90, 4])");
    assert_eq!((npy.len(), npy.features(), npy.class_counts()), (90, 4, vec![30, 30, 30]));
    for i in 0..90 {
        assert_eq!(2 - npy.label(i).unwrap(), csv.label(i).unwrap(), "row {i}");
        for (a, b) in npy.row(i).iter().zip(csv.row(i)) {
            assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "row {i}: {a} vs {b}");
        }
    }
    let npz = Table::read_npz(fixture("blobs.npz"), "features", "labels").unwrap();
    assert_eq!((npz.values(), npz.labels()), (npy.values(), npy.labels()));
    let accuracy = train_and_test(&npy).unwrap();
    assert!(accuracy >= 0.94, "test accuracy {accuracy}");
}

#[test]
fn arrays_are_a_table_too_and_sizes_are_checked_once_naming_both() {
    let rows: Vec<[f32; 4]> = (0..30).map(|i| [i as f32, 0.0, 1.0, -(i as f32)]).collect();
    let labels: Vec<usize> = (0..30).map(|i| i % 3).collect();
    let table = Table::from_rows(&rows, &labels).unwrap();
    assert_eq!(table.samples::<Blobs>().unwrap()[4].1.as_slice(), &[0.0, 1.0, 0.0]);
    let e = table.samples::<TooWide>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "arrays: expected the network's 5 inputs and 3 outputs, found 4 features and 3 classes (30 rows)"
    );
    let npy = Table::read_npy(fixture("blobs_x.npy"), fixture("blobs_y.npy")).unwrap();
    let e = npy.samples::<TooWide>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "blobs_x.npy (float32 (<f4), shape [90, 4]): expected the network's 5 inputs and 3 outputs, found 4 features \
         and 3 classes (90 rows)"
    );
}

#[test]
fn malformed_csv_files_are_errors_naming_the_line_and_column() {
    let short = temp_file("short.csv", b"a,b,colour\n1,2,red\n3,blue\n");
    let e = Table::read_csv(&short, &CsvOptions::new()).unwrap_err();
    assert!(matches!(e, DataError::Malformed { .. }));
    assert!(e.to_string().ends_with("short.csv, line 3: expected 3 fields (as the header), found 2 fields"), "{e}");
    let word = temp_file("word.csv", b"a,b,colour\n1,2,red\n3,four,blue\n");
    let e = Table::read_csv(&word, &CsvOptions::new()).unwrap_err();
    assert!(
        e.to_string().ends_with("word.csv, line 3, column 2: expected a finite number (\"b\"), found \"four\""),
        "{e}"
    );
    let e = Table::read_csv(fixture("blobs.csv"), &CsvOptions::new().label_name("color")).unwrap_err();
    assert!(e.to_string().contains("expected a column named \"color\", found the columns"), "{e}");
    let e = Table::read_csv(fixture("missing.csv"), &CsvOptions::new()).unwrap_err();
    assert!(matches!(e, DataError::Io { .. }), "{e}");
}

#[test]
fn malformed_npy_files_are_errors_naming_file_dtype_and_shape() {
    let y = fixture("blobs_y.npy");
    let cases = [
        (
            "complex.npy",
            "complex.npy (shape [3, 2]): expected float32, float64, an integer or a bool dtype, found dtype <c16",
        ),
        (
            "strings.npy",
            "strings.npy (shape [3]): expected float32, float64, an integer or a bool dtype, found dtype <U1",
        ),
        ("half.npy", "half.npy (shape [3, 2]): expected float32, float64, an integer or a bool dtype, found dtype <f2"),
        (
            "cube.npy",
            "cube.npy (float64 (<f8), shape [3, 2, 2]): expected features of shape [rows, features], found 3 dimensions",
        ),
    ];
    for (file, message) in cases {
        let e = Table::read_npy(fixture(file), &y).unwrap_err();
        assert_eq!(e.to_string(), message);
    }
    // Cut short: the error gives the byte where the data starts and how much it should hold.
    let whole = std::fs::read(fixture("blobs_x.npy")).unwrap();
    let cut = temp_file("cut.npy", &whole[..1000]);
    let e = Table::read_npy(&cut, &y).unwrap_err();
    assert!(e.to_string().contains("cut.npy, byte 128: expected 360 values of float32 after the header"), "{e}");
    // Not a NumPy file at all.
    let e = Table::read_npy(fixture("blobs.csv"), &y).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("{}, byte 0: expected a NumPy array header", fixture("blobs.csv").display())),
        "{e}"
    );
    // Labels for another number of rows, negative labels, non-finite features.
    let x = temp_file("x.npy", &npy("<f8", &[3, 2], &f64_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])));
    let two = temp_file("two.npy", &npy("<i8", &[2], &i64_bytes(&[0, 1])));
    let e = Table::read_npy(&x, &two).unwrap_err();
    assert_eq!(
        e.to_string(),
        "two.npy (int64 (<i8), shape [2]): expected a label for each of the 3 rows of x.npy (float64 (<f8), shape \
         [3, 2]), found 2 rows"
    );
    let negative = temp_file("negative.npy", &npy("<i8", &[3], &i64_bytes(&[0, -1, 1])));
    let e = Table::read_npy(&x, &negative).unwrap_err();
    assert_eq!(
        e.to_string(),
        "negative.npy (int64 (<i8), shape [3]): expected class indices of at least 0, found -1 in row 1"
    );
    let nan = temp_file("nan.npy", &npy("<f8", &[3, 2], &f64_bytes(&[1.0, 2.0, f64::NAN, 4.0, 5.0, 6.0])));
    let labels = temp_file("labels.npy", &npy("<i8", &[3], &i64_bytes(&[0, 1, 1])));
    let e = Table::read_npy(&nan, &labels).unwrap_err();
    assert_eq!(
        e.to_string(),
        "nan.npy (float64 (<f8), shape [3, 2]): expected finite features, found NaN in row 1, feature 0"
    );
    // Float labels are regression targets.
    let targets = temp_file("targets.npy", &npy("<f8", &[3], &f64_bytes(&[0.5, 1.5, 2.5])));
    let t = Table::read_npy(&x, &targets).unwrap();
    assert_eq!((t.classes(), t.pairs::<f64, 2, 1>().unwrap()[2].1[0]), (0, 2.5));
    // An .npz without the array asked for lists what it has.
    let e = Table::read_npz(fixture("blobs.npz"), "x", "labels").unwrap_err();
    assert_eq!(e.to_string(), "blobs.npz: expected an array named \"x\", found the arrays [\"features\", \"labels\"]");
    let e = Table::read_npz(fixture("blobs_x.npy"), "features", "labels").unwrap_err();
    assert!(e.to_string().contains("expected a NumPy .npz (zip) file"), "{e}");
}

/// Generic code over networks names one bound, and builds inputs from slices.
fn predict<N: Trainable>(net: &N, row: &[N::Scalar]) -> usize {
    let x = N::input_from_slice(row).expect("a row of the network's width");
    nn_core::argmax(net.forward(&x).as_slice())
}

#[test]
fn generic_code_needs_one_bound_and_networks_are_clone_without_asking() {
    let net = Blobs::boxed_init(&mut seeded_rng(1));
    let copy: Blobs = (*net).clone();
    assert_eq!(predict(&copy, &[1.0, 2.0, 3.0, 4.0]), predict(&*net, &[1.0, 2.0, 3.0, 4.0]));
    let boxed = net.boxed_clone();
    assert_eq!(boxed.forward(&Blobs::input_from_fn(|i| i as f32)), net.forward(&Blobs::input_from_fn(|i| i as f32)));
    assert_eq!(Blobs::input_from_slice(&[1.0]).unwrap_err().to_string(), "1 values given for a buffer of 4");
}
