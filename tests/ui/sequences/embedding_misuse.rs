use nn_core::network;

// An embedding reads token ids: only straight after the input.
network! {
    struct AfterDense { input: 8, Dense(8), Embedding(100, 16) }
}

// Ids are one number per step, not planes or a sequence of vectors.
network! {
    struct OnPlanes { input: [3, 8], Embedding(100, 16) }
}

network! {
    struct InABlock { input: 8, Residual(Embedding(100, 1), Flatten) }
}

// Its two sizes, and its one option.
network! {
    struct NoSizes { input: 8, Embedding(100) }
}

network! {
    struct BadLayout { input: 8, Embedding(100, 16, output = planes), Lstm(4, output = last) }
}

// A sequence of vectors is no set of channels: `Conv1d` needs `output = channels`.
network! {
    struct ConvOnSequence { input: 8, Embedding(100, 16), Conv1d(4, kernel = 3) }
}

fn main() {}
