//! Shared by the CHD tests: opening CHDs and CUE sheets, comparing their TOCs and the hashes
//! of the raw sectors a BIN stores for each track, and running chdman.
#![allow(dead_code)]

use md5::{Digest, Md5};
use spindle_disc::cuesheet::bin_plan;
use spindle_disc::{ByteSource, Companions, DirCompanions, Disc, OpenContext, SectorFormat};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

pub use spindle_testkit::samples;

pub fn open_chd(path: &Path) -> Result<Disc, spindle_format_chd::ChdError> {
    let companions = DirCompanions::beside(path);
    spindle_format_chd::open(
        path,
        &OpenContext {
            companions: &companions,
            password: None,
        },
    )
}

/// Opens a CUE sheet whose data files are looked up beside `data_beside`.
pub fn open_cue(cue: &Path, data_beside: &Path) -> Disc {
    // The sheet is opened by its name through the companions: beside `data_beside`, the
    // sheet itself comes from its own directory.
    let companions = SheetAndData {
        sheet: cue.to_path_buf(),
        data: DirCompanions::beside(data_beside),
    };
    let ctx = OpenContext {
        companions: &companions,
        password: None,
    };
    spindle_format_cue::open(cue, &ctx).unwrap_or_else(|e| panic!("{}: {e}", cue.display()))
}

/// The sheet by its own name, every other file from beside the data.
struct SheetAndData {
    sheet: PathBuf,
    data: DirCompanions,
}

impl SheetAndData {
    fn is_sheet(&self, name: &str) -> bool {
        self.sheet.file_name().is_some_and(|n| n == name)
    }
}

impl Companions for SheetAndData {
    fn open(&self, name: &str) -> std::io::Result<Arc<dyn ByteSource>> {
        if self.is_sheet(name) {
            DirCompanions::beside(&self.sheet).open(name)
        } else {
            self.data.open(name)
        }
    }
    fn resolve(&self, name: &str) -> std::io::Result<PathBuf> {
        if self.is_sheet(name) {
            Ok(self.sheet.clone())
        } else {
            self.data.resolve(name)
        }
    }
}

/// One line per track: number, mode, start, index 1, length, pregap, postgap.
pub fn toc(disc: &Disc) -> Vec<String> {
    disc.tracks()
        .map(|t| {
            format!(
                "track {} {} start {} index1 {} length {} pregap {} postgap {}",
                t.number,
                t.mode,
                t.start,
                t.index1(),
                t.length,
                t.pregap,
                t.postgap
            )
        })
        .collect()
}

/// Per track: the BIN plan and the MD5 of the raw 2352-byte sectors it stores.
pub fn track_hashes(disc: &Disc) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 2352];
    for p in bin_plan(disc) {
        let mut h = Md5::new();
        let mut lba = p.first;
        while lba < p.end {
            let n = (p.end.since(lba) as u32).min(64);
            let got = disc
                .read_sectors(lba, n, SectorFormat::RAW, &mut buf)
                .unwrap_or_else(|e| panic!("track {} sector {lba}: {e}", p.track));
            h.update(&buf[..got]);
            lba = lba.offset(n as i64);
        }
        out.push(format!(
            "track {} sectors {}..{} pregap_unstored {} postgap_unstored {} md5 {:x}",
            p.track,
            p.first,
            p.end,
            p.pregap_unstored,
            p.postgap_unstored,
            h.finalize()
        ));
    }
    out
}

/// Asserts that two discs have the same TOC and per-track hashes.
pub fn assert_same(chd: &Disc, cue: &Disc, what: &str) {
    assert_eq!(toc(chd), toc(cue), "{what}: TOC");
    assert_eq!(
        track_hashes(chd),
        track_hashes(cue),
        "{what}: per-track hashes"
    );
}

/// Runs `chdman createcd -i cue -o out` with extra arguments; panics (fails the test) when
/// chdman is missing or fails.
pub fn chdman_createcd(cue: &Path, out: &Path, extra: &[&str]) {
    let o = Command::new("chdman")
        .arg("createcd")
        .arg("-i")
        .arg(cue)
        .arg("-o")
        .arg(out)
        .arg("-f")
        .args(extra)
        .output()
        .expect("chdman (Debian package mame-tools) must be installed");
    assert!(
        o.status.success(),
        "chdman createcd {extra:?} on {} failed: {}{}",
        cue.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `chdman info -v -i chd` text (full metadata lines).
pub fn chdman_info(chd: &Path) -> String {
    let o = Command::new("chdman")
        .args(["info", "-v", "-i"])
        .arg(chd)
        .output()
        .expect("chdman must be installed");
    assert!(o.status.success(), "chdman info failed");
    String::from_utf8_lossy(&o.stdout).into_owned()
}
