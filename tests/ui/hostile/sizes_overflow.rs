// Sizes near `usize::MAX`: each product or sum of the shape arithmetic that does not fit is an error naming the
// layer and the factors.
use nn_core::network;

network! {
    struct PlanesInput { input: [1, 4, 4611686018427387904], Flatten, Dense(2) }
}

network! {
    struct SequenceInput { input: Seq(4611686018427387904, 4), Dense(2) }
}

network! {
    struct Gates { input: Seq(3, 4), Lstm(4611686018427387904) }
}

network! {
    struct Padding2d { input: [1, 8, 8], Conv2d(2, kernel = 3, padding = 4611686018427387904), Flatten, Dense(1) }
}

network! {
    struct Padding1d { input: [4, 8], Conv1d(2, kernel = 3, padding = 9223372036854775807), Flatten, Dense(1) }
}

network! {
    struct Stride { input: [1, 8, 8], ConvTranspose2d(2, kernel = 3, stride = 4611686018427387904), Flatten, Dense(1) }
}

network! {
    struct Joined { input: 4, Concat([Dense(9223372036854775807)], [Dense(9223372036854775807)], []) }
}

network! {
    struct Reshaped { input: 4, Reshape([4294967296, 4294967296, 2]) }
}

fn main() {}
