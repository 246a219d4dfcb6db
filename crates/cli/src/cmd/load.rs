//! `spindle load DRIVE IMAGE`: swap the disc of a drive; its mount points show the new one.

use super::daemon::{absolute, connect};
use anyhow::Result;
use clap::Parser;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
pub struct Args {
    drive: u32,
    image: PathBuf,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let image = absolute(&a.image)?;
    let reply = connect()?.request(
        "load",
        json!({"drive": a.drive, "image": image, "password": super::password()}),
    )?;
    for m in reply["mountpoints"].as_array().into_iter().flatten() {
        println!("{}", m.as_str().unwrap_or_default());
    }
    eprintln!("drive {}: {}", a.drive, image.display());
    Ok(ExitCode::SUCCESS)
}
