use nn_core::network;

network! {
    struct Net {
        input: 4,
        hidden: Dense(8), Relu,
        out: Dense(6, 2),
    }
}

fn main() {}
