use nn_core::network;

network! {
    struct Net {
        input: [1, 8, 8],
        Conv2d(4, kernel = 3), Relu,
        Flatten,
        GlobalAvgPool2d,
        Dense(10),
    }
}

fn main() {}
