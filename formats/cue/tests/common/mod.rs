//! Helpers shared by the integration tests: where the samples are, opening a sheet the way
//! the registry does, a comparable table of contents, and per-track checksums.

#![allow(dead_code)]

use md5::{Digest, Md5};
use spindle_disc::{DirCompanions, Disc, Lba, OpenContext, SectorFormat};
use spindle_format_cue::CueError;
use std::path::{Path, PathBuf};

pub const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/samples");

pub fn sample(rel: &str) -> PathBuf {
    Path::new(SAMPLES).join(rel)
}

/// Opens a cue sheet with its companions beside it.
pub fn open(path: &Path) -> Result<Disc, CueError> {
    let companions = DirCompanions::beside(path);
    let ctx = OpenContext {
        companions: &companions,
        password: None,
    };
    spindle_format_cue::open(path, &ctx)
}

/// Writes a text file (a cue sheet) into `dir`.
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
    pub length: u32,
    pub postgap: u32,
    pub extra_indexes: Vec<i32>,
    pub control: u8,
    pub scms: bool,
    pub isrc: Option<String>,
}

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
                length: t.length,
                postgap: t.postgap,
                extra_indexes: t.extra_indexes.iter().map(|l| l.0).collect(),
                control: t.control(),
                scms: t.flags.scms,
                isrc: t.isrc.as_ref().map(|i| i.as_str().to_string()),
            });
        }
    }
    (tracks, disc.sessions.iter().map(|s| s.leadout.0).collect())
}

/// Raw bytes of `count` sectors from `lba`.
pub fn raw(disc: &Disc, lba: Lba, count: u32) -> Vec<u8> {
    let mut buf = vec![0u8; count as usize * 2352];
    let n = disc
        .read_sectors(lba, count, SectorFormat::RAW, &mut buf)
        .unwrap();
    assert_eq!(n, buf.len());
    buf
}

/// MD5 of every raw sector of each track, pregap and postgap included.
pub fn track_md5s(disc: &Disc) -> Vec<(u8, String)> {
    disc.tracks()
        .map(|t| {
            let mut h = Md5::new();
            let mut lba = t.start;
            let mut buf = vec![0u8; 256 * 2352];
            while lba < t.end() {
                let n = (t.end().since(lba) as u32).min(256);
                let len = disc
                    .read_sectors(lba, n, SectorFormat::RAW, &mut buf)
                    .unwrap();
                h.update(&buf[..len]);
                lba = lba.offset(n as i64);
            }
            (t.number, format!("{:x}", h.finalize()))
        })
        .collect()
}

/// A deterministic byte pattern (so that every sector differs).
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Writes `disc` with the BIN/CUE writer into a new folder, reopens it, and checks that the
/// table of contents, MCN, CD-TEXT and every track's raw sectors are the same. Returns the
/// reopened disc (and the folder, which must outlive it).
pub fn round_trip(disc: &Disc, stem: &str) -> (Disc, tempfile::TempDir) {
    use spindle_disc::ImageWriter;
    let out = tempfile::tempdir().unwrap();
    let cue = out.path().join(format!("{stem}.cue"));
    let mut last = (0, 0);
    let mut calls = 0;
    let files = spindle_format_cue::BinCueWriter.write(disc, &cue, &mut |done, total| {
        assert!(done <= total && done >= last.0);
        last = (done, total);
        calls += 1;
    });
    let files = files.unwrap_or_else(|e| panic!("{stem}: writing: {e}"));
    assert_eq!(
        files,
        vec![cue.clone(), out.path().join(format!("{stem}.bin"))]
    );
    let bin_len = std::fs::metadata(&files[1]).unwrap().len();
    assert!(
        calls >= 2 && last == (bin_len, bin_len),
        "progress {last:?} for {bin_len} bytes"
    );
    let back = open(&cue).unwrap_or_else(|e| {
        panic!(
            "{stem}: reopening: {e}\n{}",
            std::fs::read_to_string(&cue).unwrap()
        )
    });
    assert_eq!(
        toc(&back),
        toc(disc),
        "{stem}: TOC\n{}",
        std::fs::read_to_string(&cue).unwrap()
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
    assert_eq!(track_md5s(&back), track_md5s(disc), "{stem}: sectors");
    assert_eq!(back.source.files, vec![files[1].clone()]);
    (back, out)
}
