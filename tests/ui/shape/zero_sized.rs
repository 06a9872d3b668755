use nn_core::network;

network! {
    struct Net {
        input: 0,
        Dense(0), Relu,
        Dense(2),
    }
}

fn main() {}
