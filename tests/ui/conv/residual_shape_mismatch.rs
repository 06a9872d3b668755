use nn_core::network;

network! {
    struct Widening {
        input: [4, 8, 8],
        Residual(Conv2d(8, kernel = 3, padding = 1), Relu),
        Flatten,
        Dense(2),
    }
}

network! {
    struct Shrinking {
        input: [4, 8, 8],
        block: Residual(Conv2d(4, kernel = 3), Relu),
        Flatten,
        Dense(2),
    }
}

network! {
    struct BadProjection {
        input: [4, 8, 8],
        Residual(Conv2d(8, kernel = 3, padding = 1), project = Conv2d(6, kernel = 1)),
        Flatten,
        Dense(2),
    }
}

network! {
    struct Empty {
        input: 8,
        Residual(),
        Dense(2),
    }
}

fn main() {}
