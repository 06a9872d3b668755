use nn_core::prelude::*;

network! {
    struct Net {
        input: [1, 8, 8],
        conv1: Conv2d(4, kernel = 4, padding = same),
        conv2: Conv2d(4, kernel = 3, padding = same),
        Flatten,
        fc1: Dense(2),
    }
}

fn main() {}
