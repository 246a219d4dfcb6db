//! Helpers shared by the integration tests: opening CCD and CUE images the way the registry
//! does, the TOC a CCD keeps, per-track hashes of what a BIN stores, and the write → read round
//! trip (samples, TOC rows and raw MD5s come from spindle-testkit).

#![allow(dead_code)]

use spindle_disc::cuesheet::bin_plan;
use spindle_disc::{DirCompanions, Disc, ImageWriter, OpenContext};
use spindle_format_ccd::{CcdError, CcdWriter};
use spindle_testkit::sectors::raw_md5;
use spindle_testkit::toc::{Toc, TrackRow};
use std::path::{Path, PathBuf};

/// Opens a control file with its `.img`/`.sub` beside it.
pub fn open_ccd(path: &Path) -> Result<Disc, CcdError> {
    let companions = DirCompanions::beside(path);
    spindle_format_ccd::open(
        path,
        &OpenContext {
            companions: &companions,
            password: None,
        },
    )
}

pub fn open_cue(path: &Path) -> Disc {
    let companions = DirCompanions::beside(path);
    let ctx = OpenContext {
        companions: &companions,
        password: None,
    };
    spindle_format_cue::open(path, &ctx).unwrap_or_else(|e| panic!("{e}"))
}

pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The TOC a CCD keeps: every row but the postgap (it becomes part of the track) and SCMS.
pub fn toc(disc: &Disc) -> Toc {
    spindle_testkit::toc::toc(disc).map(|r| TrackRow {
        postgap: 0,
        scms: false,
        ..r
    })
}

/// MD5 of the raw sectors that `plan_of`'s BIN stores of each track (`cuesheet::bin_plan`),
/// read from `disc`; and of each whole track, pregap included.
pub fn bin_md5s(disc: &Disc, plan_of: &Disc) -> Vec<(u8, u32, String, String)> {
    bin_plan(plan_of)
        .iter()
        .map(|p| {
            let t = plan_of.track(p.track).unwrap();
            (
                p.track,
                p.sectors(),
                raw_md5(disc, p.first, p.end),
                raw_md5(disc, t.start, t.end()),
            )
        })
        .collect()
}

/// Writes `disc` as `<stem>.ccd` in a new folder, reopens it, and checks the table of
/// contents, the full TOC, MCN, CD-TEXT, the raw sectors the source's BIN stores of every
/// track, and every raw sector of every track.
pub fn round_trip(disc: &Disc, stem: &str) -> (Disc, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let ccd = out.path().join(format!("{stem}.ccd"));
    let mut last = (0, 0);
    let files = CcdWriter
        .write(disc, &ccd, &mut |done, total| {
            assert!(done <= total && done >= last.0);
            last = (done, total);
        })
        .unwrap_or_else(|e| panic!("{stem}: writing: {e}"));
    assert_eq!(files, CcdWriter.outputs(&ccd));
    let img_len = std::fs::metadata(&files[1]).unwrap().len();
    let sub_len = std::fs::metadata(&files[2]).unwrap().len();
    assert_eq!(
        img_len / 2352,
        sub_len / 96,
        "{stem}: one .sub record per .img sector"
    );
    assert_eq!(last, (img_len + sub_len, img_len + sub_len));
    let text = std::fs::read_to_string(&ccd).unwrap();
    let back = open_ccd(&ccd).unwrap_or_else(|e| panic!("{stem}: reopening: {e}\n{text}"));
    assert_eq!(toc(&back), toc(disc), "{stem}: TOC\n{text}");
    assert_eq!(
        back.full_toc_entries(),
        disc.full_toc_entries(),
        "{stem}: full TOC\n{text}"
    );
    spindle_testkit::toc::assert_same_codes(&back, disc, stem);
    assert_eq!(
        bin_md5s(&back, disc),
        bin_md5s(disc, disc),
        "{stem}: sectors"
    );
    assert_eq!(back.source.files, files[1..].to_vec());
    back.validate().unwrap();
    (back, out)
}

/// The mixed-mode sample (Mode 1 track of isofs-m1, audio of cdda_4_5 after an unstored
/// pregap), with its BINs linked beside the sheet. The folder must outlive the disc.
pub fn mixed_disc() -> (Disc, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (
        open_cue(&spindle_testkit::fixtures::mixed_cue(dir.path())),
        dir,
    )
}
