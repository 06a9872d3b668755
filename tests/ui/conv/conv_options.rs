use nn_core::network;

network! {
    struct Typo { input: [1, 8, 8], Conv2d(4, kernal = 3) }
}

network! {
    struct NoKernel { input: [1, 8, 8], Conv2d(4) }
}

network! {
    struct Triple { input: [1, 8, 8], Conv2d(4, kernel = (3, 3, 3)) }
}

network! {
    struct OneDPair { input: [1, 8], Conv1d(4, kernel = (1, 3)) }
}

network! {
    struct OutputPadding { input: [1, 8, 8], ConvTranspose2d(2, kernel = 2, stride = 2, output_padding = 2) }
}

network! {
    struct PoolDilation { input: [1, 8, 8], MaxPool2d(2, dilation = 2) }
}

fn main() {}
