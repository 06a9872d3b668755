use nn_core::network;

network! {
    struct Net {
        input: [2, 8, 8],
        Reshape([4, 4, 4]),
        Flatten,
        Dense(2),
    }
}

network! {
    struct FromVector {
        input: 30,
        Reshape([1, 5, 5]),
        Conv2d(2, kernel = 3),
    }
}

fn main() {}
