use nn_core::network;

network! {
    pub struct Encoder<f64> { input: 6, fc1: Dense(4), Tanh, fc2: Dense(2) }
}

network! {
    pub struct Decoder<f64> { input: 3, fc1: Dense(6), Sigmoid }
}

network! {
    struct AutoEncoder<f64> { input: 6, encoder: Network(Encoder), decoder: Network(Decoder) }
}

fn main() {}

// After an activation, the message names the layer with parameters before it, not the activation's
// generated name.
network! {
    pub struct Wide<f64> { input: 784, fc1: Dense(32), Relu }
}

network! {
    struct Front<f64> { input: 100, Dense(100), Relu, wide: Network(Wide) }
}
