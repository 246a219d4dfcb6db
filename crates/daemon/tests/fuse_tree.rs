//! Real FUSE mounts of disc trees: a sample of every format the registry reads, compared
//! with what crates/fs reads directly and with xorriso's extraction; hard links, inode
//! stability, statfs, mountinfo, swaps, reader errors.

mod fuse_common;

use fuse_common::*;
use spindle_fuse::{MountOptions, mount_tree};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::time::Instant;

/// (sample, password, xorriso can read the file itself).
const SAMPLES: &[(&str, Option<&str>, bool)] = &[
    ("libcdio/isofs-m1.cue", None, false),
    ("libcdio/joliet.iso", None, true),
    ("libcdio/copying-rr.iso", None, true),
    ("libarchive/test_read_format_iso_zisofs.iso", None, true),
    ("libcdio/test-udf1.iso", None, false),
    ("mdsx/test_pass_compress.mdx", Some("pass"), false),
    // videocd.nrg: spindle_image::filesystem finds no ISO 9660 (it looks in the last data
    // track, a VCD keeps it in track 1); NRG is covered by the raw views (drives.rs).
    ("cditools/test.cdi", None, false),
    ("generated-chd/isofs-m1.chd", None, false),
];

fn check_sample(rel: &str, password: Option<&str>, xorriso: bool) {
    let t0 = Instant::now();
    let disc = disc(rel, password);
    let fs = fs_of(&disc);
    let direct = walk_fs(fs.as_ref());
    let mp = MountPoint::new();
    let m = mount_tree(fs.clone(), &mp.path(), &MountOptions::default()).unwrap();
    assert!(mounted(&mp.path()), "{rel}: not in mountinfo");
    let (through, inos) = walk(&mp.path());
    assert!(!through.is_empty(), "{rel}: empty tree");
    assert_eq!(through, direct, "{rel}: the mount differs from crates/fs");
    // Hard links (same Metadata::ino) share one inode; other nodes have their own.
    let (again, inos2) = walk(&mp.path());
    assert_eq!(again, through);
    assert_eq!(inos, inos2, "{rel}: inode numbers changed between walks");
    // xorriso reads ISO files; for the other formats it reads what `spindle_image::convert`
    // makes of the data track (the same bytes as `drives/N/disc.iso`). A UDF tree is not
    // what xorriso shows (it reads ISO 9660 only), and a volume in a later session (test.cdi:
    // audio, then data at LBA 11702) addresses its blocks from LBA 0, which an extracted
    // track does not start at.
    let at_zero = disc.first_data_track().is_some_and(|t| t.index1().0 == 0);
    if fs.kind() != spindle_fs::FsKind::Udf && at_zero {
        let x = tempfile::tempdir().unwrap();
        let iso = if xorriso {
            disc.source.path.clone()
        } else {
            let out = x.path().join("converted.iso");
            let opts = spindle_image::ConvertOptions {
                format: None,
                data_only: true,
                write: Default::default(),
            };
            spindle_image::convert(&disc, &out, &opts, &mut |_, _| {}).unwrap();
            out
        };
        let x = tempfile::tempdir().unwrap();
        assert!(
            spindle_testkit::tree::xorriso_extract(&iso, x.path()),
            "{rel}: xorriso failed"
        );
        let (ext, _) = walk(x.path());
        spindle_testkit::tree::make_removable(x.path());
        // Directory modes of xorriso's copy are the extracting system's, and xorriso does not
        // create device nodes (copying-rr.iso has two).
        let strip = |t: &BTreeMap<String, Ent>| -> BTreeMap<String, Ent> {
            t.iter()
                .filter(|(_, e)| e.kind != 'o')
                .map(|(k, e)| {
                    let mut e = e.clone();
                    if e.kind == 'd' {
                        e.mode = 0;
                    }
                    (k.clone(), e)
                })
                .collect()
        };
        assert_eq!(
            strip(&through),
            strip(&ext),
            "{rel}: the mount differs from xorriso's extraction"
        );
    }
    let st = nix_statfs(&mp.path());
    assert_eq!(st.0, 2048, "{rel}: statfs block size");
    m.unmount().unwrap();
    assert!(!mounted(&mp.path()), "{rel}: still mounted");
    eprintln!("{rel}: {} nodes in {:?}", through.len(), t0.elapsed());
}

fn nix_statfs(p: &std::path::Path) -> (u64, u64) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: statvfs is plain old data; all zeros is valid.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a NUL-terminated path; s is a valid statvfs the call fills.
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut s) }, 0);
    (s.f_bsize as u64, s.f_blocks as u64)
}

#[test]
fn every_format_through_the_mount() {
    let _w = watchdog(120);
    for (rel, pw, x) in SAMPLES {
        check_sample(rel, *pw, *x);
    }
}

#[test]
fn rock_ridge_symlinks_modes_and_mountinfo() {
    let _w = watchdog(30);
    let disc = disc("libcdio/copying-rr.iso", None);
    let mp = MountPoint::new();
    let opts = MountOptions {
        fsname: "copying-rr.iso".into(),
        ..Default::default()
    };
    let m = mount_tree(fs_of(&disc), &mp.path(), &opts).unwrap();
    let info = spindle_fuse::find_mount(&mp.path()).expect("in mountinfo");
    assert_eq!(info.fstype, "fuse.spindle");
    assert_eq!(info.source, "copying-rr.iso");
    assert_eq!(m.device(), Some(info.dev));
    assert_eq!(
        std::fs::metadata(mp.path()).unwrap().ino(),
        1,
        "the root is inode 1"
    );
    // 1016 when spliced replies cap max_read at what a 1 MiB pipe holds (as root).
    assert!(
        matches!(m.read_ahead_kb(), Some(1016 | 1024)),
        "bdi read_ahead_kb {:?}",
        m.read_ahead_kb()
    );
    let (t, _) = walk(&mp.path());
    assert!(
        t.values().any(|e| e.kind == 'l'),
        "copying-rr.iso has symlinks: {t:?}"
    );
    // Read-only: no writes, no new files.
    let f = t.iter().find(|(_, e)| e.kind == 'f').unwrap().0;
    assert!(
        std::fs::OpenOptions::new()
            .write(true)
            .open(mp.path().join(f))
            .is_err()
    );
    assert!(std::fs::File::create(mp.path().join("new")).is_err());
    drop(m);
    assert!(!mounted(&mp.path()));
}
