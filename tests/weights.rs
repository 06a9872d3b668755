//! Weights in and out as safetensors: bit-for-bit round trips, PyTorch layout, and every failure an `Err` that
//! names the tensor and the shapes, leaving the network untouched.

use nn_core::io::{Policy, WeightsError, from_bytes, load, save, to_bytes};
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
