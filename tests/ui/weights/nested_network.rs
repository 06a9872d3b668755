use nn_core::network;

network! {
    pub struct Inner<f32> { input: 3, Dense(4), Relu }
}

network! {
    #[weights = "fixtures/small.safetensors"]
    struct Outer<f32> { input: 3, inner: Network(Inner), Dense(2) }
}

fn main() {}
