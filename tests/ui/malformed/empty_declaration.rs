use nn_core::network;

network! {
    struct Net {}
}

fn main() {}
