//! The CHDs in samples/generated-chd (chdman 0.251 from libcdio's CUE/BIN, see
//! samples/SOURCES.md) read back as the CUE/BIN they were made from: same TOC, same raw
//! sectors per track.

mod common;
use common::*;
use spindle_disc::{Lba, SectorFormat, TrackMode};

#[test]
fn cdda_chd_equals_cdda_cue() {
    let s = samples();
    let chd = open_chd(&s.join("generated-chd/cdda.chd")).unwrap();
    let cue = open_cue(&s.join("libcdio/cdda.cue"), &s.join("libcdio/cdda.cue"));
    assert_same(&chd, &cue, "cdda");
    assert_eq!(chd.track(1).unwrap().mode, TrackMode::Audio);
    chd.validate().unwrap();
}

#[test]
fn isofs_m1_chd_equals_isofs_m1_cue() {
    let s = samples();
    let chd = open_chd(&s.join("generated-chd/isofs-m1.chd")).unwrap();
    let cue = open_cue(
        &s.join("libcdio/isofs-m1.cue"),
        &s.join("libcdio/isofs-m1.cue"),
    );
    assert_same(&chd, &cue, "isofs-m1");
    // The primary volume descriptor, through the user-data view.
    let mut buf = vec![0u8; 2048];
    chd.read_sectors(Lba(16), 1, SectorFormat::USER_2048, &mut buf)
        .unwrap();
    assert_eq!(&buf[1..6], b"CD001");
}

#[test]
fn mixed_chd_equals_its_source_cue() {
    let s = samples();
    let chd = open_chd(&s.join("generated-chd/mixed-mode1-audio.chd")).unwrap();
    let cue = open_cue(
        &s.join("generated-chd/mixed-mode1-audio.source.cue"),
        &s.join("libcdio/isofs-m1.bin"),
    );
    assert_same(&chd, &cue, "mixed-mode1-audio");
    let t2 = chd.track(2).unwrap();
    assert_eq!(
        (t2.mode, t2.pregap, t2.pregap_stored()),
        (TrackMode::Audio, 150, false)
    );
    // Track 2 starts 304 frames into the hunk stream (302 padded to 4): its first audio
    // sector is the first of cdda_4_5.bin, little-endian.
    let bin = std::fs::read(s.join("libcdio/cdda_4_5.bin")).unwrap();
    let mut buf = vec![0u8; 2352];
    chd.read_sectors(t2.index1(), 1, SectorFormat::RAW, &mut buf)
        .unwrap();
    assert_eq!(buf[..], bin[..2352]);
    assert_eq!(chd.source.format, "chd");
}

#[test]
fn reads_from_many_threads() {
    let s = samples();
    let chd =
        std::sync::Arc::new(open_chd(&s.join("generated-chd/mixed-mode1-audio.chd")).unwrap());
    let want = track_hashes(&chd);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let chd = chd.clone();
            std::thread::spawn(move || track_hashes(&chd))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), want);
    }
}
