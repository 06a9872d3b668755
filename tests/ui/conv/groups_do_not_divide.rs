use nn_core::network;

network! {
    struct InputChannels {
        input: [6, 8, 8],
        conv1: Conv2d(8, kernel = 3, groups = 4), Relu,
        Flatten,
        Dense(10),
    }
}

network! {
    struct OutputChannels {
        input: [8, 8, 8],
        Conv2d(6, kernel = 3, groups = 4), Relu,
        Flatten,
        Dense(10),
    }
}

network! {
    struct NotALiteral {
        input: [8, 8, 8],
        Conv2d(8, kernel = 3, groups = 0), Relu,
    }
}

fn main() {}
