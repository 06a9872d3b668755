use nn_core::network;

network! {
    struct Net {
        input: [1, 8, 8],
        Conv2d(2, kernel = 3, stride = 0),
        AvgPool2d(2, stride = (1, 0)),
        Flatten,
        Dense(2),
    }
}

fn main() {}
