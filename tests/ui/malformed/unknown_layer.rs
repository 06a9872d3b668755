use nn_core::network;

network! {
    struct Net {
        input: 4,
        Desne(8), Relu,
        Linear(2),
        Conv3d(3),
        Recurrent(8),
    }
}

fn main() {}
