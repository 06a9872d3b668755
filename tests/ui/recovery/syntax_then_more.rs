// A syntax mistake (a missing comma) does not hide the mistakes after it, and a sequence network's streaming
// form stays usable.
use nn_core::prelude::*;

network! {
    struct Net<f32> {
        input: 4,
        Dense(8) Relu,
        Dense(2, bais = false),
    }
}

network! {
    struct Tagger<f32> {
        input: Seq(20, 2),
        lstm: Lstm(16, bidirectinal = true),
        tags: Dense(3), Softmax,
    }
}

fn main() {
    let y: Vector<f32, 2> = Net::zeroed().forward(&Vector::<f32, 4>::zeros());
    let tagger = Tagger::boxed_zeroed();
    let mut state = TaggerState::new();
    let tags: Vector<f32, 3> = tagger.step(&mut state, &Vector::from([1.0, 2.0]));
    println!("{y} {tags} {}", Tagger::STEPS);
}
