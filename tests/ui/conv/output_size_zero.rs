use nn_core::network;

network! {
    struct Net {
        input: [1, 2, 2],
        ConvTranspose2d(1, kernel = 1, padding = 1),
        Flatten,
        Dense(2),
    }
}

network! {
    struct Strided {
        input: [1, 3, 3],
        Conv2d(1, kernel = 3, padding = 0),
        MaxPool2d(2),
        Flatten,
        Dense(2),
    }
}

fn main() {}
