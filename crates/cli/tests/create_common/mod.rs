//! Helpers of the `spindle create` tests: source trees with the awkward cases, and listings
//! of folders (what `xorriso` and `7z` extracted) to compare.

#![allow(dead_code)] // each test binary uses a part

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output};

/// One entry of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `d`, `f` or `l`.
    pub kind: char,
    /// Permission bits.
    pub mode: u32,
    /// Owner and group.
    pub owner: (u32, u32),
    /// Size in bytes (files).
    pub size: u64,
    /// SHA-256 of the content (files) or the link target (symlinks).
    pub digest: String,
    /// Modification time, seconds.
    pub mtime: i64,
}

/// A folder's entries by path below it (`/a/b`), and its hard-link groups (paths sharing
/// an inode, each group sorted, groups of two or more only).
pub struct Listing {
    pub entries: BTreeMap<String, Entry>,
    pub links: Vec<Vec<String>>,
}

/// Lists `root` (an explicit stack, no recursion).
pub fn list(root: &Path) -> Listing {
    let mut entries = BTreeMap::new();
    let mut inodes: BTreeMap<(u64, u64), Vec<String>> = BTreeMap::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            let name = e.file_name().into_string().unwrap();
            let r = format!("{rel}/{name}");
            let m = fs::symlink_metadata(&path).unwrap();
            let ft = m.file_type();
            let (kind, digest) = if ft.is_dir() {
                stack.push((path.clone(), r.clone()));
                ('d', String::new())
            } else if ft.is_symlink() {
                let t = fs::read_link(&path).unwrap();
                ('l', hex(&Sha256::digest(t.as_os_str().as_encoded_bytes())))
            } else {
                inodes
                    .entry((m.dev(), m.ino()))
                    .or_default()
                    .push(r.clone());
                ('f', file_digest(&path))
            };
            entries.insert(
                r,
                Entry {
                    kind,
                    mode: m.mode() & 0o7777,
                    owner: (m.uid(), m.gid()),
                    size: if kind == 'f' { m.len() } else { 0 },
                    digest,
                    mtime: m.mtime(),
                },
            );
        }
    }
    let mut links: Vec<Vec<String>> = inodes
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|mut g| {
            g.sort();
            g
        })
        .collect();
    links.sort();
    Listing { entries, links }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn file_digest(p: &Path) -> String {
    let mut f = fs::File::open(p).unwrap();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex(&h.finalize())
}

/// Runs a command; panics with its output unless it succeeds.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `spindle` with `args`, its environment without `SOURCE_DATE_EPOCH`.
pub fn spindle(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("run spindle")
}

/// Sets a path's modification time (not following symlinks).
pub fn set_mtime(p: &Path, secs: i64) {
    run(Command::new("touch")
        .arg("-h")
        .arg("-d")
        .arg(format!("@{secs}"))
        .arg(p));
}

/// A 200-character name: 50 `c` then 150 `x` (`é` is two bytes: 250 of the 255 a name
/// may have).
pub fn long_name(c: char) -> String {
    std::iter::repeat_n(c, 50)
        .chain(std::iter::repeat_n('x', 150))
        .collect()
}

/// The awkward tree: deep paths, 200-character and UTF-8 names, symlinks of every shape,
/// two hard-link groups, special modes, an owner, times from 1850 to 2200, empty files.
pub fn awkward_tree(root: &Path) {
    let w = |rel: &str, data: &[u8]| {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
    };
    w("plain.txt", b"hello\n");
    w("empty", b"");
    w("sub/empty2", b"");
    w(&long_name('L'), b"long name\n");
    w(&format!("sub/{}", long_name('é')), b"long accented name\n");
    w("Ünïcødé 😀 名前.txt", "unicode\n".as_bytes());
    w("a*b?c:d.txt", b"joliet-forbidden characters\n");
    w("readme.TXT", b"1");
    w("README.txt", b"2");
    w(".hidden", b"hidden files are kept\n");
    let random: Vec<u8> = (0..1_000_003u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    w("bin/random.bin", &random);
    // 100 levels: a path of about 1100 bytes.
    let mut deep = String::from("deep");
    for i in 0..100 {
        deep.push_str(&format!("/level_{i:02}"));
    }
    w(&format!("{deep}/bottom.txt"), b"at the bottom\n");
    // Symlinks.
    for (name, target) in [
        ("links/rel", "../plain.txt".to_string()),
        ("links/abs", "/etc/passwd".to_string()),
        ("links/dots", "./x/../y/.".to_string()),
        ("links/dangling", "nowhere/at/all".to_string()),
        ("links/long", "component/".repeat(60) + "end"),
        ("links/huge_component", "x".repeat(250)),
        ("links/to_dir", "../sub".to_string()),
    ] {
        let p = root.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        symlink(target, p).unwrap();
    }
    // Hard links.
    w("hard/one", b"one file, three names\n");
    fs::hard_link(root.join("hard/one"), root.join("hard/two")).unwrap();
    fs::hard_link(root.join("hard/one"), root.join("sub/three")).unwrap();
    w("hard/other", b"another group\n");
    fs::hard_link(root.join("hard/other"), root.join("hard/other2")).unwrap();
    // Modes and an owner.
    let mode = |rel: &str, m: u32| {
        fs::set_permissions(root.join(rel), fs::Permissions::from_mode(m)).unwrap()
    };
    w("modes/setuid", b"#!/bin/sh\n");
    mode("modes/setuid", 0o4755);
    w("modes/private", b"secret\n");
    mode("modes/private", 0o600);
    w("modes/none", b"no permissions\n");
    mode("modes/none", 0o000);
    fs::create_dir_all(root.join("modes/sticky")).unwrap();
    mode("modes/sticky", 0o1777);
    fs::create_dir_all(root.join("modes/closed")).unwrap();
    w("modes/closed/inside", b"x");
    mode("modes/closed", 0o700);
    w("modes/owned", b"owned by 1234:5678\n");
    std::os::unix::fs::chown(root.join("modes/owned"), Some(1234), Some(5678)).unwrap();
    // Times: 1850, 1901, 1960, 2039, 2100, 2200.
    for (name, secs) in [
        ("times/1850", -3_786_825_600i64),
        ("times/1901", -2_177_452_800),
        ("times/1960", -315_619_200),
        ("times/2039", 2_177_452_800),
        ("times/2100", 4_102_444_800),
        ("times/2200", 7_258_118_400),
    ] {
        w(name, name.as_bytes());
        set_mtime(&root.join(name), secs);
    }
    set_mtime(&root.join("links/rel"), 1_000_000_000);
    set_mtime(&root.join("times"), -100_000);
}
