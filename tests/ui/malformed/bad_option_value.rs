use nn_core::network;

network! {
    struct Net {
        input: 4,
        Dense(8, bias = 1), Relu,
        Dense(8, init = he), Relu,
        Dense(2, bias = false, bias = true),
    }
}

fn main() {}
