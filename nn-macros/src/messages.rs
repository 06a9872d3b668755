//! Every message the macro shows its user, in one place: the compile errors of `model` and `embed`, and the
//! messages of the `const` assertions the model asks codegen to emit when a size is a `const` item.
//!
//! One function (or constant) per kind of mistake, named after the mistake; the caller attaches the text to the
//! tokens it is about. Conventions: lowercase, no trailing period, what was expected before what was found, and
//! every name or piece of code the user wrote in backticks. The `.stderr` snapshots of `tests/ui` hold the
//! rendered texts: a change here shows there.

use core::fmt::Display;

/// `"2-D"` or `"1-D"`.
fn rank(two_d: bool) -> &'static str {
    if two_d { "2-D" } else { "1-D" }
}

/// Names in backticks, separated by commas: `` `a`, `b`, `c` ``.
fn listed(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// Pieces of messages: what a size or number is (the subject of a message about it), how a shape or a source of
/// values reads, and hints appended to a message.
pub mod part {
    /// The subject of the steps of `Seq(steps, features)`.
    pub const STEPS: &str = "the number of steps";
    /// The subject of the features of `Seq(steps, features)`.
    pub const FEATURES_PER_STEP: &str = "the features per step";
    /// The subject of a vector input's size.
    pub const INPUT_SIZE: &str = "the input size";
    /// The subject of one dimension of a multi-dimensional input.
    pub const INPUT_DIMENSION: &str = "an input dimension";
    /// The subject of a convolution's or pooling's kernel (window) size.
    pub const KERNEL_SIZE: &str = "the kernel size";
    /// The subject of a stride.
    pub const STRIDE: &str = "the stride";
    /// The subject of a padding.
    pub const PADDING: &str = "the padding";
    /// The subject of a dilation.
    pub const DILATION: &str = "the dilation";
    /// The subject of a transposed convolution's output padding.
    pub const OUTPUT_PADDING: &str = "the output padding";
    /// The subject of `Maxout`'s argument.
    pub const MAXOUT_PIECES: &str = "the number of pieces of `Maxout`";
    /// The subject of a dimension of `Reshape`.
    pub const RESHAPE_DIMENSION: &str = "a reshape dimension";
    /// The meaning of `LeakyRelu`'s parameter.
    pub const NEGATIVE_SLOPE: &str = "the negative slope";
    /// The meaning of `HardSigmoid`'s parameter.
    pub const SLOPE: &str = "the slope";
    /// The meaning of `Elu`'s parameter.
    pub const ALPHA: &str = "alpha";
    /// The meaning of `Swish`'s parameter.
    pub const BETA: &str = "beta";
    /// The meaning of `Step`'s and `Sign`'s parameter.
    pub const VALUE_AT_ZERO: &str = "the value at zero";
    /// Where values come from when no layer precedes.
    pub const THE_INPUT: &str = "the input";
    /// The subject of a layer's count of values.
    pub const ITS_VALUES: &str = "its values";
    /// The subject of a convolution's weights per channel.
    pub const WEIGHTS_PER_CHANNEL: &str = "its weights per channel";
    /// The subject of a convolution's padded input size.
    pub const ITS_PADDED_SIZE: &str = "its padded input";
    /// The subject of a transposed convolution's output before the padding is removed.
    pub const ITS_GROWN_SIZE: &str = "its output before the padding is removed";
    /// The subject of a recurrent layer's gate rows.
    pub const ITS_GATE_ROWS: &str = "its gate rows";
    /// The subject of what a recurrent layer keeps of every step for backward.
    pub const WHAT_IT_KEEPS: &str = "what it keeps of the sequence for backward";
    /// The shape of a vector.
    pub const A_VECTOR: &str = "a vector";

    /// The subject of a layer's size (a dense layer's outputs, a batch norm's features).
    pub fn size_of(layer: &str) -> String {
        format!("the size of `{layer}`")
    }

    /// The subject of a layer's explicit input size.
    pub fn input_size_of(layer: &str) -> String {
        format!("the input size of `{layer}`")
    }

    /// The subject of an embedding's vocabulary size.
    pub fn vocabulary_of(layer: &str) -> String {
        format!("the vocabulary size of `{layer}`")
    }

    /// The subject of an embedding's vector size.
    pub fn embedding_size_of(layer: &str) -> String {
        format!("the vector size of `{layer}`")
    }

    /// The subject of a recurrent layer's hidden size.
    pub fn hidden_size_of(layer: &str) -> String {
        format!("the hidden size of `{layer}`")
    }

    /// The subject of a convolution's output channels.
    pub fn output_channels_of(layer: &str) -> String {
        format!("the output channels of `{layer}`")
    }

    /// The subject of an activation's parameter (`meaning` is one of [`NEGATIVE_SLOPE`], [`ALPHA`]).
    pub fn parameter_of(meaning: &str, layer: &str) -> String {
        format!("{meaning} of `{layer}`")
    }

    /// The subject of an LSTM's `forget_bias`.
    pub fn forget_bias_of(layer: &str) -> String {
        format!("the forget-gate bias of `{layer}`")
    }

    /// The subject of a dropout layer's probability.
    pub fn drop_probability_of(layer: &str) -> String {
        format!("the drop probability of `{layer}`")
    }

    /// Channels of 2-D planes, as a shape.
    pub fn planes_2d(channels: &str, height: &str, width: &str) -> String {
        format!("[{channels}, {height}, {width}]")
    }

    /// Channels of 1-D planes, as a shape.
    pub fn planes_1d(channels: &str, length: &str) -> String {
        format!("[{channels}, {length}]")
    }

    /// A sequence, as a shape.
    pub fn sequence(steps: &str, features: &str) -> String {
        format!("a sequence of {steps} steps of {features}")
    }

    /// A vector of a known size, as a shape.
    pub fn vector_of(size: &str) -> String {
        format!("a vector of {size}")
    }

    /// A layer values come from.
    pub fn layer(name: &str) -> String {
        format!("`{name}`")
    }

    /// Where a nested network's inputs come from: the outputs of another nested network.
    pub fn nested_outputs(ty: &str, value: &str, layer: &str) -> String {
        format!("the `{ty}::OUTPUTS` = {value} outputs of `{layer}`")
    }

    /// Where a nested network's inputs come from: the outputs of a layer.
    pub fn layer_outputs(size: &str, layer: &str) -> String {
        format!("the {size} outputs of `{layer}`")
    }

    /// Where a nested network's inputs come from: the network's input.
    pub fn network_inputs(size: &str) -> String {
        format!("the {size} inputs of the network")
    }

    /// A size along one axis, with the padding added on each side when there is some.
    pub fn padded(size: &str, padding: usize) -> String {
        if padding > 0 { format!("{size} (+{padding} padding each side)") } else { size.to_string() }
    }

    /// The hint that a word is a likely typo of `suggestion`.
    pub fn did_you_mean(suggestion: &str) -> String {
        format!(", did you mean `{suggestion}`?")
    }

    /// The hint for PyTorch's names of a dense layer (`Linear`, `fc`).
    pub const LINEAR_HINT: &str = ", did you mean `Dense`? (or `Identity` for a linear activation)";

    /// The hint listing every layer and activation, when nothing is close to an unknown layer.
    pub fn every_layer(layers: &[&str], activations: &[&str]) -> String {
        format!("; the layers are {} and the activations {}", super::listed(layers), super::listed(activations))
    }
}

// The declaration as a whole.

/// The first entry is not `input: ..`.
pub const MISSING_INPUT: &str = "missing input shape: the first entry must be `input: N` (the number of inputs)";

/// The braces are empty.
pub fn declares_nothing(network: &str) -> String {
    format!("`{network}` declares nothing: expected `input: N` and then layers")
}

/// Only `input` is declared.
pub fn no_layers(network: &str) -> String {
    format!("`{network}` has no layers: add at least one after `input`")
}

/// Brackets, parentheses or braces nested deeper than the macro reads.
pub fn nested_too_deep(limit: usize) -> String {
    format!("nested too deep: `network!` reads declarations nested at most {limit} brackets deep")
}

/// A layer's sizes multiply or add up to more than a `usize` holds.
pub fn size_overflows(layer: &str, what: &str, expression: &str) -> String {
    format!("`{layer}` is too large: {expression} ({what}) exceeds `usize::MAX` ({})", usize::MAX)
}

/// Two entries without a comma between them.
pub const EXPECTED_COMMA: &str = "expected `,` between layers";

/// `input: ..` appears again after the first entry.
pub const INPUT_REPEATED: &str = "`input` is declared once, as the first entry";

/// The scalar type in `struct Name<..>` is not `f32` or `f64`.
pub fn unsupported_scalar(found: &str) -> String {
    format!("unsupported scalar type `{found}`: expected `f32` or `f64`")
}

/// `Seq(..)` without exactly two arguments.
pub const MALFORMED_SEQUENCE_INPUT: &str =
    "a sequence input is `Seq(steps, features)`: `Seq(20, 1)` is 20 steps of 1 value";

/// An input shape in brackets with more than three dimensions.
pub fn input_rank(shape: &str, dimensions: usize) -> String {
    format!(
        "the input shape `{shape}` has {dimensions} dimensions; expected `N`, `[channels, length]`, \
         `[channels, height, width]` or `Seq(steps, features)`"
    )
}

/// An entry that is not a layer at all.
pub fn not_a_layer(found: &str) -> String {
    format!("expected a layer such as `Dense(64)` or `Relu`, found `{found}`")
}

/// A layer written as a path (`layers::Dense(4)`).
pub fn layer_name_is_a_path(found: &str) -> String {
    format!("expected a layer name such as `Dense` or `Relu`, found the path `{found}`")
}

/// An assignment whose left side is not a plain option name.
pub fn not_an_option_name(found: &str) -> String {
    format!("expected an option name, found `{found}`")
}

/// A layer name the macro does not know; `hint` is a suggestion or the list of layers.
pub fn unknown_layer(layer: &str, hint: &str) -> String {
    format!("unknown layer `{layer}`{hint}")
}

/// A layer name used twice.
pub fn duplicate_name(name: &str) -> String {
    format!("duplicate layer name `{name}`")
}

/// An unnamed layer whose default name an earlier layer already has.
pub fn default_name_taken(name: &str) -> String {
    format!("this layer's default name `{name}` is already taken; name the layer explicitly (`name: Dense(..)`)")
}

/// Where a duplicated name was first used (a note on the two errors above).
pub fn first_used_here(name: &str) -> String {
    format!("`{name}` first used here")
}

// Sizes, numbers and options.

/// A size of 0.
pub fn zero_size(what: &str) -> String {
    format!("{what} is zero: a size must be at least 1")
}

/// A `const` size that turns out to be 0 (a `const` assertion).
pub fn zero_const_size(what: &str, size: &str) -> String {
    format!("{what} (`{size}`) is zero: a size must be at least 1")
}

/// An integer literal too large for a size.
pub fn invalid_size(what: &str, found: &str) -> String {
    format!("{what} `{found}` is not a valid size")
}

/// Something that is neither an integer literal nor a `const` expression where a size belongs.
pub fn not_a_size(what: &str, found: &str) -> String {
    format!("expected {what} (a positive integer literal or a `const` item), found `{found}`")
}

/// A kernel, stride or dilation of 0.
pub fn zero_geometry(what: &str) -> String {
    format!("{what} must be at least 1, found 0")
}

/// A kernel, stride, padding or dilation that is not an integer literal.
pub fn geometry_not_a_literal(what: &str, found: &str) -> String {
    format!("{what} must be an integer literal, found `{found}`")
}

/// A tuple where a 1-D layer takes one number, or a tuple of the wrong length for a 2-D layer.
pub fn geometry_not_a_pair(what: &str, two_d: bool) -> String {
    format!(
        "{what} of a {} layer is one number{}",
        rank(two_d),
        if two_d { " or a pair `(height, width)`" } else { "" }
    )
}

/// Something that is not a number where an activation parameter, a bias or a probability belongs.
pub fn not_a_number(what: &str, found: &str) -> String {
    format!("expected a number for {what}, found `{found}`")
}

/// A boolean option given something else.
pub fn not_a_bool(option: &str, found: &str) -> String {
    format!("option `{option}` expects `true` or `false`, found `{found}`")
}

/// An option given twice.
pub fn option_twice(option: &str) -> String {
    format!("option `{option}` is given twice")
}

/// An option on a layer that takes none.
pub fn no_options(layer: &str, option: &str) -> String {
    format!("`{layer}` has no option `{option}`")
}

/// An unknown option close to a known one; `hint` is the suggestion.
pub fn unknown_option(layer: &str, option: &str, hint: &str) -> String {
    format!("`{layer}` has no option `{option}`{hint}")
}

/// An unknown option of a convolution or pooling layer, listing its options.
pub fn unknown_spatial_option(layer: &str, option: &str, options: &[&str]) -> String {
    format!("`{layer}` has no option `{option}`; its options are {}", listed(options))
}

/// A `groups` option that is not a positive integer literal.
pub const GROUPS_NOT_A_POSITIVE_INTEGER: &str = "`groups` must be a positive integer literal (1 for an ordinary convolution, the number of channels for a depthwise one)";

/// Groups that do not divide a convolution's input or output channels.
pub fn groups_do_not_divide(layer: &str, side: &str, channels: &str, groups: usize) -> String {
    format!("`{layer}`: {groups} groups do not divide its {channels} {side} channels")
}

/// An unknown option of `Dense`.
pub fn unknown_dense_option(option: &str) -> String {
    format!("`Dense` has no option `{option}`; its options are `bias`, `init` and `per_step`")
}

/// An unknown option of a recurrent layer, listing its options.
pub fn unknown_recurrent_option(layer: &str, option: &str) -> String {
    match layer {
        "Rnn" => format!("`Rnn` has no option `{option}`; its options are `output`, `layers` and `activation`"),
        "Lstm" => format!("`Lstm` has no option `{option}`; its options are `output`, `layers` and `forget_bias`"),
        _ => format!("`{layer}` has no option `{option}`; its options are `output` and `layers`"),
    }
}

/// `activation = ..` (or a typo of it) on a gated recurrent layer.
pub fn gates_have_fixed_activations(layer: &str, option: &str) -> String {
    format!(
        "`{layer}` has no option `{option}`: its gates have fixed activations (only `Rnn` takes `activation`); its \
         options are `output` and `layers`"
    )
}

/// An unknown option of `Residual`.
pub fn unknown_residual_option(option: &str) -> String {
    format!("`Residual` has no option `{option}`; its option is `project = Layer(..)`")
}

/// An unknown `init = ..`; `hint` is a suggestion, or empty to list `expected`.
pub fn unknown_init(found: &str, hint: &str, expected: &[&str]) -> String {
    if hint.is_empty() {
        format!("unknown initialisation `{found}`; expected one of {}", listed(expected))
    } else {
        format!("unknown initialisation `{found}`{hint}")
    }
}

/// A layer's declared input size differs from the size arriving (an error, or a `const` assertion).
pub fn expects_inputs(layer: &str, expected: &str, found: &str, from: &str) -> String {
    format!("`{layer}` expects {expected} inputs, found {found} from `{from}`")
}

// Dense layers.

/// `Dense` without a size.
pub fn dense_needs_outputs(layer: &str) -> String {
    format!("`Dense` needs its number of outputs: `Dense(64)` (layer `{layer}`)")
}

/// `Dense` with more than two sizes.
pub const DENSE_TOO_MANY_SIZES: &str = "`Dense` takes at most two sizes: `Dense(outputs)` or `Dense(inputs, outputs)`";

/// A dense layer straight after planes (`layer` is `Dense`).
pub fn dense_after_planes(layer: &str, found: &str) -> String {
    format!("`{layer}` after a multi-dimensional output ({found}) needs `Flatten` first")
}

/// `per_step = true` where the input is no sequence; `last_step` is the recurrent layer that returned only its
/// last step, if that is why.
pub fn per_step_without_sequence(layer: &str, last_step: Option<&str>) -> String {
    let why = match last_step {
        Some(r) => format!(
            "because `{r}` returns only its last step (`output = last`): remove `per_step`, or let `{r}` return \
             every step (`output = sequence`)"
        ),
        None => "(declare the input as `Seq(steps, features)`)".to_string(),
    };
    format!("`{layer}` is declared per step, but its input is not a sequence {why}")
}

// Batch norm, dropout, activations.

/// `BatchNorm` with more than one size.
pub const BATCH_NORM_TOO_MANY_SIZES: &str = "`BatchNorm` takes at most one size, the number of features";

/// Batch norm over a sequence.
pub fn batch_norm_over_sequence(layer: &str, found: &str) -> String {
    format!(
        "`{layer}`: batch norm over {found} is not supported; normalise the input, or after a recurrent layer with \
         `output = last`"
    )
}

/// A batch norm's declared channels differ from the planes arriving (an error, or a `const` assertion).
pub fn expects_channels(layer: &str, expected: &str, found: &str, from: &str) -> String {
    format!("`{layer}` expects {expected} channels, found {found} from {from}")
}

/// `Dropout` without its probability.
pub const DROPOUT_NEEDS_PROBABILITY: &str = "`Dropout` needs its drop probability: `Dropout(0.5)`";

/// `Dropout` with more than one argument.
pub const DROPOUT_TOO_MANY_ARGUMENTS: &str = "`Dropout` takes one argument, the drop probability";

/// A literal drop probability outside `[0, 1)`.
pub fn drop_probability_out_of_range(layer: &str, found: f64) -> String {
    format!("the drop probability of `{layer}` must be in [0, 1), found {found}")
}

/// A `const` drop probability outside `[0, 1)` (a `const` assertion).
pub fn const_drop_probability_out_of_range(layer: &str, expr: &str) -> String {
    format!("the drop probability of `{layer}` (`{expr}`) must be in [0, 1)")
}

/// Arguments to an activation that takes none.
pub fn takes_no_arguments(layer: &str) -> String {
    format!("`{layer}` takes no arguments")
}

/// More than one argument to an activation with one optional parameter.
pub fn one_optional_argument(layer: &str, meaning: &str, default: f64) -> String {
    format!("`{layer}` takes one optional argument, {meaning} (default {default})")
}

/// An argument to `NoisyRelu`.
pub const NOISY_RELU_TAKES_NO_ARGUMENT: &str = "`NoisyRelu` takes no argument: its noise has variance `sigmoid(x)`";

/// `Maxout` without its number of pieces.
pub const MAXOUT_NEEDS_PIECES: &str = "`Maxout` needs its number of pieces per unit: `Maxout(2)`";

/// `Maxout` with more than one argument.
pub const MAXOUT_TOO_MANY_ARGUMENTS: &str = "`Maxout` takes one argument, the number of pieces per unit";

/// `Maxout` over planes or a sequence.
pub fn maxout_over_planes(found: &str) -> String {
    format!("`Maxout` over {found} is not supported; `Flatten` first")
}

/// `Maxout(K)` over a size that is not a multiple of `K` (an error, or a `const` assertion).
pub fn maxout_not_a_multiple(pieces: &str, from: &str, size: &str) -> String {
    format!(
        "`Maxout({pieces})` takes its inputs {pieces} at a time, but {from} has {size} outputs, not a multiple of {pieces}"
    )
}

// Convolutions, pooling, `Flatten`, `Reshape`.

/// A convolution or pooling layer over a sequence (`found`).
pub fn needs_channels(layer: &str, two_d: bool, found: &str) -> String {
    format!("`{layer}` needs channels of {} planes in, found {found}", rank(two_d))
}

/// A convolution or pooling layer right after an embedding that gives a sequence of vectors.
pub fn needs_channels_from_embedding(layer: &str, found: &str, embedding: &str) -> String {
    format!(
        "`{layer}` needs channels of 1-D planes in, found {found} from `{embedding}`: give `{embedding}` the option \
         `output = channels` for one plane per vector value"
    )
}

/// A convolution or pooling layer over a vector.
pub fn needs_channels_not_a_vector(layer: &str, two_d: bool) -> String {
    format!(
        "`{layer}` needs channels of {} planes in, found a vector: declare the input as {}",
        rank(two_d),
        if two_d { "`[channels, height, width]`" } else { "`[channels, length]`" }
    )
}

/// `LocalResponseNorm` without its window.
pub fn lrn_needs_size(layer: &str) -> String {
    format!("`LocalResponseNorm` takes its window in channels: `LocalResponseNorm(5)` (layer `{layer}`)")
}

/// `LocalResponseNorm` on something other than planes.
pub fn lrn_needs_planes(layer: &str, found: &str) -> String {
    format!("`{layer}` normalises across the channels of planes, found {found}")
}

/// Global pooling over a vector.
pub fn global_pool_after_vector(layer: &str, two_d: bool) -> String {
    format!(
        "`{layer}` needs channels of {} planes in, found a vector: it averages each channel of a convolution's \
         output, in place of `Flatten` (`{}(..), {layer}, Dense(..)`)",
        rank(two_d),
        if two_d { "Conv2d" } else { "Conv1d" }
    )
}

/// `Flatten` after a vector.
pub const FLATTEN_AFTER_VECTOR: &str = "`Flatten` after a vector has nothing to flatten";

/// A 2-D layer over 1-D planes, or the reverse.
pub fn wrong_plane_rank(layer: &str, two_d: bool, found: &str) -> String {
    format!("`{layer}` needs {} planes in, found {found}", rank(two_d))
}

/// A convolution without arguments.
pub fn conv_needs_channels_and_kernel(layer: &str) -> String {
    format!("`{layer}` needs its output channels and kernel: `{layer}(6, kernel = 5)`")
}

/// A pooling layer without its window.
pub fn pool_needs_window(layer: &str) -> String {
    format!("`{layer}` needs its window: `{layer}(2)`")
}

/// Too many arguments to a convolution or pooling layer.
pub fn spatial_too_many_arguments(layer: &str, conv: bool) -> String {
    format!("`{layer}` takes {}", if conv { "the output channels and the kernel size" } else { "one window size" })
}

/// A convolution with its output channels but no kernel.
pub fn conv_needs_kernel(layer: &str) -> String {
    format!("`{layer}` needs its kernel size: `{layer}(.., kernel = 3)`")
}

/// A transposed convolution's output padding not below its stride.
pub const OUTPUT_PADDING_NOT_BELOW_STRIDE: &str = "the output padding must be smaller than the stride";

/// A transposed convolution whose padding leaves nothing (an error, or a `const` assertion).
pub fn no_output(layer: &str, from: &str) -> String {
    format!("`{layer}` produces no output: the padding removes everything from {from}")
}

/// A pooling window padded by more than half its size.
pub fn pool_padding_too_large(layer: &str, kh: usize, kw: usize) -> String {
    let window = if kh == 1 { kw.to_string() } else { format!("{kh}x{kw}") };
    format!("`{layer}`: padding more than half the {window} window (a window must cover some of the input)")
}

/// A kernel (`conv`) or window larger than the padded input along `axis` (an error, or a `const` assertion);
/// `input` is the input's size along that axis, padding included.
pub fn kernel_too_large(layer: &str, conv: bool, kernel: usize, dilation: usize, axis: &str, input: &str) -> String {
    let what = if conv { "kernel" } else { "window" };
    let dilated = if dilation > 1 {
        format!(" (dilated to {})", dilation as u128 * (kernel as u128).saturating_sub(1) + 1)
    } else {
        String::new()
    };
    format!("`{layer}`: the {what} {kernel}{dilated} is larger than the input {axis} {input}")
}

/// `Reshape` without exactly one shape.
pub const RESHAPE_ONE_SHAPE: &str =
    "`Reshape` takes one shape: `Reshape(64)`, `Reshape([4, 16])` or `Reshape([1, 8, 8])`";

/// A `const` dimension in `Reshape`.
pub const RESHAPE_NEEDS_LITERALS: &str = "`Reshape` needs literal sizes";

/// `Reshape` after a `const` size.
pub const RESHAPE_INPUT_NOT_LITERAL: &str = "`Reshape` needs the size of its input to be a literal";

/// `Reshape` to a shape holding another number of values.
pub fn reshape_count_differs(target: &str, count: usize, from: &str, have: usize) -> String {
    format!("`Reshape` to {target} holds {count} values, its input {from} holds {have}")
}

/// `Reshape` to more than three dimensions.
pub const RESHAPE_RANK: &str = "`Reshape` takes 1 to 3 dimensions";

// Recurrent layers.

/// `output = ..` other than `sequence` or `last`.
pub fn not_an_output_mode(layer: &str, found: &str) -> String {
    format!(
        "option `output` of `{layer}` is `sequence` (every step, the default) or `last` (the last step only), found \
         `{found}`"
    )
}

/// `layers = ..` other than 1 to 8.
pub fn not_a_layer_count(layer: &str, found: &str) -> String {
    format!(
        "option `layers` of `{layer}` is the number of stacked layers, 1 to 8 (PyTorch's `num_layers`), found \
         `{found}`"
    )
}

/// `activation = Softmax` on an `Rnn`.
pub fn activation_not_elementwise(layer: &str) -> String {
    format!("the activation of `{layer}` must be elementwise; `Softmax` is not")
}

/// `activation = Kind(..)` on an `Rnn`.
pub fn activation_with_arguments(layer: &str, activation: &str) -> String {
    format!(
        "the activation of `{layer}` takes no arguments: a recurrent layer uses its default parameter (write \
         `{activation}` alone)"
    )
}

/// An unknown `activation = ..` on an `Rnn`; `hint` is a suggestion, or empty for the usual ones.
pub fn unknown_activation(found: &str, layer: &str, hint: &str) -> String {
    if hint.is_empty() {
        format!("unknown activation `{found}` for `{layer}`; the usual ones are `Tanh` (the default) and `Relu`")
    } else {
        format!("unknown activation `{found}` for `{layer}`{hint}")
    }
}

/// A recurrent layer without its hidden size.
pub fn recurrent_needs_hidden(kind: &str, layer: &str) -> String {
    format!("`{kind}` needs its hidden size: `{kind}(32)` (layer `{layer}`)")
}

/// A recurrent layer with more than two sizes.
pub fn recurrent_too_many_sizes(kind: &str) -> String {
    format!("`{kind}` takes its hidden size, or its inputs per step and hidden size: `{kind}(8, 32)`")
}

/// A recurrent layer over something else than a sequence; `last_step` is the recurrent layer before it that
/// returned only its last step, if that is why.
pub fn needs_sequence(layer: &str, found: &str, last_step: Option<&str>) -> String {
    let hint = match last_step {
        Some(r) => format!(
            " (`{r}` returns only its last step; to stack recurrent layers, let it return every step with \
             `output = sequence`)"
        ),
        None => ": declare the input as `Seq(steps, features)`".to_string(),
    };
    format!("`{layer}` needs a sequence in, found {found}{hint}")
}

/// A recurrent layer's declared input per step differs from the features arriving (an error, or a `const`
/// assertion).
pub fn expects_inputs_per_step(layer: &str, expected: &str, found: &str, from: &str) -> String {
    format!("`{layer}` expects {expected} inputs per step, found {found} from {from}")
}

// Embeddings.

/// `Embedding` without its two sizes.
pub fn embedding_needs_sizes(layer: &str) -> String {
    format!(
        "`Embedding` takes its vocabulary size and the size of a token's vector: `Embedding(1000, 16)` (layer \
         `{layer}`)"
    )
}

/// `Embedding` anywhere but straight after the network's input.
pub fn embedding_not_first(layer: &str, after: &str) -> String {
    format!("`{layer}` reads token ids, so it must be the first layer, straight after `input`; found after {after}")
}

/// `Embedding` after an input that is no list of ids.
pub fn embedding_needs_ids(layer: &str, found: &str) -> String {
    format!(
        "`{layer}` reads one token id per step: declare the input as the number of steps (`input: 8`), found {found}"
    )
}

/// `output = ..` of an embedding other than its two layouts.
pub fn not_an_embedding_layout(layer: &str, found: &str) -> String {
    format!(
        "option `output` of `{layer}` is `sequence` (a sequence of vectors, the default, what recurrent layers \
         read) or `channels` (one plane per vector value, what `Conv1d` reads), found `{found}`"
    )
}

// Residual blocks and branches.

/// `Residual` without layers.
pub const RESIDUAL_NEEDS_BRANCH: &str =
    "`Residual` needs the layers of its branch: `Residual(Conv2d(8, kernel = 3), Relu)`";

/// A projection of more than one layer.
pub const PROJECTION_IS_ONE_LAYER: &str = "the projection of a residual block is one layer";

/// A residual branch whose output differs from its projection's (an error, or a `const` assertion).
pub fn residual_differs_from_projection(block: &str, branch: &str, projection: &str) -> String {
    format!("the residual branch `{block}` outputs {branch} but its projection outputs {projection}")
}

/// A residual branch whose output differs from its input (an error, or a `const` assertion).
pub fn residual_differs_from_input(block: &str, branch: &str, input: &str) -> String {
    format!(
        "the residual branch `{block}` outputs {branch} but its input is {input}: they must match to be added (or project the input with `project = ..`)"
    )
}

/// `Concat` or `Sum` with fewer than two branches.
pub fn merge_needs_branches(kind: &str) -> String {
    format!("`{kind}` merges two or more branches, each a list of layers: `{kind}([Dense(8), Relu], [Dense(4)])`")
}

/// A branch of `Concat` or `Sum` not in brackets.
pub fn branch_not_a_list(kind: &str) -> String {
    format!("each branch of `{kind}` is a list of layers in brackets, such as `[Dense(8), Relu]`")
}

/// Branches whose outputs cannot be merged (an error, or a `const` assertion); `branch` counts from 1.
pub fn branches_differ(merge: &str, first: &str, branch: usize, other: &str, sum: bool) -> String {
    format!(
        "`{merge}`: branch 1 outputs {first} but branch {branch} outputs {other}: {}",
        if sum {
            "`Sum` adds outputs of the same shape"
        } else {
            "`Concat` joins vectors, or planes of the same size along their channels"
        }
    )
}

// Nested networks.

/// `Network(..)` without a field name.
pub const NESTED_NEEDS_NAME: &str =
    "a nested network needs a field name, which prefixes its parameters: `encoder: Network(Encoder)`";

/// `Network(..)` given something other than a type path.
pub fn not_a_network_type(found: &str) -> String {
    format!("expected the type of a network declared with `network!`, found `{found}`")
}

/// `Network` without its type.
pub const NETWORK_NEEDS_TYPE: &str = "`Network` needs the nested network's type: `Network(Encoder)`";

/// `Network` with more than one argument.
pub const NETWORK_TOO_MANY_ARGUMENTS: &str = "`Network` takes one argument, the nested network's type";

/// A nested network after planes or a sequence.
pub fn nested_needs_vector(layer: &str, found: &str) -> String {
    format!("`{layer}`: a nested network takes a vector, found {found}; `Flatten` first")
}

/// A nested network whose inputs differ from the values arriving (a `const` assertion).
pub fn nested_inputs_differ(layer: &str, ty: &str, value: &str, from: &str) -> String {
    format!("`{layer}`: `{ty}::INPUTS` = {value} differs from {from}")
}

// Weights compiled in (`#[weights = "..."]`).

/// `#[weights]` twice.
pub const WEIGHTS_TWICE: &str = "`#[weights]` is given twice";

/// `#[weights = ..]` with something other than a string.
pub const WEIGHTS_NOT_A_PATH: &str = "expected a file path: `#[weights = \"model.safetensors\"]`";

/// `#[weights]` in another form than `name = value`.
pub const WEIGHTS_MALFORMED: &str = "expected `#[weights = \"model.safetensors\"]`";

/// `#[int8]` given twice.
pub const INT8_TWICE: &str = "`#[int8]` is given twice";

/// `#[int8(..)]` or `#[int8 = ..]`.
pub const INT8_MALFORMED: &str = "expected `#[int8]`, without arguments";

/// `padding = same` with an odd total, outside an int8 network.
pub fn uneven_same_padding(layer: &str, axis: &str, before: usize, after: usize) -> String {
    format!(
        "`{layer}`: `padding = same` pads the {axis} by {before} before and {after} after, and only int8 networks \
         (`#[int8]`) pad unevenly; give an explicit `padding`"
    )
}

/// `padding = same` on a transposed convolution, or with a `const` size.
pub fn same_padding_unsupported(layer: &str, why: &str) -> String {
    format!("`{layer}`: `padding = same` needs {why}")
}

/// An int8 weights file's tensor of another dtype than the int8 form needs.
pub fn int8_tensor_dtype_differs(tensor: &str, found: impl Display, file: &str, expected: &str) -> String {
    format!("tensor `{tensor}` is {found} in `{file}`, the int8 network needs {expected}")
}

/// A scale that is not positive and finite, or a zero point outside `i8`.
pub fn bad_quant_params(what: &str, scale: f32, zero_point: i32) -> String {
    format!(
        "`{what}` has scale {scale} and zero point {zero_point}: a scale must be positive and finite, a zero point \
         within -128..=127"
    )
}

/// A layer the int8 form has no kernel for.
pub fn no_int8_form(layer: &str, why: &str) -> String {
    format!("`{layer}` has no int8 form{why}")
}

/// `#[weights]` on a network with a nested network.
pub fn weights_with_nested(layer: &str) -> String {
    format!(
        "`#[weights]` cannot compile in a network with a nested network (`{layer}`) yet: give the nested network its \
         own `#[weights]` file, or load this one at run time with `nn_core::io::load`"
    )
}

/// `#[weights]` on a network with sizes given by `const` items (`consts`, as written).
pub fn weights_with_const_sizes(consts: &[String]) -> String {
    let shown: Vec<&str> = consts.iter().map(String::as_str).collect();
    format!(
        "`#[weights]` checks the file against literal sizes; {} {}: write the number",
        listed(&shown),
        if consts.len() == 1 { "is a `const`" } else { "are `const` items" }
    )
}

/// The weights file cannot be read.
pub fn unreadable_weights(file: &str, path: &str, error: impl Display) -> String {
    format!("cannot read `{file}` ({path}): {error}")
}

/// The weights file is not safetensors.
pub fn not_safetensors(file: &str, error: impl Display) -> String {
    format!("`{file}` is not a valid safetensors file: {error}")
}

/// A tensor the declaration needs is missing from the file.
pub fn missing_tensor(tensor: &str, file: &str) -> String {
    format!("tensor `{tensor}` is missing from `{file}`")
}

/// A tensor of another shape than the declaration needs.
pub fn tensor_shape_differs(tensor: &str, found: &[usize], file: &str, expected: &[usize]) -> String {
    format!("tensor `{tensor}` has shape {found:?} in `{file}`, the declaration needs {expected:?}")
}

/// A tensor of another dtype than the network's scalar.
pub fn tensor_dtype_differs(tensor: &str, found: impl Display, file: &str, scalar: &str) -> String {
    format!("tensor `{tensor}` is {found} in `{file}`, the network computes in {scalar}")
}

/// A batch-norm layer's `num_batches_tracked` counter that is not PyTorch's `I64` scalar.
pub fn counter_not_an_i64_scalar(tensor: &str, dtype: impl Display, shape: &[usize], file: &str) -> String {
    format!(
        "tensor `{tensor}` is {dtype} of shape {shape:?} in `{file}`; a batch-norm counter is an I64 scalar (shape [])"
    )
}

/// A tensor holding NaN or an infinity.
pub fn non_finite_tensor(tensor: &str, value: f64, index: usize) -> String {
    format!("tensor `{tensor}` holds {value} at element {index}")
}

/// A tensor in the file that no layer declares.
pub fn undeclared_tensor(file: &str, tensor: &str, network: &str) -> String {
    format!("`{file}` has a tensor `{tensor}` that `{network}` does not declare")
}
