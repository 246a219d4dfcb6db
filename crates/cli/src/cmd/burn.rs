//! `spindle burn IMAGE DEVICE...`: write an image to USB sticks, every one at once, then read
//! each back and compare. Every device is checked before any is opened for writing; a refusal
//! of one refuses the whole run.

use anyhow::{Context, Result, bail};
use indicatif::{MultiProgress, ProgressBar};
use spindle_burn::{
    BurnError, Device, Options, Outcome, Phase, Policy, Source, Target, backing, device,
    human_size, safety,
};
use spindle_image::ImageError;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(clap::Args)]
pub struct Args {
    /// The image: any format spindle reads (its first data track is written), or a raw disk
    /// image; .gz, .xz and .zst are decompressed on the fly.
    image: PathBuf,
    /// Target disks (/dev/sdb, sdb, /dev/disk/by-id/...).
    #[arg(required = true)]
    devices: Vec<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    /// Unmount the targets' mounted partitions instead of refusing.
    #[arg(long)]
    unmount: bool,
    /// Allow fixed (non-removable, non-USB) disks, loop devices included.
    #[arg(long)]
    allow_fixed: bool,
    /// Skip reading the targets back.
    #[arg(long)]
    no_verify: bool,
    /// Print the report as JSON on standard output.
    #[arg(long)]
    json: bool,
    /// Write the image byte for byte even when it is a Windows installation ISO (whose
    /// stick is otherwise built from its files: MBR, FAT32, every file copied). A raw copy
    /// of such an ISO does not boot.
    #[arg(long)]
    raw: bool,
}

fn open_source(a: &Args) -> Result<Source> {
    if let Some(s) = Source::streamed(&a.image)? {
        return Ok(s);
    }
    match super::open(&a.image) {
        Ok(disc) => Ok(Source::from_disc(&a.image, disc)?),
        Err(e)
            if matches!(
                e.downcast_ref::<ImageError>(),
                Some(ImageError::Unrecognised { .. })
            ) =>
        {
            Ok(Source::raw(&a.image)?)
        }
        Err(e) => Err(e.context(format!("opening {}", a.image.display()))),
    }
}

/// The Windows stick for `iso`, laid out for the smallest of `devices` (one read feeds
/// every target, so they all get the same bytes).
fn windows_stick(iso: Source, devices: &[Device]) -> Result<Source> {
    let smallest = devices.iter().map(|d| d.size).min().unwrap_or(0);
    let stick = spindle_burn::stick::layout(&iso, smallest)?;
    if !stick.uefi {
        eprintln!(
            "spindle: warning: the ISO has no efi/boot/bootx64.efi: UEFI firmware will not boot \
             the stick"
        );
    }
    if !stick.bios {
        eprintln!(
            "spindle: warning: the ISO has no bootmgr in its root: legacy BIOS will not boot \
             the stick"
        );
    }
    if devices.iter().any(|d| d.size != smallest) {
        eprintln!(
            "spindle: note: the targets differ in size: the partition fills the smallest \
             ({}), the rest of the larger ones stays unused",
            human_size(smallest)
        );
    }
    let src = spindle_burn::stick::source(&iso, stick);
    eprintln!(
        "writing: {} ({} to write)",
        src.description,
        human_size(src.len())
    );
    Ok(src)
}

/// Shows what is about to be destroyed and asks for the device name.
fn confirm(d: &Device, input: &mut dyn BufRead) -> Result<()> {
    let mut err = std::io::stderr().lock();
    writeln!(err, "\n{}", d.describe())?;
    if let Some(s) = &d.serial {
        writeln!(err, "  serial {s}")?;
    }
    if d.partitions.is_empty() {
        writeln!(err, "  no partitions")?;
    }
    for p in &d.partitions {
        let m = if p.mountpoints.is_empty() {
            String::new()
        } else {
            format!(", mounted on {}", p.mountpoints.join(", "))
        };
        writeln!(
            err,
            "  partition {} {}{m}",
            p.path.display(),
            human_size(p.size)
        )?;
    }
    write!(
        err,
        "EVERYTHING on {} will be overwritten. Type its name ({}) to go on: ",
        d.path.display(),
        d.name
    )?;
    err.flush()?;
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("reading the confirmation")?;
    if !std::io::stdin().is_terminal() {
        // The answer came from a pipe: nothing echoed the line end.
        writeln!(err)?;
    }
    let typed = line.trim();
    let ok = typed == d.name || typed == d.path.to_string_lossy();
    if !ok {
        return Err(BurnError::NotConfirmed {
            path: d.path.clone(),
            typed: typed.to_string(),
            expected: d.name.clone(),
        }
        .into());
    }
    Ok(())
}

pub fn run(a: Args) -> Result<ExitCode> {
    let mut src = open_source(&a)?;
    eprintln!(
        "{}: {} ({})",
        a.image.display(),
        human_size(src.len()),
        src.description
    );
    let boot = spindle_burn::boot::check(&src);
    let windows = boot == spindle_burn::Boot::WindowsIso;
    if boot.bootable() {
        eprintln!("boot: {}", boot.message());
    } else if windows && !a.raw {
        eprintln!(
            "boot: Windows installation ISO: a raw copy would not boot, so the stick is built \
             from its files instead (--raw writes the ISO as it is)"
        );
    } else {
        eprintln!("spindle: warning: {}", boot.message());
    }
    let policy = Policy {
        allow_fixed: a.allow_fixed,
        unmount: a.unmount,
    };
    let mut devices: Vec<Device> = Vec::new();
    for p in &a.devices {
        let d = device::open_device(p)?;
        if devices.iter().any(|x| x.name == d.name) {
            return Err(BurnError::Duplicate { path: d.path }.into());
        }
        devices.push(d);
    }
    if windows && !a.raw {
        src = windows_stick(src, &devices)?;
    }
    let need = src.len();
    for d in &devices {
        safety::check(d, need, &src.reads, policy)?;
    }
    if !a.yes {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        for d in &devices {
            confirm(d, &mut input)?;
        }
    }
    let mut targets = Vec::new();
    for d in devices {
        let d = if a.unmount && !d.all_mounts().is_empty() {
            eprintln!("unmounting {}", d.all_mounts().join(", "));
            safety::unmount_all(&d)?
        } else {
            d
        };
        targets.push(Target::open(d)?);
    }
    // Again now that every target is open and pinned: the confirmation can wait for any time,
    // and a loop device or mapping set up meanwhile must not turn a target into the source.
    for t in &targets {
        backing::check(&t.device.path, &t.device.name, &src.reads)?;
    }

    let cancel = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while stopping ends the process at once.
        signal_hook::flag::register_conditional_shutdown(sig, 130, cancel.clone())?;
        signal_hook::flag::register(sig, cancel.clone())?;
    }
    let multi = MultiProgress::new();
    let bars: Vec<ProgressBar> = targets
        .iter()
        .map(|t| {
            let b = multi.add(crate::progress::bytes(&format!(
                "{} writing",
                t.device.name
            )));
            b.set_length(need);
            b
        })
        .collect();
    let names: Vec<String> = targets.iter().map(|t| t.device.name.clone()).collect();
    let phases: Vec<std::sync::Mutex<Option<Phase>>> = targets
        .iter()
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    let progress = |p: &spindle_burn::Progress| {
        let bar = &bars[p.target];
        let mut last = phases[p.target].lock().unwrap_or_else(|e| e.into_inner());
        if *last != Some(p.phase) {
            *last = Some(p.phase);
            bar.reset();
            bar.set_length(p.total);
            bar.set_message(format!("{} {}", names[p.target], p.phase.name()));
        }
        // Two writes per target finish in either order: never move the bar back.
        if p.done > bar.position() {
            bar.set_position(p.done);
        }
    };
    let opts = Options {
        verify: !a.no_verify,
        ..Options::default()
    };
    let n = targets.len();
    eprintln!(
        "writing {} to {n} device{}",
        human_size(need),
        if n == 1 { "" } else { "s" }
    );
    let report = spindle_burn::burn(&src, targets, &opts, &cancel, &progress);
    for b in &bars {
        b.finish_and_clear();
    }
    let cancelled = cancel.load(Ordering::Relaxed);
    if cancelled {
        eprintln!("stopped: every target was synced; here is what each holds");
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    let mut all_ok = true;
    for t in &report.targets {
        all_ok &= t.outcome.ok();
        let line = format!("{}: {}", t.path.display(), t.outcome.state(report.bytes));
        if a.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
        if t.write_secs > 0.0 && matches!(t.outcome, Outcome::Verified | Outcome::Written) {
            eprintln!(
                "  wrote at {}/s{}{}",
                human_size((report.bytes as f64 / t.write_secs) as u64),
                if t.verify_secs > 0.0 {
                    format!(
                        ", verified at {}/s",
                        human_size((report.bytes as f64 / t.verify_secs) as u64)
                    )
                } else {
                    String::new()
                },
                if t.direct {
                    ""
                } else {
                    " (buffered: the device refused O_DIRECT)"
                }
            );
        }
    }
    if cancelled {
        return Ok(ExitCode::from(130));
    }
    if !all_ok {
        let bad = report.targets.iter().filter(|t| !t.outcome.ok()).count();
        bail!("{bad} of {n} targets did not complete");
    }
    Ok(ExitCode::SUCCESS)
}
