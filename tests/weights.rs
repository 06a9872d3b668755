//! Weights in and out as safetensors: bit-for-bit round trips, PyTorch layout, and every failure an `Err` that
//! names the tensor and the shapes, leaving the network untouched.

use nn_core::io::{LoadOptions, NonFinite, Policy, WeightsError, from_bytes, load, save, to_bytes};
use nn_core::prelude::*;

network! {
    /// The same layers as a PyTorch `fc1 = Linear(5, 8)`, `bn1 = BatchNorm1d(8)`, `fc2 = Linear(8, 4)`,
    /// `fc3 = Linear(4, 3, bias=False)` model.
    struct Net<f32> { input: 5, Dense(8), BatchNorm, Relu, Dense(4), Tanh, Dense(3, bias = false) }
}

network! {
    struct Net64<f64> { input: 5, Dense(8), BatchNorm, Relu, Dense(4), Tanh, Dense(3, bias = false) }
}

network! {
    struct Wider<f32> { input: 5, Dense(9), BatchNorm, Relu, Dense(4), Tanh, Dense(3, bias = false) }
}

network! {
    struct Shorter<f32> { input: 5, Dense(8), BatchNorm, Relu, Dense(4) }
}

/// A trained-looking network: random weights and running statistics moved by a few training batches.
fn trained() -> Box<Net> {
    let mut rng = seeded_rng(3);
    let mut net = Net::boxed_init(&mut rng);
    let x = nn_core::nalgebra::SMatrix::<f32, 5, 16>::from_fn(|r, c| ((r * 7 + c * 3) % 11) as f32 / 5.0 - 1.0);
    for _ in 0..3 {
        let (_, cache) = net.forward_train_batch::<16, _>(&x, &mut rng);
        net.update_statistics(&cache);
    }
    net
}

fn input() -> Vector<f32, 5> {
    Vector::from([0.3, -1.2, 0.8, 0.05, 2.0])
}

#[test]
fn round_trip_is_bit_for_bit_including_running_statistics() {
    let net = trained();
    let bytes = to_bytes(&*net).unwrap();
    let mut back = Net::boxed_zeroed();
    let report = from_bytes(&mut *back, &bytes, Policy::Strict).unwrap();
    assert_eq!(report.loaded, 9);
    assert_eq!(back.bn1.running_var, net.bn1.running_var);
    assert_ne!(net.bn1.running_var, Vector::<f32, 8>::repeat(1.0));
    assert_eq!(back.forward(&input()), net.forward(&input()));
    assert_eq!(to_bytes(&*back).unwrap(), bytes);
}

#[test]
fn files_round_trip_and_saving_replaces_atomically() {
    let dir = std::env::temp_dir().join(format!("nn-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("net.safetensors");
    let net = trained();
    save(&*net, &path).unwrap();
    let mut other = Net::boxed_init(&mut seeded_rng(99));
    save(&*other, &path).unwrap();
    load(&mut *other, &path, Policy::Strict).unwrap();
    assert_ne!(other.forward(&input()), net.forward(&input()));
    save(&*net, &path).unwrap();
    load(&mut *other, &path, Policy::Strict).unwrap();
    assert_eq!(other.forward(&input()), net.forward(&input()));
    // Only the destination remains: no temporary files.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    // A destination in a missing directory is an error naming it, and leaves nothing behind.
    let bad = dir.join("missing").join("net.safetensors");
    let err = save(&*net, &bad).unwrap_err();
    assert!(err.to_string().contains("missing/net.safetensors"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

network! {
    /// Large enough (17,802 parameters, 71 kB) that two saves overlap in time.
    struct Big<f32> { input: 64, Dense(128), Relu, Dense(64), Relu, Dense(10) }
}

#[test]
fn concurrent_saves_to_one_path_leave_one_complete_file() {
    let dir = std::env::temp_dir().join(format!("nn-weights-race-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("net.safetensors");
    let models = [Big::boxed_init(&mut seeded_rng(1)), Big::boxed_init(&mut seeded_rng(2))];
    let bytes = models.each_ref().map(|m| to_bytes(&**m).unwrap());
    assert_ne!(bytes[0], bytes[1]);
    let rounds = 2000;
    for round in 0..rounds {
        std::thread::scope(|s| {
            for m in &models {
                s.spawn(|| save(&**m, &path).unwrap());
            }
        });
        let kept = std::fs::read(&path).unwrap();
        assert!(kept == bytes[0] || kept == bytes[1], "round {round}: the file is neither model");
        let mut back = Big::boxed_zeroed();
        load(&mut *back, &path, Policy::Strict).unwrap();
    }
    // Only the destination remains: no temporary files.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn weights_are_written_in_pytorch_layout() {
    let mut net = Net::boxed_zeroed();
    // fc1.weight[o][i] = 10 o + i, so row-major bytes count up within each row.
    for o in 0..8 {
        for i in 0..5 {
            net.fc1.weight[(o, i)] = (10 * o + i) as f32;
        }
    }
    let bytes = to_bytes(&*net).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let w = file.tensor("fc1.weight").unwrap();
    assert_eq!(w.shape(), &[8, 5]);
    let values: Vec<f32> = w.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
    assert_eq!(&values[..7], &[0.0, 1.0, 2.0, 3.0, 4.0, 10.0, 11.0]);
    assert_eq!(file.tensor("bn1.running_var").unwrap().shape(), &[8]);
    // PyTorch's batch-norm counter, so that its strict `load_state_dict` accepts the file.
    let counter = file.tensor("bn1.num_batches_tracked").unwrap();
    assert_eq!((counter.dtype(), counter.shape()), (safetensors::Dtype::I64, &[][..]));
    assert_eq!(file.tensor("fc3.weight").unwrap().shape(), &[3, 4]);
    assert!(file.tensor("fc3.bias").is_err());
}

#[test]
fn a_wrong_shape_names_the_tensor_and_both_shapes_and_changes_nothing() {
    let bytes = to_bytes(&*Wider::boxed_init(&mut seeded_rng(1))).unwrap();
    let mut net = trained();
    let before = net.forward(&input());
    let err = from_bytes(&mut *net, &bytes, Policy::Strict).unwrap_err();
    assert_eq!(err.to_string(), "tensor `fc1.weight` has shape [9, 5] in the file, the network needs [8, 5]");
    assert_eq!(net.forward(&input()), before);
}

#[test]
fn a_wrong_dtype_is_an_error() {
    let bytes = to_bytes(&*Net64::boxed_init(&mut seeded_rng(1))).unwrap();
    let err = from_bytes(&mut *Net::boxed_zeroed(), &bytes, Policy::Strict).unwrap_err();
    assert_eq!(err.to_string(), "tensor `fc1.weight` is F64 in the file, the network needs F32");
}

#[test]
fn missing_and_extra_tensors_are_errors_unless_lenient() {
    let short = to_bytes(&*Shorter::boxed_init(&mut seeded_rng(1))).unwrap();
    let err = from_bytes(&mut *Net::boxed_zeroed(), &short, Policy::Strict).unwrap_err();
    assert_eq!(err.to_string(), "tensor `fc3.weight` is missing from the file");

    let full = to_bytes(&*trained()).unwrap();
    let err = from_bytes(&mut *Shorter::boxed_zeroed(), &full, Policy::Strict).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the file has a tensor `fc3.weight` that the network does not (load leniently to ignore it)"
    );

    let mut net = Shorter::boxed_zeroed();
    let report = from_bytes(&mut *net, &full, Policy::Lenient).unwrap();
    assert_eq!((report.loaded, report.missing.len(), report.unexpected), (8, 0, vec!["fc3.weight".to_string()]));
    assert_eq!(net.fc1.weight, trained().fc1.weight);
    let mut longer = Net::boxed_init(&mut seeded_rng(5));
    let kept = longer.fc3.weight;
    let report = from_bytes(&mut *longer, &short, Policy::Lenient).unwrap();
    assert_eq!(report.missing, vec!["fc3.weight".to_string()]);
    assert_eq!(longer.fc3.weight, kept);
}

#[test]
fn truncated_corrupt_and_foreign_files_are_errors() {
    let bytes = to_bytes(&*trained()).unwrap();
    let mut net = Net::boxed_zeroed();
    for cut in [0, 4, 8, 20, bytes.len() / 2, bytes.len() - 1] {
        let err = from_bytes(&mut *net, &bytes[..cut], Policy::Strict).unwrap_err();
        assert!(matches!(err, WeightsError::Format(_) | WeightsError::Truncated { .. }), "cut {cut}: {err}");
    }
    let mut corrupt = bytes.clone();
    corrupt[10] = b'{';
    corrupt[11] = 0xff;
    assert!(from_bytes(&mut *net, &corrupt, Policy::Strict).is_err());
    let err = from_bytes(&mut *net, b"GIF89a not a weights file at all", Policy::Strict).unwrap_err();
    assert!(err.to_string().starts_with("not a valid safetensors file"), "{err}");
    let err = load(&mut *net, "/nonexistent/net.safetensors", Policy::Strict).unwrap_err();
    assert!(err.to_string().starts_with("/nonexistent/net.safetensors: "), "{err}");
}

network! {
    struct Cnn<f32> {
        input: [1, 8, 8],
        Conv2d(4, kernel = 3, padding = 1), Relu,
        MaxPool2d(2),
        ConvTranspose2d(2, kernel = 2, stride = 2), Tanh,
        Flatten,
        Dense(3),
    }
}

#[test]
fn convolution_weights_round_trip_in_pytorch_layout() {
    let net = Cnn::boxed_init(&mut seeded_rng(4));
    let bytes = to_bytes(&*net).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(file.tensor("conv1.weight").unwrap().shape(), &[4, 1, 3, 3]);
    // Transposed convolutions keep PyTorch's `[in, out, kh, kw]`.
    assert_eq!(file.tensor("conv2.weight").unwrap().shape(), &[4, 2, 2, 2]);
    assert_eq!(file.tensor("conv2.bias").unwrap().shape(), &[2]);
    let mut back = Cnn::boxed_zeroed();
    from_bytes(&mut *back, &bytes, Policy::Strict).unwrap();
    let x = Vector::<f32, 64>::from_fn(|i, _| (i as f32 * 0.37).sin());
    assert_eq!(back.forward(&x), net.forward(&x));
    // conv1.weight[co][0][kh][kw] in the file is weight[(co, kh * 3 + kw)] here.
    let w = file.tensor("conv1.weight").unwrap();
    let value = |i: usize| f32::from_le_bytes(w.data()[4 * i..4 * i + 4].try_into().unwrap());
    let (co, kh, kw) = (2, 1, 2);
    assert_eq!(value(co * 9 + kh * 3 + kw), net.conv1.weight[(co, kh * 3 + kw)]);
}

network! {
    /// No batch norm: a `num_batches_tracked` counter in a file is a tensor it lacks.
    struct Plain<f32> { input: 5, Dense(8), Relu, Dense(4), Tanh, Dense(3, bias = false) }
}

/// A safetensors file of `tensors` (name, dtype, shape, little-endian bytes).
fn file_of(tensors: &[(&str, safetensors::Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views: Vec<(&str, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(n, d, s, b)| (*n, safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize(views, None).unwrap()
}

/// The tensors of `bytes`, owned, so that a test can change one and write them again.
fn tensors_of(bytes: &[u8]) -> Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> {
    let file = safetensors::SafeTensors::deserialize(bytes).unwrap();
    let mut names = file.names();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let t = file.tensor(n).unwrap();
            (n.to_string(), t.dtype(), t.shape().to_vec(), t.data().to_vec())
        })
        .collect()
}

/// `trained()` saved with `fc2.weight[1, 3]` set to `value` (and, with `second`, `fc2.weight[3, 0]` too).
fn with_non_finite(value: f32, second: bool) -> Vec<u8> {
    let mut tensors = tensors_of(&to_bytes(&*trained()).unwrap());
    let fc2 = tensors.iter_mut().find(|t| t.0 == "fc2.weight").unwrap();
    // Row-major [4, 8]: element [1, 3] is number 11.
    fc2.3[11 * 4..12 * 4].copy_from_slice(&value.to_le_bytes());
    if second {
        fc2.3[24 * 4..25 * 4].copy_from_slice(&f32::INFINITY.to_le_bytes());
    }
    let owned: Vec<(&str, safetensors::Dtype, Vec<usize>, Vec<u8>)> =
        tensors.iter().map(|(n, d, s, b)| (n.as_str(), *d, s.clone(), b.clone())).collect();
    file_of(&owned)
}

#[test]
fn strict_refuses_nan_and_infinity_naming_the_tensor_and_position_and_changes_nothing() {
    let mut net = trained();
    let before = net.forward(&input());
    for (value, shown) in [(f32::NAN, "NaN"), (f32::NEG_INFINITY, "-inf")] {
        let err = from_bytes(&mut *net, &with_non_finite(value, false), Policy::Strict).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "tensor `fc2.weight` holds {shown} at [1, 3] (1 non-finite value in all; load with \
                 `Policy::allow_non_finite` to accept them)"
            )
        );
        assert_eq!(net.forward(&input()), before);
    }
    let err = from_bytes(&mut *net, &with_non_finite(f32::NAN, true), Policy::Strict).unwrap_err();
    assert!(matches!(err, WeightsError::NonFinite { count: 2, .. }), "{err}");
}

#[test]
fn non_finite_values_load_when_allowed_and_the_report_counts_them() {
    let bytes = with_non_finite(f32::NAN, true);
    let expected = vec![("fc2.weight".to_string(), 2)];
    for options in [Policy::Strict.allow_non_finite(), Policy::Lenient.into()] {
        let mut net = Net::boxed_zeroed();
        let report = from_bytes(&mut *net, &bytes, options).unwrap();
        assert_eq!(report.non_finite, expected, "{options:?}");
        assert!(net.fc2.weight[(1, 3)].is_nan() && net.fc2.weight[(3, 0)] == f32::INFINITY);
        assert_eq!(report.loaded, 9);
    }
    // Lenient with non-finite values refused, as a user may ask.
    let options = LoadOptions { policy: Policy::Lenient, non_finite: NonFinite::Reject };
    assert!(matches!(from_bytes(&mut *Net::boxed_zeroed(), &bytes, options), Err(WeightsError::NonFinite { .. })));
    // A clean file reports none.
    let report = from_bytes(&mut *Net::boxed_zeroed(), &to_bytes(&*trained()).unwrap(), Policy::Lenient).unwrap();
    assert!(report.non_finite.is_empty());
}

#[test]
fn a_batch_norm_counter_is_accepted_only_for_a_batch_norm_layer_of_its_name_as_an_i64_scalar() {
    use safetensors::Dtype::{F32, I64};
    let plain = tensors_of(&to_bytes(&*Plain::boxed_init(&mut seeded_rng(2))).unwrap());
    let with = |extra: (&str, safetensors::Dtype, Vec<usize>, Vec<u8>),
                base: &[(String, safetensors::Dtype, Vec<usize>, Vec<u8>)]| {
        let mut all: Vec<(&str, safetensors::Dtype, Vec<usize>, Vec<u8>)> =
            base.iter().map(|(n, d, s, b)| (n.as_str(), *d, s.clone(), b.clone())).collect();
        all.push(extra);
        file_of(&all)
    };
    let counter = |name| (name, I64, vec![], 7i64.to_le_bytes().to_vec());

    // A network without batch norm: the counter is a tensor it lacks.
    let bytes = with(counter("bn1.num_batches_tracked"), &plain);
    let err = from_bytes(&mut *Plain::boxed_zeroed(), &bytes, Policy::Strict).unwrap_err();
    assert!(matches!(&err, WeightsError::Unexpected { name } if name == "bn1.num_batches_tracked"), "{err}");
    let report = from_bytes(&mut *Plain::boxed_zeroed(), &bytes, Policy::Lenient).unwrap();
    assert_eq!(report.unexpected, ["bn1.num_batches_tracked"]);

    // A network with `bn1`: its counter is ignored, another layer's is not, and it must be an I64 scalar.
    let mut net_tensors = tensors_of(&to_bytes(&*trained()).unwrap());
    net_tensors.retain(|t| t.0 != "bn1.num_batches_tracked");
    let report =
        from_bytes(&mut *Net::boxed_zeroed(), &with(counter("bn1.num_batches_tracked"), &net_tensors), Policy::Strict)
            .unwrap();
    assert_eq!((report.loaded, report.unexpected.len()), (9, 0));
    let err =
        from_bytes(&mut *Net::boxed_zeroed(), &with(counter("bn2.num_batches_tracked"), &net_tensors), Policy::Strict);
    assert!(matches!(err, Err(WeightsError::Unexpected { name }) if name == "bn2.num_batches_tracked"));
    let wrong_dtype = ("bn1.num_batches_tracked", F32, vec![], 7f32.to_le_bytes().to_vec());
    let err = from_bytes(&mut *Net::boxed_zeroed(), &with(wrong_dtype, &net_tensors), Policy::Lenient).unwrap_err();
    assert_eq!(err.to_string(), "tensor `bn1.num_batches_tracked` is F32 in the file, the network needs I64");
    let wrong_shape = ("bn1.num_batches_tracked", I64, vec![2], [7i64.to_le_bytes(), 7i64.to_le_bytes()].concat());
    let err = from_bytes(&mut *Net::boxed_zeroed(), &with(wrong_shape, &net_tensors), Policy::Strict).unwrap_err();
    assert_eq!(err.to_string(), "tensor `bn1.num_batches_tracked` has shape [2] in the file, the network needs []");
}

/// The `#[weights]` fixtures of `tests/ui/weights` about batch-norm counters, made here and compared with the
/// committed files (`NN_BLESS=1` rewrites them): a counter in a file for a network without batch norm, a counter of
/// the wrong type, and a right one.
#[test]
fn the_counter_fixtures_of_the_compile_time_checks_are_current() {
    use safetensors::Dtype::{F32, I64};
    let f32s = |n: usize, from: f32| (0..n).flat_map(|i| (from + i as f32 / 8.0).to_le_bytes()).collect::<Vec<u8>>();
    let dense = |name: &'static str, rows: usize, cols: usize| {
        [
            (format!("{name}.weight"), F32, vec![rows, cols], f32s(rows * cols, -0.5)),
            (format!("{name}.bias"), F32, vec![rows], f32s(rows, 0.0)),
        ]
    };
    let batch_norm = ["weight", "bias", "running_mean", "running_var"]
        .map(|t| (format!("bn1.{t}"), F32, vec![4], f32s(4, if t == "running_var" { 1.0 } else { 0.0 })));
    let counter =
        |dtype, shape: Vec<usize>, bytes: Vec<u8>| ("bn1.num_batches_tracked".to_string(), dtype, shape, bytes);
    let plain: Vec<_> = dense("fc1", 4, 3).into_iter().chain(dense("fc2", 2, 4)).collect();
    let normed: Vec<_> = dense("fc1", 4, 3).into_iter().chain(batch_norm).chain(dense("fc2", 2, 4)).collect();
    let fixtures = [
        ("counter_without_batch_norm", plain, counter(I64, vec![], 5i64.to_le_bytes().to_vec())),
        ("counter_wrong_type", normed.clone(), counter(F32, vec![1], 5f32.to_le_bytes().to_vec())),
        ("counter", normed, counter(I64, vec![], 5i64.to_le_bytes().to_vec())),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/weights/fixtures");
    for (name, mut tensors, extra) in fixtures {
        tensors.push(extra);
        let owned: Vec<(&str, safetensors::Dtype, Vec<usize>, Vec<u8>)> =
            tensors.iter().map(|(n, d, s, b)| (n.as_str(), *d, s.clone(), b.clone())).collect();
        let bytes = file_of(&owned);
        let path = dir.join(format!("{name}.safetensors"));
        if std::env::var_os("NN_BLESS").is_some() {
            std::fs::write(&path, &bytes).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(committed == bytes, "{} is stale: run with NN_BLESS=1", path.display());
    }
}

network! {
    /// The network of `ui/pass/embedded_unbiased_cnn.rs`: a convolution without bias before batch norm.
    struct UnbiasedCnn<f32> {
        input: [2, 6, 6],
        Conv2d(4, kernel = 3, padding = 1, bias = false), BatchNorm, Relu,
        MaxPool2d(2),
        Flatten,
        Dense(3),
    }
}

/// `UnbiasedCnn` with every parameter and statistic set from its position, the same on every platform.
fn unbiased_cnn() -> Box<UnbiasedCnn> {
    let mut net = UnbiasedCnn::boxed_zeroed();
    net.visit_mut(|t| {
        for (i, v) in t.data.iter_mut().enumerate() {
            *v = (i % 13) as f32 / 8.0 - 0.75;
        }
    });
    net.bn1.running_mean = Vector::from([0.1, -0.2, 0.0, 0.3]);
    net.bn1.running_var = Vector::from([1.0, 0.5, 2.0, 1.5]);
    net
}

/// A convolution without bias saves and loads its weight alone, a file with a bias for it is refused (or, loaded
/// leniently, the bias ignored), and the `#[weights]` fixture of `ui/pass/embedded_unbiased_cnn.rs` is this
/// network's file (`NN_BLESS=1` rewrites it).
#[test]
fn a_convolution_without_bias_round_trips_without_a_bias_tensor() {
    let net = unbiased_cnn();
    let bytes = to_bytes(&*net).unwrap();
    let names: Vec<String> = tensors_of(&bytes).into_iter().map(|t| t.0).collect();
    assert_eq!(
        names,
        [
            "bn1.bias",
            "bn1.num_batches_tracked",
            "bn1.running_mean",
            "bn1.running_var",
            "bn1.weight",
            "conv1.weight",
            "fc1.bias",
            "fc1.weight",
        ]
    );
    let mut back = UnbiasedCnn::boxed_zeroed();
    let report = from_bytes(&mut *back, &bytes, Policy::Strict).unwrap();
    assert_eq!(report.loaded, 7);
    let x = Vector::<f32, 72>::from_fn(|i, _| (i as f32 * 0.37).sin());
    assert_eq!(back.forward(&x), net.forward(&x));
    assert_eq!(back.conv1.bias, Vector::<f32, 4>::zeros());

    // A file from a convolution with bias: its bias is a tensor this network lacks.
    let mut with_bias = tensors_of(&bytes);
    with_bias.push(("conv1.bias".into(), safetensors::Dtype::F32, vec![4], [1.5f32; 4].map(f32::to_le_bytes).concat()));
    let owned: Vec<_> = with_bias.iter().map(|(n, d, s, b)| (n.as_str(), *d, s.clone(), b.clone())).collect();
    let file = file_of(&owned);
    let err = from_bytes(&mut *UnbiasedCnn::boxed_zeroed(), &file, Policy::Strict).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the file has a tensor `conv1.bias` that the network does not (load leniently to ignore it)"
    );
    let mut lenient = UnbiasedCnn::boxed_zeroed();
    let report = from_bytes(&mut *lenient, &file, Policy::Lenient).unwrap();
    assert_eq!(report.unexpected, ["conv1.bias"]);
    assert_eq!((lenient.conv1.bias, lenient.forward(&x)), (Vector::<f32, 4>::zeros(), net.forward(&x)));

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/pass/fixtures/unbiased_cnn.safetensors");
    if std::env::var_os("NN_BLESS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(committed == bytes, "{} is stale: run with NN_BLESS=1", path.display());
}
