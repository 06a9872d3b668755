use nn_core::network;

network! {
    struct Net {
        input: 4,
        Dense(8, bais = false), Relu,
        Dense(2, activation = relu),
    }
}

fn main() {}
