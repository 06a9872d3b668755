use nn_core::network;

network! {
    struct Net {
        input: [1, 8, 8],
        Dense(10),
    }
}

fn main() {}
