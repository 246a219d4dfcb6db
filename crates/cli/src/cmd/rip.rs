//! `spindle rip` (being built; see issue 8).

use anyhow::{Result, bail};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Arguments (placeholder until the command is built).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

pub fn run(_args: Args) -> Result<ExitCode> {
    bail!("spindle rip is not built yet")
}
