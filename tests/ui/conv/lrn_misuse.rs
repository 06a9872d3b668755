use nn_core::network;

// Local response normalisation works across the channels of planes, with its window given.
network! {
    struct OnVector { input: 8, Dense(8), LocalResponseNorm(5) }
}

network! {
    struct NoWindow { input: [3, 8, 8], Conv2d(8, kernel = 3), LocalResponseNorm }
}

network! {
    struct BadOption { input: [3, 8, 8], Conv2d(8, kernel = 3), LocalResponseNorm(5, gamma = 2) }
}

fn main() {}
