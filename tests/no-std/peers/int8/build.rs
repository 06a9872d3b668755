//! Imports microflow's models with `nn-import` into `OUT_DIR` (declarations and int8 weights), writes their
//! sample inputs as constants, and links with the firmware's `link.ld`. The peers' directory is `$NN_PEERS`
//! (default `../shared/peers` beside the repository); `run.sh` checks that it is there.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/../../link.ld");
    println!("cargo:rerun-if-changed=../../link.ld");
    println!("cargo:rerun-if-env-changed=NN_PEERS");
    let peers = std::env::var_os("NN_PEERS")
        .map_or_else(|| Path::new(&dir).join("../../../../../shared/peers"), PathBuf::from);
    let microflow = peers.join("microflow");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (model, name) in [("sine", "Sine"), ("speech", "Speech"), ("person_detect", "PersonDetect")] {
        let path = microflow.join(format!("models/{model}.tflite"));
        println!("cargo:rerun-if-changed={}", path.display());
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (set NN_PEERS)", path.display()));
        let options = nn_import::Options::new(name, &format!("{model}.tflite"));
        let imported = nn_import::import_tflite(&bytes, &options).unwrap_or_else(|e| panic!("{model}: {e}"));
        // The prelude's import is the firmware's to make (its bins import what they use).
        let source = imported.source.replace("use nn_core::prelude::*;", "use nn_core::network;");
        std::fs::write(out.join(format!("{model}.rs")), source).expect("OUT_DIR is writable");
        std::fs::write(out.join(&options.weights_file), imported.weights).expect("OUT_DIR is writable");
    }
    // The samples: microflow's `pub const NAME: ... = matrix![...]` arrays as plain `[i8; N]`.
    let mut samples = String::new();
    for (file, names) in [("speech.rs", &["YES", "NO"]), ("person_detect.rs", &["PERSON", "NO_PERSON"])] {
        let path = microflow.join("samples/features").join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for name in names {
            let start = text.find(&format!("pub const {name}")).expect("the constant is in the file");
            let end = text[start + 1..].find("pub const").map_or(text.len(), |e| start + 1 + e);
            let body = &text[start..end];
            let body = &body[body.find("matrix!").expect("a matrix")..];
            let values: Vec<&str> =
                body.split(|c: char| !(c.is_ascii_digit() || c == '-')).filter(|s| !s.is_empty() && *s != "-").collect();
            let _ = writeln!(samples, "pub const {name}: [i8; {}] = [{}];", values.len(), values.join(", "));
        }
    }
    // TFLite's reference outputs (the committed `microflow_expected.txt`) as `[i8; N]`, so that checking them
    // costs the image a few bytes, not the text file.
    let expected = Path::new(&dir).join("../../../fixtures/tflite/microflow_expected.txt");
    println!("cargo:rerun-if-changed={}", expected.display());
    let text = std::fs::read_to_string(&expected).unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
    for (model, name, lines) in [("sine", "SINE", 256), ("speech", "SPEECH", 2), ("person_detect", "PERSON_DETECT", 2)] {
        let values: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("{model}: ")))
            .take(lines)
            .flat_map(|l| l.split(' '))
            .collect();
        let _ = writeln!(samples, "pub const EXPECTED_{name}: [i8; {}] = [{}];", values.len(), values.join(", "));
    }
    std::fs::write(out.join("samples.rs"), samples).expect("OUT_DIR is writable");
}
