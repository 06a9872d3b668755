//! Runnable examples of `nn-core`, simplest first. Run one with `cargo run --release --example NAME`:
//!
//! - `xor`: a 2-4-1 network learns XOR with plain SGD from a fixed seed.
//! - `digits`: an MLP with dropout and Adam on the 8x8 UCI digits, early stopping, saved weights.
//! - `mnist`: a 784-128-10 MLP on the bundled MNIST subset (the README's main job).
//! - `mnist_cnn`: a LeNet-style CNN on the same split.
//! - `autoencoder`: a convolutional autoencoder on MNIST, with a PNG of reconstructions.
//! - `embedded`: a model whose weights are compiled into the binary as a `static`.
//! - `gan2d`: a GAN learns a ring of eight Gaussians; PNG scatter plots of its samples over training.
//! - `autoencoder_pca`: a dense autoencoder with a 2-D code against PCA on MNIST, both embeddings drawn.
//! - `dbn`: RBM pre-training of a deep belief net, fine-tuned, against the same MLP from a random start.
//! - `cgan_mnist`: a conditional GAN (auxiliary classifier) draws the digit it is asked for; a grid PNG per label.
//! - `seq2seq`: an encoder-decoder with attention reverses digit strings; the attention drawn as a heat map PNG.
//! - `word2vec`: continuous bag of words on *Alice*, nearest neighbours and analogies of the learned vectors.
//! - `hopfield`: a Hopfield network recalls letters from noisy copies; recall against load, past 0.14 N.
//! - `deep_gradients`: vanishing gradients in 12-layer MLPs (sigmoid, tanh, ReLU, batch norm, residual), per layer.
//! - `tabular`: the wine table from CSV, NumPy and arrays; a network against the nearest class mean.
//! - `vae`: a variational autoencoder with a 2-D code on MNIST (test ELBO against a baseline, the manifold of
//!   decoded codes and the latent map as PNGs), and a denoising autoencoder on salt-and-pepper noise.
//! - `playground`: the TensorFlow Playground's four 2-D datasets, a few networks each, decision boundaries as PNGs.
//! - `unet`: a small U-Net segments discs among rectangles in noisy images, against thresholding; a PNG of masks.
//!
//! The library also holds what the examples share: [`plot_history`] draws a training run's loss and accuracy per
//! epoch into a PNG, [`save_image_grid`] draws rows of greyscale images, [`save_scatter`] panels of points and
//! [`save_boundaries`] decision boundaries over the plane; [`Dataset`] generates the Playground's datasets. Its
//! text uses DejaVu Sans (`examples/assets/DejaVuSans.ttf`, from the DejaVu fonts 2.37 as packaged by Debian in
//! `fonts-dejavu-core`), compiled into the library so that no system font is needed; the font's licence (the
//! Bitstream Vera licence, DejaVu changes in the public domain) is in `examples/assets/DejaVuSans-LICENSE.txt`.

mod boundary;
mod gan2d_run;
mod grid;
mod mnist_run;
pub mod paths;
mod playground_data;
mod plot;
mod progress;
mod scatter;

pub use boundary::{
    BOUNDARY_PANEL, BoundaryPanel, NEGATIVE, POSITIVE, ProbabilityGrid, UNDECIDED, save_boundaries, shade,
};
pub use gan2d_run::{
    Discriminator, GanRun, Generator, MODES, RADIUS, SPREAD, mode, mode_counts, modes_covered, real_batch, sample,
    train_gan2d,
};
pub use grid::save_image_grid;
pub use mnist_run::{MnistRun, Trained, quantize_mnist, train_mnist};
pub use playground_data::{
    CIRCLE_RADIUS, Dataset, EXTENT, GAUSS_CENTRE, Point2, SPIRAL_RADIUS, SPIRAL_TURNS, XOR_PADDING,
    classification_accuracy, train_test_split,
};
pub use plot::{PLOT_SIZE, plot_history};
pub use progress::EpochBar;
pub use scatter::{PALETTE, PANEL_SIZE, ScatterPanel, point_bounds, save_scatter};
