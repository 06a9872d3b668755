use nn_core::network;

network! {
    struct Net {
        input: 4,
        Dense(8), Tanh(2),
        Dense(8), LeakyRelu(0.1, 0.2),
        Dense(8), Elu(alpha),
        Dense(2), LeakyRelu("steep"),
    }
}

fn main() {}
