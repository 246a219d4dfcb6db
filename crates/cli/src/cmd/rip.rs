//! `spindle rip [DEVICE] -o OUT`: a backup of the disc in an optical drive, and
//! `spindle devices --optical` (the listing lives here so the devices command only branches).
//!
//! The rip goes through `spindle_rip::rip::rip` into a work file `OUT.rip` with a
//! ddrescue-format map `OUT.rip.map`; the disc model it makes is written by the image writer
//! OUT's extension picks (ISO, MDS+MDF, CUE+BIN, CCD). A hash log `OUT.dat` lists every
//! track and the whole image in the form redump datfiles use. A complete rip removes the work
//! file and the map; a rip with unreadable sectors or an interrupted one keeps them for
//! `--resume`.
//!
//! Hidden test/diagnostic options (`--emulate IMAGE` and the `--emulate-*` faults) rip from
//! the in-process emulated drive of spindle-mmc instead of a device, so that the CLI tests run
//! the real command against any disc and any fault.

use crate::progress;
use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use spindle_mmc::readcd::SubSelect;
use spindle_mmc::{EmulatedDrive, Faults, Mmc, Transport};
use spindle_rip::RipError;
use spindle_rip::datfile::{hash_log, ranges};
use spindle_rip::devices::{OpticalDrive, optical_drives, probe_medium};
use spindle_rip::drive::ReadMode;
use spindle_rip::hash::disc_digests_as;
use spindle_rip::image::disc_from_rip;
use spindle_rip::layout::{Family, read_layout, wait_ready};
use spindle_rip::rescue::{Progress, RescueOptions};
use spindle_rip::rip::{RipFiles, RipOptions, rip};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// The drive (/dev/srN or /dev/sgN); default: the first optical drive in sysfs.
    device: Option<PathBuf>,
    /// The image to write; its extension picks the format: .iso, .mds (+ .mdf), .cue (+ .bin)
    /// or .ccd (+ .img, .sub).
    #[arg(short, long)]
    output: PathBuf,
    /// Continue the rip whose map (OUT.rip.map) is beside the output.
    #[arg(long)]
    resume: bool,
    /// The drive's read offset in samples (as in AccurateRip's list), corrected in audio tracks.
    #[arg(
        long,
        value_name = "SAMPLES",
        default_value_t = 0,
        allow_hyphen_values = true
    )]
    read_offset: i32,
    /// Passes over unreadable sectors after the scrape phase.
    #[arg(long, value_name = "N", default_value_t = 1)]
    retries: u32,
    /// Reading speed as an x-factor of the medium (CD 1x = 176 kB/s, DVD 1385, BD 4495);
    /// default: the drive's maximum.
    #[arg(long, value_name = "X")]
    speed: Option<f64>,
    /// Read a CD raw without subchannel even when the drive returns it.
    #[arg(long)]
    no_subchannel: bool,
    /// Sectors a read asks for (default: what the kernel's queue limit allows).
    #[arg(long, hide = true, value_name = "N")]
    cluster: Option<u32>,
    /// Write no hash log (skips the CRC32/MD5/SHA-1 pass).
    #[arg(long)]
    no_hash: bool,
    /// Diagnostic: print how long each step took.
    #[arg(long, hide = true)]
    timings: bool,
    /// Keep the work file and map even when the rip is complete.
    #[arg(long)]
    keep_work: bool,
    /// Test/diagnostic: rip this image from the in-process emulated drive instead of a device.
    #[arg(long, hide = true, value_name = "IMAGE")]
    emulate: Option<PathBuf>,
    /// Test/diagnostic: unreadable LBAs of the emulated drive (`10,11,500-510`).
    #[arg(long, hide = true, value_name = "LIST")]
    emulate_bad_sectors: Option<String>,
    /// Test/diagnostic: a delay before every command of the emulated drive, in milliseconds.
    #[arg(long, hide = true, value_name = "MS")]
    emulate_delay_ms: Option<u64>,
    /// Test/diagnostic: the emulated drive returns no subchannel with READ CD.
    #[arg(long, hide = true)]
    emulate_no_subchannel: bool,
    /// Test/diagnostic: the emulated drive holds the image as a DVD-ROM.
    #[arg(long, hide = true)]
    emulate_dvd: bool,
    /// Test/diagnostic: the emulated disc's BCA (hex bytes).
    #[arg(long, hide = true, value_name = "HEX")]
    emulate_bca: Option<String>,
    /// Test/diagnostic: the emulated drive's read offset in samples.
    #[arg(long, hide = true, value_name = "SAMPLES", allow_hyphen_values = true)]
    emulate_read_offset: Option<i32>,
}

/// Parses `10,11,500-510` into LBAs.
fn lba_list(s: &str) -> Result<Vec<i32>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || anyhow!("bad sector list {s:?}: {part:?} is not an LBA or a range a-b");
        match part.split_once('-').filter(|(a, _)| !a.is_empty()) {
            Some((a, b)) => {
                let (a, b): (i32, i32) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if b < a || b - a > 10_000_000 {
                    return Err(bad());
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().map_err(|_| bad())?),
        }
    }
    Ok(out)
}

/// The largest transfer the kernel's block queue of this drive takes, in bytes
/// (`queue/max_sectors_kb` of its sr node; an sg node is mapped to its sr node).
fn max_transfer(dev: &Path) -> Option<u64> {
    let dev = std::fs::canonicalize(dev).ok()?;
    let sr = optical_drives(Path::new("/sys"))
        .into_iter()
        .find(|d| d.device == dev || d.generic.as_deref() == Some(dev.as_path()))?;
    let name = sr.device.file_name()?.to_string_lossy().to_string();
    let kb: u64 = std::fs::read_to_string(format!("/sys/class/block/{name}/queue/max_sectors_kb"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The drive to rip from: a device over SG_IO or the emulated drive, its name, and the
/// largest transfer it takes.
fn open_drive(a: &Args) -> Result<(Box<dyn Transport>, String, Option<u64>)> {
    if let Some(img) = &a.emulate {
        let mut disc = super::open(img)?;
        if a.emulate_dvd || a.emulate_bca.is_some() {
            let d = Arc::make_mut(&mut disc);
            if a.emulate_dvd {
                d.medium = spindle_disc::Medium::DvdRom;
            }
            if let Some(hex) = &a.emulate_bca {
                let bytes = (0..hex.len() / 2)
                    .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("x"), 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .map_err(|_| anyhow!("--emulate-bca {hex:?}: not hex bytes"))?;
                d.structures.bca = Some(bytes);
            }
        }
        let drive = EmulatedDrive::new(Some(disc));
        let mut f = Faults::none();
        if let Some(list) = &a.emulate_bad_sectors {
            f.unreadable = lba_list(list)?.into_iter().collect();
        }
        if let Some(ms) = a.emulate_delay_ms {
            f.command_delay = Duration::from_millis(ms);
        }
        f.no_subchannel = a.emulate_no_subchannel;
        f.read_offset = a.emulate_read_offset.unwrap_or(0);
        drive.faults().set(f);
        return Ok((
            Box::new(drive),
            format!("emulated drive ({})", img.display()),
            None,
        ));
    }
    let dev = match &a.device {
        Some(d) => d.clone(),
        None => optical_drives(Path::new("/sys"))
            .into_iter()
            .next()
            .map(|d| d.device)
            .ok_or_else(|| {
                anyhow!("no optical drive found in /sys/class/block (give the device)")
            })?,
    };
    let t = spindle_mmc::sgio::SgIo::open(&dev)?;
    Ok((Box::new(t), dev.display().to_string(), max_transfer(&dev)))
}

/// Bytes a second of 1x for a medium family (CD: 75 sectors of 2048 bytes).
fn one_x(family: Family) -> f64 {
    match family {
        Family::Dvd => 1_385_000.0,
        Family::Bd => 4_495_000.0,
        _ => 153_600.0,
    }
}

/// kB/s for SET CD SPEED at `x` times the family's 1x.
fn speed_kbs(family: Family, x: f64) -> u16 {
    let one = match family {
        Family::Dvd => 1385.0,
        Family::Bd => 4495.0,
        _ => 176.0,
    };
    (x * one).round().clamp(1.0, 65535.0) as u16
}

fn medium_label(family: Family) -> &'static str {
    match family {
        Family::Dvd => "DVD",
        Family::Bd => "BD",
        _ => "CD",
    }
}

/// The file beside `out` with `suffix` appended to its whole name.
fn beside(out: &Path, suffix: &str) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {percent:>3}% {pos}/{len} sectors ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

pub fn run(a: Args) -> Result<ExitCode> {
    let t0 = Instant::now();
    let timing = |what: &str| {
        if a.timings {
            eprintln!("timing {what} {:.3}", t0.elapsed().as_secs_f64());
        }
    };
    let (transport, source, max_transfer) = open_drive(&a)?;
    let mut m = Mmc::new(transport);
    let files = RipFiles::beside(&a.output);
    if a.resume && !files.map.exists() {
        bail!("--resume: no map {} beside the output", files.map.display());
    }
    wait_ready(&mut m, Duration::from_secs(30))
        .with_context(|| format!("{source}: waiting for the disc"))?;
    // The layout decides the x-factor, the speed unit and the read mode: a one-track data CD
    // going to an ISO is read as user data (READ(10)), which is all an ISO keeps.
    let layout =
        read_layout(&mut m).with_context(|| format!("{source}: reading the disc layout"))?;
    let family = layout.family;
    let ext = a
        .output
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let cd = !matches!(family, Family::Dvd | Family::Bd);
    let plain_iso = ext == "iso"
        && layout.sessions.len() == 1
        && layout.tracks.len() == 1
        && layout.tracks[0].is_data();
    let cd_mode = if cd && plain_iso {
        Some(ReadMode::User)
    } else if a.no_subchannel {
        Some(ReadMode::Raw(SubSelect::None))
    } else {
        None
    };
    if let Some(x) = a.speed {
        if x.is_nan() || x <= 0.0 {
            bail!("--speed {x}: give a positive x-factor");
        }
        if let Err(e) = m.set_cd_speed(speed_kbs(family, x)) {
            eprintln!("spindle: warning: the drive refused SET CD SPEED {x}x: {e}");
        }
    }

    let cancel = Arc::new(AtomicBool::new(false));
    // While reading, SIGINT/SIGTERM stop the rescue at the next read with the map saved; a
    // second one (the flag already set) ends the process as usual.
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_default(sig, cancel.clone())?;
        signal_hook::flag::register(sig, cancel.clone())?;
    }

    let sector_guess = match cd_mode {
        Some(ReadMode::User) => 2048,
        _ if !cd => 2048,
        _ => 2448,
    };
    let cluster = a.cluster.unwrap_or_else(|| match max_transfer {
        Some(bytes) => (bytes / sector_guess).clamp(16, 1024) as u32,
        None => RescueOptions::default().cluster,
    });
    let options = RipOptions {
        rescue: RescueOptions {
            retries: a.retries,
            cluster,
            ..RescueOptions::default()
        },
        resume: a.resume,
        read_offset: a.read_offset,
        cd_mode,
        // A fresh user-data rip of one track is hashed while it is read.
        hash_while_reading: (!cd || cd_mode == Some(ReadMode::User))
            && !a.resume
            && !a.no_hash
            && layout.tracks.len() == 1,
    };
    let bar = bar();
    let one_x = one_x(family);
    let label = medium_label(family);
    let mut last: Option<(Instant, u64)> = None;
    let mut xf = 0.0f64;
    let mut on_progress = |p: &Progress| {
        if bar.length() != Some(p.total) {
            bar.set_length(p.total);
        }
        bar.set_position(p.finished);
        let now = Instant::now();
        match last {
            Some((t, f)) if now.duration_since(t) >= Duration::from_millis(500) => {
                let rate = p.finished.saturating_sub(f) as f64 * 2048.0
                    / now.duration_since(t).as_secs_f64();
                xf = if xf == 0.0 {
                    rate / one_x
                } else {
                    0.7 * xf + 0.3 * rate / one_x
                };
                last = Some((now, p.finished));
            }
            None => last = Some((now, p.finished)),
            _ => {}
        }
        bar.set_message(format!(
            "{:?} {xf:5.1}x {label}, {} error(s)",
            p.phase, p.errors
        ));
    };
    timing("setup");
    let started = Instant::now();
    let result = rip(
        &mut m,
        &files,
        &options,
        Some(&cancel),
        Some(&mut on_progress),
    );
    // After reading they end the process at once: the work file and map are complete, so a
    // `--resume` only writes the image again.
    let interrupted = cancel.swap(true, Ordering::SeqCst);
    let ripped = match result {
        Ok(r) => r,
        Err(RipError::Cancelled) if interrupted => {
            bar.abandon();
            eprintln!(
                "spindle: interrupted: the map {} is saved; run the same command with --resume to continue",
                files.map.display()
            );
            return Ok(ExitCode::from(130));
        }
        Err(e) => {
            bar.abandon();
            return Err(anyhow::Error::new(e).context(format!("ripping from {source}")));
        }
    };
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let sectors = ripped.plan.sectors();
    eprintln!(
        "read {sectors} sectors in {secs:.1} s ({:.1}x {label})",
        sectors as f64 * 2048.0 / secs.max(1e-9) / one_x
    );
    let clean = ripped.bad.is_empty();
    // Only a clean rip has one: a digest needs every sector, read once and in order.
    let followed = ripped.digest.clone();

    timing("read");
    let disc = disc_from_rip(&ripped).context("describing the rip as a disc")?;
    timing("model");
    // The work file of a clean one-track user-data rip from LBA 0 is the ISO itself.
    let t1 = disc.tracks().next();
    let as_is = ext == "iso"
        && clean
        && !a.keep_work
        && ripped.plan.mode == ReadMode::User
        && ripped.plan.areas.len() == 1
        && ripped.plan.areas[0].lba == 0
        && disc.tracks().count() == 1
        && t1.is_some_and(|t| t.index1().0 == 0 && t.end().0 as u64 == sectors);
    if a.timings {
        eprintln!(
            "timing as-is {as_is}: mode {:?} areas {:?} tracks {} index1 {:?} end {:?} sectors {sectors}",
            ripped.plan.mode,
            ripped.plan.areas,
            disc.tracks().count(),
            t1.map(|t| t.index1().0),
            t1.map(|t| t.end().0)
        );
    }
    if as_is {
        std::fs::rename(&files.work, &a.output).with_context(|| {
            format!(
                "renaming {} to {}",
                files.work.display(),
                a.output.display()
            )
        })?;
        println!("wrote {}", a.output.display());
    } else {
        let wbar = progress::bytes("writing");
        let opts = spindle_image::ConvertOptions {
            format: None,
            data_only: false,
            write: Default::default(),
        };
        let outcome =
            spindle_image::convert(&disc, &a.output, &opts, &mut progress::updater(&wbar))
                .with_context(|| format!("writing {}", a.output.display()))?;
        wbar.finish_and_clear();
        for w in &outcome.warnings {
            eprintln!("spindle: warning: {w}");
        }
        for f in &outcome.files {
            println!("wrote {}", f.display());
        }
    }

    timing("image");
    if a.no_hash {
        eprintln!("spindle: no hash log (--no-hash)");
    } else {
        // The form `spindle verify` gives the written image (one rule for both: raw sectors
        // where the image stores them, else user data), read from the image itself.
        let raw = match spindle_image::open(&a.output) {
            Ok(written) => spindle_disc::raw_track_files(&written),
            Err(_) => spindle_disc::raw_track_files(&disc),
        };
        let read_raw = disc.medium.is_cd() && ripped.plan.mode != ReadMode::User;
        let (tracks, whole) = match followed {
            Some(d) if disc.tracks().count() == 1 && raw == read_raw => (
                vec![(disc.tracks().next().map_or(1, |t| t.number), d.clone())],
                d,
            ),
            _ => disc_digests_as(&disc, raw).context("hashing the rip")?,
        };
        let log = beside(&a.output, ".dat");
        let text = hash_log(&a.output, raw, &tracks, &whole, &source, &ripped.bad);
        std::fs::write(&log, text).with_context(|| format!("writing {}", log.display()))?;
        println!("wrote {}", log.display());
    }

    timing("hashes");
    if clean {
        println!("no errors");
        if !a.keep_work {
            for p in [&files.work, &files.map] {
                if p.exists() {
                    std::fs::remove_file(p).with_context(|| format!("removing {}", p.display()))?;
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "unreadable sectors ({}): {}",
            ripped.bad.len(),
            ranges(&ripped.bad)
        );
        eprintln!(
            "spindle: {} sector(s) unreadable (zeros in the image); {} and {} are kept: --resume tries them again",
            ripped.bad.len(),
            files.work.display(),
            files.map.display()
        );
        Ok(ExitCode::from(2))
    }
}

#[derive(serde::Serialize)]
struct DriveRow<'a> {
    device: &'a Path,
    generic: Option<&'a Path>,
    vendor: &'a str,
    model: &'a str,
    firmware: &'a str,
    medium: String,
    profile: Option<u16>,
}

/// `spindle devices --optical`: the optical drives from sysfs and their medium.
pub fn list_optical(json: bool) -> Result<ExitCode> {
    let drives: Vec<OpticalDrive> = optical_drives(Path::new("/sys"));
    let media: Vec<_> = drives.iter().map(|d| probe_medium(&d.device)).collect();
    let rows: Vec<DriveRow> = drives
        .iter()
        .zip(&media)
        .map(|(d, m)| DriveRow {
            device: &d.device,
            generic: d.generic.as_deref(),
            vendor: &d.vendor,
            model: &d.model,
            firmware: &d.revision,
            medium: m.describe(),
            profile: match m {
                spindle_rip::devices::MediumState::Loaded { profile, .. } => Some(*profile),
                _ => None,
            },
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        eprintln!("no optical drives found");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<10} {:<10} {:<10} {:<18} {:<8} MEDIUM",
        "DEVICE", "SG", "VENDOR", "MODEL", "FIRMWARE"
    );
    for r in &rows {
        println!(
            "{:<10} {:<10} {:<10} {:<18} {:<8} {}",
            r.device.display(),
            r.generic
                .map(|g| g.display().to_string())
                .unwrap_or_else(|| "-".into()),
            r.vendor,
            r.model,
            r.firmware,
            r.medium
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges() {
        assert_eq!(
            lba_list("10, 11,500-502").unwrap(),
            vec![10, 11, 500, 501, 502]
        );
        assert!(lba_list("x").is_err());
        assert!(lba_list("5-3").is_err());
        assert_eq!(speed_kbs(Family::Cd, 8.0), 1408);
        assert_eq!(speed_kbs(Family::Bd, 100.0), 65535);
    }
}
