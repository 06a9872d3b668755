use nn_core::network;

network! {
    struct Net {
        input: 4,
        Dense(8), Sigmod,
        Dense(8), ReLU,
        Dense(2), SiLU,
    }
}

fn main() {}
