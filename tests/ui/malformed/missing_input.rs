use nn_core::network;

network! {
    struct Net {
        hidden: Dense(4), Relu,
        out: Dense(1),
    }
}

fn main() {}
