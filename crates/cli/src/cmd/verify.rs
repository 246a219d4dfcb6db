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
    let disc = super::open(&a.image)?;
    let bar = progress::sectors("verifying");
    let report = spindle_image::verify(&disc, &mut progress::updater(&bar))?;
    bar.finish_and_clear();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let stem = a.image.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        let ext = if disc.medium.is_cd() { "bin" } else { "iso" };
        let many = report.tracks.len() > 1;
        for t in &report.tracks {
            let edc = if t.checked == 0 {
                "no stored EDC/ECC".to_string()
            } else {
                format!("EDC/ECC: {} good, {} bad, {} unprotected", t.good, t.bad, t.unprotected)
            };
            println!("Track {:02} ({}, {} sectors): {edc}", t.number, t.mode, t.sectors);
            for i in &t.issues {
                println!("  sector {}: {}", i.lba, i.problem);
            }
            if t.bad as usize > t.issues.len() {
                println!("  ... and {} more", t.bad as usize - t.issues.len());
            }
            let name = if many {
                format!("{stem} (Track {:02}).{ext}", t.number)
            } else {
                format!("{stem}.{ext}")
            };
            println!(
                "<rom name=\"{}\" size=\"{}\" crc=\"{}\" md5=\"{}\" sha1=\"{}\"/>",
                name, t.size, t.crc32, t.md5, t.sha1
            );
        }
    }
    if report.bad_sectors() > 0 {
        eprintln!("spindle: {} sector(s) failed EDC/ECC or address checks", report.bad_sectors());
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
