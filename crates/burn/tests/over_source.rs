//! The library's own guard against writing over the source (crates/burn/src/backing.rs), on
//! real loop devices (root): what a source reads, a loop over the filesystem image the source
//! lives in, and `burn()` refusing by itself right before its first write, whatever its
//! caller checked.

use spindle_burn::{BurnError, Options, Outcome, Policy, Source, Target, device, safety};
use spindle_testkit::digest::sha256sum as sha256;
use spindle_testkit::loopdev::{Loop, Mount, make_iso};
use spindle_testkit::tools::tool as sh;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::AtomicBool;

const FIXED: Policy = Policy {
    allow_fixed: true,
    unmount: false,
};

fn id(p: &Path) -> (u64, u64) {
    let m = std::fs::metadata(p).unwrap();
    (m.dev(), m.ino())
}

fn ids(src: &Source) -> Vec<(u64, u64)> {
    src.reads
        .files
        .iter()
        .map(|f| (libc::makedev(f.id.dev.0, f.id.dev.1), f.id.ino))
        .collect()
}

#[test]
fn a_source_lists_every_file_it_reads_by_identity() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "r.iso", 1);
    let s = Source::open(&iso, None).unwrap();
    assert_eq!(ids(&s), vec![id(&iso)]);
    // A CUE sheet naming the ISO as its data file: the sheet and the file it reads.
    let cue = dir.path().join("r.cue");
    std::fs::write(
        &cue,
        "FILE \"r.iso\" BINARY\n  TRACK 01 MODE1/2048\n    INDEX 01 00:00:00\n",
    )
    .unwrap();
    let s = Source::open(&cue, None).unwrap();
    let got = ids(&s);
    assert!(
        got.contains(&id(&cue)) && got.contains(&id(&iso)),
        "{:?}",
        s.reads
    );
    // A gzip container: the .gz file itself.
    let gz = dir.path().join("r.iso.gz");
    sh(
        "sh",
        &[
            "-c",
            &format!("gzip -n -c '{}' > '{}'", iso.display(), gz.display()),
        ],
    );
    let s = Source::open(&gz, None).unwrap();
    assert!(ids(&s).contains(&id(&gz)), "{:?}", s.reads);
    // The identities are the files opened: renamed afterwards, they are still known.
    let s = Source::open(&cue, None).unwrap();
    let moved = dir.path().join("moved.iso");
    std::fs::rename(&iso, &moved).unwrap();
    assert!(ids(&s).contains(&id(&moved)), "{:?}", s.reads);
}

#[test]
fn burn_refuses_by_itself_before_its_first_write() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "g.iso", 3);
    let over = Loop::over(&iso, &[]);
    let other = Loop::new(dir.path(), "other.img", 8 << 20, &[]);
    let src = Source::open(&iso, None).unwrap();
    let e = safety::check(
        &device::open_device(&over.dev).unwrap(),
        src.len(),
        &src.reads,
        FIXED,
    )
    .unwrap_err();
    assert!(matches!(e, BurnError::OverSource { .. }), "{e}");
    // A caller that skipped the checks: burn() itself refuses every target, writes nothing.
    let before = (sha256(&iso), sha256(&other.dev));
    let targets = vec![
        Target::open(device::open_device(&other.dev).unwrap()).unwrap(),
        Target::open(device::open_device(&over.dev).unwrap()).unwrap(),
    ];
    let report = spindle_burn::burn(
        &src,
        targets,
        &Options::default(),
        &AtomicBool::new(false),
        &|_| {},
    );
    match (&report.targets[0].outcome, &report.targets[1].outcome) {
        (Outcome::Refused { error: a }, Outcome::Refused { error: b }) => {
            assert!(a.contains("another target"), "{a}");
            assert!(
                b.contains("would overwrite the source") && b.contains(over.path()),
                "{b}"
            );
        }
        o => panic!("expected both refused: {o:?}"),
    }
    assert!(!report.targets[1].outcome.ok());
    assert!(
        report.targets[1]
            .outcome
            .state(report.bytes)
            .contains("nothing changed")
    );
    assert_eq!(
        before,
        (sha256(&iso), sha256(&other.dev)),
        "a refused burn wrote"
    );
}

#[test]
fn a_second_loop_over_the_filesystem_image_holding_the_source_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "f.iso", 2);
    // The image lives in an ext4 inside fs.img (loop `holder`); `twin` is a second loop
    // device over the same fs.img: writing it rewrites the filesystem holding the image.
    let holder = Loop::new(dir.path(), "fs.img", 32 << 20, &[]);
    let mnt = Mount::ext4(&holder.dev, &dir.path().join("mnt"));
    let inner = mnt.dir.join("inner.iso");
    std::fs::copy(&iso, &inner).unwrap();
    let twin = Loop::over(&holder.file, &[]);
    let src = Source::open(&inner, None).unwrap();
    let e = safety::check(
        &device::open_device(&twin.dev).unwrap(),
        src.len(),
        &src.reads,
        FIXED,
    )
    .unwrap_err();
    let t = e.to_string();
    assert!(matches!(e, BurnError::OverSource { .. }), "{t}");
    assert!(
        t.contains(&format!("is the backing file of {}", holder.path())),
        "{t}"
    );
    assert!(
        t.contains(&format!("{} → backing file", twin.path())),
        "{t}"
    );
    // A loop over another file of the same filesystem as fs.img is fine.
    let free = Loop::new(dir.path(), "free.img", 8 << 20, &[]);
    safety::check(
        &device::open_device(&free.dev).unwrap(),
        src.len(),
        &src.reads,
        FIXED,
    )
    .unwrap();
}
