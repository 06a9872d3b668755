//! Baselines the benchmarks compare generated networks against.
