//! Imports the ONNX fixtures of `fixtures/onnx` with `nn-import` into `OUT_DIR/onnx`, so that `onnx.rs` compiles the
//! generated declarations with their `#[weights]` and compares them with ONNX Runtime's outputs.

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/onnx");
    println!("cargo:rerun-if-changed={}", dir.display());
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("onnx");
    std::fs::create_dir_all(&out).expect("OUT_DIR is writable");
    // Every fixture but those the importer must refuse.
    let mut fixtures: Vec<String> = std::fs::read_dir(&dir)
        .expect("the fixtures are in the repository")
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".onnx").map(str::to_string))
        .filter(|f| !f.starts_with("refuse_"))
        .collect();
    fixtures.sort();
    for fixture in &fixtures {
        let path = dir.join(format!("{fixture}.onnx"));
        println!("cargo:rerun-if-changed={}", path.display());
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name: String = fixture.split('_').map(|p| p[..1].to_uppercase() + &p[1..]).collect();
        let options = nn_import::Options::new(&name, &format!("{fixture}.onnx"));
        let imported = nn_import::import_onnx(&bytes, &options).unwrap_or_else(|e| panic!("{fixture}: {e}"));
        std::fs::write(out.join(format!("{fixture}.rs")), imported.source).expect("OUT_DIR is writable");
        std::fs::write(out.join(&options.weights_file), imported.weights).expect("OUT_DIR is writable");
    }
}
