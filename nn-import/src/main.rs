//! `nn-import model.onnx --name Net --out dir/` (or a `.tflite` model, imported as an `#[int8]` network): writes `dir/net.rs` (the `network!` declaration) and
//! `dir/net.safetensors` (its weights). Existing files are kept unless `--force` is given.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: nn-import MODEL.onnx|MODEL.tflite --name NAME [--out DIR] [--force]";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(lines) => {
            for l in lines {
                println!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nn-import: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Parses the arguments, imports, writes; returns what to print.
fn run(args: Vec<String>) -> Result<Vec<String>, String> {
    let (mut model, mut name, mut out, mut force) = (None, None, PathBuf::from("."), false);
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--name" => name = Some(args.next().ok_or(USAGE)?),
            "--out" => out = PathBuf::from(args.next().ok_or(USAGE)?),
            "--force" => force = true,
            "-h" | "--help" => return Ok(vec![USAGE.to_string()]),
            _ if a.starts_with('-') => return Err(format!("unknown option `{a}`\n{USAGE}")),
            _ if model.is_none() => model = Some(PathBuf::from(a)),
            _ => return Err(format!("one model at a time\n{USAGE}")),
        }
    }
    let model = model.ok_or(USAGE)?;
    let name = name.ok_or(USAGE)?;
    if !name.starts_with(|c: char| c.is_ascii_uppercase()) || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("`{name}` is not a type name: letters and digits, starting with a capital"));
    }
    let bytes = std::fs::read(&model).map_err(|e| format!("{}: {e}", model.display()))?;
    let shown = model.file_name().map_or_else(|| model.display().to_string(), |f| f.to_string_lossy().into_owned());
    let options = nn_import::Options::new(&name, &shown);
    let imported = if nn_import::is_tflite(&bytes) {
        nn_import::import_tflite(&bytes, &options)
    } else {
        nn_import::import_onnx(&bytes, &options)
    };
    let imported = imported.map_err(|e| format!("{}: {e}", model.display()))?;
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let source = out.join(format!("{}.rs", nn_import::snake(&name)));
    let weights = out.join(&options.weights_file);
    for path in [&source, &weights] {
        if path.exists() && !force {
            return Err(format!("{} exists; --force replaces it", path.display()));
        }
    }
    std::fs::write(&weights, &imported.weights).map_err(|e| format!("{}: {e}", weights.display()))?;
    std::fs::write(&source, &imported.source).map_err(|e| format!("{}: {e}", source.display()))?;
    Ok(vec![format!("wrote {} and {}", source.display(), weights.display())])
}
