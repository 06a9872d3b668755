use nn_core::network;

// Batch norm and convolutions do not apply to a sequence; the sequence input takes two sizes.
network! {
    struct Norm { input: Seq(10, 4), norm: BatchNorm, lstm: Lstm(8) }
}

network! {
    struct Conv { input: Seq(10, 4), conv: Conv1d(8, kernel = 3) }
}

network! {
    struct Malformed { input: Seq(10), lstm: Lstm(8) }
}

fn main() {}
