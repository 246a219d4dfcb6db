//! `spindle eject DRIVE|MOUNTPOINT|IMAGE|--all`.

use super::daemon::connect;
use anyhow::{Result, bail};
use clap::Parser;
use serde_json::json;
use std::process::ExitCode;

#[derive(Parser)]
pub struct Args {
    /// A drive number, a mount point or an image path.
    target: Option<String>,
    /// Eject every drive (yours, or all of them for root).
    #[arg(long, conflicts_with = "target")]
    all: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let req = match (&a.target, a.all) {
        (_, true) => json!({"all": true}),
        (Some(t), false) => match t.parse::<u32>() {
            Ok(d) => json!({"drive": d}),
            Err(_) => {
                let p = std::path::Path::new(t);
                let abs = p.canonicalize().or_else(|_| std::path::absolute(p))?;
                json!({"path": abs})
            }
        },
        (None, false) => bail!("name a drive, a mount point or an image, or give --all"),
    };
    let reply = connect()?.request("eject", req)?;
    for d in reply["ejected"].as_array().into_iter().flatten() {
        eprintln!("ejected drive {d}");
    }
    Ok(ExitCode::SUCCESS)
}
