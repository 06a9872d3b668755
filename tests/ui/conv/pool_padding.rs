use nn_core::network;

network! {
    // PyTorch's rule: a pooling window padded by at most half its size, so that it always covers some input.
    struct TooMuch { input: [1, 8, 8], MaxPool2d(2, padding = 2), Flatten, Dense(2) }
}

network! {
    // Within the rule, as ResNet's stem pools: 3 x 3, stride 2, padding 1 (compiles: the one error is above).
    struct Stem { input: [1, 8, 8], MaxPool2d(3, stride = 2, padding = 1), AvgPool2d(3, stride = 1, padding = (1, 0)), Flatten, Dense(2) }
}

fn main() {}
