use nn_core::network;

// The input size per step is declared explicitly and disagrees with the sequence.
network! {
    struct FirstLayer { input: Seq(10, 3), lstm: Lstm(4, 16) }
}

// The second layer declares 16 inputs per step, but the first has 8 hidden units.
network! {
    struct SecondLayer { input: Seq(10, 3), encoder: Lstm(8), decoder: Gru(16, 4) }
}

fn main() {}
