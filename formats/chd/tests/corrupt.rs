//! Truncated and corrupted CHDs fail with an error naming the file, never a panic or hang:
//! every sample is cut at many lengths and has bytes flipped in its header, hunk map,
//! metadata and hunks; whatever still opens has every sector read. Each case runs on its
//! own thread with a time limit.

mod common;
use common::*;
use spindle_disc::{Disc, SectorFormat};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Opens `bytes` as a CHD (written to `path`) and reads every sector; returns the error text.
fn try_all(path: &Path, bytes: &[u8]) -> Option<String> {
    std::fs::write(path, bytes).unwrap();
    let disc = match open_chd(path) {
        Ok(d) => d,
        Err(e) => return Some(e.to_string()),
    };
    read_everything(&disc).err()
}

fn read_everything(disc: &Disc) -> Result<(), String> {
    let mut buf = vec![0u8; 16 * 2448];
    let mut err = None;
    for t in disc.tracks() {
        let mut lba = t.start;
        while lba < t.end() {
            let n = (t.end().since(lba) as u32).min(16);
            if let Err(e) = disc.read_sectors(lba, n, SectorFormat::RAW_PW96, &mut buf) {
                err.get_or_insert(format!(
                    "{e}: {}",
                    std::error::Error::source(&e)
                        .map(|s| s.to_string())
                        .unwrap_or_default()
                ));
            }
            lba = lba.offset(n as i64);
        }
    }
    err.map_or(Ok(()), Err)
}

/// Runs `case` on a thread; fails when it panics or takes more than a second.
fn bounded(what: String, case: impl FnOnce() -> Option<String> + Send + 'static) -> Option<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(case());
    });
    match rx.recv_timeout(Duration::from_secs(if cfg!(debug_assertions) {
        5
    } else {
        1
    })) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: took too long"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

fn check(name: &str, variant: String, bytes: Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.chd"));
    let p = path.clone();
    let what = format!("{name} {variant}");
    if let Some(msg) = bounded(what.clone(), move || try_all(&p, &bytes)) {
        assert!(
            msg.contains(&path.display().to_string()),
            "{what}: error does not name the file: {msg}"
        );
    }
}

const SAMPLES: [&str; 3] = ["cdda", "isofs-m1", "mixed-mode1-audio"];

#[test]
fn truncated_samples_fail_clearly() {
    for name in SAMPLES {
        let data = std::fs::read(samples().join(format!("generated-chd/{name}.chd"))).unwrap();
        let mut cuts: Vec<usize> = (0..200)
            .chain((200..data.len()).step_by(data.len() / 150 + 1))
            .collect();
        cuts.push(data.len() - 1);
        for cut in cuts {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(format!("{name}.chd"));
            let p = path.clone();
            let bytes = data[..cut].to_vec();
            let msg = bounded(format!("{name} cut at {cut}"), move || try_all(&p, &bytes));
            // A CHD cut anywhere loses its map, metadata or hunk data: it must fail.
            let msg = msg.unwrap_or_else(|| {
                panic!("{name} cut at {cut} of {}: opened and read", data.len())
            });
            assert!(
                msg.contains(&path.display().to_string()),
                "{name} cut at {cut}: {msg}"
            );
        }
    }
}

#[test]
fn flipped_bytes_fail_clearly_or_read() {
    for name in SAMPLES {
        let data = std::fs::read(samples().join(format!("generated-chd/{name}.chd"))).unwrap();
        let be64 = |at: usize| u64::from_be_bytes(data[at..at + 8].try_into().unwrap()) as usize;
        let (map, meta) = (be64(40), be64(48));
        // Header, map header + map, every metadata entry area, and a spread over the hunks.
        let mut spots: Vec<usize> = (0..124).collect();
        spots.extend(map..(map + 64).min(data.len()));
        spots.extend(meta..(meta + 120).min(data.len()));
        spots.extend((124..data.len()).step_by(data.len() / 100 + 1));
        for at in spots {
            // One flip per spot, the flipped bits varying from spot to spot.
            let x = [0xff, 0x01, 0x80][at % 3];
            let mut bytes = data.clone();
            bytes[at] ^= x;
            check(name, format!("byte {at} ^ {x:#x}"), bytes);
        }
    }
}

#[test]
fn hostile_header_values() {
    let data = std::fs::read(samples().join("generated-chd/isofs-m1.chd")).unwrap();
    let set = |at: usize, v: &[u8]| {
        let mut b = data.clone();
        b[at..at + v.len()].copy_from_slice(v);
        b
    };
    let cases = [
        ("version 4", set(12, &4u32.to_be_bytes()), "version 4"),
        (
            "huge logical size",
            set(32, &u64::MAX.to_be_bytes()[..]),
            "logical size",
        ),
        (
            "hunk of 1 byte",
            set(56, &1u32.to_be_bytes()),
            "hunks of 1 bytes",
        ),
        (
            "huge hunks",
            set(56, &(2448u32 * 100_000).to_be_bytes()),
            "hunks of",
        ),
        (
            "hard disk units",
            set(60, &512u32.to_be_bytes()),
            "not a CD image",
        ),
        (
            "map past the end",
            set(40, &(1u64 << 40).to_be_bytes()),
            "hunk map",
        ),
        ("unknown codec", set(16, b"abcd"), "\"abcd\""),
        ("parent", set(104, &[1]), "parent"),
        ("not a CHD", set(0, b"XComprHD"), "not a CHD"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (what, bytes, want) in cases {
        let path = dir.path().join("x.chd");
        let msg = try_all(&path, &bytes).unwrap_or_else(|| panic!("{what}: opened"));
        assert!(msg.contains(want) && msg.contains("x.chd"), "{what}: {msg}");
    }
}

#[test]
fn gd_rom_metadata_is_refused() {
    // Rename the sample's CHT2 tag to CHGD (same entry layout).
    let mut data = std::fs::read(samples().join("generated-chd/cdda.chd")).unwrap();
    let meta = u64::from_be_bytes(data[48..56].try_into().unwrap()) as usize;
    assert_eq!(&data[meta..meta + 4], b"CHT2");
    data[meta..meta + 4].copy_from_slice(b"CHGD");
    let dir = tempfile::tempdir().unwrap();
    let msg = try_all(&dir.path().join("gd.chd"), &data).unwrap();
    assert!(msg.contains("GD-ROM") && msg.contains("gd.chd"), "{msg}");
}
