//! Where the examples read their data and write their pictures and weights, decided when they run (not baked in
//! when they are compiled), so that they work from any checkout and with `CARGO_TARGET_DIR` set anywhere.
//!
//! - Output: `--out DIR` on the command line; else `nn-examples/` in Cargo's target folder: `CARGO_TARGET_DIR`
//!   when set, else the folder the example's binary was built in (`target/` of the workspace by default).
//! - Data: `--data DIR` or the environment variable `NN_DATA`; else the workspace's `data/`, looked for from the
//!   current folder upward, then from the binary's folder upward. A file found nowhere is an error naming every
//!   place looked in.

use std::path::{Path, PathBuf};

/// The value after `flag` on the command line (`--out DIR`), if any.
fn argument(flag: &str) -> Option<PathBuf> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).map(PathBuf::from)
}

/// The command-line arguments that are not `--out DIR` or `--data DIR` (for examples with arguments of their own).
pub fn free_arguments() -> Vec<String> {
    let mut out = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--out" || a == "--data" {
            args.next();
        } else {
            out.push(a);
        }
    }
    out
}

/// Cargo's target folder: `CARGO_TARGET_DIR`, else the folder above the profile folder the running binary is in
/// (`.../target/release/examples/mnist` -> `.../target`).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().ok();
    let profile = exe.as_deref().and_then(|e| e.ancestors().find(|a| a.file_name().is_some_and(|n| n == "examples")));
    profile.and_then(Path::parent).and_then(Path::parent).map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
}

/// The folder the examples write into (created): see the module documentation.
pub fn output_dir() -> std::io::Result<PathBuf> {
    let dir = argument("--out").unwrap_or_else(|| target_dir().join("nn-examples"));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `name` in [`output_dir`].
pub fn output(name: &str) -> std::io::Result<PathBuf> {
    Ok(output_dir()?.join(name))
}

/// A data file found nowhere: the message names it and every place looked in (also as `Debug`, which is what
/// `main` prints for an error).
pub struct Missing(String);

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Missing {}

/// The bundled data file `name` (`mnist10k.bin.gz`): see the module documentation.
pub fn data(name: &str) -> Result<PathBuf, Missing> {
    let given = argument("--data").or_else(|| std::env::var_os("NN_DATA").map(PathBuf::from));
    let candidates: Vec<PathBuf> = match given {
        Some(dir) => vec![dir.join(name)],
        None => {
            let starts = [std::env::current_dir().ok(), std::env::current_exe().ok()];
            starts
                .into_iter()
                .flatten()
                .flat_map(|s| s.ancestors().map(|a| a.join("data").join(name)).collect::<Vec<_>>())
                .collect()
        }
    };
    let mut tried: Vec<String> = Vec::new();
    for path in candidates {
        if path.is_file() {
            return Ok(path);
        }
        let shown = path.display().to_string();
        if !tried.contains(&shown) {
            tried.push(shown);
        }
    }
    Err(Missing(format!(
        "data file `{name}` not found (looked in: {}); run from the workspace, or give its folder with --data DIR or \
         NN_DATA",
        tried.join(", ")
    )))
}
