use nn_core::network;

network! {
    struct Net {
        input: 4,
        fc2: Dense(8), Relu,
        Dense(2),
    }
}

fn main() {}
