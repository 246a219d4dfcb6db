//! `spindle extract` (the real binary) on images made here: what extraction must keep — hard
//! links as hard links, modification times, symlinks with their targets, permission modes —
//! checked against the source tree the image was made from; and the choice of view on a
//! UDF + ISO 9660 bridge disc.

use spindle_testkit::digest::md5_hex;
use spindle_testkit::tools::run;
use spindle_testkit::tree::{Kind, make_removable as unlock};
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, UNIX_EPOCH};

fn spindle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// What a path is, as extraction must reproduce it: kind, permission bits, modification time
/// (seconds), and content hash or symlink target. Symlinks carry neither mode nor time.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Dir { mode: u32, mtime: i64 },
    File { mode: u32, mtime: i64, md5: String },
    Link { target: String },
}

fn walk(root: &Path) -> BTreeMap<String, Entry> {
    let walked = spindle_testkit::tree::walk(root, md5_hex);
    walked
        .into_iter()
        .map(|(rel, e)| {
            let (mode, mtime) = (e.mode, e.mtime);
            let entry = match e.kind {
                Kind::Symlink => Entry::Link { target: e.data },
                Kind::Dir => Entry::Dir { mode, mtime },
                _ => Entry::File {
                    mode,
                    mtime,
                    md5: e.data,
                },
            };
            (rel, entry)
        })
        .collect()
}

/// (device, inode, link count) of a path.
fn inode(p: &Path) -> (u64, u64, u64) {
    let m = std::fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (m.dev(), m.ino(), m.nlink())
}

fn set_mtime(p: &Path, secs: u64) {
    File::open(p)
        .unwrap()
        .set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
}

/// A tree with hard links (a group of three across directories, a pair, and an unlinked copy
/// of the same bytes), symlinks (relative, upward, absolute, dangling, to a directory, a
/// 300-character target), assorted file and directory modes, and distinct old mtimes.
fn make_tree(src: &Path) {
    let dirs = ["sub", "sub/deeper", "private", "locked"];
    for d in dirs {
        std::fs::create_dir_all(src.join(d)).unwrap();
    }
    let files: &[(&str, &[u8], u32)] = &[
        ("h1", b"three names, one file\n", 0o644),
        ("p1", b"two names\n", 0o640),
        ("copy", b"three names, one file\n", 0o644),
        ("secret", b"owner only\n", 0o600),
        ("tool.sh", b"#!/bin/sh\necho hi\n", 0o755),
        ("readonly", b"r--r--r--\n", 0o444),
        ("odd", b"rwxr-x--x\n", 0o751),
        ("sub/plain.txt", b"plain\n", 0o644),
        ("private/inside", b"in a 0700 directory\n", 0o600),
        ("locked/inside", b"in a 0555 directory\n", 0o444),
        ("empty", b"", 0o644),
    ];
    for (p, data, mode) in files {
        std::fs::write(src.join(p), data).unwrap();
        std::fs::set_permissions(src.join(p), std::fs::Permissions::from_mode(*mode)).unwrap();
    }
    std::fs::hard_link(src.join("h1"), src.join("sub/h2")).unwrap();
    std::fs::hard_link(src.join("h1"), src.join("sub/deeper/h3")).unwrap();
    std::fs::hard_link(src.join("p1"), src.join("sub/p2")).unwrap();
    let long: String = (0..30)
        .map(|i| format!("segment{i:02}/"))
        .collect::<String>()
        + "end";
    assert!(long.len() >= 300);
    for (link, target) in [
        ("rel", "h1"),
        ("sub/up", "../p1"),
        ("abs", "/etc/hostname"),
        ("dangling", "no/such/file"),
        ("dirlink", "sub/deeper"),
        ("longlink", long.as_str()),
    ] {
        std::os::unix::fs::symlink(target, src.join(link)).unwrap();
    }
    // Times last (writing into a directory changes its mtime), directories deepest first.
    let mut t = 1_000_000_000u64;
    for (p, _, _) in files {
        t += 86_400 + 37;
        set_mtime(&src.join(p), t);
    }
    for d in ["sub/deeper", "sub", "private", "locked"] {
        t += 3_600 + 11;
        set_mtime(&src.join(d), t);
    }
    std::fs::set_permissions(src.join("private"), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(
        src.join("sub/deeper"),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    std::fs::set_permissions(src.join("locked"), std::fs::Permissions::from_mode(0o555)).unwrap();
}

#[test]
fn extract_keeps_hard_links_times_symlinks_and_modes() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, iso, out) = (
        tmp.path().join("src"),
        tmp.path().join("t.iso"),
        tmp.path().join("out"),
    );
    make_tree(&src);
    run(Command::new("xorriso")
        .args(["-hardlinks", "on", "-outdev"])
        .arg(&iso)
        .arg("-map")
        .arg(&src)
        .args(["/", "-commit"]));
    let o = spindle(&["extract", s(&iso), "-o", s(&out)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = String::from_utf8_lossy(&o.stderr);
    assert!(summary.contains("6 symlinks, 3 hard links"), "{summary}");

    // Same paths, kinds, modes, mtimes (to the second), contents and symlink targets.
    let (want, got) = (walk(&src), walk(&out));
    for (p, w) in &want {
        assert_eq!(got.get(p), Some(w), "{p}");
    }
    assert_eq!(
        got.len(),
        want.len(),
        "extra paths: {:?}",
        got.keys()
            .filter(|k| !want.contains_key(*k))
            .collect::<Vec<_>>()
    );
    assert!(matches!(&got["longlink"], Entry::Link { target } if target.len() >= 300));
    assert_eq!(
        got["locked"],
        Entry::Dir {
            mode: 0o555,
            mtime: want_mtime(&src, "locked")
        }
    );

    // Hard links come out as hard links: one inode per group, with the group's link count.
    let h = inode(&out.join("h1"));
    assert_eq!(h.2, 3, "h1 has three names");
    assert_eq!(inode(&out.join("sub/h2")), h);
    assert_eq!(inode(&out.join("sub/deeper/h3")), h);
    let p = inode(&out.join("p1"));
    assert_eq!((inode(&out.join("sub/p2")), p.2), (p, 2));
    assert_ne!(p.1, h.1);
    // The same bytes under another, unlinked name stay a file of their own.
    let c = inode(&out.join("copy"));
    assert_ne!(c.1, h.1);
    assert_eq!(c.2, 1);
    unlock(tmp.path());
}

fn want_mtime(src: &Path, p: &str) -> i64 {
    std::fs::metadata(src.join(p)).unwrap().mtime()
}

/// A genisoimage `-udf -R -J` bridge disc: without `--fs` spindle extracts the UDF tree (the
/// same as `7z x`), and `--fs iso9660` / `joliet` / `rockridge` each pick the ISO 9660 tree
/// under its own names and modes.
#[test]
fn bridge_disc_defaults_to_udf_and_fs_picks_the_iso_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("Sub Dir")).unwrap();
    // 72 characters: Joliet (and genisoimage's UDF, which takes the Joliet names) keep 64.
    let long = "A long file name that is longer than sixty-four characters for Joliet.txt";
    std::fs::write(src.join(long), b"long\n").unwrap();
    std::fs::write(src.join("Sub Dir/mixed Case.txt"), b"mixed\n").unwrap();
    std::fs::set_permissions(
        src.join("Sub Dir/mixed Case.txt"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    std::fs::set_permissions(src.join("Sub Dir"), std::fs::Permissions::from_mode(0o700)).unwrap();
    let iso = tmp.path().join("bridge.iso");
    run(Command::new("genisoimage")
        .args(["-quiet", "-udf", "-R", "-J", "-V", "BRIDGE", "-o"])
        .arg(&iso)
        .arg(&src));

    let extract = |fs: Option<&str>| {
        let to = tmp.path().join(format!("out-{}", fs.unwrap_or("default")));
        let mut args = vec!["extract", s(&iso), "-o", s(&to)];
        if let Some(f) = fs {
            args.extend(["--fs", f]);
        }
        let o = spindle(&args);
        assert!(
            o.status.success(),
            "{fs:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // (kind, mode, md5) per path; times differ by view only in precision.
        walk(&to)
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Entry::Dir { mode, .. } => format!("d {mode:o}"),
                    Entry::File { mode, md5, .. } => format!("f {mode:o} {md5}"),
                    Entry::Link { target } => format!("l {target}"),
                };
                (k, v)
            })
            .collect::<BTreeMap<_, _>>()
    };
    let names = |t: &BTreeMap<String, String>| t.keys().cloned().collect::<Vec<_>>();
    let default = extract(None);
    let udf = extract(Some("udf"));
    let iso9660 = extract(Some("iso9660"));
    let joliet = extract(Some("joliet"));
    let rr = extract(Some("rockridge"));
    unlock(tmp.path());

    // Default = UDF: Joliet-length names, genisoimage's fixed UDF modes.
    assert_eq!(default, udf);
    let short = &long[..64];
    assert_eq!(
        names(&default),
        [short, "Sub Dir", "Sub Dir/mixed Case.txt"]
    );
    assert_eq!(
        default["Sub Dir/mixed Case.txt"].split(' ').nth(1),
        Some("444")
    );
    // 7z reads the same UDF tree (names and contents).
    let seven = tmp.path().join("7z");
    run(Command::new("7z")
        .args(["x", "-y"])
        .arg(format!("-o{}", seven.display()))
        .arg(&iso));
    let listing = Command::new("7z").arg("l").arg(&iso).output().unwrap();
    assert!(String::from_utf8_lossy(&listing.stdout).contains("Type = Udf"));
    let contents = |t: &BTreeMap<String, String>| {
        t.iter()
            .map(|(k, v)| {
                let what = if v.starts_with('d') {
                    "d"
                } else {
                    v.split(' ').next_back().unwrap()
                };
                (k.clone(), what.to_string())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(contents(&extract_tree(&seven)), contents(&default));

    // --fs iso9660: 8.3 upper-case names, mode 0555 for everything (no Rock Ridge).
    assert_eq!(
        names(&iso9660),
        ["A_LONG_F.TXT", "SUB_DIR", "SUB_DIR/MIXED_CA.TXT"]
    );
    assert!(
        iso9660.values().all(|v| v.split(' ').nth(1) == Some("555")),
        "{iso9660:?}"
    );
    // --fs joliet: the same 64-character names as UDF, but the ISO tree's 0555 modes.
    assert_eq!(names(&joliet), names(&default));
    assert_ne!(joliet, default);
    // --fs rockridge: full names and the source's modes.
    assert_eq!(names(&rr), [long, "Sub Dir", "Sub Dir/mixed Case.txt"]);
    assert_eq!(rr["Sub Dir"], "d 700");
    assert!(rr["Sub Dir/mixed Case.txt"].starts_with("f 640 "));
    // Every view holds the same two contents.
    for t in [&iso9660, &joliet, &rr] {
        let mut a: Vec<_> = contents(t).into_iter().map(|(_, h)| h).collect();
        let mut b: Vec<_> = contents(&default).into_iter().map(|(_, h)| h).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }
}

fn extract_tree(root: &Path) -> BTreeMap<String, String> {
    walk(root)
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Entry::Dir { .. } => "d".to_string(),
                Entry::File { md5, .. } => format!("f {md5}"),
                Entry::Link { target } => format!("l {target}"),
            };
            (k, v)
        })
        .collect()
}
