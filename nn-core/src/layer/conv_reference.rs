//! Placeholder replaced by the reference tests.
