use nn_core::network;

network! {
    struct One<f64> { input: 4, Concat([Dense(2)]), Dense(1) }
}

network! {
    struct NotLists<f64> { input: 4, Sum(Dense(2), Dense(2)), Dense(1) }
}

fn main() {}
