//! Hostile images: truncations, flipped bytes, a directory that contains itself. Every case
//! must end (with an error or not) quickly and without a panic.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use spindle_fs::{Device, FsError};

/// Opens and walks the whole tree (reading every file); returns the first error.
fn exercise(dev: Device) -> spindle_fs::Result<usize> {
    let _ = spindle_udf::detect(dev.clone());
    let fs = spindle_udf::open_udf(dev)?;
    let _ = fs.label();
    Ok(walk_fs(&*fs)?.len())
}

fn timed(what: &str, dev: Device, slowest: &mut Duration) -> spindle_fs::Result<usize> {
    let t = Instant::now();
    let r = exercise(dev);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(1), "{what} took {took:?}");
    *slowest = (*slowest).max(took);
    r
}

fn load(name: &str) -> Arc<Vec<u8>> {
    Arc::new(std::fs::read(sample(name)).unwrap())
}

#[test]
fn truncated_images() {
    let mut slowest = Duration::ZERO;
    for name in ["test-udf1.iso", "udf102.iso"] {
        let base = load(name);
        let full = base.len() as u64;
        let mut lens: Vec<u64> = (0..full).step_by(8 * 2048).collect();
        lens.extend((250..300).map(|s| s * 2048));
        lens.extend([full - 1, full - 2048, 256 * 2048 + 100]);
        for len in lens {
            let dev = Arc::new(Mutated {
                base: base.clone(),
                pos: u64::MAX,
                xor: 0,
                len,
            });
            let r = timed(&format!("{name} truncated to {len}"), dev, &mut slowest);
            if len < 257 * 2048 {
                assert!(r.is_err(), "{name} truncated to {len} opened");
            }
        }
    }
    eprintln!("slowest: {slowest:?}");
}

/// Bytes of the 64 KiB from sector 256 of test-udf1.iso flipped in turn: every byte of the
/// first 512 of sectors 256-263 (anchor, file set, terminating descriptor, file entries,
/// directory: all its descriptors), every 16th byte of the rest (mostly file data); and every
/// byte of the main and reserve volume descriptor sequences' first 512 bytes.
#[test]
fn flipped_bytes() {
    let vds = (32..38)
        .chain(48..54)
        .flat_map(|s| (0..512).map(move |i| s * 2048 + i));
    let area = (256 * 2048..256 * 2048 + 65536)
        .filter(|p| (p % 2048 < 512 && *p < 264 * 2048) || p % 16 == 0);
    flip_each(area.chain(vds).collect());
}

/// Every byte of the 64 KiB from sector 256 and of the volume descriptor sequences, in turn
/// (slow in a debug build: `cargo test --release -p spindle-udf -- --ignored`).
#[test]
#[ignore]
fn flipped_bytes_exhaustive() {
    let vds = (32..38)
        .chain(48..54)
        .flat_map(|s| (0..2048).map(move |i| s * 2048 + i));
    flip_each((256 * 2048..256 * 2048 + 65536).chain(vds).collect());
}

fn flip_each(positions: Vec<u64>) {
    let base = load("test-udf1.iso");
    let full = base.len() as u64;
    // Four threads: the cases are independent.
    let results: Vec<(u32, u32, Duration)> = std::thread::scope(|scope| {
        let workers: Vec<_> = positions
            .chunks(positions.len().div_ceil(4))
            .map(|chunk| {
                let base = base.clone();
                scope.spawn(move || {
                    let (mut ok, mut failed, mut slowest) = (0, 0, Duration::ZERO);
                    for &pos in chunk {
                        let dev = Arc::new(Mutated {
                            base: base.clone(),
                            pos,
                            xor: 0xFF,
                            len: full,
                        });
                        match timed("a flip", dev, &mut slowest) {
                            Ok(_) => ok += 1,
                            Err(
                                FsError::Corrupt { .. } | FsError::NotFound(_) | FsError::Io(_),
                            ) => failed += 1,
                            Err(e) => panic!("flip at {pos}: unexpected error {e:?}"),
                        }
                    }
                    (ok, failed, slowest)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let ok: u32 = results.iter().map(|r| r.0).sum();
    let failed: u32 = results.iter().map(|r| r.1).sum();
    let slowest = results.iter().map(|r| r.2).max().unwrap();
    eprintln!("flips: {ok} opened and walked, {failed} refused; slowest {slowest:?}");
    assert!(failed > 0 && ok > 0);
}

/// A seeded random sample of multi-byte mutations over the whole of udf102.iso's structures.
#[test]
fn random_mutations() {
    let base = load("udf102.iso");
    let mut slowest = Duration::ZERO;
    let mut seed = 0x2545F4914F6CDD1Du64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let hot: Vec<u64> = vec![
        32, 33, 34, 35, 36, 37, 48, 50, 51, 256, 593, 594, 595, 596, 597, 607,
    ];
    // UDF_MUTATIONS=N for a longer run (in a release build).
    let n = std::env::var("UDF_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    for i in 0..n {
        let mut patches = Vec::new();
        for _ in 0..1 + rand() % 4 {
            let sector = hot[(rand() % hot.len() as u64) as usize];
            patches.push((sector * 2048 + rand() % 2048, rand() as u8));
        }
        let dev = Arc::new(Patched {
            base: base.clone(),
            patches,
        });
        let _ = timed(&format!("mutation {i}"), dev, &mut slowest);
    }
    eprintln!("slowest: {slowest:?}");
}

/// Rewrites FID number `index` of the directory data in `sector` so that it names the ICB
/// at `lbn` as a directory, with a valid tag.
fn patch_fid(data: &mut [u8], sector: usize, index: usize, lbn: u32) {
    let mut off = sector * 2048;
    for _ in 0..index {
        let (_, len) = spindle_udf::parse_fid(&data[off..sector * 2048 + 2048]).unwrap();
        off += len;
    }
    let (_, len) = spindle_udf::parse_fid(&data[off..sector * 2048 + 2048]).unwrap();
    let fid = &mut data[off..off + len];
    fid[18] |= 0x02;
    fid[24..28].copy_from_slice(&lbn.to_le_bytes());
    let crc = spindle_udf::crc16(&fid[16..]);
    fid[8..10].copy_from_slice(&crc.to_le_bytes());
    fid[4] = 0;
    fid[4] = fid[..16].iter().fold(0u8, |s, b| s.wrapping_add(*b));
}

#[test]
fn directory_containing_itself() {
    let mut data = (*load("test-udf1.iso")).clone();
    // Sector 260 is the root directory's data; its first FID is the parent entry, which in
    // the root names the root itself.
    let (parent, _) = spindle_udf::parse_fid(&data[260 * 2048..261 * 2048]).unwrap();
    assert!(parent.is_parent());
    patch_fid(&mut data, 260, 1, parent.icb.loc.lbn);
    let fs = open_bytes(data.clone()).unwrap();
    let t = Instant::now();
    match fs.read_dir(fs.root()) {
        Err(FsError::Corrupt { what, .. }) => assert!(what.contains("itself"), "{what}"),
        other => panic!("{other:?}"),
    }
    assert!(walk_fs(&*fs).is_err());
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[test]
fn bad_descriptor_is_named() {
    let mut data = (*load("test-udf1.iso")).clone();
    // The logical volume descriptor of the main (35) sequence: the reserve one (51) serves.
    data[35 * 2048 + 100] ^= 1;
    let fs = open_bytes(data.clone()).unwrap();
    assert_eq!(fs.label(), "CDROM");
    assert_eq!(walk_fs(&*fs).unwrap().len(), 2);
    // Both: an error that names the descriptor.
    data[51 * 2048 + 100] ^= 1;
    match open_bytes(data) {
        Err(FsError::Corrupt { what, .. }) => {
            assert!(
                what.contains("logical volume descriptor") && what.contains("CRC"),
                "{what}"
            )
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}
