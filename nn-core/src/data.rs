//! Bundled datasets and their loaders.
