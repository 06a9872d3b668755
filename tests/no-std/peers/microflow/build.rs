//! Links with the firmware's `link.ld` (the emulated board's memory map).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/../../link.ld");
    println!("cargo:rerun-if-changed=../../link.ld");
}
