use nn_core::network;

network! {
    struct Net {
        input: 4,
        Dense, Relu,
        Dense(2.5),
        Dense(1, 2, 3),
    }
}

fn main() {}
