//! Shared helpers for the spindle-mmc tests: discs, a ready emulated drive, and libcdio's
//! cd-info (run and read by spindle-testkit) as an independent reader of the same images.
#![allow(dead_code, unused_imports)]

pub mod raw;

use spindle_disc::Disc;
use spindle_mmc::{EmulatedDrive, Mmc, SenseKey};
use spindle_testkit::cd_info;
pub use spindle_testkit::fixtures::{mixed_cue, p1_cue};
use std::path::Path;
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
