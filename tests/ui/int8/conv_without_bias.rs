use nn_core::prelude::*;

network! {
    #[int8]
    struct Unbiased {
        input: [3, 8, 8],
        conv1: Conv2d(4, kernel = 3, bias = false),
        Flatten,
        fc1: Dense(2),
    }
}

fn main() {}
