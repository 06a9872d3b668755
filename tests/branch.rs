//! Branching graphs: parallel branches over the same input merged by concatenation (features, or channels of
//! planes) or by sum, and skip connections that concatenate the input of a block to its output (U-Net style,
//! the empty branch `[]`). Every gradient is checked against central differences.

use nn_core::nalgebra::SMatrix;
use nn_core::prelude::*;
use nn_core::rand::SeedableRng;
use nn_core::rand::rngs::ChaCha8Rng;
use nn_tests::{check_gradients as check, random};

network! {
    /// An Inception-style block on vectors: three branches, one of them the input itself.
    struct Inception<f64> {
        input: 6,
        Concat([Dense(4), Relu], [Dense(3), Tanh], []),
        out: Dense(2),
    }
}

network! {
    /// Two branches added.
    struct Summed<f64> { input: 5, Sum([Dense(4), Tanh, Dense(3)], [Dense(3)]), Sigmoid }
}

network! {
    /// A U-Net-style skip on planes: the block's input channels are concatenated to its output channels.
    struct Skip<f64> {
        input: [2, 5, 5],
        Concat([Conv2d(3, kernel = 3, padding = 1), Relu], []),
        mix: Conv2d(1, kernel = 1),
        Flatten,
        out: Dense(2),
    }
}

const A: usize = 3;
const B2: usize = 2;

network! {
    /// Branch sizes given by `const` items.
    struct ConstBranches<f64> { input: 4, Concat([Dense(A), Tanh], [Dense(B2)]), Dense(1) }
}

#[test]
fn concatenation_joins_the_branches_in_order() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let net = Inception::boxed_init(&mut rng);
    let x: Vector<f64, 6> = random(&mut rng);
    let a = net.fc1.forward(&x).map(|v| v.max(0.0));
    let b = net.fc2.forward(&x).map(f64::tanh);
    let joined = SMatrix::<f64, 13, 1>::from_iterator(a.iter().chain(b.iter()).chain(x.iter()).copied());
    assert!((net.forward(&x) - net.out.forward(&joined)).abs().max() < 1e-15);
    assert_eq!(
        Inception::SUMMARY,
        "input 6 -> concat1 Concat([fc1 Dense 4 -> Relu], [fc2 Dense 3 -> Tanh], []) -> out Dense 2"
    );
    let mut names = Vec::new();
    net.visit(|t| names.push(t.name.to_string()));
    assert_eq!(names, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "out.weight", "out.bias"]);
}

#[test]
fn sum_adds_the_branches() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let net = Summed::boxed_init(&mut rng);
    let x: Vector<f64, 5> = random(&mut rng);
    let a = net.fc2.forward(&net.fc1.forward(&x).map(f64::tanh));
    let b = net.fc3.forward(&x);
    let want = (a + b).map(|v| 1.0 / (1.0 + (-v).exp()));
    assert!((net.forward(&x) - want).abs().max() < 1e-15);
}

#[test]
fn gradients_through_branches_match_central_differences() {
    for seed in 0..3 {
        check::<Inception>(10 + seed);
        check::<Summed>(20 + seed);
        check::<Skip>(30 + seed);
        check::<ConstBranches>(40 + seed);
    }
    assert_eq!((Skip::INPUTS, Skip::OUTPUTS, ConstBranches::OUTPUTS), (50, 2, 1));
}

#[test]
fn a_batch_gives_each_sample_its_own_output() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let net = Skip::boxed_init(&mut rng);
    let xs: SMatrix<f64, 50, 4> = random(&mut rng);
    let ys = net.forward_batch::<4>(&xs);
    for c in 0..4 {
        assert!((ys.column(c) - net.forward(&xs.column(c).into_owned())).abs().max() < 1e-14);
    }
}

/// Names a user may choose that generated code also uses (a network `B`, a size `B`: the batch size of the
/// generated code is a name of its own), and blocks nested as deep as the macro reads.
mod chosen_names_and_deep_nesting {
    use nn_core::prelude::*;

    const B: usize = 4;

    network! {
        /// Residual blocks nested 62 deep, the deepest the macro reads (with the struct's braces and the dense
        /// layer's parentheses, 64 brackets).
        struct Deep { input: B, Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Residual(Dense(4))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))) }
    }

    network! {
        /// Concatenations nested 31 deep, each with the input passed on.
        struct B { input: 4, Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Concat([Dense(4)], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], [])], []) }
    }

    #[test]
    fn deepest_blocks_compile_and_run() {
        let x = Vector::<f32, 4>::from([1.0, -2.0, 3.0, 0.5]);
        // Zero weights: the dense layer gives 0, each residual block adds its input to its branch's output (62 x),
        // each concatenation appends the input.
        assert_eq!(Deep::boxed_zeroed().forward(&x), x * 62.0);
        let y = B::boxed_zeroed().forward(&x);
        assert_eq!(B::OUTPUTS, 4 + 31 * 4);
        assert_eq!(y.fixed_rows::<4>(0), Vector::<f32, 4>::zeros());
        for k in 0..31 {
            assert_eq!(y.fixed_rows::<4>(4 + 4 * k), x, "copy {k}");
        }
    }
}
