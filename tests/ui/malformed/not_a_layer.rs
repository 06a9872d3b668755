use nn_core::network;

network! {
    struct Net {
        input: 4,
        fc1: 8,
        input: 3,
        nn::Dense(2),
    }
}

fn main() {}
