use nn_core::network;

const HIDDEN: usize = 0;

network! {
    struct Net {
        input: 4,
        hidden: Dense(HIDDEN), Relu,
        out: Dense(2),
    }
}

fn main() {}
