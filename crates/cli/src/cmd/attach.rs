//! `spindle attach` (being built; see the issue that asks for it).

use anyhow::{Result, bail};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Arguments (placeholder until the command is built).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

pub fn run(_args: Args) -> Result<ExitCode> {
    bail!("spindle attach is not built yet")
}

pub mod detach {
    use anyhow::{Result, bail};
    use std::process::ExitCode;

    #[derive(clap::Args)]
    pub struct Args {
        /// Arguments (placeholder until the command is built).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        rest: Vec<String>,
    }

    pub fn run(_args: Args) -> Result<ExitCode> {
        bail!("spindle detach is not built yet")
    }
}
