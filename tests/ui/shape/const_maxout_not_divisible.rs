use nn_core::network;

const HIDDEN: usize = 6;
const PIECES: usize = 4;

network! {
    struct Net {
        input: 3,
        pieces: Dense(HIDDEN),
        Maxout(PIECES),
        out: Dense(2),
    }
}

fn main() {}
