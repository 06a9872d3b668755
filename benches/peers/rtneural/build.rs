//! Compiles `shim.cpp` against RTNeural twice, once per backend (Eigen and xsimd), each in its own namespace
//! (`RTNEURAL_NAMESPACE`) with its own symbol prefix, so both live in one binary.
//!
//! - `RTNEURAL_DIR`: an RTNeural source tree (the folder holding `RTNeural/RTNeural.h` and `modules/Eigen`).
//! - `XSIMD_DIR` (optional): an xsimd 10 tree holding `include/xsimd`; by default `$RTNEURAL_DIR/modules/xsimd`,
//!   where RTNeural keeps it as a submodule. Without it only the Eigen backend is built.
//!
//! - RTNeural's headers include its JSON model loader, which includes `../modules/json/json.hpp` (nlohmann's JSON,
//!   a submodule). When the tree has no such file, a header forwarding to the system's `<nlohmann/json.hpp>`
//!   (Debian's `nlohmann-json3-dev`) stands in for it; the benchmark never loads JSON.
//!
//! Without `RTNEURAL_DIR` nothing is compiled and the crate is built with `cfg(no_rtneural)`: the benchmark
//! then times the generated networks alone and says why.
//!
//! The C++ is compiled as RTNeural's own build would be for the target the Rust code is built for: `-O3`,
//! `-march=native` and 32-byte alignment when `RUSTFLAGS` holds `-C target-cpu=native`, the compiler's default
//! target and 16-byte alignment otherwise.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_rtneural, rtneural_xsimd)");
    println!("cargo::rerun-if-changed=shim.cpp");
    println!("cargo::rerun-if-env-changed=RTNEURAL_DIR");
    println!("cargo::rerun-if-env-changed=XSIMD_DIR");
    println!("cargo::rerun-if-env-changed=CXX");
    let Some(dir) = env::var_os("RTNEURAL_DIR").map(PathBuf::from) else {
        println!("cargo::rustc-cfg=no_rtneural");
        return;
    };
    assert!(
        dir.join("RTNeural/RTNeural.h").is_file(),
        "RTNEURAL_DIR={} holds no RTNeural/RTNeural.h: point it at an RTNeural source tree",
        dir.display()
    );
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let native = flags.split('\x1f').collect::<Vec<_>>().windows(2).any(|w| w == ["-C", "target-cpu=native"])
        || flags.split('\x1f').any(|f| f == "-Ctarget-cpu=native");
    // `#include "../modules/json/json.hpp"` is also looked up under every include folder: under `OUT_DIR/shim`, it
    // finds `OUT_DIR/modules/json/json.hpp`.
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let json_stand_in = !dir.join("modules/json/json.hpp").is_file();
    if json_stand_in {
        std::fs::create_dir_all(out.join("modules/json")).expect("OUT_DIR is writable");
        std::fs::create_dir_all(out.join("shim")).expect("OUT_DIR is writable");
        std::fs::write(out.join("modules/json/json.hpp"), "#pragma once\n#include <nlohmann/json.hpp>\n")
            .expect("OUT_DIR is writable");
    }
    let build = |backend: &str, include: &PathBuf| {
        let mut b = cc::Build::new();
        b.cpp(true)
            .file("shim.cpp")
            .std("c++17")
            .opt_level(3)
            .debug(false)
            .warnings(false)
            .define("NDEBUG", None)
            .define("EIGEN_STACK_ALLOCATION_LIMIT", "0")
            .define("RTNEURAL_DEFAULT_ALIGNMENT", if native { "32" } else { "16" })
            .include(&dir)
            .include(include);
        if json_stand_in {
            b.include(out.join("shim"));
        }
        if native {
            b.flag("-march=native");
        }
        match backend {
            "eigen" => b.define("RTNEURAL_USE_EIGEN", "1").define("RTNEURAL_NAMESPACE", "RTNeuralEigen"),
            _ => b.define("RTNEURAL_USE_XSIMD", "1").define("RTNEURAL_NAMESPACE", "RTNeuralXsimd"),
        };
        b.define("SHIM_PREFIX", backend).compile(&format!("rtneural_{backend}"));
    };
    build("eigen", &dir.join("modules/Eigen"));
    let xsimd = env::var_os("XSIMD_DIR").map(PathBuf::from).unwrap_or_else(|| dir.join("modules/xsimd"));
    if xsimd.join("include/xsimd/xsimd.hpp").is_file() {
        build("xsimd", &xsimd.join("include"));
        println!("cargo::rustc-cfg=rtneural_xsimd");
    } else {
        println!("cargo::warning=no xsimd at {} (set XSIMD_DIR): RTNeural's xsimd backend is skipped", xsimd.display());
    }
    println!("cargo::rustc-env=RTNEURAL_CXXFLAGS={}", if native { "-O3 -march=native" } else { "-O3" });
}
