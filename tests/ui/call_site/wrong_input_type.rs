use nn_core::prelude::*;

network! {
    struct Net<f64> { input: 4, Dense(2) }
}

fn main() {
    let net = Net::zeroed();
    let _ = net.forward(&Vector::<f64, 3>::zeros());
}
