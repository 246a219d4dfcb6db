//! `spindle eject DRIVE|MOUNTPOINT|IMAGE|--all`.

use super::daemon::connect;
use anyhow::{Result, bail};
use clap::Parser;
use spindle_daemon::EjectTarget;
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
        (_, true) => EjectTarget::All,
        (Some(t), false) => match t.parse::<u32>() {
            Ok(d) => EjectTarget::Drive(d),
            Err(_) => {
                let p = std::path::Path::new(t);
                EjectTarget::Path(p.canonicalize().or_else(|_| std::path::absolute(p))?)
            }
        },
        (None, false) => bail!("name a drive, a mount point or an image, or give --all"),
    };
    let reply = connect()?.eject(req)?;
    for d in reply.ejected {
        eprintln!("ejected drive {d}");
    }
    for d in &reply.locked {
        eprintln!(
            "drive {d} is locked by the system (mounted or in use): asked it to eject; unmount it first"
        );
    }
    Ok(if reply.locked.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
