//! Helpers the CLI test binaries share.

use std::process::{Command, Output};

/// Runs the spindle binary with `args`.
#[allow(dead_code)] // not every test binary runs it this way
pub fn spindle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .output()
        .expect("run spindle")
}
