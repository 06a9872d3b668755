use nn_core::network;

network! {
    #[weights = "fixtures/small.safetensors"]
    struct Longer<f32> { input: 3, Dense(4), Relu, Dense(2), BatchNorm, Dense(2, bias = false) }
}

fn main() {}
