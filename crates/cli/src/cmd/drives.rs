//! `spindle drives [--json] [--count N]`: the virtual drives.

use super::daemon::connect;
use anyhow::Result;
use clap::Parser;
use std::process::ExitCode;

#[derive(Parser)]
pub struct Args {
    /// Print the daemon's reply as JSON.
    #[arg(long)]
    json: bool,
    /// Set the number of drives first (1 to 256; loaded drives cannot be dropped).
    #[arg(long, value_name = "N")]
    count: Option<u32>,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let mut c = connect()?;
    if let Some(n) = a.count {
        c.count(n)?;
    }
    let reply = c.drives()?;
    if a.json {
        // Through a JSON value: its keys in the order the daemon's line has them.
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::to_value(&reply)?)?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let drives = &reply.drives;
    println!(
        "{:<5}  {:<8}  {:<6}  {:<20}  {:<40}  MOUNTPOINTS",
        "DRIVE", "MEDIUM", "FORMAT", "LABEL", "IMAGE"
    );
    for d in drives {
        let s = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        let mounts: Vec<String> = d
            .mountpoints
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        println!(
            "{:<5}  {:<8}  {:<6}  {:<20}  {:<40}  {}",
            d.drive,
            s(&d.medium),
            s(&d.format),
            s(&d.label),
            d.image
                .as_ref()
                .map_or("(empty)".into(), |p| p.display().to_string()),
            mounts.join(" ")
        );
    }
    if let Some(raw) = &reply.raw {
        println!("raw views: {}/drives/N", raw.display());
    }
    for d in drives.iter().filter(|d| !d.nbd.is_empty()) {
        println!("drive {} over NBD: {}", d.drive, d.nbd.join("  "));
    }
    Ok(ExitCode::SUCCESS)
}
