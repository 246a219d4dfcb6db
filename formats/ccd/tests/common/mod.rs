//! Helpers shared by the integration tests: samples, opening CCD and CUE images the way the
//! registry does, a comparable table of contents, per-track hashes of what a BIN stores, and
//! the write → read round trip.

#![allow(dead_code)]

use md5::{Digest, Md5};
use spindle_disc::cuesheet::bin_plan;
use spindle_disc::{DirCompanions, Disc, ImageWriter, Lba, OpenContext, SectorFormat};
use spindle_format_ccd::{CcdError, CcdWriter};
use std::path::{Path, PathBuf};

pub const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/samples");

pub fn sample(rel: &str) -> PathBuf {
    Path::new(SAMPLES).join(rel)
}

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

/// Everything of a track a table of contents shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TocTrack {
    pub session: u8,
    pub number: u8,
    pub mode: String,
    pub start: i32,
    pub pregap: u32,
    pub index1: i32,
    pub end: i32,
    pub extra_indexes: Vec<i32>,
    pub control: u8,
    pub isrc: Option<String>,
}

/// Tracks and the lead-out of every session.
pub fn toc(disc: &Disc) -> (Vec<TocTrack>, Vec<i32>) {
    let mut tracks = Vec::new();
    for s in &disc.sessions {
        for t in &s.tracks {
            tracks.push(TocTrack {
                session: s.number,
                number: t.number,
                mode: t.mode.name().to_string(),
                start: t.start.0,
                pregap: t.pregap,
                index1: t.index1().0,
                end: t.end().0,
                extra_indexes: t.extra_indexes.iter().map(|l| l.0).collect(),
                control: t.control(),
                isrc: t.isrc.as_ref().map(|i| i.as_str().to_string()),
            });
        }
    }
    (tracks, disc.sessions.iter().map(|s| s.leadout.0).collect())
}

/// MD5 of the raw sectors `first..end`.
pub fn raw_md5(disc: &Disc, first: Lba, end: Lba) -> String {
    let mut h = Md5::new();
    let mut lba = first;
    let mut buf = vec![0u8; 256 * 2352];
    while lba < end {
        let n = (end.since(lba) as u32).min(256);
        let len = disc
            .read_sectors(lba, n, SectorFormat::RAW, &mut buf)
            .unwrap();
        h.update(&buf[..len]);
        lba = lba.offset(n as i64);
    }
    format!("{:x}", h.finalize())
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
    assert_eq!(back.mcn, disc.mcn, "{stem}: MCN");
    assert_eq!(
        back.cdtext
            .as_ref()
            .and_then(|c| c.first())
            .map(|b| &b.items),
        disc.cdtext
            .as_ref()
            .and_then(|c| c.first())
            .map(|b| &b.items),
        "{stem}: CD-TEXT"
    );
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
    std::fs::copy(
        sample("generated-chd/mixed-mode1-audio.source.cue"),
        dir.path().join("mixed.cue"),
    )
    .unwrap();
    for bin in ["isofs-m1.bin", "cdda_4_5.bin"] {
        std::os::unix::fs::symlink(sample(&format!("libcdio/{bin}")), dir.path().join(bin))
            .unwrap();
    }
    (open_cue(&dir.path().join("mixed.cue")), dir)
}
