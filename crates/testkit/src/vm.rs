//! The host side of the kernel VM tests (crates/vmtest): building what the guest runs, and
//! the hashes the guest checks the kernel's view against, made on the host with our own
//! `spindle` (its path given: `spindle_vmtest::spindle_binary()`) and coreutils.

use crate::digest::tool_sum_bytes;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `cmd`; fails the test unless it succeeds; its standard output.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    crate::tools::run(cmd).stdout
}

/// `cargo build` with `args` (`$CARGO`, else `cargo`) in the workspace; fails the test
/// unless it builds.
pub fn cargo_build(args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let st = Command::new(cargo)
        .arg("build")
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .status()
        .expect("running cargo build");
    assert!(st.success(), "cargo build {args:?} failed");
}

/// Builds `example` of `package` (a debug build) and gives its path under `target_dir`
/// (`spindle_vmtest::target_dir()`).
pub fn cargo_example(target_dir: &Path, package: &str, example: &str) -> PathBuf {
    cargo_build(&["-p", package, "--example", example]);
    target_dir.join("debug/examples").join(example)
}

/// `sha256sum` of bytes.
pub fn sha256(bytes: &[u8]) -> String {
    tool_sum_bytes("sha256sum", bytes)
}

/// The SHA-256 of one file of `image`, as `spindle cat` reads it on the host.
pub fn cat_sha256(spindle: &Path, image: &Path, path: &str) -> String {
    sha256(&run(Command::new(spindle).arg("cat").arg(image).arg(path)))
}

/// A `sha256sum -c` file for every regular file of `image` (`spindle extract` on the host, with
/// the filesystem view `fs` when given), its paths under `mount` (the guest's mount point).
pub fn tree_sums(spindle: &Path, image: &Path, fs: Option<&str>, mount: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("x");
    let mut cmd = Command::new(spindle);
    cmd.arg("extract").arg("-o").arg(&out).arg(image);
    if let Some(fs) = fs {
        cmd.args(["--fs", fs]);
    }
    run(&mut cmd);
    let list = run(Command::new("find")
        .arg(".")
        .args(["-type", "f", "-exec", "sha256sum", "{}", "+"])
        .current_dir(&out));
    let text = String::from_utf8(list).unwrap();
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| {
            let (hash, name) = l.split_once("  ").expect("sha256sum line");
            format!("{hash}  {mount}/{}", name.trim_start_matches("./"))
        })
        .collect();
    lines.sort();
    assert!(!lines.is_empty(), "{} has no files", image.display());
    lines.join("\n") + "\n"
}

/// What the kernel should show of a drive's raw export (`drive<N>.raw`, 2352-byte sectors from
/// the first track's start, its pregap of `pregap` sectors included) on 512-byte blocks:
/// (the device's size in blocks, the SHA-256 of the device's bytes after the pregap). The bytes
/// come from the BIN `spindle convert` writes (MODE1/2352, no pregap), cut where the kernel's
/// whole 512-byte blocks end.
pub fn raw_export_expectation(spindle: &Path, image: &Path, pregap: u64) -> (u64, String) {
    let tmp = tempfile::tempdir().unwrap();
    let cue = tmp.path().join("x.cue");
    run(Command::new(spindle).arg("convert").arg(image).arg(&cue));
    let bin = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("bin")))
        .expect("spindle convert wrote a .bin");
    let bytes = std::fs::read(bin).unwrap();
    let export = pregap * 2352 + bytes.len() as u64;
    let blocks = export / 512;
    let visible = (blocks * 512 - pregap * 2352) as usize;
    (blocks, sha256(&bytes[..visible]))
}
