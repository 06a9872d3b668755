use nn_core::network;

network! {
    struct Net<i32> {
        input: 4,
        Dense(2),
    }
}

fn main() {}
