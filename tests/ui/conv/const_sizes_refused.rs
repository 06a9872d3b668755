use nn_core::network;

const SIDE: usize = 4;
const WIDE: usize = 8;

network! {
    struct KernelTooLarge {
        input: [1, SIDE, SIDE],
        Conv2d(2, kernel = 5),
        Flatten,
        Dense(2),
    }
}

network! {
    struct ResidualWidens {
        input: [4, SIDE, SIDE],
        Residual(Conv2d(WIDE, kernel = 3, padding = 1)),
        Flatten,
        Dense(2),
    }
}

fn main() {}
