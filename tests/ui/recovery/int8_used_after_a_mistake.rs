// A rejected `#[int8]` declaration reads as its one error: its compiled-in network and its inference methods
// are still there for the code that uses them.
use nn_core::prelude::*;

network! {
    #[int8]
    #[weights = "../../fixtures/tflite/chain.safetensors"]
    struct Chain {
        input: [3, 12, 10],
        Relu,
        conv1: Conv2d(6, kernel = 3, stride = 2, padding = same), Tanh,
        conv2: Conv2d(12, kernel = 3, padding = same, groups = 6), Relu6,
        AvgPool2d(2),
        Flatten,
        fc1: Dense(5),
        Softmax,
    }
}

network! {
    #[int8]
    struct Loaded { input: 4, Dense(3, bais = true), Relu }
}

static NET: Chain = Chain::TRAINED;

fn main() {
    let y: [f32; 5] = NET.predict(&[0.0; Chain::INPUTS]);
    let q: [i8; 5] = NET.forward(&NET.quantize(&[0.0; 360]));
    let loaded = Loaded::load(&[]).expect("a weights file");
    let z: [i8; 3] = loaded.forward(&[0; 4]);
    println!("{y:?} {q:?} {z:?} {:?}", NET.dequantize(&q));
}
