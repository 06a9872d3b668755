use nn_core::prelude::*;

network! {
    #[int8]
    struct Net {
        input: 4,
        fc1: Dense(2),
    }
}

fn main() {}
