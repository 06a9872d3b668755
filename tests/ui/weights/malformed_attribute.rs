use nn_core::network;

network! {
    #[weights("fixtures/small.safetensors")]
    struct A<f32> { input: 3, Dense(4), Relu, Dense(2) }
}

network! {
    #[weights = 42]
    struct B<f32> { input: 3, Dense(4), Relu, Dense(2) }
}

fn main() {}
