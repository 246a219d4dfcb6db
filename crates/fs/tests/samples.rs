//! Every ISO sample xorriso can read, walked through the view xorriso would show, against
//! xorriso's extraction: names, contents, symlink targets, modes (with Rock Ridge).

mod common;
use common::*;
use std::path::PathBuf;

/// Samples whose only purpose is to be broken; `malformed.rs` covers them. xorriso fails on
/// the first five (or loops on ce_loop) and dumps zisofs_overflow's stored bytes, where we
/// report the bad zisofs header. (joliet_utf16be_overflow reads cleanly and is compared.)
const MALFORMED: &[&str] = &[
    "bad-dir.iso",
    "malformed.iso",
    "malformed2.iso",
    "test_read_format_iso_rockridge_ce_loop.iso",
    "test_read_format_iso_rockridge_zf_overflow.iso",
    "test_read_format_iso_zisofs_overflow.iso",
];

fn sample_isos() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in ["libarchive", "libcdio", "kdomanski-iso9660", "iso9660-rs", "debian-ipxe"] {
        for e in std::fs::read_dir(format!("{SAMPLES}/{d}")).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "iso") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_sample_matches_xorriso() {
    let mut failures = Vec::new();
    let mut compared = 0;
    let isos = sample_isos();
    for iso in &isos {
        let name = iso.file_name().unwrap().to_string_lossy().into_owned();
        if MALFORMED.contains(&name.as_str()) {
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let Some(x) = xorriso_extract(iso, tmp.path()) else {
            failures.push(format!("{name}: xorriso cannot read it"));
            continue;
        };
        let dev = device(iso);
        if spindle_fs::detect(&*dev, 0).is_err() {
            // UDF-only (libcdio udf102.iso): xorriso shows an empty tree.
            assert_eq!(name, "udf102.iso", "{name}: we see no ISO 9660 volume");
            assert!(walk_host(&x).is_empty(), "{name}: we see no ISO 9660 volume, xorriso does");
            make_writable(tmp.path());
            continue;
        }
        let kind = xorriso_view(&dev);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let fs = open(&dev, kind);
            let mut ours = walk_ours(&*fs);
            // xorriso does not extract device files by default (`-osirrox on`).
            ours.retain(|_, v| *v != Item::Other);
            let host = walk_host(&x);
            compare(&ours, &host, kind == spindle_fs::FsKind::RockRidge, &format!("{name} ({kind:?})"));
        }));
        make_writable(tmp.path());
        compared += 1;
        if let Err(e) = r {
            let msg = e.downcast_ref::<String>().cloned().unwrap_or_else(|| "panic".into());
            failures.push(format!("{name}: {msg}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every sample but the malformed ones and udf102 (no ISO 9660 volume) is compared.
    assert_eq!(compared, isos.len() - MALFORMED.len() - 1, "{isos:?}");
}

#[test]
fn devices_symlinks_and_modes_of_copying_rr() {
    let dev = device(std::path::Path::new(&format!("{SAMPLES}/libcdio/copying-rr.iso")));
    let fs = open(&dev, spindle_fs::FsKind::RockRidge);
    let fd0 = spindle_fs::resolve(&*fs, "fd0").unwrap();
    let m = fs.metadata(fd0).unwrap();
    assert_eq!(m.kind, spindle_fs::FileKind::BlockDevice);
    assert_eq!(m.mode, 0o444);
    let zero = fs.metadata(spindle_fs::resolve(&*fs, "zero").unwrap()).unwrap();
    assert_eq!(zero.kind, spindle_fs::FileKind::CharDevice);
    // PN: fd0 is (2, 0), zero is (1, 5) in makedev encoding.
    assert_eq!((m.rdev, zero.rdev), (0x200, 0x105));
    let link = spindle_fs::resolve(&*fs, "tmp/COPYING").unwrap();
    assert_eq!(fs.read_link(link).unwrap(), "../copying/COPYING");
    assert_eq!(fs.metadata(link).unwrap().size, 18);
}

#[test]
fn detect_reports_views_and_udf_bridges() {
    let d = |p: &str| spindle_fs::detect(&*device(std::path::Path::new(&format!("{SAMPLES}/{p}"))), 0);
    let v = d("libcdio/test-udf1.iso").unwrap();
    assert!(v.has_udf_marker && v.has_joliet, "{v:?}");
    assert!(d("libcdio/udf102.iso").is_err(), "UDF only: no ISO 9660 volume");
    let v = d("libarchive/test_read_format_iso_joliet_rockridge.iso").unwrap();
    assert!(v.has_joliet && v.has_rock_ridge && !v.has_udf_marker, "{v:?}");
    let v = d("libcdio/joliet.iso").unwrap();
    assert!(v.has_joliet && !v.has_rock_ridge, "{v:?}");
    let v = d("libcdio/copying.iso").unwrap();
    assert!(!v.has_joliet && !v.has_rock_ridge && v.boot_catalog.is_none(), "{v:?}");
    assert_eq!(v.label, "CDROM");
}
