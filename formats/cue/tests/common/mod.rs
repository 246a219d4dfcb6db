//! Helpers shared by the integration tests: opening a sheet the way the registry does, writing
//! a file, and the write → read round trip (samples, TOC rows, checksums and patterns come
//! from spindle-testkit).

#![allow(dead_code)]

use spindle_disc::{DirCompanions, Disc, OpenContext};
use spindle_format_cue::CueError;
use spindle_testkit::sectors::track_md5s;
use spindle_testkit::toc::toc;
use std::path::{Path, PathBuf};

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
    spindle_testkit::toc::assert_same_codes(&back, disc, stem);
    assert_eq!(track_md5s(&back), track_md5s(disc), "{stem}: sectors");
    assert_eq!(back.source.files, vec![files[1].clone()]);
    (back, out)
}
