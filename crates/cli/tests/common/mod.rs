//! Helpers the CLI test binaries share.

use std::path::PathBuf;
use std::process::{Command, Output};

/// `../shared/samples`, read in place.
pub fn samples() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/samples"
    ))
}

/// Runs the spindle binary with `args`.
#[allow(dead_code)] // not every test binary runs it this way
pub fn spindle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .output()
        .expect("run spindle")
}
