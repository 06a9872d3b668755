use nn_core::network;

const HIDDEN: usize = 4;

network! {
    #[weights = "fixtures/small.safetensors"]
    struct Small<f32> { input: 3, Dense(HIDDEN), Relu, Dense(2) }
}

fn main() {}
