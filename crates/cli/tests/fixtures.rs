//! Golden tests over the generated fixtures in fixtures/ (made by fixtures/make.py): the TOC
//! `spindle info --json` reports and the hashes `spindle verify` prints must equal the
//! reviewed expectations beside each fixture. `SPINDLE_BLESS=1` rewrites them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"))
}

fn run(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "spindle {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `info --json` without the fields that depend on where the checkout is.
fn info(image: &Path) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&run(&["info", "--json", image.to_str().unwrap()])).unwrap();
    let obj = v.as_object_mut().unwrap();
    obj.remove("path");
    obj.remove("files");
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

/// `verify` without its first line (the image path, which depends on the checkout).
fn verify(image: &Path) -> String {
    let out = run(&["verify", image.to_str().unwrap()]);
    assert!(out.starts_with("Image: "), "{out}");
    out.split_once('\n')
        .map(|(_, rest)| rest.to_string())
        .unwrap_or_default()
}

fn check(got: &str, expected_file: &Path) {
    if std::env::var_os("SPINDLE_BLESS").is_some() {
        std::fs::write(expected_file, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(expected_file)
        .unwrap_or_else(|e| panic!("{}: {e}", expected_file.display()));
    assert_eq!(
        got,
        want,
        "{} differs (SPINDLE_BLESS=1 rewrites it after review)",
        expected_file.display()
    );
}

#[test]
fn cd_extra_fixture_matches_its_expected_toc_and_hashes() {
    let dir = fixtures().join("cd-extra");
    let cue = dir.join("disc.cue");
    check(&info(&cue), &dir.join("expected-info.json"));
    check(&verify(&cue), &dir.join("expected-verify.txt"));

    // Facts checked by hand, so the golden files cannot drift silently.
    let v: serde_json::Value = serde_json::from_str(&info(&cue)).unwrap();
    assert_eq!(v["sessions"][0]["leadout"], 85);
    assert_eq!(
        v["sessions"][1]["tracks"][0]["start"],
        85 + 11_400,
        "session 2 starts 11400 sectors after lead-out 1"
    );
    assert_eq!(v["sessions"][0]["tracks"][1]["indexes"][0], 75);
    assert_eq!(v["label"], "SPINDLE_FIXTURE");

    // Through BIN/CUE and back: same TOC and hashes (file names aside).
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rt.cue");
    run(&["convert", cue.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(info(&out), info(&cue));
    // The hashes must match; the EDC/ECC summary differs (the BIN now stores EDC/ECC).
    let roms = |s: String| {
        s.lines()
            .filter_map(|l| l.find(" size=").map(|i| l[i..].to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(roms(verify(&out)), roms(verify(&cue)));
}
