use nn_core::network;

const INPUTS: usize = 4;
const HIDDEN: usize = 8;
const WIDE: usize = 6;

network! {
    struct Net {
        input: INPUTS,
        hidden: Dense(HIDDEN), Relu,
        out: Dense(WIDE, 2),
    }
}

fn main() {}
