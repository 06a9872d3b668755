//! A convolution without bias compiles in from its weight alone (the file has no `conv1.bias`).
use nn_core::prelude::*;

network! {
    /// A convolution without bias before batch norm, then a dense layer, weights compiled in.
    #[weights = "fixtures/unbiased_cnn.safetensors"]
    struct UnbiasedCnn<f32> {
        input: [2, 6, 6],
        Conv2d(4, kernel = 3, padding = 1, bias = false), BatchNorm, Relu,
        MaxPool2d(2),
        Flatten,
        Dense(3),
    }
}

static NET: UnbiasedCnn = UnbiasedCnn::TRAINED;

fn main() {
    let mut loaded = UnbiasedCnn::boxed_zeroed();
    let bytes = include_bytes!("fixtures/unbiased_cnn.safetensors");
    nn_core::io::from_bytes(&mut *loaded, bytes, nn_core::io::Policy::Strict).unwrap();
    let x = Vector::<f32, 72>::from_fn(|i, _| (i as f32 * 0.37).sin());
    assert_eq!(NET.forward(&x), loaded.forward(&x));
    assert_eq!(NET.conv1.bias, Vector::<f32, 4>::zeros());
}
