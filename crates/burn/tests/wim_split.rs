//! spindle's WIM splitter against wimlib-imagex (wimtools), a tool nobody here wrote: the
//! parts of a WIM it splits must pass `wimlib-imagex verify`, list the same tree with `dir`
//! and apply to the same files as the source; solid WIMs are refused with the reason.

use spindle_bytes::ByteSource;
use spindle_disc::FileSource;
use spindle_testkit::tools::{run, stdout};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

fn pattern(seed: u64, len: usize) -> Vec<u8> {
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

/// A tree of incompressible files and a few small and repeated ones, captured by wimlib.
fn capture(dir: &Path, extra: &[&str]) -> std::path::PathBuf {
    let src = dir.join("tree");
    std::fs::create_dir_all(src.join("Windows/System32")).unwrap();
    for i in 0..6u64 {
        std::fs::write(
            src.join(format!("Windows/big{i}.dll")),
            pattern(i, 1_500_000 + i as usize),
        )
        .unwrap();
    }
    for i in 0..50u64 {
        std::fs::write(
            src.join(format!("Windows/System32/f{i}.txt")),
            pattern(100 + i, 3000),
        )
        .unwrap();
    }
    std::fs::write(src.join("same1"), b"the same bytes").unwrap();
    std::fs::write(src.join("same2"), b"the same bytes").unwrap();
    let wim = dir.join("install.wim");
    run(Command::new("wimlib-imagex")
        .arg("capture")
        .arg(&src)
        .arg(&wim)
        .arg("Windows Test")
        .args(extra));
    // A second image sharing most files: metadata for two images in part 1.
    std::fs::write(src.join("second.txt"), b"only in image 2").unwrap();
    run(Command::new("wimlib-imagex")
        .arg("append")
        .arg(&src)
        .arg(&wim)
        .arg("Second")
        .args(extra));
    wim
}

fn open(p: &Path) -> Arc<dyn ByteSource> {
    let f = std::fs::File::open(p).unwrap();
    let len = f.metadata().unwrap().len();
    Arc::new(FileSource::from_file(f, len, p))
}

fn split_and_check(compress: &str) {
    let dir = tempfile::tempdir().unwrap();
    let wim = capture(dir.path(), &[&format!("--compress={compress}")]);
    let limit = 2 << 20;
    let parts = spindle_burn::wim::split(open(&wim), "install.wim", limit).unwrap();
    assert!(parts.len() >= 4, "{} parts", parts.len());
    let out = dir.path().join("sources");
    std::fs::create_dir(&out).unwrap();
    for (i, p) in parts.iter().enumerate() {
        let want = if i == 0 {
            "install.swm".to_string()
        } else {
            format!("install{}.swm", i + 1)
        };
        assert_eq!(p.name, want);
        let mut data = vec![0u8; p.bytes.len() as usize];
        p.bytes.read_exact_at(&mut data, 0).unwrap();
        assert!(
            data.len() as u64 <= limit + 1_000_000,
            "{} is {} bytes",
            p.name,
            data.len()
        );
        std::fs::write(out.join(&p.name), data).unwrap();
    }
    let first = out.join("install.swm");
    let refs = format!("--ref={}/install*.swm", out.display());
    // verify reads every resource of the set and checks its SHA-1 (fails the test otherwise).
    run(Command::new("wimlib-imagex")
        .arg("verify")
        .arg(&first)
        .arg(&refs));
    let info = stdout(Command::new("wimlib-imagex").arg("info").arg(&first));
    let part_line = info
        .lines()
        .find(|l| l.starts_with("Part Number:"))
        .unwrap_or("");
    assert!(
        part_line.ends_with(&format!(" 1/{}", parts.len())),
        "{info}"
    );
    // Every file, stream hash, size and reference count the same; only where each resource
    // is (offset, part) differs.
    let same = |s: String| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with("Offset in WIM") && !l.starts_with("Part Number"))
            .map(str::to_string)
            .collect()
    };
    for image in ["1", "2"] {
        let dir = |w: &Path, refs: Option<&str>| {
            let mut c = Command::new("wimlib-imagex");
            c.arg("dir").arg(w).arg(image).arg("--detailed").args(refs);
            same(stdout(&mut c))
        };
        let (a, b) = (dir(&wim, None), dir(&first, Some(&refs)));
        assert!(a.len() > 100, "{} lines listed", a.len());
        let differ = a.iter().zip(&b).position(|(x, y)| x != y);
        assert!(
            a.len() == b.len() && differ.is_none(),
            "image {image} lists differently from the split set at line {differ:?}"
        );
    }
    // Applied, the split set gives the same files as the source.
    let (x, y) = (dir.path().join("x"), dir.path().join("y"));
    run(Command::new("wimlib-imagex")
        .arg("apply")
        .arg(&wim)
        .arg("2")
        .arg(&x));
    run(Command::new("wimlib-imagex")
        .arg("apply")
        .arg(&first)
        .arg("2")
        .arg(&y)
        .arg(&refs));
    run(Command::new("diff").arg("-r").arg(&x).arg(&y));
}

#[test]
fn uncompressed_wim_splits_into_parts_wimlib_verifies() {
    split_and_check("none");
}

#[test]
fn lzx_wim_splits_into_parts_wimlib_verifies() {
    split_and_check("LZX");
}

#[test]
fn solid_and_bad_wims_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let wim = capture(dir.path(), &["--solid"]);
    let e = spindle_burn::wim::split(open(&wim), "install.esd", 2 << 20)
        .err()
        .unwrap();
    assert!(e.contains("solid") && e.contains("export"), "{e}");
    let junk = dir.path().join("junk.wim");
    std::fs::write(&junk, pattern(1, 4096)).unwrap();
    let e = spindle_burn::wim::split(open(&junk), "junk.wim", 2 << 20)
        .err()
        .unwrap();
    assert!(e.contains("MSWIM"), "{e}");
    // A resource larger than a part cannot be split this way.
    let wim = capture(&dir.path().join("b"), &["--compress=none"]);
    let e = spindle_burn::wim::split(open(&wim), "install.wim", 1 << 20)
        .err()
        .unwrap();
    assert!(e.contains("more than a part can hold"), "{e}");
}
