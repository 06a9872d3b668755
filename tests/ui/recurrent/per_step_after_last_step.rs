use nn_core::network;

// The dense layer is declared per step, but the LSTM was asked for its last step only.
network! {
    struct Tagger { input: Seq(20, 5), lstm: Lstm(16, output = last), tags: Dense(4, per_step = true) }
}

fn main() {}
