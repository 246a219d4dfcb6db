//! Corrupt and truncated images fail with a message naming the file, quickly, and never
//! panic: test.cdi truncated at many points, and every byte of its descriptor flipped.

mod common;

use common::open_mem;
use spindle_disc::{DirCompanions, OpenContext, SectorFormat};
use std::time::{Duration, Instant};

const NAME: &str = "/corrupt/damaged.cdi";

fn sample() -> Vec<u8> {
    std::fs::read(spindle_testkit::sample("cditools/test.cdi")).unwrap()
}

/// Either an error naming the file, or a disc whose tracks can be read (errors allowed).
fn check(data: Vec<u8>, what: &str) -> bool {
    let t = Instant::now();
    let r = open_mem(data, NAME);
    let ok = match r {
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains(NAME),
                "{what}: message does not name the file: {msg}"
            );
            false
        }
        Ok(disc) => {
            disc.validate().unwrap();
            let mut buf = vec![0u8; 2448 * 2];
            for t in disc.tracks() {
                for lba in [t.start, t.index1(), t.end().offset(-2)] {
                    for f in [
                        SectorFormat::RAW,
                        SectorFormat::RAW_PW96,
                        SectorFormat::USER,
                    ] {
                        let _ = disc.read_sectors(lba, 2, f, &mut buf);
                    }
                }
            }
            true
        }
    };
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "{what}: took {:?}",
        t.elapsed()
    );
    ok
}

#[test]
fn truncated_everywhere() {
    let data = sample();
    let len = data.len();
    let mut cuts: Vec<usize> = (0..=700).map(|n| len - n.min(len)).collect();
    cuts.extend((0..64).map(|i| i * (len / 64)));
    cuts.extend([0, 1, 7, 8, 9, 10, 2352, 452 * 2352]);
    for cut in cuts {
        if cut == len {
            continue;
        }
        let ok = check(data[..cut].to_vec(), &format!("cut at {cut}"));
        assert!(!ok, "truncated at {cut} of {len} still opens");
    }
}

#[test]
fn every_descriptor_byte_flipped() {
    let data = sample();
    let start = data.len() - 673;
    let mut opened = 0;
    for pos in start..data.len() {
        for x in [0xFFu8, 0x01, 0x80, 0x10] {
            let mut d = data.clone();
            d[pos] ^= x;
            opened += check(d, &format!("byte {pos:#x} ^ {x:#04x}")) as usize;
        }
    }
    // Many bytes are unknown fields that change nothing; the marks and counts do.
    assert!(opened > 0 && opened < 673 * 4, "{opened}");
}

#[test]
fn messages_say_what_is_wrong() {
    let data = sample();
    let start = data.len() - 673;
    let err = |d: Vec<u8>| open_mem(d, NAME).unwrap_err().to_string();

    let mut d = data.clone();
    let n = d.len();
    d[n - 5] = 0x7F;
    assert!(err(d).contains("footer version 0x7f000006"), "version");

    let mut d = data.clone();
    d[n - 1] = 0x10;
    assert!(err(d).contains("outside the file"), "offset");

    // Track 1's first mark starts 6 bytes into the descriptor (u16 sessions, u16 tracks, u32).
    let mut d = data.clone();
    d[start + 8 + 2] = 0x07;
    let m = err(d);
    assert!(m.contains("track 1") && m.contains("mark 1"), "{m}");

    // Read mode of track 1 (0x2E0 in the descriptor dump = start + 0x80).
    let mut d = data.clone();
    d[start + 0x80] = 9;
    let m = err(d);
    assert!(m.contains("track 1") && m.contains("read mode 9"), "{m}");

    // Session count 0.
    let mut d = data.clone();
    d[start] = 0;
    assert!(err(d).contains("session count 0"));

    // Track 2's total length (485, the first u32 of that value after track 1's block) grown
    // past the data: its sectors run into the descriptor.
    let mut d = data;
    let pos = find_u32(&d[start..], 485, 0x100).unwrap() + start;
    d[pos + 1] = 0x10;
    let m = err(d);
    assert!(
        m.contains("track 2") && m.contains("run past the track data"),
        "{m}"
    );
}

/// First offset at or after `from` of `v` as a little-endian u32.
fn find_u32(hay: &[u8], v: u32, from: usize) -> Option<usize> {
    hay.windows(4)
        .enumerate()
        .skip(from)
        .find(|(_, w)| *w == v.to_le_bytes())
        .map(|(i, _)| i)
}

#[test]
fn real_files_name_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample();
    for (name, bytes) in [
        ("short.cdi", &data[..5][..]),
        ("cut.cdi", &data[..data.len() - 100]),
        ("empty.cdi", &[][..]),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let e = spindle_format_cdi::open(
            &path,
            &OpenContext {
                companions: &DirCompanions::beside(&path),
                password: None,
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains(&*path.to_string_lossy()), "{e}");
    }
    let missing = dir.path().join("missing.cdi");
    let e = spindle_format_cdi::open(
        &missing,
        &OpenContext {
            companions: &DirCompanions::beside(&missing),
            password: None,
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("missing.cdi"), "{e}");
}
