//! Shared helpers for the spindle-mmc tests: samples, discs, a ready emulated drive, and
//! libcdio's cd-info as an independent reader of the same images.
#![allow(dead_code)]

use spindle_disc::Disc;
use spindle_mmc::{EmulatedDrive, Mmc, SenseKey};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

pub fn samples() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/samples"
    ))
}

pub fn open(path: &Path) -> Arc<Disc> {
    Arc::new(spindle_image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

pub fn sample(rel: &str) -> Arc<Disc> {
    open(&samples().join(rel))
}

pub fn link(dir: &Path, rel: &str, name: &str) {
    std::os::unix::fs::symlink(samples().join(rel), dir.join(name)).unwrap();
}

/// The data + audio CUE/BIN: libcdio's Mode 1 isofs-m1.bin as track 1, cdda_4_5.bin as
/// audio track 2 behind an unstored 2-second pregap.
pub fn mixed_cue(dir: &Path) -> PathBuf {
    let cue = dir.join("mixed.cue");
    std::fs::copy(
        samples().join("generated-chd/mixed-mode1-audio.source.cue"),
        &cue,
    )
    .unwrap();
    link(dir, "libcdio/isofs-m1.bin", "isofs-m1.bin");
    link(dir, "libcdio/cdda_4_5.bin", "cdda_4_5.bin");
    cue
}

/// p1.cue: two audio tracks with stored pregaps (INDEX 00), CD-TEXT and an MCN.
pub fn p1_cue(dir: &Path) -> PathBuf {
    let cue = dir.join("p1.cue");
    std::fs::copy(samples().join("libcdio/p1.cue"), &cue).unwrap();
    link(dir, "libcdio/p1.bin", "BOING.BIN");
    // libcdio's CUE reader looks for the BIN beside the CUE under the CUE's name.
    link(dir, "libcdio/p1.bin", "p1.bin");
    cue
}

/// A drive holding `disc`, past its power-on unit attention.
pub fn ready(disc: Arc<Disc>) -> EmulatedDrive {
    let drive = EmulatedDrive::new(Some(disc));
    let mut m = Mmc::new(&drive);
    let e = m.test_unit_ready().unwrap_err();
    assert_eq!(e.sense().unwrap().key, SenseKey::UnitAttention);
    m.test_unit_ready().unwrap();
    drive
}

/// One line of cd-info's track list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdInfoTrack {
    pub number: u8,
    pub msf: String,
    pub lsn: i32,
    /// "audio", "data", "XA", or "leadout".
    pub kind: String,
}

/// What libcdio's cd-info reads from an image: its track list (with the lead-out), MCN and
/// CD-TEXT lines. Panics when cd-info is missing: the test must not pass without it.
pub struct CdInfo {
    pub tracks: Vec<CdInfoTrack>,
    pub mcn: Option<String>,
    pub text: String,
}

pub fn cd_info(image: &Path) -> CdInfo {
    let flag = match image.extension().and_then(|e| e.to_str()) {
        Some("cue") => "--cue-file",
        Some("nrg") => "--nrg-file",
        Some("toc") => "--toc-file",
        _ => "--bin-file",
    };
    let out = Command::new("cd-info")
        .args(["--no-header", "--no-device-info", "--no-disc-mode", flag])
        .arg(image)
        .output()
        .expect("cd-info (Debian libcdio-utils) must be installed: scripts/setup installs it");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut tracks = Vec::new();
    let mut mcn = None;
    let mut in_list = false;
    for line in text.lines() {
        if line.starts_with("CD-ROM Track List") {
            in_list = true;
            continue;
        }
        if let Some(m) = line.strip_prefix("Media Catalog Number (MCN): ") {
            mcn = (!m.is_empty() && m.chars().all(|c| c.is_ascii_digit())).then(|| m.to_string());
        }
        if !in_list {
            continue;
        }
        let t = line.trim_start();
        let Some((num, rest)) = t.split_once(':') else {
            in_list = false;
            continue;
        };
        let Ok(number) = num.trim().parse::<u16>() else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() < 3 {
            continue;
        }
        tracks.push(CdInfoTrack {
            number: if number == 170 { 0xAA } else { number as u8 },
            msf: f[0].to_string(),
            lsn: f[1].parse().unwrap(),
            kind: f[2].to_string(),
        });
        if number == 170 {
            in_list = false;
        }
    }
    assert!(
        !tracks.is_empty(),
        "cd-info read no tracks from {}:\n{text}\n{}",
        image.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    CdInfo { tracks, mcn, text }
}
