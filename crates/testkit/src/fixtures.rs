//! Sheets the suites build from the samples: the mixed-mode CUE with its BINs beside it, and
//! libcdio's p1.cue with the BIN it names.

use crate::sample;
use std::path::{Path, PathBuf};

fn link(dir: &Path, rel: &str, name: &str) {
    std::os::unix::fs::symlink(sample(rel), dir.join(name))
        .unwrap_or_else(|e| panic!("linking {rel} as {name}: {e}"));
}

/// The mixed-mode disc (generated-chd/mixed-mode1-audio.source.cue: Mode 1 track of
/// isofs-m1.bin, then the audio of cdda_4_5.bin after an unstored pregap) as `mixed.cue` in
/// `dir`, its two BINs linked beside it; the sheet's path.
pub fn mixed_cue(dir: &Path) -> PathBuf {
    let cue = dir.join("mixed.cue");
    std::fs::copy(sample("generated-chd/mixed-mode1-audio.source.cue"), &cue).unwrap();
    link(dir, "libcdio/isofs-m1.bin", "isofs-m1.bin");
    link(dir, "libcdio/cdda_4_5.bin", "cdda_4_5.bin");
    cue
}

/// libcdio's p1.cue (two audio tracks with stored pregaps, CD-TEXT and an MCN) in `dir`, with
/// p1.bin linked as the BOING.BIN it names and as p1.bin (where libcdio's CUE reader looks for
/// it); the sheet's path.
pub fn p1_cue(dir: &Path) -> PathBuf {
    let cue = dir.join("p1.cue");
    std::fs::copy(sample("libcdio/p1.cue"), &cue).unwrap();
    link(dir, "libcdio/p1.bin", "BOING.BIN");
    link(dir, "libcdio/p1.bin", "p1.bin");
    cue
}
