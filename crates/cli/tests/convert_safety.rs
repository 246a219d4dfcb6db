//! `spindle convert` never leaves a half-written or quietly different image: options a target
//! cannot honour are refused before anything is written, Ctrl-C removes what was written and
//! keeps the previous outputs, and an error leaves nothing behind.

mod common;

use common::spindle;
use spindle_testkit::digest::tool_sum;
use spindle_testkit::samples;
use spindle_testkit::tree::names as entries;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// sha256 of every file in `dir` but `skip`, by name.
fn sha256s(dir: &Path, skip: &str) -> BTreeMap<String, String> {
    entries(dir)
        .into_iter()
        .filter(|n| n != skip)
        .map(|n| {
            let sum = tool_sum("sha256sum", &dir.join(&n));
            (n, sum)
        })
        .collect()
}

/// The formats `convert` writes, with the data file each one writes first.
const TARGETS: [(&str, &str); 5] = [
    ("iso", "x.iso"),
    ("cue", "x.bin"),
    ("mds", "x.mdf"),
    ("mdx", "x.mdx"),
    ("ccd", "x.img"),
];

#[test]
fn options_a_target_cannot_honour_are_refused_before_anything_is_written() {
    let src = samples().join("libcdio/copying.iso");
    for (fmt, _) in TARGETS {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(format!("x.{fmt}"));
        let enc = spindle(&["convert", s(&src), s(&out), "--encrypt", "s3cret"]);
        if fmt == "mdx" {
            assert!(enc.status.success(), "{}", stderr(&enc));
            // Really encrypted: it does not open without the password, and does with it.
            let no = spindle(&["info", s(&out)]);
            assert!(
                !no.status.success(),
                "an encrypted MDX opened without its password"
            );
            let yes = spindle(&["info", "--password", "s3cret", s(&out)]);
            assert!(yes.status.success(), "{}", stderr(&yes));
            let unc = spindle(&["convert", s(&src), s(&out), "--uncompressed"]);
            assert!(unc.status.success(), "{}", stderr(&unc));
            continue;
        }
        let unc = spindle(&["convert", s(&src), s(&out), "--uncompressed"]);
        for (o, option) in [(&enc, "--encrypt"), (&unc, "--uncompressed")] {
            let err = stderr(o);
            assert!(!o.status.success(), "{fmt} took {option}");
            assert!(
                err.contains(&format!("{fmt} cannot take"))
                    && err.contains(option)
                    && err.contains("only mdx can"),
                "{fmt} {option}: {err}"
            );
            assert!(
                entries(dir.path()).is_empty(),
                "{fmt} {option} wrote {:?}",
                entries(dir.path())
            );
        }
    }
}

/// A `len`-byte file of xorshift noise (deflate cannot shrink it, so MDX writes take long).
fn noise_file(path: &Path, len: usize) {
    spindle_testkit::pattern::write_file(path, len as u64, 0)
}

/// Bytes in the work folders `convert` writes into.
fn staged_bytes(dir: &Path) -> u64 {
    entries(dir)
        .iter()
        .filter(|n| n.starts_with(".spindle-convert-"))
        .flat_map(|n| std::fs::read_dir(dir.join(n)).into_iter().flatten())
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum()
}

#[test]
fn sigint_removes_the_partial_outputs_and_keeps_the_previous_ones() {
    // tmpfs when there is one: a few hundred MB written and thrown away per format.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let big = dir.path().join("big.iso");
    noise_file(&big, 320 << 20);
    let small = samples().join("libcdio/copying.iso");
    for (fmt, data_file) in TARGETS {
        let work = dir.path().join(fmt);
        std::fs::create_dir(&work).unwrap();
        let out = work.join(format!("x.{fmt}"));
        // The previous outputs: the same target written from another image.
        let prev = spindle(&["convert", s(&small), s(&out)]);
        assert!(prev.status.success(), "{fmt}: {}", stderr(&prev));
        let before = sha256s(&work, "");
        assert!(!before.is_empty());

        let mut child = Command::new(env!("CARGO_BIN_EXE_spindle"))
            .args(["convert", s(&big), s(&out)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while staged_bytes(&work) < 4 << 20 {
            assert!(
                child.try_wait().unwrap().is_none(),
                "{fmt}: convert ended before it was interrupted"
            );
            assert!(
                start.elapsed() < Duration::from_secs(300),
                "{fmt}: the output never grew"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let kill = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(130), "{fmt}: {err}");
        assert!(
            err.contains("removed the unfinished") && err.contains(data_file),
            "{fmt}: the message does not say what was removed: {err}"
        );
        assert_eq!(
            sha256s(&work, ""),
            before,
            "{fmt}: the previous outputs changed"
        );
        assert!(
            !entries(&work)
                .iter()
                .any(|n| n.starts_with(".spindle-convert-")),
            "{fmt}: left {:?}",
            entries(&work)
        );
    }
}

#[test]
fn a_failed_conversion_leaves_nothing_behind() {
    let src = samples().join("libcdio/cdda.cue");
    let dir = tempfile::tempdir().unwrap();
    // The cue sheet's name is taken by a folder: the BIN is written, then the move fails.
    std::fs::create_dir(dir.path().join("x.cue")).unwrap();
    let o = spindle(&["convert", s(&src), s(&dir.path().join("x.cue"))]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
    assert_eq!(entries(dir.path()), ["x.cue"], "left behind");

    // A successful conversion leaves exactly its outputs.
    let out: PathBuf = dir.path().join("y.ccd");
    let o = spindle(&["convert", s(&src), s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(entries(dir.path()), ["x.cue", "y.ccd", "y.img", "y.sub"]);
}
