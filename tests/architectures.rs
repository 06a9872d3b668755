//! The classic architectures of the lecture notes declared with `network!`, their parameter counts equal to the
//! published (LeNet-5) and torchvision (AlexNet, VGG-11) figures. A network without batch norm is nothing but
//! its parameters, so its size in memory over the scalar's is its parameter count: checked without building
//! the 244 MB (AlexNet) or 531 MB (VGG-11) of weights.

use nn_core::prelude::*;

network! {
    /// LeNet-5 (LeCun et al. 1998) as usually written today: full connections between C3 and S2, tanh, average
    /// pooling for the subsampling layers.
    pub struct LeNet5<f32> {
        input: [1, 32, 32],
        c1: Conv2d(6, kernel = 5), Tanh, AvgPool2d(2),            // -> [6, 14, 14]
        c3: Conv2d(16, kernel = 5), Tanh, AvgPool2d(2),           // -> [16, 5, 5]
        Flatten,
        c5: Dense(120), Tanh,
        f6: Dense(84), Tanh,
        out: Dense(10),
    }
}

network! {
    /// AlexNet (Krizhevsky, Sutskever and Hinton 2012) in one tower, as torchvision's `alexnet`, with the paper's
    /// local response normalisation after the first two convolutions (no parameters).
    pub struct AlexNet<f32> {
        input: [3, 224, 224],
        Conv2d(64, kernel = 11, stride = 4, padding = 2), Relu,   // -> [64, 55, 55]
        LocalResponseNorm(5, alpha = 1e-4, beta = 0.75, k = 2),
        MaxPool2d(3, stride = 2),                                 // -> [64, 27, 27]
        Conv2d(192, kernel = 5, padding = 2), Relu,
        LocalResponseNorm(5, alpha = 1e-4, beta = 0.75, k = 2),
        MaxPool2d(3, stride = 2),                                 // -> [192, 13, 13]
        Conv2d(384, kernel = 3, padding = 1), Relu,
        Conv2d(256, kernel = 3, padding = 1), Relu,
        Conv2d(256, kernel = 3, padding = 1), Relu,
        MaxPool2d(3, stride = 2),                                 // -> [256, 6, 6]
        Flatten,
        Dropout(0.5), Dense(4096), Relu,
        Dropout(0.5), Dense(4096), Relu,
        Dense(1000),
    }
}

network! {
    /// VGG-11 (Simonyan and Zisserman 2014, configuration A), as torchvision's `vgg11`.
    pub struct Vgg11<f32> {
        input: [3, 224, 224],
        Conv2d(64, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(128, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(256, kernel = 3, padding = 1), Relu, Conv2d(256, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(512, kernel = 3, padding = 1), Relu, Conv2d(512, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Conv2d(512, kernel = 3, padding = 1), Relu, Conv2d(512, kernel = 3, padding = 1), Relu, MaxPool2d(2),
        Flatten,                                                  // 512 x 7 x 7
        Dense(4096), Relu, Dropout(0.5),
        Dense(4096), Relu, Dropout(0.5),
        Dense(1000),
    }
}

/// The parameters of a network without buffers: its size over the scalar's.
const fn parameters<N>() -> usize {
    size_of::<N>() / size_of::<f32>()
}

#[test]
fn classic_architectures_have_their_published_parameter_counts() {
    assert_eq!(parameters::<LeNet5>(), 61_706);
    assert_eq!(parameters::<AlexNet>(), 61_100_840);
    assert_eq!(parameters::<Vgg11>(), 132_863_336);
    // The small one is built and counted the ordinary way too, and runs.
    let lenet = LeNet5::boxed_init(&mut seeded_rng(1));
    assert_eq!(lenet.param_count(), 61_706);
    let y = lenet.forward(&Vector::from_element(0.5));
    assert!(y.iter().all(|v| v.is_finite()));
    assert_eq!(AlexNet::SUMMARY.matches("LocalResponseNorm (5)").count(), 2, "{}", AlexNet::SUMMARY);
}

network! {
    /// Local response normalisation inside a small network, for its gradient check.
    struct Normalised<f64> {
        input: [2, 3, 3],
        Conv2d(4, kernel = 2), Tanh,
        LocalResponseNorm(3, alpha = 0.5, beta = 0.75, k = 1.5),
        Flatten,
        Dense(2),
    }
}

#[test]
fn local_response_norm_in_a_network_matches_central_differences() {
    let mut net = Normalised::boxed_init(&mut seeded_rng(3));
    let mut grads = Normalised::boxed_zeroed();
    let x = Vector::<f64, 18>::from_fn(|i, _| (i as f64 * 0.37).sin());
    let t = Vector::from([0.2, -0.4]);
    let check = nn_core::gradcheck::check_network(&mut *net, &x, &t, &MeanSquaredError, &mut grads, 5);
    assert!(check.max_relative_error < 1e-6, "{check:?}");
}
