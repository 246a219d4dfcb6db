//! Shared helpers for the spindle-mmc tests: discs, a ready emulated drive, and libcdio's
//! cd-info (run and read by spindle-testkit) as an independent reader of the same images.
#![allow(dead_code)]

use spindle_disc::Disc;
use spindle_mmc::{EmulatedDrive, Mmc, SenseKey};
use spindle_testkit::cd_info;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use spindle_testkit::samples;

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

/// What libcdio's cd-info reads from an image: its track list (with the lead-out), MCN and
/// report. Fails the test when cd-info is missing or lists no track.
pub struct CdInfo {
    pub tracks: Vec<cd_info::Track>,
    pub mcn: Option<String>,
    pub text: String,
}

pub fn cd_info(image: &Path) -> CdInfo {
    let report = cd_info::run(image);
    let tracks = report.tracks();
    assert!(
        !tracks.is_empty(),
        "cd-info read no tracks from {}:\n{}",
        image.display(),
        report.text()
    );
    CdInfo {
        tracks,
        mcn: report.mcn(),
        text: report.text(),
    }
}
