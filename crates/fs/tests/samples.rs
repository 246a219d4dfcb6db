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
    for d in [
        "libarchive",
        "libcdio",
        "kdomanski-iso9660",
        "iso9660-rs",
        "debian-ipxe",
    ] {
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
            assert!(
                walk_host(&x).is_empty(),
                "{name}: we see no ISO 9660 volume, xorriso does"
            );
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
            compare(
                &ours,
                &host,
                kind == spindle_fs::FsKind::RockRidge,
                &format!("{name} ({kind:?})"),
            );
        }));
        make_writable(tmp.path());
        compared += 1;
        if let Err(e) = r {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "panic".into());
            failures.push(format!("{name}: {msg}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every sample but the malformed ones and udf102 (no ISO 9660 volume) is compared.
    assert_eq!(compared, isos.len() - MALFORMED.len() - 1, "{isos:?}");
}

#[test]
fn devices_symlinks_and_modes_of_copying_rr() {
    let dev = device(std::path::Path::new(&format!(
        "{SAMPLES}/libcdio/copying-rr.iso"
    )));
    let fs = open(&dev, spindle_fs::FsKind::RockRidge);
    let fd0 = spindle_fs::resolve(&*fs, "fd0").unwrap();
    let m = fs.metadata(fd0).unwrap();
    assert_eq!(m.kind, spindle_fs::FileKind::BlockDevice);
    assert_eq!(m.mode, 0o444);
    let zero = fs
        .metadata(spindle_fs::resolve(&*fs, "zero").unwrap())
        .unwrap();
    assert_eq!(zero.kind, spindle_fs::FileKind::CharDevice);
    // PN: fd0 is (2, 0), zero is (1, 5) in makedev encoding.
    assert_eq!((m.rdev, zero.rdev), (0x200, 0x105));
    let link = spindle_fs::resolve(&*fs, "tmp/COPYING").unwrap();
    assert_eq!(fs.read_link(link).unwrap(), "../copying/COPYING");
    assert_eq!(fs.metadata(link).unwrap().size, 18);
}

#[test]
fn detect_reports_views_and_udf_bridges() {
    let d =
        |p: &str| spindle_fs::detect(&*device(std::path::Path::new(&format!("{SAMPLES}/{p}"))), 0);
    let v = d("libcdio/test-udf1.iso").unwrap();
    assert!(v.has_udf_marker && v.has_joliet, "{v:?}");
    assert!(
        d("libcdio/udf102.iso").is_err(),
        "UDF only: no ISO 9660 volume"
    );
    let v = d("libarchive/test_read_format_iso_joliet_rockridge.iso").unwrap();
    assert!(
        v.has_joliet && v.has_rock_ridge && !v.has_udf_marker,
        "{v:?}"
    );
    let v = d("libcdio/joliet.iso").unwrap();
    assert!(v.has_joliet && !v.has_rock_ridge, "{v:?}");
    let v = d("libcdio/copying.iso").unwrap();
    assert!(
        !v.has_joliet && !v.has_rock_ridge && v.boot_catalog.is_none(),
        "{v:?}"
    );
    assert_eq!(v.label, "CDROM");
}

/// A directory tree as `walk_dir` reports it, or as `read_dir` + `metadata` + `read_link` do:
/// (path, node, metadata, symlink target or its error), and the error of any listing.
type Listing = Vec<(String, u64, Option<spindle_fs::Metadata>, Option<String>)>;

fn listing(fs: &dyn spindle_fs::FileSystem, walk: bool) -> Listing {
    use spindle_fs::FileKind;
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), fs.root())];
    while let Some((path, dir)) = stack.pop() {
        let mut entries = Vec::new();
        let r = if walk {
            fs.walk_dir(dir, &mut |e| {
                let link = match (e.meta.kind, e.symlink) {
                    (FileKind::Symlink, Some(t)) => Some(t.to_string()),
                    (FileKind::Symlink, None) => Some(
                        fs.read_link(e.node)
                            .map_err(|e| e.to_string())
                            .unwrap_or_else(|e| e),
                    ),
                    _ => None,
                };
                entries.push((e.name.to_string(), e.node, Some(e.meta.clone()), link));
                Ok(())
            })
        } else {
            fs.read_dir(dir).map(|list| {
                for e in list {
                    let m = fs.metadata(e.node).ok();
                    let link = m.as_ref().filter(|m| m.kind == FileKind::Symlink).map(|_| {
                        fs.read_link(e.node)
                            .map_err(|e| e.to_string())
                            .unwrap_or_else(|e| e)
                    });
                    entries.push((e.name, e.node, m, link));
                }
            })
        };
        if let Err(e) = r {
            out.push((format!("{path}: error {e}"), 0, None, None));
            continue;
        }
        for (name, node, m, link) in entries {
            let p = format!("{path}/{name}");
            if m.as_ref().is_some_and(|m| m.kind == FileKind::Dir) {
                stack.push((p.clone(), node));
            }
            out.push((p, node.0, m, link));
        }
    }
    out
}

/// `walk_dir` (uncached, straight from the directory extents) reports what `read_dir` +
/// `metadata` + `read_link` do, in every view of every sample, the malformed ones included.
#[test]
fn walk_dir_matches_read_dir() {
    use spindle_fs::FsKind;
    let mut compared = 0;
    for iso in sample_isos() {
        let dev = device(&iso);
        for kind in [FsKind::Iso9660, FsKind::Joliet, FsKind::RockRidge] {
            let (Ok(a), Ok(b)) = (
                spindle_fs::open_iso(dev.clone(), kind, 0),
                spindle_fs::open_iso(dev.clone(), kind, 0),
            ) else {
                continue;
            };
            let walked = listing(&*a, true);
            let read = listing(&*b, false);
            assert_eq!(walked, read, "{} ({kind:?})", iso.display());
            compared += 1;
        }
    }
    assert!(compared > 20, "{compared} views compared");
}
