//! Helpers of the FAT oracle tests: pattern files, running tools, reading a volume back.

#![allow(dead_code)]

use spindle_bytes::{ByteSource, MemSource};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// `len` bytes of a pattern that differs per `seed` and per position.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A file source of the pattern.
pub fn file(seed: u64, len: usize) -> (Arc<dyn ByteSource>, Vec<u8>) {
    let data = pattern(seed, len);
    (
        Arc::new(MemSource::new(data.clone(), format!("file{seed}"))),
        data,
    )
}

/// Runs `cmd`, which must exist and succeed; returns stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .env("LC_ALL", "C.UTF-8")
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e} (scripts/setup installs it)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `fsck.fat -n` must find nothing: exit 0 and no line besides its banner and summary.
pub fn fsck_clean(dev: &Path) {
    fsck_clean_but(dev, &[]);
}

/// As [`fsck_clean`], except that the report may hold exactly `known` (lines fsck.fat prints
/// about a correct filesystem, see the big-file test) and then exits 1.
pub fn fsck_clean_but(dev: &Path, known: &[&str]) {
    let out = Command::new("fsck.fat")
        .arg("-n")
        .arg(dev)
        .output()
        .expect("fsck.fat (dosfstools; scripts/setup installs it)");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let lines: Vec<_> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let report: Vec<_> = lines
        .iter()
        .skip(1)
        .take(lines.len().saturating_sub(2))
        .copied()
        .collect();
    assert_eq!(
        report,
        known,
        "fsck.fat -n {} reported:\n{text}",
        dev.display()
    );
    let rc = if known.is_empty() { 0 } else { 1 };
    assert_eq!(
        out.status.code(),
        Some(rc),
        "fsck.fat -n {}: {text}",
        dev.display()
    );
}

/// Copies the whole volume out with `mcopy -s` (mtools reading the image itself; `image` may
/// carry an `@@offset`) and returns every file, by path relative to the root.
pub fn mtools_files(image: &str, into: &Path) -> BTreeMap<String, Vec<u8>> {
    run(Command::new("mcopy")
        .args(["-s", "-n", "-p", "-i", image, "::/"])
        .arg(into));
    let mut out = BTreeMap::new();
    let mut stack = vec![into.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(into).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Every directory under `into`, relative.
pub fn dirs_under(into: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![into.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                out.push(e.path().strip_prefix(into).unwrap().to_path_buf());
                stack.push(e.path());
            }
        }
    }
    out
}
