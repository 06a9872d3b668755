use nn_core::network;

network! {
    pub struct Inner<f32> { input: 4, fc: Dense(4), Tanh }
}

network! {
    struct Outer<f64> { input: 4, inner: Network(Inner), out: Dense(1) }
}

fn main() {}
