use nn_core::network;

network! {
    struct NotABool { input: [1, 8, 8], Conv2d(4, kernel = 3, bias = maybe) }
}

network! {
    struct Twice { input: [1, 8], Conv1d(4, kernel = 3, bias = false, bias = true) }
}

network! {
    struct Transposed { input: [1, 8, 8], ConvTranspose2d(2, kernel = 2, stride = 2, bias = false) }
}

network! {
    struct Pooled { input: [1, 8, 8], MaxPool2d(2, bias = false) }
}

fn main() {}
