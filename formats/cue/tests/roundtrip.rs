//! Every sample sheet written with `BinCueWriter` and read back gives the same disc: the same
//! table of contents (tracks, modes, addresses, gaps, flags, ISRC, sessions, lead-outs) and
//! the same raw sectors, track by track.

mod common;

use common::{open, round_trip};
use spindle_testkit::sample;
use std::path::Path;

#[test]
fn libcdio_samples() {
    for cue in ["cdda.cue", "cdda_4_5.cue", "isofs-m1.cue"] {
        let disc = open(&sample(&format!("libcdio/{cue}"))).unwrap();
        round_trip(&disc, cue.trim_end_matches(".cue"));
    }
}

#[test]
fn p1_with_stored_pregaps() {
    let dir = tempfile::tempdir().unwrap();
    let disc = open(&spindle_testkit::fixtures::p1_cue(dir.path())).unwrap();
    let (back, out) = round_trip(&disc, "p1");
    // The stored pregaps come back as INDEX 00, the implicit one stays implicit.
    let text = std::fs::read_to_string(out.path().join("p1.cue")).unwrap();
    assert!(
        text.contains("INDEX 00 00:00:00")
            && text.contains("INDEX 00 00:02:00")
            && !text.contains("PREGAP"),
        "{text}"
    );
    assert_eq!(
        std::fs::metadata(out.path().join("p1.bin")).unwrap().len(),
        710_304
    );
    assert!(back.track(2).unwrap().pregap_stored());
}

#[test]
fn mixed_mode_multi_file_with_pregap() {
    let dir = tempfile::tempdir().unwrap();
    let disc = open(&spindle_testkit::fixtures::mixed_cue(dir.path())).unwrap();
    let t2 = disc.track(2).unwrap();
    assert_eq!(
        (t2.start.0, t2.pregap, t2.index1().0, disc.leadout().0),
        (302, 150, 452, 754)
    );
    assert!(!t2.pregap_stored());
    assert_eq!(disc.source.files.len(), 2);
    let (_, out) = round_trip(&disc, "mixed");
    let text = std::fs::read_to_string(out.path().join("mixed.cue")).unwrap();
    assert!(text.contains("PREGAP 00:02:00"), "{text}");
    assert_eq!(
        std::fs::metadata(out.path().join("mixed.bin"))
            .unwrap()
            .len(),
        604 * 2352
    );
}

#[test]
fn writer_refuses_what_a_sheet_cannot_say() {
    let mut disc = open(&sample("libcdio/isofs-m1.cue")).unwrap();
    disc.medium = spindle_disc::Medium::DvdRom;
    let out = tempfile::tempdir().unwrap();
    let err = spindle_format_cue::write_bin_cue(&disc, &out.path().join("x.cue"), &mut |_, _| {})
        .unwrap_err();
    assert!(err.to_string().contains("DVD-ROM"), "{err}");
    let disc = open(&sample("libcdio/isofs-m1.cue")).unwrap();
    let err = spindle_format_cue::write_bin_cue(
        &disc,
        Path::new("/nonexistent-dir/x.cue"),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent-dir/x.bin"), "{err}");
    let err = spindle_format_cue::write_bin_cue(&disc, &out.path().join("x.bin"), &mut |_, _| {})
        .unwrap_err();
    assert!(err.to_string().contains("name the output .cue"), "{err}");
    // A later session's first track with an empty pregap (INDEX 00 = INDEX 01) round-trips.
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(sample("libcdio/cdda.bin"), dir.path().join("cdda.bin")).unwrap();
    let cue = common::write(
        dir.path(),
        "ms.cue",
        "FILE cdda.bin BINARY\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\nREM SESSION 02\nFILE cdda.bin BINARY\n TRACK 02 AUDIO\n  INDEX 00 00:00:00\n  INDEX 01 00:00:00\n",
    );
    let disc = open(&cue).unwrap();
    assert_eq!(disc.track(2).unwrap().pregap, 0);
    spindle_format_cue::write_bin_cue(&disc, &out.path().join("ms.cue"), &mut |_, _| {}).unwrap();
    let text = std::fs::read_to_string(out.path().join("ms.cue")).unwrap();
    assert!(
        text.contains("INDEX 00 00:04:02\n    INDEX 01 00:04:02"),
        "{text}"
    );
    let back = open(&out.path().join("ms.cue")).unwrap();
    let t2 = back.track(2).unwrap();
    assert_eq!((t2.start, t2.pregap), (disc.track(2).unwrap().start, 0));
}
