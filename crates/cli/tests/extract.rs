//! `spindle extract` against xorriso's own extraction (`xorriso -osirrox on -indev X -extract /
//! DIR`) on every sample ISO xorriso can read: same names, content hashes, symlink targets and
//! permission modes. Also `ls` and `cat` on the same images, and extraction through other
//! image formats (a CUE/BIN).

use md5::{Digest, Md5};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn samples() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/samples"))
}

/// Every file, directory and symlink under `root`: path → (kind, mode, md5 or link target).
fn tree(root: &Path) -> BTreeMap<String, (char, u32, String)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let mode = m.permissions().mode() & 0o7777;
            if m.file_type().is_symlink() {
                out.insert(rel, ('l', 0, std::fs::read_link(&p).unwrap().to_string_lossy().into_owned()));
            } else if m.is_dir() {
                out.insert(rel, ('d', mode, String::new()));
                stack.push(p);
            } else {
                let h: String = Md5::digest(std::fs::read(&p).unwrap()).iter().map(|b| format!("{b:02x}")).collect();
                out.insert(rel, ('f', mode, h));
            }
        }
    }
    out
}

fn xorriso_extract(iso: &Path, to: &Path) -> bool {
    let o = Command::new("xorriso")
        .args(["-abort_on", "FAILURE", "-osirrox", "on", "-indev"])
        .arg(iso)
        .args(["-extract", "/"])
        .arg(to)
        .output()
        .expect("xorriso must be installed (scripts/setup installs it)");
    o.status.success()
}

fn spindle(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_spindle")).args(args).output().unwrap()
}

/// Makes extracted trees removable (xorriso and spindle both lock read-only directories).
fn unlock(root: &Path) {
    let _ = Command::new("chmod").args(["-R", "u+rwx"]).arg(root).status();
}

const ISOS: &[&str] = &[
    "libarchive/test_read_format_iso.iso",
    "libarchive/test_read_format_iso_2.iso",
    "libarchive/test_read_format_iso_3.iso",
    "libarchive/test_read_format_iso_joliet.iso",
    "libarchive/test_read_format_iso_joliet_by_nero.iso",
    "libarchive/test_read_format_iso_joliet_long.iso",
    "libarchive/test_read_format_iso_joliet_rockridge.iso",
    "libarchive/test_read_format_iso_multi_extent.iso",
    "libarchive/test_read_format_iso_rockridge.iso",
    "libarchive/test_read_format_iso_rockridge_ce.iso",
    "libarchive/test_read_format_iso_xorriso.iso",
    "libarchive/test_read_format_iso_zisofs.iso",
    "libcdio/copying.iso",
    "libcdio/copying-rr.iso",
    "libcdio/joliet.iso",
    "libcdio/deep-directory.iso",
    "libcdio/multi_extent_8k.iso",
    "libcdio/multi_extent_8k_joliet.iso",
    "libcdio/multi_extent_8k_emul_toc_padded.iso",
    "libcdio/test-udf1.iso",
    "kdomanski-iso9660/test.iso",
    "kdomanski-iso9660/test_rockridge.iso",
    "iso9660-rs/test.iso",
    "debian-ipxe/ipxe.iso",
];

#[test]
fn extract_matches_xorriso_on_every_sample_iso() {
    let mut compared = 0;
    let mut failures = Vec::new();
    for name in ISOS {
        let iso = samples().join(name);
        let dir = tempfile::tempdir().unwrap();
        let (theirs, ours) = (dir.path().join("xorriso"), dir.path().join("spindle"));
        if !xorriso_extract(&iso, &theirs) {
            eprintln!("{name}: xorriso cannot read it; skipped as malformed");
            continue;
        }
        // xorriso reads the ISO 9660 side (Rock Ridge, else plain names) even on a UDF bridge.
        let fs = if name.ends_with("udf1.iso") { "rockridge" } else { "" };
        let mut args = vec!["extract", iso.to_str().unwrap(), "-o", ours.to_str().unwrap()];
        if !fs.is_empty() {
            args.extend(["--fs", fs]);
        }
        let o = spindle(&args);
        if !o.status.success() {
            failures.push(format!("{name}: spindle extract failed: {}", String::from_utf8_lossy(&o.stderr)));
            unlock(dir.path());
            continue;
        }
        let (a, b) = (tree(&theirs), tree(&ours));
        if a != b {
            let only_theirs: Vec<_> = a.iter().filter(|(k, v)| b.get(*k) != Some(v)).take(5).collect();
            let only_ours: Vec<_> = b.iter().filter(|(k, v)| a.get(*k) != Some(v)).take(5).collect();
            failures.push(format!(
                "{name}: trees differ\n  xorriso: {only_theirs:?}\n  spindle: {only_ours:?}"
            ));
        }
        compared += 1;
        unlock(dir.path());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared >= 20, "only {compared} images compared");
}

#[test]
fn ls_and_cat_read_the_tree() {
    let iso = samples().join("libcdio/copying-rr.iso");
    let o = spindle(&["ls", "-l", "-R", iso.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("COPYING"), "{out}");
    let o = spindle(&["cat", iso.to_str().unwrap(), "/COPYING"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("GNU GENERAL PUBLIC LICENSE"));
    let o = spindle(&["cat", iso.to_str().unwrap(), "/nope"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nope"));
}

#[test]
fn extract_works_through_a_cue_bin() {
    // isofs-m1.bin holds raw Mode 1 sectors: the filesystem is read through the CUE format.
    let dir = tempfile::tempdir().unwrap();
    let cue = samples().join("libcdio/isofs-m1.cue");
    let iso = dir.path().join("plain.iso");
    assert!(spindle(&["convert", cue.to_str().unwrap(), iso.to_str().unwrap()]).status.success());
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert!(xorriso_extract(&iso, &a));
    let o = spindle(&["extract", cue.to_str().unwrap(), "-o", b.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(tree(&a), tree(&b));
    assert!(tree(&b).contains_key("doc/readme.txt"));
    unlock(dir.path());
}

#[test]
fn boot_lists_el_torito_entries_like_xorriso_and_writes_the_images() {
    let iso = samples().join("debian-ipxe/ipxe.iso");
    let report = Command::new("xorriso")
        .args(["-indev"])
        .arg(&iso)
        .args(["-report_el_torito", "plain"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&report.stdout).into_owned();
    // "El Torito boot img :   2  UEFI  y   none  0x0000  0x00   1728          34"
    let theirs: Vec<(String, String, String)> = report
        .lines()
        .filter(|l| l.starts_with("El Torito boot img :"))
        .map(|l| {
            let f: Vec<&str> = l.split(':').nth(1).unwrap().split_whitespace().collect();
            (f[1].to_string(), f[6].to_string(), f[7].to_string())
        })
        .collect();
    assert_eq!(theirs.len(), 2, "{report}");
    let dir = tempfile::tempdir().unwrap();
    let o = spindle(&["boot", iso.to_str().unwrap(), "-o", dir.path().to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ours: Vec<(String, String, String)> = out
        .lines()
        .filter(|l| l.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[1].to_string(), f[5].to_string(), f[4].to_string())
        })
        .collect();
    assert_eq!(ours, theirs, "platform, sectors, load RBA\n{out}");
    let efi = std::fs::read(dir.path().join("boot-02-uefi.img")).unwrap();
    let o = spindle(&["cat", iso.to_str().unwrap(), "/efi.img"]);
    assert_eq!(efi, o.stdout, "the UEFI boot image is efi.img");
}

#[test]
fn udf_extract_matches_7z() {
    for name in ["libcdio/test-udf1.iso", "libcdio/udf102.iso"] {
        let iso = samples().join(name);
        let dir = tempfile::tempdir().unwrap();
        let (theirs, ours) = (dir.path().join("7z"), dir.path().join("spindle"));
        let o = Command::new("7z")
            .args(["x", "-y"])
            .arg(format!("-o{}", theirs.display()))
            .arg(&iso)
            .output()
            .expect("7z must be installed (scripts/setup)");
        assert!(o.status.success(), "{name}: 7z failed");
        // 7z reads UDF on these images; spindle prefers UDF on a bridge disc by default.
        let listing = Command::new("7z").args(["l"]).arg(&iso).output().unwrap();
        assert!(
            String::from_utf8_lossy(&listing.stdout).contains("Type = Udf"),
            "{name}: 7z did not pick UDF"
        );
        let o = spindle(&["extract", iso.to_str().unwrap(), "-o", ours.to_str().unwrap()]);
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        // 7z does not keep modes: compare kinds, names and contents.
        let strip = |t: BTreeMap<String, (char, u32, String)>| t.into_iter().map(|(k, (c, _, h))| (k, c, h)).collect::<Vec<_>>();
        assert_eq!(strip(tree(&theirs)), strip(tree(&ours)), "{name}");
        unlock(dir.path());
    }
    // udf102.iso holds a file with a non-ASCII name (OSTA CS0, 16-bit).
    let o = spindle(&["ls", samples().join("libcdio/udf102.iso").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("FéжΘvrier"));
}
