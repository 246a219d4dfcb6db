//! Corrupt and truncated CCD/IMG/SUB files fail with messages that name the file (and the
//! line of the control file), never with a panic; the writer refuses what CloneCD cannot hold.

mod common;

use common::{mixed_disc, open_ccd, open_cue};
use spindle_disc::{ImageWriter, Medium};
use spindle_format_ccd::CcdWriter;
use spindle_testkit::sample;
use std::path::{Path, PathBuf};

/// The mixed-mode disc written as `x.ccd` in a new folder.
fn base() -> (tempfile::TempDir, PathBuf, String) {
    let (disc, _src) = mixed_disc();
    let out = tempfile::tempdir().unwrap();
    let ccd = out.path().join("x.ccd");
    CcdWriter.write(&disc, &ccd, &mut |_, _| {}).unwrap();
    let text = std::fs::read_to_string(&ccd).unwrap();
    (out, ccd, text)
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in\n{text}"));
    text[..at].matches('\n').count() + 1
}

/// Replaces `from` by `to` in the control file, opens it, and returns the error message.
fn fails_with(ccd: &Path, text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in\n{text}");
    std::fs::write(ccd, text.replacen(from, to, 1)).unwrap();
    let e = open_ccd(ccd)
        .expect_err(&format!("{from:?} → {to:?} should fail"))
        .to_string();
    assert!(
        e.contains("x.ccd") || e.contains("x.img") || e.contains("x.sub"),
        "no file named: {e}"
    );
    e
}

#[test]
fn corrupt_control_files_name_the_line() {
    let (_dir, ccd, text) = base();
    let cases: &[(&str, &str, &str, &str)] = &[
        // (replace, with, line of, message part)
        (
            "Version=3\r\n",
            "Version=3\r\nrubbish\r\n",
            "rubbish",
            "expected [Section] or Key=Value",
        ),
        (
            "Point=0xa2",
            "Point=0xzz",
            "Point=0xzz",
            "Point=\"0xzz\" is not a number",
        ),
        (
            "PLBA=452",
            "PLBA=99999999999",
            "PLBA=99999999999",
            "not a number",
        ),
        ("ASec=0", "ASec=300", "ASec=300", "out of range"),
        (
            "TocEntries=",
            "TocEntries=9",
            "TocEntries=",
            "[Entry] sections",
        ),
        ("Sessions=1", "Sessions=2", "Sessions=", "describe 1"),
        (
            "CDTextLength=0",
            "CDTextLength=18",
            "CDTextLength=",
            "no [CDText] section",
        ),
        (
            "[TRACK 2]",
            "[TRACK 7]",
            "[TRACK 7]",
            "no [Entry] with Point=7",
        ),
        ("[TRACK 2]", "[TRACK 200]", "[TRACK 200]", "from 1 to 99"),
        (
            "INDEX 0=302",
            "INDEX 0=460",
            "[TRACK 2]",
            "INDEX 0 lies after INDEX 1",
        ),
        (
            "INDEX 1=452",
            "INDEX 1=452\r\nINDEX 2=9000",
            "[TRACK 2]",
            "outside the track",
        ),
        (
            "[TRACK 2]\r\n",
            "[TRACK 2]\r\nISRC=bad\r\n",
            "ISRC=bad",
            "not a 12-character ISRC",
        ),
        (
            "[CloneCD]\r\n",
            "[CloneCD]\r\n[CDText]\r\nEntry 0=80 00\r\n",
            "Entry 0=80",
            "before Entries=",
        ),
        (
            "[Disc]\r\n",
            "[Disc]\r\nCATALOG=12ab\r\n",
            "CATALOG=12ab",
            "13-digit",
        ),
        (
            "[TRACK 1]\r\n",
            "[TRACK 1]\r\nFLAGS=LOUD\r\n",
            "FLAGS=LOUD",
            "not one of DCP",
        ),
        (
            "[TRACK 1]\r\nMODE=1",
            "[TRACK 1]\r\nMODE=7",
            "MODE=7",
            "out of range",
        ),
        (
            "[Entry 1]",
            "[Entry 0]",
            "[Entry 0]\r\nSession=1\r\nPoint=0xa1",
            "appears twice",
        ),
        (
            "[Entry 1]\r\nSession=1\r\n",
            "[Entry 1]\r\n",
            "[Entry 1]",
            "has no Session=",
        ),
    ];
    for &(from, to, at, msg) in cases {
        let e = fails_with(&ccd, &text, from, to);
        let edited = text.replacen(from, to, 1);
        let line = line_of(&edited, at);
        assert!(
            e.contains(&format!("x.ccd: line {line}: ")),
            "{from:?} → {to:?}: wanted line {line}: {e}"
        );
        assert!(e.contains(msg), "{from:?} → {to:?}: wanted {msg:?}: {e}");
    }
}

#[test]
fn inconsistent_tocs_fail_clearly() {
    let (_dir, ccd, text) = base();
    let e = fails_with(&ccd, &text, "Point=0xa2", "Point=0xa3");
    assert!(e.contains("session 1 has no lead-out entry"), "{e}");
    // Track 2's index 1 before track 1's.
    let e = fails_with(
        &ccd,
        &text,
        "PMin=0\r\nPSec=8\r\nPFrame=2\r\nPLBA=452",
        "PMin=0\r\nPSec=0\r\nPFrame=0\r\nPLBA=0",
    );
    assert!(e.contains("not after track 1"), "{e}");
    // The lead-out before the last track's index 1.
    let e = fails_with(&ccd, &text, "PLBA=754", "PLBA=400");
    assert!(e.contains("lead-out at LBA 400"), "{e}");
    let e = fails_with(
        &ccd,
        &text,
        "Session=1\r\nPoint=0x01",
        "Session=3\r\nPoint=0x01",
    );
    assert!(
        e.contains("Sessions=1 but the [Entry] sections describe 3"),
        "{e}"
    );
    let e = fails_with(
        &ccd,
        &text.replace("Sessions=1", "Sessions=3"),
        "Session=1\r\nPoint=0x01",
        "Session=3\r\nPoint=0x01",
    );
    assert!(e.contains("session 2 has no lead-out"), "{e}");
    std::fs::write(&ccd, "").unwrap();
    assert!(
        open_ccd(&ccd)
            .unwrap_err()
            .to_string()
            .contains("no [CloneCD] section")
    );
    std::fs::write(&ccd, "[CloneCD]\r\nVersion=3\r\n").unwrap();
    assert!(
        open_ccd(&ccd)
            .unwrap_err()
            .to_string()
            .contains("no [Entry] sections")
    );
    // Binary junk (the .img itself) and an oversized file.
    std::fs::copy(sample("libcdio/isofs-m1.bin"), &ccd).unwrap();
    let e = open_ccd(&ccd).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}: line ", ccd.display())), "{e}");
    std::fs::write(&ccd, vec![b'\n'; 5 << 20]).unwrap();
    assert!(
        open_ccd(&ccd)
            .unwrap_err()
            .to_string()
            .contains("more than a CloneCD control file holds")
    );
}

#[test]
fn truncated_and_missing_data_files() {
    let (dir, ccd, _) = base();
    let img = dir.path().join("x.img");
    let sub = dir.path().join("x.sub");
    let full_sub = std::fs::read(&sub).unwrap();
    std::fs::write(&sub, &full_sub[..full_sub.len() - 96]).unwrap();
    let e = open_ccd(&ccd).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}: holds", sub.display())) && e.contains("753 records of 96"),
        "{e}"
    );
    std::fs::write(&sub, &full_sub).unwrap();
    let full_img = std::fs::read(&img).unwrap();
    std::fs::write(&img, &full_img[..100 * 2352 + 7]).unwrap();
    let e = open_ccd(&ccd).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}: holds", img.display())) && e.contains("754 sectors"),
        "{e}"
    );
    std::fs::remove_file(&img).unwrap();
    let e = open_ccd(&ccd).unwrap_err().to_string();
    assert!(
        e.contains("x.ccd: data file \"x.img\"") && e.contains("not found"),
        "{e}"
    );
    // Found whatever its case.
    std::fs::write(dir.path().join("X.IMG"), &full_img).unwrap();
    open_ccd(&ccd).unwrap();
}

#[test]
fn writer_refuses_what_clonecd_cannot_hold() {
    let out = tempfile::tempdir().unwrap();
    let mut disc = open_cue(&sample("libcdio/isofs-m1.cue"));
    disc.medium = Medium::DvdRom;
    let e = CcdWriter
        .write(&disc, &out.path().join("x.ccd"), &mut |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("CDs only") && e.contains("DVD-ROM"), "{e}");
    let disc = open_cue(&sample("libcdio/isofs-m1.cue"));
    let e = CcdWriter
        .write(&disc, &out.path().join("x.img"), &mut |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("name the output .ccd"), "{e}");
    let e = CcdWriter
        .write(&disc, Path::new("/nonexistent-dir/x.ccd"), &mut |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent-dir/x.img"), "{e}");
    let mut shifted = disc.clone();
    shifted.sessions[0].tracks[0].start = spindle_disc::Lba(-100);
    shifted.sessions[0].tracks[0].pregap = 100;
    shifted.sessions[0].tracks[0].length -= 50;
    shifted.sessions[0].tracks[0].extents[0].sectors -= 50;
    let e = CcdWriter
        .write(&shifted, &out.path().join("y.ccd"), &mut |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("starts track 1 at -150"), "{e}");
    let caps = CcdWriter.caps();
    assert!(caps.audio && caps.multisession && caps.raw_sectors && caps.subchannel && caps.cdtext);
}
