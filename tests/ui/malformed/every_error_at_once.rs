use nn_core::network;

network! {
    /// One compile reports all of these, not only the first.
    pub struct Net<f64> {
        input: 4,
        a: Dense(0), Relu,
        Dense(8, bais = true), Tahn,
        a: Dense(3, 2),
    }
}

fn main() {}
