use nn_core::network;

network! {
    struct Net {
        input: 4,
        Desne(8), Relu,
        Linear(2),
        Conv2d(3),
    }
}

fn main() {}
