use nn_core::network;

network! {
    struct Net {
        input: 4,
        pieces: Dense(10),
        Maxout(3),
        out: Dense(2),
    }
}

fn main() {}
