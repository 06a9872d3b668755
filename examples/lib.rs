//! Runnable examples of `nn-core`, simplest first. Run one with `cargo run --release --example NAME`:
//!
//! - `xor`: a 2-4-1 network learns XOR with plain SGD from a fixed seed.
//!
//! The library also holds what the examples share: [`plot_history`] draws a training run's loss and accuracy per
//! epoch into a PNG. Its text uses DejaVu Sans (`examples/assets/DejaVuSans.ttf`, from the DejaVu fonts 2.37 as
//! packaged by Debian in `fonts-dejavu-core`), compiled into the library so that no system font is needed; the font's
//! licence (the Bitstream Vera licence, DejaVu changes in the public domain) is in
//! `examples/assets/DejaVuSans-LICENSE.txt`.

mod plot;

pub use plot::{PLOT_SIZE, plot_history};
