use nn_core::network;

network! {
    struct Net { input: [] }
}

network! {
    struct WithLayers { input: [], Dense(2) }
}

fn main() {}
