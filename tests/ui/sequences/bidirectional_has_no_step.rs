use nn_core::nalgebra::SVector;
use nn_core::network;

// A bidirectional layer's first output needs the sequence's last input: the network has no streaming form,
// and calling `step` says so (the state type exists, so the call is the one error).
network! {
    struct Tagger { input: Seq(10, 3), gru: Gru(8, bidirectional = true), out: Dense(4) }
}

network! {
    struct Flagged { input: Seq(10, 3), lstm: Lstm(8, bidirectional = yes) }
}

fn main() {
    let net = Tagger::zeroed();
    let mut state = TaggerState::new();
    let _ = net.step(&mut state, &SVector::<f32, 3>::zeros());
}
