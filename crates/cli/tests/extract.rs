//! `spindle extract` against xorriso's own extraction (`xorriso -osirrox on -indev X -extract /
//! DIR`) on every sample ISO xorriso can read: same names, content hashes, symlink targets and
//! permission modes. Also `ls` and `cat` on the same images, and extraction through other
//! image formats (a CUE/BIN).

mod common;

use spindle_testkit::digest::md5_hex;
use spindle_testkit::samples;
use spindle_testkit::tree::{Kind, make_removable as unlock, xorriso_extract};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Every file, directory and symlink under `root`: path → (kind, mode, md5 or link target).
fn tree(root: &Path) -> BTreeMap<String, (char, u32, String)> {
    let walked = spindle_testkit::tree::walk(root, md5_hex);
    walked
        .into_iter()
        .map(|(rel, e)| {
            let row = match e.kind {
                Kind::Symlink => ('l', 0, e.data),
                Kind::Dir => ('d', e.mode, String::new()),
                _ => ('f', e.mode, e.data),
            };
            (rel, row)
        })
        .collect()
}

fn spindle(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .output()
        .unwrap()
}

/// The sample folders holding ISO images; every `*.iso` in them is compared with xorriso.
const SAMPLE_DIRS: &[&str] = &[
    "libarchive",
    "libcdio",
    "kdomanski-iso9660",
    "iso9660-rs",
    "debian-ipxe",
];

/// The ISOs not compared with xorriso, and why (each checked by running xorriso 1.5.4).
const NOT_COMPARED: &[(&str, &str)] = &[
    // xorriso exits 5: "Unsupported ECMA-119 feature" (the root block has no '.' record).
    ("libcdio/bad-dir.iso", "xorriso fails"),
    // xorriso exits 5: "Wrong or damaged Primary Volume Descriptor" (block size "00").
    ("libcdio/malformed.iso", "xorriso fails"),
    // xorriso exits 5: takes the 2-byte '.' record for an interleaved file, cannot open /.
    ("libcdio/malformed2.iso", "xorriso fails"),
    // xorriso exits 5: "Can't open dir /A" (a 0-byte directory whose CE ends in a short ZF).
    (
        "libarchive/test_read_format_iso_rockridge_zf_overflow.iso",
        "xorriso fails",
    ),
    // xorriso follows the self-referencing CE without end (killed after 20 s).
    (
        "libarchive/test_read_format_iso_rockridge_ce_loop.iso",
        "xorriso loops",
    ),
    // xorriso exits 0 but writes the 2064 stored (compressed) bytes of OVERFLOW.BIN as the
    // file; spindle reports the impossible zisofs header (block size 2^2) instead.
    (
        "libarchive/test_read_format_iso_zisofs_overflow.iso",
        "xorriso dumps raw zisofs",
    ),
    // UDF only: xorriso sees no ISO 9660 tree (extracts nothing); `udf_extract_matches_7z`
    // compares it with 7z.
    ("libcdio/udf102.iso", "UDF only"),
];

/// Every `*.iso` in the sample folders, as paths relative to the samples folder.
fn sample_isos() -> Vec<String> {
    let mut out = Vec::new();
    for d in SAMPLE_DIRS {
        for e in std::fs::read_dir(samples().join(d)).unwrap_or_else(|e| panic!("{d}: {e}")) {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".iso") {
                out.push(format!("{d}/{name}"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn extract_matches_xorriso_on_every_sample_iso() {
    let isos = sample_isos();
    for (name, _) in NOT_COMPARED {
        assert!(
            isos.iter().any(|i| i == name),
            "{name} is excluded but not among the samples"
        );
    }
    let mut compared = Vec::new();
    let mut failures = Vec::new();
    for name in &isos {
        if NOT_COMPARED.iter().any(|(n, _)| n == name) {
            continue;
        }
        let iso = samples().join(name);
        let dir = tempfile::tempdir().unwrap();
        let (theirs, ours) = (dir.path().join("xorriso"), dir.path().join("spindle"));
        if !xorriso_extract(&iso, &theirs) {
            failures.push(format!(
                "{name}: xorriso cannot read it (add it to NOT_COMPARED with a reason?)"
            ));
            unlock(dir.path());
            continue;
        }
        // xorriso reads the ISO 9660 side (Rock Ridge, else plain names) even on a UDF bridge.
        let fs = if name.ends_with("udf1.iso") {
            "rockridge"
        } else {
            ""
        };
        let mut args = vec![
            "extract",
            iso.to_str().unwrap(),
            "-o",
            ours.to_str().unwrap(),
        ];
        if !fs.is_empty() {
            args.extend(["--fs", fs]);
        }
        let o = spindle(&args);
        if !o.status.success() {
            failures.push(format!(
                "{name}: spindle extract failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
            unlock(dir.path());
            continue;
        }
        let (a, b) = (tree(&theirs), tree(&ours));
        if a != b {
            let only_theirs: Vec<_> = a
                .iter()
                .filter(|(k, v)| b.get(*k) != Some(v))
                .take(5)
                .collect();
            let only_ours: Vec<_> = b
                .iter()
                .filter(|(k, v)| a.get(*k) != Some(v))
                .take(5)
                .collect();
            failures.push(format!(
                "{name}: trees differ\n  xorriso: {only_theirs:?}\n  spindle: {only_ours:?}"
            ));
        }
        compared.push(name.clone());
        unlock(dir.path());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!(
        "compared {} of {} sample ISOs with xorriso",
        compared.len(),
        isos.len()
    );
    assert_eq!(
        compared.len(),
        isos.len() - NOT_COMPARED.len(),
        "compared: {compared:?}"
    );
    assert!(
        compared
            .iter()
            .any(|n| n.ends_with("joliet_utf16be_overflow.iso"))
    );
}

/// Runs spindle with a deadline: a hang fails the test instead of blocking the run.
fn spindle_within(args: &[&str], limit: std::time::Duration) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > limit {
            child.kill().unwrap();
            let _ = child.wait();
            panic!("spindle {args:?} still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `spindle extract` on each malformed sample: exit status 1, a `spindle: error:` message
/// naming the problem, no panic, done in a few seconds.
#[test]
fn extract_fails_clearly_on_malformed_samples() {
    let cases: &[(&str, &[&str])] = &[
        ("libcdio/bad-dir.iso", &["root directory has no '.' record"]),
        // The image layer finds no readable volume descriptor before the filesystem does
        // (crates/fs/tests/malformed.rs checks the filesystem's own "logical block size").
        (
            "libcdio/malformed.iso",
            &["not a disc image spindle can read"],
        ),
        ("libcdio/malformed2.iso", &["directory record of 2 bytes"]),
        (
            "libarchive/test_read_format_iso_rockridge_zf_overflow.iso",
            &["ZF (zisofs) entry of \"A\"", "too short"],
        ),
        (
            "libarchive/test_read_format_iso_rockridge_ce_loop.iso",
            &["continuation areas loop"],
        ),
        (
            "libarchive/test_read_format_iso_zisofs_overflow.iso",
            &["OVERFLOW.BIN", "zisofs block size 2^2"],
        ),
    ];
    for (name, words) in cases {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let iso = samples().join(name);
        let t = std::time::Instant::now();
        let o = spindle_within(
            &[
                "extract",
                iso.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ],
            std::time::Duration::from_secs(10),
        );
        let took = t.elapsed();
        let err = String::from_utf8_lossy(&o.stderr);
        eprintln!("{name}: {took:?}: {err}");
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains("spindle: error:") && !err.contains("panicked"),
            "{name}: {err}"
        );
        for w in *words {
            assert!(err.contains(w), "{name}: no {w:?} in {err}");
        }
        assert!(
            took < std::time::Duration::from_secs(3),
            "{name} took {took:?}"
        );
        unlock(dir.path());
    }
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
    assert!(
        spindle(&["convert", cue.to_str().unwrap(), iso.to_str().unwrap()])
            .status
            .success()
    );
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
    let o = spindle(&[
        "boot",
        iso.to_str().unwrap(),
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ours: Vec<(String, String, String)> = out
        .lines()
        .filter(|l| {
            l.trim_start()
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        })
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
        let o = spindle(&[
            "extract",
            iso.to_str().unwrap(),
            "-o",
            ours.to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // 7z does not keep modes: compare kinds, names and contents.
        let strip = |t: BTreeMap<String, (char, u32, String)>| {
            t.into_iter()
                .map(|(k, (c, _, h))| (k, c, h))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(tree(&theirs)), strip(tree(&ours)), "{name}");
        unlock(dir.path());
    }
    // udf102.iso holds a file with a non-ASCII name (OSTA CS0, 16-bit).
    let o = spindle(&["ls", samples().join("libcdio/udf102.iso").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("FéжΘvrier"));
}
