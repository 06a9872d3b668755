use nn_core::prelude::*;

network! {
    struct Net<f64> { input: 4, Dense(2) }
}

fn main() {
    let net = Net::zeroed();
    let y = net.forward(&Vector::zeros());
    let target = Vector::<f64, 3>::zeros();
    let _ = MeanSquaredError.value(&y, &target);
}
