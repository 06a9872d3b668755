//! Runnable examples of `nn-core`, simplest first. Run one with `cargo run --release --example NAME`:
//!
//! - `xor`: a 2-4-1 network learns XOR with plain SGD from a fixed seed.
