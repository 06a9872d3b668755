//! Layers with parameters or training behaviour. Each file holds one layer kind with its kernels and its tests.

mod attention;
mod batchnorm;
mod bidirectional;
mod contract;
mod conv;
mod conv_fast;
mod dense;
mod dropout;
mod embedding;
mod global_pool;
mod gru;
mod lrn;
mod lstm;
mod maxout;
mod merge;
mod nested;
mod noisy_relu;
mod recurrent;
mod rnn;

pub use attention::{AdditiveAttention, AdditiveKeep, Attended, Attention, DotAttention, as_states};
pub use batchnorm::{BatchNorm, BatchNormCache, EPS as BATCH_NORM_EPS};
pub use bidirectional::Bidirectional;
pub use contract::{Accumulate, Backward, Descend, Frozen, Layer, Reshape, Sink, Stream, add_assign, backward_frozen};
pub use conv::{
    Conv, Conv1d, Conv2d, ConvTranspose, ConvTranspose1d, ConvTranspose2d, Geometry, Pool, Pooling, conv_out,
    conv_transpose_out,
};
pub use dense::{Dense, DenseNoBias};
pub use dropout::Dropout;
pub use embedding::{Embedding, TokenError, Tokens, token_id};
pub use global_pool::{GlobalAvgPool, GlobalMaxPool};
pub use gru::Gru;
pub use lrn::LocalResponseNorm;
pub use lstm::Lstm;
pub use maxout::Maxout;
pub use merge::{concat, split};
pub use nested::Nested;
pub use noisy_relu::NoisyRelu;
pub use recurrent::{Cell, GruCell, LstmCell, Recurrent, RecurrentLayer, RnnCell, hidden};
pub use rnn::Rnn;
