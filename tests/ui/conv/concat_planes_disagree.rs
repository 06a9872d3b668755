use nn_core::network;

network! {
    struct Net<f64> {
        input: [2, 6, 6],
        Concat([Conv2d(3, kernel = 3), Relu], []),
        Flatten,
        Dense(2),
    }
}

fn main() {}
