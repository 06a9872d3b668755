//! The classic architectures of the lecture notes declared with `network!`, their parameter counts equal to the
//! published (LeNet-5) and torchvision (AlexNet, VGG-11, GoogLeNet) figures, and U-Net's to the count of the
//! paper's layers by `tests/fixtures/architectures/count_parameters.py` (which also counts torchvision's
//! GoogLeNet layer by layer; its output is `parameters.txt` there). A network without batch norm is nothing but
//! its parameters, so its size in memory over the scalar's is its parameter count: checked without building the
//! 244 MB (AlexNet), 531 MB (VGG-11) or 124 MB (U-Net) of weights.

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

network! {
    /// GoogLeNet (Szegedy et al. 2014) as torchvision's `googlenet(aux_logits=False)`: every convolution followed
    /// by batch norm and ReLU (torchvision's `BasicConv2d`), nine Inception blocks of four branches joined along
    /// channels (1x1; 1x1 then 3x3; 1x1 then 3x3, where the paper has 5x5 and torchvision keeps 3x3 for its
    /// pretrained weights; 3x3 max pooling then 1x1), global average pooling, dropout and one dense layer.
    /// The convolutions have no bias, as torchvision's (`bias = false`: the batch norm after each has one). Two
    /// differences from torchvision, neither of which changes a parameter: batch norm's epsilon is PyTorch's
    /// default 1e-5 (torchvision's 1e-3), and the pooling rounds down (torchvision's `ceil_mode=True`), which
    /// gives the same planes at this input, whose sizes are odd before every 3x3 pooling of stride 2 and even
    /// before the 2x2 one.
    pub struct GoogLeNet<f32> {
        input: [3, 45, 45],
        Conv2d(64, kernel = 7, stride = 2, padding = 3, bias = false), BatchNorm, Relu, // -> [64, 23, 23]
        MaxPool2d(3, stride = 2),                                 // -> [64, 11, 11]
        Conv2d(64, kernel = 1, bias = false), BatchNorm, Relu,
        Conv2d(192, kernel = 3, padding = 1, bias = false), BatchNorm, Relu,
        MaxPool2d(3, stride = 2),                                 // -> [192, 5, 5]
        inception3a: Concat(                                      // -> [256, 5, 5]
            [Conv2d(64, kernel = 1, bias = false), BatchNorm, Relu],
            [Conv2d(96, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(128, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [Conv2d(16, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(32, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [MaxPool2d(3, stride = 1, padding = 1), Conv2d(32, kernel = 1, bias = false), BatchNorm, Relu],
        ),
        inception3b: Concat(                                      // -> [480, 5, 5]
            [Conv2d(128, kernel = 1, bias = false), BatchNorm, Relu],
            [Conv2d(128, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(192, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [Conv2d(32, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(96, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [MaxPool2d(3, stride = 1, padding = 1), Conv2d(64, kernel = 1, bias = false), BatchNorm, Relu],
        ),
        MaxPool2d(3, stride = 2),                                 // -> [480, 2, 2]
        inception4a: Concat(                                      // -> [512, 2, 2]
            [Conv2d(192, kernel = 1, bias = false), BatchNorm, Relu],
            [Conv2d(96, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(208, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [Conv2d(16, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(48, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [MaxPool2d(3, stride = 1, padding = 1), Conv2d(64, kernel = 1, bias = false), BatchNorm, Relu],
        ),
        inception4b: Concat(                                      // -> [512, 2, 2]
            [Conv2d(160, kernel = 1, bias = false), BatchNorm, Relu],
            [Conv2d(112, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(224, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [Conv2d(24, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(64, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [MaxPool2d(3, stride = 1, padding = 1), Conv2d(64, kernel = 1, bias = false), BatchNorm, Relu],
        ),
        inception4c: Concat(                                      // -> [512, 2, 2]
            [Conv2d(128, kernel = 1, bias = false), BatchNorm, Relu],
            [Conv2d(128, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(256, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [Conv2d(24, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(64, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [MaxPool2d(3, stride = 1, padding = 1), Conv2d(64, kernel = 1, bias = false), BatchNorm, Relu],
        ),
        inception4d: Concat(                                      // -> [528, 2, 2]
            [Conv2d(112, kernel = 1, bias = false), BatchNorm, Relu],
            [Conv2d(144, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(288, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [Conv2d(32, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(64, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [MaxPool2d(3, stride = 1, padding = 1), Conv2d(64, kernel = 1, bias = false), BatchNorm, Relu],
        ),
        inception4e: Concat(                                      // -> [832, 2, 2]
            [Conv2d(256, kernel = 1, bias = false), BatchNorm, Relu],
            [Conv2d(160, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(320, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [Conv2d(32, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(128, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [MaxPool2d(3, stride = 1, padding = 1), Conv2d(128, kernel = 1, bias = false), BatchNorm, Relu],
        ),
        MaxPool2d(2),                                             // -> [832, 1, 1]
        inception5a: Concat(                                      // -> [832, 1, 1]
            [Conv2d(256, kernel = 1, bias = false), BatchNorm, Relu],
            [Conv2d(160, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(320, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [Conv2d(32, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(128, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [MaxPool2d(3, stride = 1, padding = 1), Conv2d(128, kernel = 1, bias = false), BatchNorm, Relu],
        ),
        inception5b: Concat(                                      // -> [1024, 1, 1]
            [Conv2d(384, kernel = 1, bias = false), BatchNorm, Relu],
            [Conv2d(192, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(384, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [Conv2d(48, kernel = 1, bias = false), BatchNorm, Relu,
             Conv2d(128, kernel = 3, padding = 1, bias = false), BatchNorm, Relu],
            [MaxPool2d(3, stride = 1, padding = 1), Conv2d(128, kernel = 1, bias = false), BatchNorm, Relu],
        ),
        GlobalAvgPool2d,                                          // -> 1024
        Dropout(0.2),
        fc: Dense(1000),
    }
}

network! {
    /// U-Net (Ronneberger, Fischer and Brox 2015) for one input channel and two classes: four levels down of
    /// two 3x3 convolutions and 2x2 max pooling (64, 128, 256, 512 channels), 1,024 at the bottom, and back up
    /// by 2x2 up-convolutions of stride 2 that halve the channels, each joined with the same level's features
    /// on the way down (the empty branch `[]` of each `Concat`) before two more 3x3 convolutions; a 1x1
    /// convolution to the classes at the end. Padded by 1 as most PyTorch implementations are, so the skips need
    /// no cropping (the paper's unpadded convolutions have the same weights).
    pub struct UNet<f32> {
        input: [1, 32, 32],
        Conv2d(64, kernel = 3, padding = 1), Relu, Conv2d(64, kernel = 3, padding = 1), Relu,
        Concat([], [                                              // [64, 32, 32] and what comes back up
            MaxPool2d(2),
            Conv2d(128, kernel = 3, padding = 1), Relu, Conv2d(128, kernel = 3, padding = 1), Relu,
            Concat([], [                                          // [128, 16, 16]
                MaxPool2d(2),
                Conv2d(256, kernel = 3, padding = 1), Relu, Conv2d(256, kernel = 3, padding = 1), Relu,
                Concat([], [                                      // [256, 8, 8]
                    MaxPool2d(2),
                    Conv2d(512, kernel = 3, padding = 1), Relu, Conv2d(512, kernel = 3, padding = 1), Relu,
                    Concat([], [                                  // [512, 4, 4]
                        MaxPool2d(2),
                        Conv2d(1024, kernel = 3, padding = 1), Relu, Conv2d(1024, kernel = 3, padding = 1), Relu,
                        ConvTranspose2d(512, kernel = 2, stride = 2), // [1024, 2, 2] -> [512, 4, 4]
                    ]),
                    Conv2d(512, kernel = 3, padding = 1), Relu, Conv2d(512, kernel = 3, padding = 1), Relu,
                    ConvTranspose2d(256, kernel = 2, stride = 2),
                ]),
                Conv2d(256, kernel = 3, padding = 1), Relu, Conv2d(256, kernel = 3, padding = 1), Relu,
                ConvTranspose2d(128, kernel = 2, stride = 2),
            ]),
            Conv2d(128, kernel = 3, padding = 1), Relu, Conv2d(128, kernel = 3, padding = 1), Relu,
            ConvTranspose2d(64, kernel = 2, stride = 2),
        ]),
        Conv2d(64, kernel = 3, padding = 1), Relu, Conv2d(64, kernel = 3, padding = 1), Relu,
        out: Conv2d(2, kernel = 1),                               // -> [2, 32, 32]: each pixel's two logits
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

#[test]
fn googlenet_has_torchvisions_parameter_count_and_runs() {
    let net = GoogLeNet::boxed_init(&mut seeded_rng(2));
    // No convolution has a bias, as in torchvision: every tensor named `bias` is a batch norm's or the dense
    // layer's.
    let mut conv_biases = 0;
    net.visit(|t| conv_biases += usize::from(t.name.layer.starts_with("conv") && t.name.tensor == "bias"));
    assert_eq!(conv_biases, 0);
    assert_eq!(net.param_count(), 6_624_904, "torchvision's googlenet");
    // 57 convolutions, each with its batch norm, 9 Inception blocks of four branches.
    assert_eq!(GoogLeNet::SUMMARY.matches("Concat([").count(), 9, "{}", GoogLeNet::SUMMARY);
    assert_eq!(GoogLeNet::SUMMARY.matches("BatchNorm").count(), 57, "{}", GoogLeNet::SUMMARY);
    // It runs (its activations in a cache on the heap): 1,000 finite logits, not all the dense layer's bias.
    let image = Vector::<f32, { 3 * 45 * 45 }>::from_fn(|i, _| (i as f32 * 0.01).sin());
    let mut cache = nn_core::boxed_zeroed::<<GoogLeNet as Network>::Cache>();
    let logits = net.forward_in(&image, &mut cache);
    assert!(logits.iter().all(|v| v.is_finite()));
    assert!(logits.max() > logits.min(), "{logits:?}");
}

#[test]
fn unet_has_the_papers_parameter_count_and_a_skip_at_every_level() {
    assert_eq!(parameters::<UNet>(), 31_030_658);
    // Four levels, each a pass-through branch beside the way down and back up, nested.
    let down_and_up = [
        "concat1 Concat([], [MaxPool [64, 16, 16] -> conv3 Conv [128, 16, 16] -> Relu -> conv4 Conv [128, 16, 16] -> Relu",
        " -> concat2 Concat([], [MaxPool [128, 8, 8] -> conv5 Conv [256, 8, 8] -> Relu -> conv6 Conv [256, 8, 8] -> Relu",
        " -> concat3 Concat([], [MaxPool [256, 4, 4] -> conv7 Conv [512, 4, 4] -> Relu -> conv8 Conv [512, 4, 4] -> Relu",
        " -> concat4 Concat([], [MaxPool [512, 2, 2] -> conv9 Conv [1024, 2, 2] -> Relu -> conv10 Conv [1024, 2, 2] -> Relu",
        " -> conv11 TransposedConv [512, 4, 4]]) -> conv12 Conv [512, 4, 4] -> Relu -> conv13 Conv [512, 4, 4] -> Relu",
        " -> conv14 TransposedConv [256, 8, 8]]) -> conv15 Conv [256, 8, 8] -> Relu -> conv16 Conv [256, 8, 8] -> Relu",
        " -> conv17 TransposedConv [128, 16, 16]]) -> conv18 Conv [128, 16, 16] -> Relu -> conv19 Conv [128, 16, 16]",
        " -> Relu -> conv20 TransposedConv [64, 32, 32]]) -> conv21 Conv [64, 32, 32]",
    ];
    assert!(UNet::SUMMARY.contains(&down_and_up.concat()), "{}", UNet::SUMMARY);
    assert_eq!(UNet::OUTPUTS, 2 * 32 * 32);
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
