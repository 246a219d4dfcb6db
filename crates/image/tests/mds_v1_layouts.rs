//! MDS v1 layouts other writers make, built by editing an MDS that spindle wrote: split MDFs
//! (`.mdf`, `.md0`...), 8-bit file names, UltraISO's hidden first track, and minutes kept in
//! the `zero` byte of TOC entries. Each must read back to the same sectors.

use spindle_image::{ConvertOptions, Disc, convert, open, verify};
use spindle_testkit::samples;
use std::path::{Path, PathBuf};

fn u32_at(d: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(d[at..at + 4].try_into().unwrap())
}

fn put_u32(d: &mut [u8], at: usize, v: u32) {
    d[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Offset of the track block of `point` in a single-session MDS v1.
fn track_block(mds: &[u8], point: u8) -> usize {
    let sessions = u32_at(mds, 0x50) as usize;
    let all = mds[sessions + 10] as usize;
    let blocks = u32_at(mds, sessions + 20) as usize;
    (0..all)
        .map(|i| blocks + 80 * i)
        .find(|&b| mds[b + 4] == point)
        .unwrap()
}

fn hashes(d: &Disc) -> Vec<String> {
    verify(d, &mut |_, _| {})
        .unwrap()
        .tracks
        .into_iter()
        .map(|t| t.sha1)
        .collect()
}

/// isofs-m1 (302 raw Mode 1 sectors) written as MDS v1 into `dir`: (mds path, mds bytes, disc).
fn written(dir: &Path) -> (PathBuf, Vec<u8>, Disc) {
    let disc = open(&samples().join("libcdio/isofs-m1.cue")).unwrap();
    let mds = dir.join("disc.mds");
    convert(&disc, &mds, &ConvertOptions::default(), &mut |_, _| {}).unwrap();
    let bytes = std::fs::read(&mds).unwrap();
    (mds, bytes, disc)
}

/// Points track 1 at `n` footers appended to the descriptor, each naming `name` (UTF-16
/// when `wide`), and returns the new descriptor.
fn with_footers(mds: &[u8], n: u32, name: &[u8], wide: bool) -> Vec<u8> {
    let mut d = mds.to_vec();
    let t = track_block(&d, 1);
    let footers = d.len();
    let name_off = footers + 16 * n as usize;
    for _ in 0..n {
        let mut f = [0u8; 16];
        put_u32(&mut f, 0, name_off as u32);
        put_u32(&mut f, 4, wide as u32);
        d.extend_from_slice(&f);
    }
    d.extend_from_slice(name);
    put_u32(&mut d, t + 0x30, n);
    put_u32(&mut d, t + 0x34, footers as u32);
    d
}

#[test]
fn split_mdf() {
    let dir = tempfile::tempdir().unwrap();
    let (mds, bytes, disc) = written(dir.path());
    let mdf = std::fs::read(dir.path().join("disc.mdf")).unwrap();
    let name: Vec<u8> = "*.mdf\0"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    std::fs::write(&mds, with_footers(&bytes, 3, &name, true)).unwrap();
    // Split on sector boundaries into .mdf, .md0, .md1.
    std::fs::write(dir.path().join("disc.mdf"), &mdf[..100 * 2352]).unwrap();
    std::fs::write(dir.path().join("disc.md0"), &mdf[100 * 2352..250 * 2352]).unwrap();
    std::fs::write(dir.path().join("disc.md1"), &mdf[250 * 2352..]).unwrap();
    let back = open(&mds).unwrap();
    assert_eq!(back.source.files.len(), 3, "{:?}", back.source.files);
    assert_eq!(hashes(&back), hashes(&disc));
    // A missing part is named.
    std::fs::remove_file(dir.path().join("disc.md1")).unwrap();
    let err = format!("{:?}", open(&mds).unwrap_err());
    assert!(err.contains("disc.md1"), "{err}");
}

#[test]
fn ansi_and_utf16_names() {
    let dir = tempfile::tempdir().unwrap();
    let (mds, bytes, disc) = written(dir.path());
    std::fs::rename(dir.path().join("disc.mdf"), dir.path().join("dísc.mdf")).unwrap();
    // Latin-1 "dísc.mdf".
    std::fs::write(&mds, with_footers(&bytes, 1, b"d\xEDsc.mdf\0", false)).unwrap();
    assert_eq!(hashes(&open(&mds).unwrap()), hashes(&disc));
    let utf16: Vec<u8> = "dísc.mdf\0"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    std::fs::write(&mds, with_footers(&bytes, 1, &utf16, true)).unwrap();
    assert_eq!(hashes(&open(&mds).unwrap()), hashes(&disc));
    // Names are matched without regard to case, as on the systems that write them.
    std::fs::write(&mds, with_footers(&bytes, 1, b"D\xCDSC.MDF\0", false)).unwrap();
    assert_eq!(hashes(&open(&mds).unwrap()), hashes(&disc));
}

/// UltraISO: index 1 of track 1 at sector 100, the 100 sectors before it stored in the MDF.
#[test]
fn hidden_first_track() {
    let dir = tempfile::tempdir().unwrap();
    let (mds, mut bytes, disc) = written(dir.path());
    let t = track_block(&bytes, 1);
    put_u32(&mut bytes, t + 0x24, 100);
    put_u32(&mut bytes, t + 0x28, 100 * 2352);
    let extra = u32_at(&bytes, t + 0x0C) as usize;
    put_u32(&mut bytes, extra + 4, 202);
    std::fs::write(&mds, &bytes).unwrap();
    let back = open(&mds).unwrap();
    let t1 = back.track(1).unwrap();
    assert_eq!(
        (t1.start.0, t1.pregap, t1.index1().0, t1.length),
        (-150, 250, 100, 452)
    );
    let mut a = vec![0u8; 302 * 2352];
    let mut b = a.clone();
    disc.read_sectors(
        spindle_disc::Lba(0),
        302,
        spindle_disc::SectorFormat::RAW,
        &mut a,
    )
    .unwrap();
    back.read_sectors(
        spindle_disc::Lba(0),
        302,
        spindle_disc::SectorFormat::RAW,
        &mut b,
    )
    .unwrap();
    assert!(a == b);
    // Without the hidden sectors in the file, the start sector is wrong: an error.
    put_u32(&mut bytes, t + 0x28, 0);
    std::fs::write(&mds, &bytes).unwrap();
    let err = format!("{:?}", open(&mds).unwrap_err());
    assert!(
        err.contains("does not hold the 100 sectors before it"),
        "{err}"
    );
}

/// Old writers put minutes of 60 and more in the `zero` byte of a TOC entry.
#[test]
fn minutes_in_the_zero_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (mds, mut bytes, _) = written(dir.path());
    let t = track_block(&bytes, 1);
    bytes[t + 8] = 1; // zero
    bytes[t + 9] = 5; // pmin: 65 minutes
    std::fs::write(&mds, &bytes).unwrap();
    let back = open(&mds).unwrap();
    let e = back.full_toc.iter().find(|e| e.point == 1).unwrap();
    assert_eq!((e.zero, e.pmin), (0, 65));
    // The stored TOC keeps CONTROL in the high nibble.
    assert_eq!(e.adr_ctl, 0x41);
}
