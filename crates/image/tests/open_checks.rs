//! Through the registry, every file an image reads is checked on its descriptor: a data file
//! (CCD's IMG, MDS's MDF, a cue sheet's compressed BIN) that is a FIFO, a character device or
//! a directory is refused at once as such, with the typed error the daemon and CLI show.

use spindle_image::{
    ConvertOptions, DecodeBudget, FileType, ImageError, NotAFile, OpenOptions, convert, open,
    open_with_options,
};
use spindle_testkit::samples;
use std::path::Path;
use std::process::Command;

fn mkfifo(p: &Path) {
    let _ = std::fs::remove_file(p);
    assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
}

/// Opens `path` on another thread and waits for it (a blocking open fails the test).
fn open_in_time(path: &Path) -> Result<spindle_image::Disc, ImageError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(open(&p));
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{}: opening blocked", path.display()))
}

fn refused_as(path: &Path, file: &Path, what: FileType) {
    let e = open_in_time(path)
        .err()
        .unwrap_or_else(|| panic!("{}: opened", path.display()));
    let n: &NotAFile = e
        .not_a_file()
        .unwrap_or_else(|| panic!("{}: {e:?}", path.display()));
    assert_eq!(
        (n.path.as_path(), n.what),
        (file, what),
        "{}",
        path.display()
    );
}

#[test]
fn data_files_that_are_not_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let disc = open(&samples().join("libcdio/joliet.iso")).unwrap();
    let opts = ConvertOptions::default();
    convert(&disc, &d.join("c.ccd"), &opts, &mut |_, _| {}).unwrap();
    convert(&disc, &d.join("m.mds"), &opts, &mut |_, _| {}).unwrap();
    // They open as written...
    open(&d.join("c.ccd")).unwrap();
    open(&d.join("m.mds")).unwrap();
    // ...and not with a FIFO or a directory for their data.
    mkfifo(&d.join("c.img"));
    refused_as(&d.join("c.ccd"), &d.join("c.img"), FileType::Fifo);
    mkfifo(&d.join("m.mdf"));
    refused_as(&d.join("m.mds"), &d.join("m.mdf"), FileType::Fifo);
    std::fs::remove_file(d.join("m.mdf")).unwrap();
    std::fs::create_dir(d.join("m.mdf")).unwrap();
    refused_as(&d.join("m.mds"), &d.join("m.mdf"), FileType::Directory);

    // A cue sheet's BIN found as `track.bin.xz` (only that exists), a FIFO.
    std::fs::write(
        d.join("x.cue"),
        "FILE \"track.bin\" BINARY\n  TRACK 01 MODE1/2048\n    INDEX 01 00:00:00\n",
    )
    .unwrap();
    mkfifo(&d.join("track.bin.xz"));
    refused_as(&d.join("x.cue"), &d.join("track.bin.xz"), FileType::Fifo);
    // The image itself, compressed by name.
    mkfifo(&d.join("game.iso.zst"));
    let e = open_in_time(&d.join("game.iso.zst")).err().unwrap();
    assert!(
        matches!(&e, ImageError::NotAFile(n) if n.what == FileType::Fifo),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{} is a FIFO (named pipe), not a disc image",
            d.join("game.iso.zst").display()
        )
    );
}

#[test]
fn the_budget_reaches_companions_and_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = Command::new("sh")
        .arg("-c")
        .arg("truncate -s 96M track.bin && zstd -q -1 --single-thread --rm track.bin")
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        d.join("x.cue"),
        "FILE \"track.bin\" BINARY\n  TRACK 01 MODE1/2048\n    INDEX 01 00:00:00\n",
    )
    .unwrap();
    let small = OpenOptions {
        password: None,
        budget: DecodeBudget::new()
            .with_limit(64 << 20)
            .for_uid(0x5200_0001)
            .with_temp_dir(d)
            .with_free_space_margin(0),
    };
    let e = open_with_options(&d.join("x.cue"), &small).unwrap_err();
    let b = e.budget_exceeded().unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(
        (b.path.as_path(), b.needed, b.declared),
        (d.join("track.bin.zst").as_path(), 96 << 20, true)
    );
    let e = open_with_options(&d.join("track.bin.zst"), &small).unwrap_err();
    assert!(matches!(e, ImageError::Budget(_)), "{e:?}");
    let enough = OpenOptions {
        budget: DecodeBudget::new()
            .with_limit(128 << 20)
            .for_uid(0x5200_0001)
            .with_temp_dir(d)
            .with_free_space_margin(0),
        ..small
    };
    let disc = open_with_options(&d.join("x.cue"), &enough).unwrap();
    assert_eq!(DecodeBudget::live_bytes(0x5200_0001), 96 << 20);
    drop(disc);
    assert_eq!(DecodeBudget::live_bytes(0x5200_0001), 0);
}

#[test]
fn swapping_files_for_fifos_while_opening_never_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    std::fs::write(d.join("t.bin"), vec![0u8; 2352 * 300]).unwrap();
    let sheet = "FILE \"t.bin\" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\n";
    std::fs::write(d.join("d.cue"), sheet).unwrap();
    mkfifo(&d.join("fifo"));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (d, stop) = (d.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Each name is atomically replaced by a FIFO, then by the real file again.
                for name in ["d.cue", "t.bin"] {
                    let keep = d.join(format!("{name}.keep"));
                    std::fs::hard_link(d.join(name), &keep).unwrap();
                    std::fs::hard_link(d.join("fifo"), d.join("fifo.tmp")).unwrap();
                    std::fs::rename(d.join("fifo.tmp"), d.join(name)).unwrap();
                    std::fs::rename(&keep, d.join(name)).unwrap();
                    swaps += 1;
                }
            }
            swaps
        })
    };
    let (mut opened, mut refused) = (0, 0);
    for _ in 0..500 {
        match open_in_time(&d.join("d.cue")) {
            Ok(disc) => {
                assert_eq!(disc.track_count(), 1);
                opened += 1;
            }
            Err(e) => {
                let n = e.not_a_file().unwrap_or_else(|| panic!("{e:?}"));
                assert_eq!(n.what, FileType::Fifo);
                refused += 1;
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    eprintln!("{swaps} swaps: {opened} opened, {refused} refused as FIFOs, none blocked");
    assert!(swaps > 0);
}
