//! Whole rips of a faulty disc through the emulated drive: the unreadable sectors are exactly
//! the rip's bad list and the map's bad blocks; after the drive "recovers", a resumed rip
//! equals the source; an interrupted rip resumes to the same work file as an uninterrupted
//! one; a drive without subchannel is read raw without it.

use spindle_disc::{Disc, SectorFormat};
use spindle_mmc::readcd::SubSelect;
use spindle_mmc::{EmulatedDrive, Faults, Mmc};
use spindle_rip::RipError;
use spindle_rip::drive::ReadMode;
use spindle_rip::image::disc_from_rip;
use spindle_rip::rescue::RescueOptions;
use spindle_rip::rip::{RipFiles, RipOptions, rip};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn source() -> Disc {
    let p = spindle_testkit::sample("generated-chd/mixed-mode1-audio.chd");
    spindle_image::open(&p).unwrap()
}

fn raw(d: &Disc, lba: i32, n: u32) -> Vec<u8> {
    let mut b = vec![0u8; n as usize * 2352];
    d.read_sectors(spindle_disc::Lba(lba), n, SectorFormat::RAW, &mut b)
        .unwrap();
    b
}

fn options(resume: bool) -> RipOptions {
    RipOptions {
        rescue: RescueOptions {
            cluster: 27,
            map_interval: Duration::ZERO,
            ..RescueOptions::default()
        },
        resume,
        read_offset: 0,
        cd_mode: None,
        hash_while_reading: false,
    }
}

#[test]
fn bad_sectors_then_recovery() {
    let src = Arc::new(source());
    let drive = EmulatedDrive::new(Some(src.clone()));
    drive.faults().set(Faults {
        unreadable: [10, 11, 500].into_iter().collect(),
        ..Faults::none()
    });
    let dir = tempfile::tempdir().unwrap();
    let files = RipFiles::beside(&dir.path().join("x.cue"));
    let mut m = Mmc::new(&drive);
    let r = rip(&mut m, &files, &options(false), None, None).unwrap();
    assert_eq!(r.bad, vec![10, 11, 500]);
    let out = Command::new("ddrescuelog")
        .args(["-b", "2448", "-l-"])
        .arg(&files.map)
        .output()
        .expect("ddrescuelog");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "10\n11\n500\n");
    // A second rip without --resume refuses to touch the map.
    let e = rip(&mut m, &files, &options(false), None, None).unwrap_err();
    assert!(e.to_string().contains("resume"), "{e}");
    drive.faults().recover();
    let r = rip(&mut m, &files, &options(true), None, None).unwrap();
    assert!(r.bad.is_empty());
    let d = disc_from_rip(&r).unwrap();
    assert!(
        raw(&d, 0, 754) == raw(&src, 0, 754),
        "the resumed rip equals the source"
    );
}

#[test]
fn interrupted_rip_resumes_to_the_same_result() {
    let src = Arc::new(source());
    let drive = EmulatedDrive::new(Some(src.clone()));
    drive.faults().set(Faults {
        unreadable: [600].into_iter().collect(),
        ..Faults::none()
    });
    let dir = tempfile::tempdir().unwrap();
    let whole = RipFiles::beside(&dir.path().join("a.cue"));
    rip(&mut Mmc::new(&drive), &whole, &options(false), None, None).unwrap();
    let parts = RipFiles::beside(&dir.path().join("b.cue"));
    let mut resume = false;
    for stop in [2u64, 9, 15] {
        let cancel = AtomicBool::new(false);
        let mut ticks = 0;
        let mut progress = |_: &spindle_rip::rescue::Progress| {
            ticks += 1;
            if ticks >= stop {
                cancel.store(true, Ordering::Relaxed);
            }
        };
        let e = rip(
            &mut Mmc::new(&drive),
            &parts,
            &options(resume),
            Some(&cancel),
            Some(&mut progress),
        )
        .unwrap_err();
        assert!(matches!(e, RipError::Cancelled), "{e}");
        resume = true;
    }
    let r = rip(&mut Mmc::new(&drive), &parts, &options(true), None, None).unwrap();
    assert_eq!(r.bad, vec![600]);
    assert!(std::fs::read(&whole.work).unwrap() == std::fs::read(&parts.work).unwrap());
    assert_eq!(
        std::fs::read_to_string(&whole.map).unwrap(),
        std::fs::read_to_string(&parts.map).unwrap()
    );
}

#[test]
fn drive_without_subchannel() {
    let src = Arc::new(source());
    let drive = EmulatedDrive::new(Some(src.clone()));
    drive.faults().update(|f| f.no_subchannel = true);
    let dir = tempfile::tempdir().unwrap();
    let files = RipFiles::beside(&dir.path().join("x.cue"));
    let r = rip(&mut Mmc::new(&drive), &files, &options(false), None, None).unwrap();
    assert_eq!(r.plan.mode, ReadMode::Raw(SubSelect::None));
    let d = disc_from_rip(&r).unwrap();
    let idx = |d: &Disc| {
        d.tracks()
            .map(|t| (t.number, t.index1()))
            .collect::<Vec<_>>()
    };
    assert_eq!(idx(&d), idx(&src));
    assert!(raw(&d, 0, 754) == raw(&src, 0, 754));
    assert_eq!(std::fs::metadata(&files.work).unwrap().len(), 754 * 2352);
}

/// A drive with a read offset: audio read raw is shifted; the rip corrects it when told the
/// offset, and the audio then equals the source (but for the samples the drive would have
/// to read from the lead-out).
#[test]
fn read_offset_correction() {
    let src = Arc::new(source());
    for offset in [6i32, -30, 667] {
        let drive = EmulatedDrive::new(Some(src.clone()));
        drive.faults().update(|f| f.read_offset = offset);
        let dir = tempfile::tempdir().unwrap();
        let plain = RipFiles::beside(&dir.path().join("plain.cue"));
        let r = rip(&mut Mmc::new(&drive), &plain, &options(false), None, None).unwrap();
        let d = disc_from_rip(&r).unwrap();
        // Data is not shifted; audio is.
        assert!(
            raw(&d, 0, 302) == raw(&src, 0, 302),
            "offset {offset}: data track"
        );
        assert!(
            raw(&d, 452, 302) != raw(&src, 452, 302),
            "offset {offset}: uncorrected audio differs"
        );
        let fixed = RipFiles::beside(&dir.path().join("fixed.cue"));
        let opts = RipOptions {
            read_offset: offset,
            ..options(false)
        };
        let r = rip(&mut Mmc::new(&drive), &fixed, &opts, None, None).unwrap();
        let d = disc_from_rip(&r).unwrap();
        let (a, b) = (raw(&d, 452, 302), raw(&src, 452, 302));
        // With a positive offset the last `offset` samples lie beyond the lead-out.
        let lost = offset.max(0) as usize * 4;
        assert!(
            a[..a.len() - lost] == b[..b.len() - lost],
            "offset {offset}: corrected audio"
        );
        // Through an image writer the correction is kept.
        let out = dir.path().join("out.cue");
        let conv = spindle_image::ConvertOptions {
            format: None,
            data_only: false,
            write: Default::default(),
        };
        spindle_image::convert(&d, &out, &conv, &mut |_, _| {}).unwrap();
        let back = spindle_image::open(&out).unwrap();
        let c = raw(&back, 452, 302);
        assert!(
            c[..c.len() - lost] == b[..b.len() - lost],
            "offset {offset}: written"
        );
    }
}

/// Hashing while reading: a clean fresh rip's digest is the work file's; a rip with an
/// unreadable sector, and a resumed one, give none (the caller hashes afterwards).
#[test]
fn hash_while_reading_only_for_a_clean_fresh_rip() {
    let iso = spindle_testkit::sample("libarchive/test_read_format_iso_rockridge.iso");
    let src = Arc::new(spindle_image::open(&iso).unwrap());
    let drive = EmulatedDrive::new(Some(src));
    let dir = tempfile::tempdir().unwrap();
    let opts = |resume| RipOptions {
        hash_while_reading: true,
        cd_mode: Some(ReadMode::User),
        ..options(resume)
    };
    let files = RipFiles::beside(&dir.path().join("clean.iso"));
    let r = rip(&mut Mmc::new(&drive), &files, &opts(false), None, None).unwrap();
    let d = r.digest.clone().expect("a clean rip is hashed while read");
    assert_eq!(
        d,
        spindle_rip::hash::Hasher::of_file(&files.work, 0, None).unwrap()
    );
    assert_eq!(
        d,
        spindle_rip::hash::Hasher::of_file(&iso, 0, None).unwrap()
    );

    drive.faults().set(Faults::none().unreadable_range(40, 2));
    let files = RipFiles::beside(&dir.path().join("bad.iso"));
    let mut m = Mmc::new(&drive);
    let r = rip(&mut m, &files, &opts(false), None, None).unwrap();
    assert_eq!(r.bad, vec![40, 41]);
    assert_eq!(r.digest, None);
    drive.faults().recover();
    let r = rip(&mut m, &files, &opts(true), None, None).unwrap();
    assert!(r.bad.is_empty());
    assert_eq!(
        r.digest, None,
        "a resumed rip has sectors it did not read now"
    );
    assert_eq!(
        spindle_rip::hash::Hasher::of_file(&files.work, 0, None).unwrap(),
        spindle_rip::hash::Hasher::of_file(&iso, 0, None).unwrap()
    );
}
