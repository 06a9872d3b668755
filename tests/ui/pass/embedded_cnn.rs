//! A convolutional network's weights compile in like a dense one's, in PyTorch layout.
use nn_core::prelude::*;

network! {
    /// Conv, pool, transposed conv and dense weights compiled in.
    #[weights = "fixtures/cnn.safetensors"]
    struct Cnn<f32> {
        input: [1, 8, 8],
        Conv2d(4, kernel = 3, padding = 1), Relu,
        MaxPool2d(2),
        ConvTranspose2d(2, kernel = 2, stride = 2), Tanh,
        Flatten,
        Dense(3),
    }
}

static NET: Cnn = Cnn::TRAINED;

fn main() {
    let mut loaded = Cnn::boxed_zeroed();
    nn_core::io::from_bytes(&mut *loaded, include_bytes!("fixtures/cnn.safetensors"), nn_core::io::Policy::Strict)
        .unwrap();
    let x = Vector::<f32, 64>::from_fn(|i, _| (i as f32 * 0.37).sin());
    assert_eq!(NET.forward(&x), loaded.forward(&x));
}
