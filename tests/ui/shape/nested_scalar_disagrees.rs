// An f32 network nested in an f64 one: one error at the nested layer naming both scalar types, and none from
// the rest of the declaration or from using the network.
use nn_core::prelude::*;

network! {
    pub struct Inner<f32> { input: 4, fc: Dense(4), Tanh }
}

network! {
    #[derive(Clone, Debug)]
    struct Outer<f64> { input: 4, inner: Network(Inner), out: Dense(1) }
}

fn main() {
    let net = Outer::boxed_init(&mut seeded_rng(1));
    let y: Vector<f64, 1> = net.forward(&Vector::<f64, 4>::zeros());
    println!("{y} {}", net.param_count());
}
