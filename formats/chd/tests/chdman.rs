//! CHDs made here with chdman (Debian `mame-tools`) from CUE sheets over libcdio's BINs read
//! back as the CUE/BIN: same TOC, same raw sectors per track. Covers every CD codec this
//! chdman writes (`cdlz`, `cdzl`, `cdfl`; 0.251 does not know `cdzs`), uncompressed CHDs
//! (whose v5 map is the 4-byte-entry kind), the generic codecs, stored pregaps (`PGTYPE:V…`),
//! postgaps, and the MODE1 (2048), MODE2 (2336) and MODE2_RAW track types.

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// A temp folder holding the libcdio BINs (as symlinks) and a CUE sheet with `text`.
fn setup(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let libcdio = samples().join("libcdio");
    for (link, bin) in [
        ("ISOFS-M1.BIN", "isofs-m1.bin"),
        ("cdda_4_5.bin", "cdda_4_5.bin"),
        ("cdda.bin", "cdda.bin"),
    ] {
        std::os::unix::fs::symlink(libcdio.join(bin), dir.path().join(link)).unwrap();
    }
    let cue = dir.path().join("disc.cue");
    std::fs::write(&cue, text).unwrap();
    (dir, cue)
}

/// Makes a CHD of `cue` with `extra` chdman arguments and compares it with the CUE/BIN.
fn roundtrip(cue: &Path, extra: &[&str]) -> String {
    let chd = cue.with_extension("chd");
    chdman_createcd(cue, &chd, extra);
    let a = open_chd(&chd).unwrap_or_else(|e| panic!("{extra:?}: {e}"));
    let b = open_cue(cue, cue);
    assert_same(&a, &b, &format!("chdman createcd {extra:?}"));
    chdman_info(&chd)
}

const MIXED: &str = "FILE \"ISOFS-M1.BIN\" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\n\
FILE \"cdda_4_5.bin\" BINARY\n  TRACK 02 AUDIO\n    PREGAP 00:02:00\n    INDEX 01 00:00:00\n";

#[test]
fn every_cd_codec_reads_back() {
    let (_dir, cue) = setup(MIXED);
    for (codecs, names) in [
        ("cdlz", &["cdlz"][..]),
        ("cdzl", &["cdzl"]),
        ("cdfl", &["cdfl"]),
        ("cdlz,cdzl,cdfl", &["cdlz", "cdzl", "cdfl"]),
    ] {
        let info = roundtrip(&cue, &["-c", codecs]);
        let line = info
            .lines()
            .find(|l| l.starts_with("Compression:"))
            .unwrap();
        for n in names {
            assert!(line.contains(n), "{codecs}: {line}");
        }
    }
}

#[test]
fn default_codecs_and_hunk_sizes() {
    let (_dir, cue) = setup(MIXED);
    roundtrip(&cue, &[]);
    // One frame per hunk, and 32 frames per hunk (a CD codec header with 3-byte lengths
    // starts at 65,536-byte hunks: 27 frames).
    roundtrip(&cue, &["-hs", "2448"]);
    roundtrip(&cue, &["-hs", &(2448 * 32).to_string()]);
}

#[test]
fn uncompressed_and_generic_codecs() {
    let (_dir, cue) = setup(MIXED);
    let info = roundtrip(&cue, &["-c", "none"]);
    assert!(info.contains("Compression:  none"), "{info}");
    roundtrip(&cue, &["-c", "zlib,lzma,huff,flac"]);
}

#[test]
fn stored_pregap_and_postgap() {
    // INDEX 00 in the file: chdman stores the pregap (PGTYPE:VAUDIO, FRAMES includes it).
    let (_dir, cue) = setup(
        "FILE \"ISOFS-M1.BIN\" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\n    POSTGAP 00:00:10\n\
FILE \"cdda_4_5.bin\" BINARY\n  TRACK 02 AUDIO\n    INDEX 00 00:00:00\n    INDEX 01 00:01:00\n",
    );
    let info = roundtrip(&cue, &[]);
    assert!(
        info.contains("PGTYPE:VAUDIO") && info.contains("POSTGAP:10"),
        "{info}"
    );
    let chd = open_chd(&cue.with_extension("chd")).unwrap();
    let t2 = chd.track(2).unwrap();
    assert!(t2.pregap_stored());
    assert_eq!((t2.pregap, chd.track(1).unwrap().postgap), (75, 10));
}

#[test]
fn three_audio_tracks_in_one_file() {
    // Tracks that do not end on a 4-frame boundary, one after another in the hunk stream.
    let (_dir, cue) = setup(
        "FILE \"cdda.bin\" BINARY\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\n  TRACK 02 AUDIO\n    INDEX 01 00:00:33\n\
  TRACK 03 AUDIO\n    INDEX 00 00:02:01\n    INDEX 01 00:02:10\n",
    );
    roundtrip(&cue, &[]);
}

#[test]
fn mode1_2048_mode2_2336_and_mode2_raw_tracks() {
    let (dir, _) = setup("");
    // User data and Mode 2 bodies cut from isofs-m1.bin's raw sectors.
    let raw = std::fs::read(samples().join("libcdio/isofs-m1.bin")).unwrap();
    let user: Vec<u8> = raw
        .chunks(2352)
        .flat_map(|s| s[16..2064].to_vec())
        .collect();
    let body: Vec<u8> = raw
        .chunks(2352)
        .flat_map(|s| s[16..2352].to_vec())
        .collect();
    std::fs::write(dir.path().join("user.iso"), user).unwrap();
    std::fs::write(dir.path().join("body.bin"), body).unwrap();
    for (name, text, ty) in [
        (
            "m1",
            "FILE \"user.iso\" BINARY\n  TRACK 01 MODE1/2048\n    INDEX 01 00:00:00\n",
            "TYPE:MODE1 ",
        ),
        (
            "m2",
            "FILE \"body.bin\" BINARY\n  TRACK 01 MODE2/2336\n    INDEX 01 00:00:00\n",
            "TYPE:MODE2 ",
        ),
        (
            "m2raw",
            "FILE \"ISOFS-M1.BIN\" BINARY\n  TRACK 01 MODE2/2352\n    INDEX 01 00:00:00\n\
FILE \"user.iso\" BINARY\n  TRACK 02 MODE1/2048\n    INDEX 01 00:00:00\n",
            "TYPE:MODE2_RAW ",
        ),
    ] {
        let cue = dir.path().join(format!("{name}.cue"));
        std::fs::write(&cue, text).unwrap();
        let info = roundtrip(&cue, &[]);
        assert!(info.contains(ty), "{name}: {info}");
    }
}
