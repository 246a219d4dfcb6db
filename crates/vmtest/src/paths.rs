//! Where the workspace, its target folder, the samples and our binary are.

use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().nth(2).unwrap_or(here).to_path_buf()
}

/// The cargo target folder: `$CARGO_TARGET_DIR`, else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                workspace_root().join(d)
            }
        }
        None => workspace_root().join("target"),
    }
}

/// The shared sample images (`../shared/samples` beside the repository).
pub fn samples_dir() -> Result<PathBuf> {
    let dir = workspace_root().join("../shared/samples");
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(Error::io(
            dir,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the sample images are missing",
            ),
        ))
    }
}

/// Our `spindle` binary (debug profile), built first with `cargo build -p spindle-cli` so that
/// the guest runs the current code. Built once per test process.
pub fn spindle_binary() -> Result<PathBuf> {
    static BUILT: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(&cargo)
            .args(["build", "--quiet", "-p", "spindle-cli", "--bin", "spindle"])
            .current_dir(workspace_root())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", Path::new(&cargo).display()))?;
        if !out.status.success() {
            return Err(format!(
                "cargo build -p spindle-cli: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let bin = target_dir().join("debug/spindle");
        if bin.is_file() {
            Ok(bin)
        } else {
            Err(format!("{} was not built", bin.display()))
        }
    });
    built.clone().map_err(|detail| Error::Command {
        command: "cargo build -p spindle-cli".into(),
        detail,
    })
}
