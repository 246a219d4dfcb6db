//! `spindle load DRIVE IMAGE`: swap the disc of a drive; its mount points show the new one.

use super::daemon::{absolute, connect};
use anyhow::Result;
use clap::Parser;
use spindle_daemon::protocol::LoadArgs;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
pub struct Args {
    drive: u32,
    image: PathBuf,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let image = absolute(&a.image)?;
    let reply = connect()?.load(LoadArgs {
        drive: a.drive,
        image: image.clone(),
        password: super::password(),
    })?;
    for m in reply.mountpoints {
        println!("{}", m.display());
    }
    eprintln!("drive {}: {}", a.drive, image.display());
    Ok(ExitCode::SUCCESS)
}
