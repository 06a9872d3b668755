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
