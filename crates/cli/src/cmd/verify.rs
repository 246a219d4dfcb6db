//! `spindle verify IMAGE [--json]`: missing data, sector EDC/ECC, the hashes of the image
//! files as stored and the redump-style track hashes. Ends with `OK` or `FAILED: N
//! problems`; exit status 0, 1 when verification fails (2 is left to usage errors).

use crate::progress;
use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The image to check.
    image: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let checked = super::open(&a.image).and_then(|disc| {
        let bar = progress::sectors("verifying");
        let report = spindle_image::verify_image(&disc, &a.image, &mut progress::updater(&bar));
        bar.finish_and_clear();
        Ok(report?)
    });
    let report = match checked {
        Ok(r) => r,
        // A script reading --json gets an answer when the image cannot even be read.
        Err(e) if a.json => {
            let err = format!("{e:#}");
            let v = serde_json::json!({"image": a.image, "result": "FAILED", "problem_count": 1, "error": err});
            println!("{}", serde_json::to_string_pretty(&v)?);
            eprintln!("spindle: error: {err}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e),
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("Image: {}", a.image.display());
        for m in &report.missing {
            println!("MISSING DATA: {m}");
        }
        for e in &report.read_errors {
            println!("READ ERROR: {e}");
        }
        println!("Image files as stored:");
        for f in &report.files {
            let name = f
                .path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            println!("  {name}: size {}", f.size);
            println!("    crc32  {}", f.crc32);
            println!("    md5    {}", f.md5);
            println!("    sha1   {}", f.sha1);
            println!("    sha256 {}", f.sha256);
        }
        let stem = a
            .image
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        // `game.iso.xz`: the track files are named after `game`.
        let stem = match stem.rsplit_once('.') {
            Some((s, ext))
                if [
                    "iso", "bin", "cue", "img", "mds", "ccd", "nrg", "cdi", "chd",
                ]
                .contains(&ext.to_lowercase().as_str()) =>
            {
                s.to_string()
            }
            _ => stem,
        };
        let ext = if report.raw { "bin" } else { "iso" };
        println!("Redump-style track hashes ({}):", report.track_form);
        for t in &report.tracks {
            let edc = if t.checked == 0 {
                "no stored EDC/ECC".to_string()
            } else {
                format!(
                    "EDC/ECC: {} good, {} bad, {} unprotected",
                    t.good, t.bad, t.unprotected
                )
            };
            println!(
                "Track {:02} ({}, {} sectors): {edc}",
                t.number, t.mode, t.sectors
            );
            for i in &t.issues {
                println!("  sector {}: {}", i.lba, i.problem);
            }
            if t.bad as usize > t.issues.len() {
                println!("  ... and {} more", t.bad as usize - t.issues.len());
            }
            let name =
                spindle_rip::datfile::track_file_name(&stem, ext, t.number, report.tracks.len());
            let digests = spindle_rip::hash::Digests {
                size: t.size,
                crc32: t.crc32.clone(),
                md5: t.md5.clone(),
                sha1: t.sha1.clone(),
            };
            println!("{}", digests.rom_line(&name));
        }
        if report.ok() {
            println!("OK");
        } else {
            let n = report.problem_count;
            println!("FAILED: {n} problem{}", if n == 1 { "" } else { "s" });
        }
    }
    if !report.ok() {
        eprintln!(
            "spindle: {}: verification failed: {}",
            a.image.display(),
            summary(&report)
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// What failed, in one line.
fn summary(r: &spindle_image::VerifyReport) -> String {
    let mut parts = Vec::new();
    let missing: u64 = r
        .missing
        .iter()
        .map(|m| m.missing_bytes())
        .max()
        .unwrap_or(0);
    if missing > 0 {
        parts.push(format!(
            "data missing ({missing} bytes short of what the image declares)"
        ));
    }
    if !r.read_errors.is_empty() {
        parts.push(format!("{} read error(s)", r.read_errors.len()));
    }
    if r.bad_sectors() > 0 {
        parts.push(format!(
            "{} sector(s) failed EDC/ECC or address checks",
            r.bad_sectors()
        ));
    }
    parts.join("; ")
}
