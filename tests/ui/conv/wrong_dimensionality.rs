use nn_core::network;

network! {
    struct Flat {
        input: 64,
        Conv2d(4, kernel = 3),
    }
}

network! {
    struct OneD {
        input: [2, 16],
        Conv2d(4, kernel = 3),
        MaxPool1d(2),
    }
}

network! {
    struct Nothing {
        input: 8,
        Flatten,
        Dense(2),
    }
}

fn main() {}
