use nn_core::prelude::*;

network! {
    struct Encoder<f64> { input: 8, Dense(3), Tanh }
}

network! {
    struct Decoder<f64> { input: 4, Dense(8), Sigmoid }
}

fn main() {
    let _ = Chain::new(Encoder::zeroed(), Decoder::zeroed());
}
