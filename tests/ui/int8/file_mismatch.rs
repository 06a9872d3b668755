use nn_core::prelude::*;

network! {
    #[int8]
    #[weights = "../../fixtures/tflite/chain.safetensors"]
    struct Chain {
        input: [3, 12, 10],
        conv1: Conv2d(6, kernel = 3, stride = 2, padding = same), Relu,
        conv2: Conv2d(12, kernel = 3, padding = same, groups = 6), Relu6,
        AvgPool2d(2),
        Flatten,
        fc1: Dense(6),
        Softmax,
    }
}

fn main() {}
