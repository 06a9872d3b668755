use nn_core::network;

network! {
    struct Net {
        input: [1, 4, 4],
        Conv2d(2, kernel = 5),
        Flatten,
        Dense(2),
    }
}

network! {
    struct Padded {
        input: [1, 4, 4],
        Conv2d(2, kernel = 3, padding = 1, dilation = 3),
        Flatten,
        Dense(2),
    }
}

network! {
    struct Pooled {
        input: [3, 5, 2],
        MaxPool2d(3),
        Flatten,
        Dense(2),
    }
}

fn main() {}
