use nn_core::network;

network! {
    struct Net { input: 4 }
}

fn main() {}
