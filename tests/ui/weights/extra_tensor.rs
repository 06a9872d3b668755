use nn_core::network;

network! {
    #[weights = "fixtures/extra.safetensors"]
    struct Small<f32> { input: 3, Dense(4), Relu, Dense(2) }
}

fn main() {}
