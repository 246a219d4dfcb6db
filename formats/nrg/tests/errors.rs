//! Corrupt and truncated copies of both samples: every one opens or fails with a message
//! naming the file, never panics, and takes well under a second. Plus the messages of the
//! most common failures.

mod common;

use common::open;
use spindle_disc::SectorFormat;
use spindle_testkit::sample;
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Opens `path`; an error must name the file, a disc must read in every format.
fn try_open(path: &Path, case: &str) {
    let t = Instant::now();
    match open(path) {
        Ok(disc) => {
            disc.validate().unwrap();
            let mut buf = vec![0u8; 2448];
            for track in disc.tracks() {
                for lba in [track.start, track.index1(), track.end().offset(-1)] {
                    for f in [
                        SectorFormat::RAW,
                        SectorFormat::RAW_PW96,
                        SectorFormat::USER,
                    ] {
                        let _ = disc.read_sectors(lba, 1, f, &mut buf);
                    }
                }
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains(&*path.to_string_lossy()),
                "{case}: message does not name the file: {msg}"
            );
        }
    }
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "{case}: took {:?}",
        t.elapsed()
    );
}

/// Every byte of the chunk list and trailer flipped (two ways), then truncations.
fn mutate(name: &str) {
    let data = std::fs::read(sample(&format!("libcdio/{name}"))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, &data).unwrap();
    let f = OpenOptions::new().write(true).open(&path).unwrap();
    // The chunk list starts where the trailer says; flip a few track-data bytes too.
    let tail = if name == "p1.nrg" { 0x1038c0 } else { 0x2822c0 };
    let mut offsets: Vec<usize> = (tail..data.len()).collect();
    offsets.extend([0, 1, 16, 2048, 2336, 2352, data.len() / 2]);
    let mut opened = 0;
    for &at in &offsets {
        for mask in [0xFF, 0x01, 0x80] {
            f.write_all_at(&[data[at] ^ mask], at as u64).unwrap();
            try_open(&path, &format!("{name} byte {at:#x} ^ {mask:#x}"));
            f.write_all_at(&[data[at]], at as u64).unwrap();
            opened += 1;
        }
    }
    assert!(opened > 300);
    open(&path).expect("restored copy opens");
    // Truncations, longest first: every length in the last 600 bytes, then coarser.
    let mut lens: Vec<usize> = (data.len().saturating_sub(600)..data.len()).rev().collect();
    lens.extend([data.len() / 2, 100_000, 4096, 17, 16, 12, 8, 4, 1, 0]);
    for len in lens {
        f.set_len(len as u64).unwrap();
        try_open(&path, &format!("{name} cut to {len} bytes"));
        if len < data.len() - 12 {
            let e = open(&path)
                .expect_err("a cut file has no trailer")
                .to_string();
            assert!(e.contains("no Nero trailer"), "{name} cut to {len}: {e}");
        }
    }
}

#[test]
fn p1_corrupt_and_truncated() {
    mutate("p1.nrg");
}

#[test]
fn videocd_corrupt_and_truncated() {
    mutate("videocd.nrg");
}

/// Copies `name` into a temporary folder, lets `edit` change it, opens it and returns the error.
fn error_of(name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut data = std::fs::read(sample(&format!("libcdio/{name}"))).unwrap();
    edit(&mut data);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, &data).unwrap();
    let e = open(&path)
        .expect_err("the edited image must not open")
        .to_string();
    assert!(e.starts_with(&*path.to_string_lossy()), "{e}");
    e
}

#[test]
fn messages_say_what_is_wrong() {
    // p1.nrg: chunk list at 0x1038c0; CUEX (48 bytes) first, then DAOX at 0x1038f8.
    let daox = 0x1038f8 + 8;
    let e = error_of("p1.nrg", |d| {
        let n = d.len();
        d[n - 4] = 0x7F; // the chunk list offset now points past the trailer
    });
    assert!(e.contains("past the trailer"), "{e}");
    let e = error_of("p1.nrg", |d| d[daox + 22 + 14] = 0x42);
    assert!(
        e.contains("mode code 0x42 is not known")
            && e.contains("DAOX chunk at offset 0x1038f8, track record 1"),
        "{e}"
    );
    let e = error_of("p1.nrg", |d| d[daox + 22 + 13] = 0x20);
    assert!(
        e.contains("sector size 2336 does not match mode code 0x07"),
        "{e}"
    );
    let e = error_of("p1.nrg", |d| {
        // Track 2 now ends 1000 sectors after its start, far past the chunk list.
        let end = 0x102660u64 + 1000 * 2352;
        d[daox + 22 + 42 + 34..][..8].copy_from_slice(&end.to_be_bytes());
    });
    assert!(e.contains("runs past the track data"), "{e}");
    let e = error_of("p1.nrg", |d| d[0x1038c0 + 4] = 0x7F);
    assert!(e.contains("CUEX chunk") && e.contains("runs past"), "{e}");
    let e = error_of("p1.nrg", |d| d[0x1038c0] = 0);
    assert!(e.contains("no chunk at offset 0x1038c0"), "{e}");
    // videocd.nrg: ETNF at 0x2822c0, first record's mode code at byte 11.
    let e = error_of("videocd.nrg", |d| d[0x2822c0 + 8 + 11] = 0x01);
    assert!(
        e.contains("ETNF chunk at offset 0x2822c0, track record 1: mode code 0x01"),
        "{e}"
    );
    let e = error_of("videocd.nrg", |d| d[0x2822c0 + 8 + 7] = 0x81);
    assert!(
        e.contains("not a whole, non-zero number of 2336-byte sectors"),
        "{e}"
    );
    let e = error_of("videocd.nrg", |d| {
        let n = d.len();
        d[n - 8..n - 4].copy_from_slice(b"NERX");
    });
    assert!(e.contains("no Nero trailer"), "{e}");
}
