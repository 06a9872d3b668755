// PyTorch's `num_batches_tracked` counter is ignored only for a batch-norm layer the network has, and only as an
// I64 scalar; anywhere else it is a tensor the declaration lacks.
use nn_core::network;

network! {
    #[weights = "fixtures/counter_without_batch_norm.safetensors"]
    struct WithoutBatchNorm<f32> { input: 3, Dense(4), Relu, Dense(2) }
}

network! {
    #[weights = "fixtures/counter_wrong_type.safetensors"]
    struct WrongType<f32> { input: 3, Dense(4), BatchNorm, Relu, Dense(2) }
}

network! {
    #[weights = "fixtures/counter.safetensors"]
    struct Right<f32> { input: 3, Dense(4), BatchNorm, Relu, Dense(2) }
}

fn main() {
    // The right file compiles in: its counter is ignored.
    let _ = &Right::TRAINED;
}
