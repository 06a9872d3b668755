// Independent mistakes give one error each: an unknown layer is checked on as the layer it most likely means
// (`Relux` as `Relu`, `Linear(8)` as `Dense(8)`, so the shape break after it is found), a zero size leaves the
// next explicit input size unchecked but the chain goes on from its outputs, and the networks are still usable
// afterwards without more errors.
use nn_core::prelude::*;

network! {
    struct Net<f32> {
        input: 4,
        Dense(8), Relux,
        Dense(0), Relu,
        Dense(7, 3), Relu,
        Dense(2, bais = false),
    }
}

network! {
    struct Unknown<f32> {
        input: 4,
        Linear(8), Relu,
        Dense(6, 2),
    }
}

fn main() {
    let net = Net::boxed_zeroed();
    let _: Vector<f32, 2> = net.forward(&Vector::<f32, 4>::zeros());
    let y: Vector<f32, 2> = Unknown::zeroed().forward(&Vector::<f32, 4>::zeros());
    println!("{y}");
}

// A shape break does not stop the chain: the layer takes its declared size and the next break is found too.
network! {
    struct Breaks<f32> {
        input: 4,
        Dense(5, 3), Relu,
        Dense(4, 2),
    }
}
