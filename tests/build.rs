//! Imports the ONNX fixtures of `fixtures/onnx` with `nn-import` into `OUT_DIR/onnx`, so that `onnx.rs` compiles the
//! generated declarations with their `#[weights]` and compares them with ONNX Runtime's outputs; and the int8
//! TFLite models into `OUT_DIR/tflite` for `int8.rs`: `fixtures/tflite/chain.tflite`, and microflow's three
//! models when its directory is there (`MICROFLOW_DIR`, default `../shared/peers/microflow` beside the
//! repository), which sets `cfg(microflow_models)`.

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
    tflite();
}

/// Imports `path` as network `name` into `out`.
fn import_tflite(path: &Path, name: &str, out: &Path) {
    println!("cargo:rerun-if-changed={}", path.display());
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("model.tflite");
    let options = nn_import::Options::new(name, file);
    let imported = nn_import::import_tflite(&bytes, &options).unwrap_or_else(|e| panic!("{file}: {e}"));
    let stem = file.trim_end_matches(".tflite");
    std::fs::write(out.join(format!("{stem}.rs")), imported.source).expect("OUT_DIR is writable");
    std::fs::write(out.join(&options.weights_file), imported.weights).expect("OUT_DIR is writable");
}

fn tflite() {
    println!("cargo::rustc-check-cfg=cfg(microflow_models)");
    println!("cargo:rerun-if-env-changed=MICROFLOW_DIR");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("tflite");
    std::fs::create_dir_all(&out).expect("OUT_DIR is writable");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    import_tflite(&manifest.join("fixtures/tflite/chain.tflite"), "ImportedChain", &out);
    let peer = std::env::var_os("MICROFLOW_DIR")
        .map_or_else(|| manifest.join("../../shared/peers/microflow"), std::path::PathBuf::from);
    let models = peer.join("models");
    if ["sine", "speech", "person_detect"].iter().all(|m| models.join(format!("{m}.tflite")).is_file()) {
        import_tflite(&models.join("sine.tflite"), "Sine", &out);
        import_tflite(&models.join("speech.tflite"), "Speech", &out);
        import_tflite(&models.join("person_detect.tflite"), "PersonDetect", &out);
        let peer = peer.canonicalize().unwrap_or(peer);
        println!("cargo:rustc-env=MICROFLOW_DIR={}", peer.display());
        println!("cargo:rustc-cfg=microflow_models");
    }
}
