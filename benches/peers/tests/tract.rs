//! tract runs every convolution case of `benches/conv.rs` (the ONNX graphs of `onnxruntime_conv.py`, built by
//! `nn_peer_benches::tract_models`) with the weights of the generated network or layer, and every output
//! element agrees with the generated code's to [`TRACT_TOLERANCE`], relatively and absolutely:
//! `|tract - generated| <= 1e-3 (1 + |generated|)`.
//!
//! `cargo test --release --test tract -- --nocapture` prints the largest scaled difference of each case.

use nn_benches::{CONV_1X28X28_8K5, CONV_16X14X14_32K3P1, CONV_64X8X8_64K3P1, CONV_64X8X8_128K1, ConvShape};
use nn_core::layer::Conv2d;
use nn_core::nalgebra::{SMatrix, SVector};
use nn_core::prelude::*;
use nn_core::rand::RngExt;
use nn_peer_benches::tract_models::*;

/// Runs `f` on a thread with a stack large enough for the VGG network's activations.
fn with_large_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(256 << 20).spawn(f).expect("a thread").join().expect("no panic");
}

/// Runs the case in tract with `params` on the input `x` and checks its output against the generated `want`.
fn check<P: Parameters<f32>>(case: &Case, params: &P, x: &[f32], want: &[f32]) {
    let plan = tract_plan(case, params).unwrap_or_else(|e| panic!("{}: tract cannot plan it: {e:?}", case.name));
    let got = run_tract(&plan, case, x).unwrap_or_else(|e| panic!("{}: tract cannot run it: {e:?}", case.name));
    let d = max_scaled_diff(&got, want);
    let largest = want.iter().map(|v| v.abs()).fold(0.0, f32::max);
    println!(
        "{}: {} outputs (largest |y| {largest:.3}), max |tract - generated| / (1 + |generated|) = {d:.2e}",
        case.name,
        want.len()
    );
    assert!(largest > 1e-2, "{}: the outputs are too small to compare", case.name);
    assert!(d <= TRACT_TOLERANCE, "{}: tract differs by {d} (scaled)\n got {got:?}\nwant {want:?}", case.name);
}

/// A single convolution layer with random weights and biases in `[-0.5, 0.5)`, as `benches/conv.rs` builds it.
fn conv_layer<const CO: usize, const K: usize, const KH: usize, const KW: usize, const IN: usize, const OUT: usize>(
    case: &Case,
    s: &ConvShape,
) {
    let geometry = s.geometry();
    assert_eq!((geometry.inputs(), CO * geometry.positions(), geometry.receptive()), (IN, OUT, K));
    assert_eq!(case.input_len(), IN);
    let mut rng = seeded_rng(11);
    let layer = Conv2d::<f32, CO, K, KH, KW>::new(
        SMatrix::from_fn(|_, _| rng.random_range(-0.5..0.5)),
        SVector::from_fn(|_, _| rng.random_range(-0.5..0.5)),
    );
    let x = SMatrix::<f32, IN, 1>::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let want = layer.forward::<IN, OUT, 1>(&geometry, &x);
    check(case, &layer, x.as_slice(), want.as_slice());
}

/// A generated network, initialised randomly with random biases in `[-0.1, 0.1)` (so copying them is checked
/// too), on a random input in `[-1, 1)`.
fn network<N: Network<Scalar = f32> + Initialize + Boxed>(case: &'static Case) {
    with_large_stack(move || {
        let mut rng = seeded_rng(12);
        let mut net = N::boxed_init(&mut rng);
        net.visit_mut(|t| {
            if t.name.tensor == "bias" {
                t.data.iter_mut().for_each(|v| *v = rng.random_range(-0.1..0.1));
            }
        });
        let mut x = N::Input::zeros();
        assert_eq!(x.as_slice().len(), case.input_len());
        x.as_mut_slice().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
        let want = net.forward(&x);
        check(case, &*net, x.as_slice(), want.as_slice());
    });
}

#[test]
fn conv_layers_agree() {
    conv_layer::<8, 25, 5, 5, 784, 4608>(&CASE_CONV_1X28X28_8K5, &CONV_1X28X28_8K5);
    conv_layer::<32, 144, 3, 3, 3136, 6272>(&CASE_CONV_16X14X14_32K3P1, &CONV_16X14X14_32K3P1);
    conv_layer::<64, 576, 3, 3, 4096, 4096>(&CASE_CONV_64X8X8_64K3P1, &CONV_64X8X8_64K3P1);
    conv_layer::<128, 64, 1, 1, 4096, 8192>(&CASE_CONV_64X8X8_128K1, &CONV_64X8X8_128K1);
}

#[test]
fn depthwise_agrees() {
    network::<Depthwise>(&CASE_DEPTHWISE);
}

#[test]
fn mobile_blocks_agree() {
    network::<MobileBlocks>(&CASE_MOBILE_BLOCKS);
}

#[test]
fn mnist_cnn_agrees() {
    network::<Mnist>(&CASE_MNIST_CNN);
}

#[test]
fn vgg_cifar_agrees() {
    network::<VggCifar>(&CASE_VGG_CIFAR);
}

/// The check has teeth: one kernel element changed by 0.01 in the ONNX graph (input channel 1, row 2, column 0
/// of output channel 3) moves exactly the outputs of channel 3 that read it, beyond the tolerance.
#[test]
fn a_changed_weight_is_caught() {
    const CO: usize = 32;
    let (case, s) = (&CASE_CONV_16X14X14_32K3P1, &CONV_16X14X14_32K3P1);
    let mut rng = seeded_rng(13);
    let layer = Conv2d::<f32, CO, 144, 3, 3>::new(
        SMatrix::from_fn(|_, _| rng.random_range(-0.5..0.5)),
        SVector::from_fn(|_, _| rng.random_range(-0.5..0.5)),
    );
    let x = SMatrix::<f32, 3136, 1>::from_fn(|_, _| rng.random_range(-1.0..1.0));
    let want = layer.forward::<3136, 6272, 1>(&s.geometry(), &x);
    let mut tensors = onnx_tensors(&layer);
    assert_eq!(tensors[0].dims, [CO, 16, 3, 3]);
    tensors[0].data[((3 * 16 + 1) * 3 + 2) * 3] += 0.01;
    let got = run_tract(&tract_plan_with(case, &tensors).unwrap(), case, x.as_slice()).unwrap();
    let moved: Vec<usize> =
        (0..want.len()).filter(|&i| (got[i] - want[i]).abs() > TRACT_TOLERANCE * (1.0 + want[i].abs())).collect();
    // Tap (2, 0) reads input row `oh + 1`, column `ow - 1`: every output of channel 3 but the last row and the
    // first column, where it falls in the padding; and only where channel 1 is large enough to move the output.
    assert!(moved.len() > 100, "{} outputs moved", moved.len());
    for i in moved {
        let (co, oh, ow) = (i / 196, i / 14 % 14, i % 14);
        assert!(co == 3 && oh < 13 && ow > 0, "output {i} (channel {co}, {oh}, {ow}) moved");
    }
}

/// The cases are those of `onnxruntime_conv.py`, under the same names and in the same order.
#[test]
fn cases_are_those_of_the_onnxruntime_script() {
    let script = include_str!("../onnxruntime_conv.py");
    let table = script.split("CASES = {").nth(1).and_then(|s| s.split('}').next()).expect("the CASES table");
    let names: Vec<&str> = table.lines().filter_map(|l| l.trim().strip_prefix('"')?.split('"').next()).collect();
    let ours: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    assert_eq!(ours, names);
}
