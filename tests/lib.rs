//! Integration tests of `nn-core` and `network!`: the lectures' hand-computed examples, XOR, gradient checks of
//! whole generated networks, a 784-128-10 network on a default test thread, and compile-fail cases (`ui/`).
