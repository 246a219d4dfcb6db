//! What `convert` checks besides the CLI's end-to-end tests: the read-back comparison catches
//! each kind of difference, every writer either keeps or names what the disc has, and a
//! cancel before or during a write leaves nothing.

use spindle_disc::{Dpm, Isrc, Lba, Mcn};
use spindle_image::{
    ConvertOptions, ImageError, WriteOptions, convert, differences, losses, open, writers,
};
use spindle_testkit::samples;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

fn t(d: &mut spindle_disc::Disc) -> &mut spindle_disc::Track {
    &mut d.sessions[0].tracks[0]
}

#[test]
fn read_back_comparison_names_each_difference() {
    let disc = open(&samples().join("libcdio/cdda.cue")).unwrap();
    let all = spindle_disc::WriterCaps::ALL;
    assert!(differences(&disc, &disc, all).is_empty());
    let changed = |f: &dyn Fn(&mut spindle_disc::Disc)| {
        let mut d = disc.clone();
        f(&mut d);
        differences(&disc, &d, all).join("; ")
    };
    assert!(changed(&|d| t(d).pregap += 1).contains("index 1 at"));
    assert!(changed(&|d| t(d).extra_indexes.push(Lba(100))).contains("index 2 and later"));
    assert!(changed(&|d| t(d).isrc = Some(Isrc::parse("USABC0912345").unwrap())).contains("ISRC"));
    assert!(changed(&|d| d.mcn = None).contains("MCN"));
    assert!(changed(&|d| d.cdtext = None).contains("CD-TEXT"));
    assert!(changed(&|d| d.sessions[0].leadout = Lba(1)).contains("lead-out"));
    // What a writer does not claim to keep is not compared (it was warned about).
    let mut d = disc.clone();
    d.mcn = Some(Mcn::parse("1234567890123").unwrap());
    t(&mut d).extra_indexes.push(Lba(100));
    let no_codes = spindle_disc::WriterCaps {
        codes: false,
        indexes: false,
        ..all
    };
    assert!(differences(&disc, &d, no_codes).is_empty());
}

#[test]
fn writers_name_what_they_cannot_keep() {
    let mut disc = open(&samples().join("libcdio/copying.iso")).unwrap();
    disc.dpm = vec![Dpm {
        start_sector: 0,
        resolution: 500,
        entries: vec![256, 512],
    }];
    disc.structures.bca = Some(vec![1; 64]);
    for w in writers() {
        let (_, warn) = losses(&disc, w.caps());
        let said = warn.join("; ");
        let keeps = matches!(w.id(), "mds" | "mdx");
        assert_eq!(
            said.contains("DPM data (1 block(s)) is not kept"),
            !keeps,
            "{}: {said}",
            w.id()
        );
        assert_eq!(
            said.contains("BCA) are not kept"),
            !keeps,
            "{}: {said}",
            w.id()
        );
    }
}

#[test]
fn a_cancel_leaves_nothing_and_keeps_the_previous_output() {
    let disc = open(&samples().join("libcdio/cdda.cue")).unwrap();
    for w in writers().iter().filter(|w| w.caps().audio) {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(format!("x.{}", w.id()));
        std::fs::write(&out, b"previous").unwrap();
        let cancel = Arc::new(AtomicBool::new(true));
        let opts = ConvertOptions {
            write: WriteOptions {
                cancel: Some(cancel),
                ..Default::default()
            },
            ..Default::default()
        };
        let err = convert(&disc, &out, &opts, &mut |_, _| {}).unwrap_err();
        assert!(
            matches!(err, ImageError::Cancelled { .. }),
            "{}: {err}",
            w.id()
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [out.file_name().unwrap()], "{}", w.id());
        assert_eq!(std::fs::read(&out).unwrap(), b"previous");
    }
}
