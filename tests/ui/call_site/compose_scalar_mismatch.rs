use nn_core::prelude::*;

network! {
    struct Encoder<f32> { input: 8, Dense(3), Tanh }
}

network! {
    struct Decoder<f64> { input: 3, Dense(8), Sigmoid }
}

fn main() {
    let _ = Chain::new(Encoder::zeroed(), Decoder::zeroed());
}
