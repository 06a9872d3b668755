use nn_core::network;

network! {
    struct Net<f64> { input: 5, Sum([Dense(4), Tanh], [Dense(3)]), Dense(1) }
}

fn main() {}
