use nn_core::network;

network! {
    struct Options {
        input: Seq(10, 2),
        a: Lstm(8, output = end),
        b: Rnn(8, activation = Softmax),
        c: Rnn(8, activation = LeakyRelu(0.2)),
        d: Gru(8, activaton = Tanh),
        e: Lstm(),
        f: Gru(8, 8, 8),
        g: Lstm(0),
        h: Gru(8, forget_bias = 2.0),
        i: Lstm(8, forget_bias = "high"),
        j: Gru(8, layers = 9),
    }
}

fn main() {}
