//! A VGG-11-sized network (eight 3x3 convolutions, five poolings, a classifier, on 3x32x32 images) builds, infers,
//! backpropagates and trains with `Trainer::fit::<16>` on a spawned thread of 2 MiB, the default size of a test
//! thread: caches, batch gradients and optimizer state live in storage allocated once on the heap, and nothing
//! large passes through the stack. Release builds run the full widths (64 to 512 channels, 9.2 M parameters);
//! debug builds, whose convolutions are about a hundred times slower, the same depth at a sixteenth of the widths.

use nn_core::prelude::*;
use nn_core::train::Sample;

#[cfg(not(debug_assertions))]
const W: usize = 64;
#[cfg(debug_assertions)]
const W: usize = 4;
const W2: usize = 2 * W;
const W4: usize = 4 * W;
const W8: usize = 8 * W;

network! {
    /// VGG-11, configuration A of Simonyan and Zisserman (2015), for 3x32x32 images and ten classes.
    struct Vgg11<f32> {
        input: [3, 32, 32],
        Conv2d(W, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(W2, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(W4, kernel = 3, padding = 1), Relu, Conv2d(W4, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(W8, kernel = 3, padding = 1), Relu, Conv2d(W8, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(W8, kernel = 3, padding = 1), Relu, Conv2d(W8, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Flatten,
        Dense(W8), Relu,
        Dense(10),
    }
}

/// 32 images of noise, each labelled by the brightest of ten horizontal bands painted over it.
fn data() -> Vec<Sample<Vgg11>> {
    let mut rng = seeded_rng(11);
    (0..32)
        .map(|i| {
            let class = i % 10;
            let x = Vector::<f32, 3072>::from_fn(|r, _| {
                let row = (r % 1024) / 32;
                let noise = nn_core::rand::RngExt::random_range(&mut rng, 0.0..0.2);
                if row * 10 / 32 == class { 1.0 + noise } else { noise }
            });
            (x, Vector::<f32, 10>::from_fn(|r, _| if r == class { 1.0 } else { 0.0 }))
        })
        .collect()
}

#[test]
fn a_vgg_sized_network_trains_on_a_two_mib_thread() {
    let run = || {
        let mut net = Vgg11::boxed_init(&mut seeded_rng(3));
        assert_eq!(
            net.param_count(),
            9 * (3 * W + W * W2 + W2 * W4 + W4 * W4 + W4 * W8 + 3 * W8 * W8)
                + W8 * W8
                + W8 * 10
                + (W + W2 + 2 * W4 + 4 * W8)
                + W8
                + 10
        );
        let data = data();

        // Inference and one sample of backpropagation.
        let y = net.forward(&data[0].0);
        assert!(y.iter().all(|v| v.is_finite()) && y.iter().any(|&v| v != 0.0), "output {y:?}");
        let mut grads = Vgg11::boxed_zeroed();
        let loss = net.backprop(&data[0].0, &data[0].1, &SoftmaxCrossEntropy, &mut grads, &mut seeded_rng(4));
        assert!(loss.is_finite() && loss > 0.0, "loss {loss}");
        let first = grads.tensor_named("conv1.weight").unwrap();
        assert!(first.data.iter().any(|&g| g != 0.0), "no gradient reached the first convolution");

        // Training in batches of 16: the loss on the training set falls.
        let before = evaluate::<_, _, 16>(&*net, &data, &SoftmaxCrossEntropy).loss;
        let mut adam = Adam::new(1e-3);
        let report = Trainer::new(&mut *net, &mut adam, SoftmaxCrossEntropy)
            .epochs(3)
            .seed(5)
            .fit_without_validation::<16>(&data);
        let report = report.expect("training does not diverge");
        assert_eq!(report.epochs.len(), 3);
        let after = evaluate::<_, _, 16>(&*net, &data, &SoftmaxCrossEntropy).loss;
        assert!(after < before, "loss before {before}, after {after}");
        (before, after)
    };
    let (before, after) =
        std::thread::Builder::new().stack_size(2 << 20).spawn(run).expect("thread starts").join().expect("no overflow");
    println!("VGG-11 (width {W}) on a 2 MiB thread: training-set loss {before:.4} -> {after:.4}");
}
