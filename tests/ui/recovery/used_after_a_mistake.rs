// A rejected declaration reads as its one error: the network's later uses (constructors, inference, training,
// the trait bounds of generic code) compile against a stand-in with the declared sizes and add none.
use nn_core::prelude::*;

network! {
    pub struct Net<f32> {
        input: 4,
        hidden: Dense(8), Relu,
        out: Dense(3, init = xavier),
    }
}

fn train<N: BatchNetwork<Scalar = f32> + Boxed>(net: &mut N, data: &[(N::Input, N::Output)]) {
    let mut sgd = Sgd::new(0.1);
    let _ = Trainer::new(net, &mut sgd, SoftmaxCrossEntropy).epochs(1).fit_without_validation::<2>(data);
}

fn main() {
    let mut net = Net::boxed_init(&mut seeded_rng(1));
    let zero = Net::zeroed();
    let y: Vector<f32, 3> = net.forward(&Vector::<f32, 4>::zeros());
    let data = vec![(Vector::<f32, 4>::zeros(), Vector::<f32, 3>::zeros())];
    train(&mut *net, &data);
    println!("{y} {} {} {} {}", Net::INPUTS, Net::OUTPUTS, Net::SUMMARY, zero.param_count());
}
