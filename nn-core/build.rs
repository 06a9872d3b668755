//! Sets `cfg(arm_dsp)` when building for a Cortex-M core with the DSP extension (Armv7E-M: Cortex-M4 and M7;
//! Armv8-M Mainline with DSP: Cortex-M33 and M55), whose `smlad` the int8 kernels use. The target's
//! `target_feature = "dsp"` is not visible to `cfg` on stable Rust, so the target's name decides.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(arm_dsp)");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em") || target.starts_with("thumbv8m.main") {
        println!("cargo:rustc-cfg=arm_dsp");
    }
}
