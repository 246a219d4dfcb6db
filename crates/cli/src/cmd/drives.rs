//! `spindle drives [--json] [--count N] [--identity N VENDOR,PRODUCT,REV]`: the virtual
//! drives.

use super::daemon::connect;
use anyhow::{Result, bail};
use clap::Parser;
use spindle_daemon::protocol::IdentityArgs;
use std::process::ExitCode;

#[derive(Parser)]
pub struct Args {
    /// Print the daemon's reply as JSON.
    #[arg(long)]
    json: bool,
    /// Set the number of drives first (1 to 256; loaded drives cannot be dropped).
    #[arg(long, value_name = "N")]
    count: Option<u32>,
    /// Set what drive N answers to INQUIRY first: vendor (up to 8 characters), product (16)
    /// and revision (4), comma-separated ASCII; saved with the drives. The default is
    /// "SPINDLE,Virtual BD-ROM,0001".
    #[arg(long, num_args = 2, value_names = ["N", "VENDOR,PRODUCT,REV"])]
    identity: Option<Vec<String>>,
}

fn identity_args(v: &[String]) -> Result<IdentityArgs> {
    let [n, id] = v else {
        bail!("--identity takes a drive number and VENDOR,PRODUCT,REV");
    };
    let Ok(drive) = n.parse::<u32>() else {
        bail!("--identity: {n:?} is not a drive number");
    };
    let parts: Vec<&str> = id.split(',').collect();
    let [vendor, product, revision] = parts[..] else {
        bail!("--identity: {id:?} is not VENDOR,PRODUCT,REV (three fields, comma-separated)");
    };
    Ok(IdentityArgs {
        drive,
        vendor: vendor.into(),
        product: product.into(),
        revision: revision.into(),
    })
}

pub fn run(a: Args) -> Result<ExitCode> {
    let identity = a.identity.as_deref().map(identity_args).transpose()?;
    let mut c = connect()?;
    if let Some(n) = a.count {
        c.count(n)?;
    }
    if let Some(id) = identity {
        c.identity(id)?;
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
        "{:<5}  {:<9}  {:<8}  {:<6}  {:<20}  {:<40}  MOUNTPOINTS",
        "DRIVE", "DEVICE", "MEDIUM", "FORMAT", "LABEL", "IMAGE"
    );
    for d in drives {
        let s = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        let mounts: Vec<String> = d
            .mountpoints
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let mut device = d
            .device
            .as_ref()
            .map_or("-".into(), |p| p.display().to_string());
        if d.locked {
            device.push('*');
        }
        println!(
            "{:<5}  {:<9}  {:<8}  {:<6}  {:<20}  {:<40}  {}",
            d.drive,
            device,
            s(&d.medium),
            s(&d.format),
            s(&d.label),
            d.image
                .as_ref()
                .map_or("(empty)".into(), |p| p.display().to_string()),
            mounts.join(" ")
        );
        if let Some(set) = &d.set {
            match set.changing {
                Some(next) => println!(
                    "       tray open: disc {next} of {} going in ({})",
                    set.count,
                    set.playlist.display()
                ),
                None => println!(
                    "       disc {} of {} ({}) from {}",
                    set.disc,
                    set.count,
                    set.label,
                    set.playlist.display()
                ),
            }
        }
    }
    if drives.iter().any(|d| d.locked) {
        println!("* locked by the system (mounted or in use): unmount it before ejecting");
    }
    if let Some(raw) = &reply.raw {
        println!("raw views: {}/drives/N", raw.display());
    }
    for d in drives.iter().filter(|d| !d.nbd.is_empty()) {
        println!("drive {} over NBD: {}", d.drive, d.nbd.join("  "));
    }
    let default = spindle_daemon::protocol::DriveIdentity {
        vendor: "SPINDLE".into(),
        product: "Virtual BD-ROM".into(),
        revision: "0001".into(),
    };
    for d in drives {
        if let Some(id) = d.identity.as_ref().filter(|id| **id != default) {
            println!(
                "drive {} identifies as {:?} {:?} {:?}",
                d.drive, id.vendor, id.product, id.revision
            );
        }
    }
    if !reply.scsi.available {
        let why = reply
            .scsi
            .reason
            .as_deref()
            .unwrap_or("the daemon did not say why");
        match &reply.scsi.hint {
            Some(h) => println!("no /dev/srN drives: {why}; {h}"),
            None => println!("no /dev/srN drives: {why}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
