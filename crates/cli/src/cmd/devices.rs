//! `spindle devices`: removable and USB block devices (every disk with `--all`).

use anyhow::Result;
use spindle_burn::{Device, device, human_size};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Show fixed disks too (internal drives, virtio, loop devices).
    #[arg(long)]
    all: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// List optical drives (vendor, model, firmware, sg node, current medium).
    #[arg(long)]
    optical: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    if a.optical {
        return super::rip::list_optical(a.json);
    }
    let list: Vec<Device> = device::list()
        .into_iter()
        .filter(|d| !d.optical && (a.all || d.is_removable_kind()))
        .collect();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        eprintln!(
            "no removable or USB disks found{}",
            if a.all {
                ""
            } else {
                " (--all shows fixed disks too)"
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<14} {:<9} {:>10} {:<5} {:<24} {:<16} FLAGS",
        "DEVICE", "TRANSPORT", "SIZE", "RM", "MODEL", "SERIAL"
    );
    for d in &list {
        let model = [d.vendor.as_deref(), d.model.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let mut flags = Vec::new();
        if d.read_only {
            flags.push("read-only".to_string());
        }
        if let Some(s) = &d.system {
            flags.push(format!("system ({s})"));
        }
        if let Some(b) = &d.backing_file {
            flags.push(format!("backed by {}", b.display()));
        }
        if !d.all_holders().is_empty() {
            flags.push(format!("held by {}", d.all_holders().join(",")));
        }
        println!(
            "{:<14} {:<9} {:>10} {:<5} {:<24} {:<16} {}",
            d.path.display(),
            d.transport.name(),
            human_size(d.size),
            if d.removable { "yes" } else { "no" },
            if model.is_empty() { "-" } else { &model },
            d.serial.as_deref().unwrap_or("-"),
            flags.join(", ")
        );
        for m in &d.mountpoints {
            println!("  mounted on {m}");
        }
        for p in &d.partitions {
            let mounts = if p.mountpoints.is_empty() {
                String::new()
            } else {
                format!("  mounted on {}", p.mountpoints.join(", "))
            };
            println!(
                "  {:<12} {:>10}{mounts}",
                p.path.display(),
                human_size(p.size)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
