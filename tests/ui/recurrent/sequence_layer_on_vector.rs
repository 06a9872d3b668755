use nn_core::network;

// A recurrent layer needs a sequence in.
network! {
    struct OnVector { input: 8, lstm: Lstm(4) }
}

// After a layer that returns only its last step, there is no sequence left to stack on.
network! {
    struct StackedOnLast { input: Seq(10, 3), first: Gru(8, output = last), second: Rnn(4) }
}

fn main() {}
