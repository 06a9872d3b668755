use nn_core::network;

network! {
    pub struct Encoder<f64> { input: 6, fc1: Dense(2) }
}

network! {
    struct Net<f64> { input: 6, Network(Encoder), Dense(1) }
}

fn main() {}
