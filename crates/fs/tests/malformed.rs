//! Broken samples end in a clear error or a partial listing, quickly, without a panic.

mod common;
use common::*;
use spindle_bytes::MemSource;
use spindle_fs::{FileKind, FileSystem, FsError, FsKind, detect, open_iso};
use std::time::{Duration, Instant};

/// Walks everything reachable, reading every file; collects the errors met on the way.
fn walk_collecting(fs: &dyn FileSystem, errors: &mut Vec<String>) -> usize {
    let mut seen = 0;
    let mut stack = vec![fs.root()];
    while let Some(dir) = stack.pop() {
        let entries = match fs.read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        for e in entries {
            seen += 1;
            match fs.metadata(e.node) {
                Ok(m) if m.kind == FileKind::Dir => stack.push(e.node),
                Ok(m) if m.kind == FileKind::File => {
                    if let Err(err) = read_all(fs, e.node) {
                        errors.push(err.to_string());
                    }
                }
                Ok(m) if m.kind == FileKind::Symlink => {
                    if let Err(err) = fs.read_link(e.node) {
                        assert!(matches!(err, FsError::Corrupt { .. }), "{err}");
                        errors.push(err.to_string());
                    }
                }
                Ok(_) => {}
                Err(err) => errors.push(err.to_string()),
            }
        }
    }
    seen
}

/// Walks every view of a sample; returns (entries seen, errors met).
fn walk_sample(rel: &str) -> (usize, Vec<String>) {
    let path = std::path::PathBuf::from(format!("{SAMPLES}/{rel}"));
    let dev = device(&path);
    let mut errors = Vec::new();
    let mut seen = 0;
    match detect(&*dev, 0) {
        Err(e) => errors.push(e.to_string()),
        Ok(v) => {
            let mut kinds = vec![FsKind::Iso9660];
            if v.has_joliet {
                kinds.push(FsKind::Joliet);
            }
            if v.has_rock_ridge {
                kinds.push(FsKind::RockRidge);
            }
            for k in kinds {
                match open_iso(dev.clone(), k, 0) {
                    Ok(fs) => seen += walk_collecting(&*fs, &mut errors),
                    Err(e) => errors.push(e.to_string()),
                }
            }
        }
    }
    (seen, errors)
}

/// Peak resident memory of this process so far (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/self/status");
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib << 10
}

/// A hang fails the test after this long instead of blocking the run.
const HANG_LIMIT: Duration = Duration::from_secs(5);
/// What the issue asks of every malformed sample.
const TIME_LIMIT: Duration = Duration::from_secs(1);
/// Growth of the process's peak memory allowed while one sample is read (generous: the
/// samples are at most a few hundred KiB; other tests run in parallel in this process).
const MEMORY_LIMIT: u64 = 512 << 20;

/// Walks a sample on its own thread, failing (not hanging) when it takes longer than
/// [`HANG_LIMIT`]; then checks the time, the memory, and the errors: with `expect` `None` the
/// sample must read cleanly; with `Some(words)` some error must contain every one of `words`.
fn check(rel: &str, expect: Option<&[&str]>) -> Vec<String> {
    let before = peak_rss();
    let (tx, rx) = std::sync::mpsc::channel();
    let name = rel.to_string();
    std::thread::spawn(move || {
        let t = Instant::now();
        let r = walk_sample(&name);
        let _ = tx.send((r, t.elapsed()));
    });
    let ((seen, errors), took) = match rx.recv_timeout(HANG_LIMIT) {
        Ok(r) => r,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{rel}: no result after {HANG_LIMIT:?} (a hang?)")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic!("{rel}: the reader panicked")
        }
    };
    let grew = peak_rss().saturating_sub(before);
    eprintln!(
        "{rel}: {seen} entries, {took:?}, peak memory +{} KiB, errors: {errors:?}",
        grew >> 10
    );
    assert!(took < TIME_LIMIT, "{rel} took {took:?}");
    assert!(
        grew < MEMORY_LIMIT,
        "{rel}: peak memory grew by {grew} bytes"
    );
    match expect {
        None => assert!(
            errors.is_empty(),
            "{rel}: expected to read cleanly, got {errors:?}"
        ),
        Some(words) => assert!(
            errors.iter().any(|e| words.iter().all(|w| e.contains(w))),
            "{rel}: no error mentioning all of {words:?} in {errors:?}"
        ),
    }
    errors
}

#[test]
fn libcdio_bad_dir() {
    check(
        "libcdio/bad-dir.iso",
        Some(&["corrupt iso9660", "root directory has no '.' record"]),
    );
}

#[test]
fn libcdio_malformed() {
    // The primary volume descriptor's logical block size field holds ASCII "00" (12336).
    check(
        "libcdio/malformed.iso",
        Some(&["logical block size 12336", "only 2048"]),
    );
    // The root directory's first record claims to be 2 bytes long.
    check(
        "libcdio/malformed2.iso",
        Some(&[
            "corrupt iso9660",
            "directory record of 2 bytes",
            "34 needed",
        ]),
    );
}

#[test]
fn libarchive_ce_loop() {
    check(
        "libarchive/test_read_format_iso_rockridge_ce_loop.iso",
        Some(&["corrupt rockridge", "continuation areas loop"]),
    );
}

/// test_read_format_iso_rockridge_zf_overflow: directory `A` has a zero-length extent and a
/// `CE` whose continuation area (the image's last block: PD padding) ends in a `ZF` entry of
/// 5 bytes, too short for the zisofs parameters (libarchive once read past the buffer there).
/// Both views report the truncated entry when `A` is read; the root still lists `A`.
#[test]
fn libarchive_zf_overflow() {
    let rel = "libarchive/test_read_format_iso_rockridge_zf_overflow.iso";
    let errors = check(
        rel,
        Some(&[
            "corrupt zisofs",
            "ZF (zisofs) entry of \"A\"",
            "5 bytes long",
            "too short",
        ]),
    );
    let dev = device(std::path::Path::new(&format!("{SAMPLES}/{rel}")));
    let fs = open_iso(dev, FsKind::Iso9660, 0).unwrap();
    let a = spindle_fs::resolve(&*fs, "A").unwrap();
    assert_eq!(fs.metadata(a).unwrap().kind, FileKind::Dir);
    assert!(matches!(fs.read_dir(a), Err(FsError::Corrupt { .. })));
    assert_eq!(errors.len(), 1, "{errors:?}");
}

/// The same image with the bad `ZF` blanked: `A` is then a directory whose extent is 0 bytes
/// long, with no '.' or '..' record, which is corrupt rather than empty.
#[test]
fn directory_without_records_is_corrupt() {
    let mut img = std::fs::read(format!(
        "{SAMPLES}/libarchive/test_read_format_iso_rockridge_zf_overflow.iso"
    ))
    .unwrap();
    let n = img.len();
    assert_eq!(&img[n - 5..n - 3], b"ZF");
    img[n - 5..].fill(0);
    let dev: spindle_fs::Device = std::sync::Arc::new(MemSource::new(img, "malformed.iso"));
    let fs = open_iso(dev, FsKind::Iso9660, 0).unwrap();
    let a = spindle_fs::resolve(&*fs, "A").unwrap();
    let err = fs.read_dir(a).unwrap_err().to_string();
    assert!(
        err.contains("holds no records") && err.contains("0 bytes"),
        "{err}"
    );
}

#[test]
fn libarchive_zisofs_overflow() {
    // OVERFLOW.BIN's ZF entry and zisofs header claim 4294966265 bytes in blocks of 2^2.
    check(
        "libarchive/test_read_format_iso_zisofs_overflow.iso",
        Some(&["corrupt zisofs", "zisofs block size 2^2", "15..17 allowed"]),
    );
}

/// Joliet names of 103 characters (206 bytes, past Joliet's 64), nested six deep (libarchive's
/// test of an overflow in its UTF-16BE name handling): they read cleanly, and the tree equals
/// xorriso's extraction (of the Joliet tree: the primary one is empty).
#[test]
fn libarchive_joliet_utf16_overflow() {
    let rel = "libarchive/test_read_format_iso_joliet_utf16be_overflow.iso";
    check(rel, None);
    let path = std::path::PathBuf::from(format!("{SAMPLES}/{rel}"));
    let tmp = tempfile::tempdir().unwrap();
    let x = xorriso_extract(&path, tmp.path()).expect("xorriso reads it");
    let dev = device(&path);
    let kind = xorriso_view(&dev);
    let ours = walk_ours(&*open(&dev, kind));
    make_writable(tmp.path());
    assert_eq!(ours.len(), 6, "{ours:?}");
    compare(&ours, &walk_host(&x), kind == FsKind::RockRidge, rel);
    assert_eq!(kind, FsKind::Joliet);
    let deepest = ours.keys().max_by_key(|p| p.len()).unwrap();
    assert_eq!(deepest.split('/').count(), 6, "{deepest}");
    assert!(
        deepest.split('/').next().unwrap().len() == 103 && deepest.len() > 500,
        "{deepest}"
    );
}

/// A directory whose child points back at the root extent is a loop, reported as such.
#[test]
fn directory_loop_is_corrupt() {
    let mut img = std::fs::read(format!("{SAMPLES}/libcdio/copying-rr.iso")).unwrap();
    // Root directory at block 23; its child "copy" is at block 24. Point copy's record at 23.
    let root = 23 * 2048;
    let mut pos = root;
    let mut patched = false;
    while img[pos] != 0 {
        let len = img[pos] as usize;
        if u32::from_le_bytes(img[pos + 2..pos + 6].try_into().unwrap()) == 24 {
            img[pos + 2..pos + 6].copy_from_slice(&23u32.to_le_bytes());
            img[pos + 6..pos + 10].copy_from_slice(&23u32.to_be_bytes());
            patched = true;
        }
        pos += len;
    }
    assert!(patched);
    let dev: spindle_fs::Device = std::sync::Arc::new(MemSource::new(img, "malformed.iso"));
    let fs = open_iso(dev, FsKind::RockRidge, 0).unwrap();
    let copy = spindle_fs::resolve(&*fs, "copy").unwrap();
    let err = fs.read_dir(copy).unwrap_err();
    assert!(
        matches!(err, FsError::Corrupt { .. }) && err.to_string().contains("loop"),
        "{err}"
    );
    let mut errors = Vec::new();
    walk_collecting(&*fs, &mut errors);
    assert_eq!(errors.len(), 1, "{errors:?}");
}

/// Truncated images: every prefix length of a sample opens or fails cleanly.
#[test]
fn truncated_images_fail_cleanly() {
    let img = std::fs::read(format!(
        "{SAMPLES}/libarchive/test_read_format_iso_xorriso.iso"
    ))
    .unwrap();
    for cut in (0..img.len()).step_by(2048 * 7).chain([img.len() - 1000]) {
        let dev: spindle_fs::Device =
            std::sync::Arc::new(MemSource::new(img[..cut].to_vec(), "cut.iso"));
        let Ok(v) = detect(&*dev, 0) else { continue };
        let kind = if v.has_rock_ridge {
            FsKind::RockRidge
        } else {
            FsKind::Iso9660
        };
        if let Ok(fs) = open_iso(dev, kind, 0) {
            walk_collecting(&*fs, &mut Vec::new());
        }
    }
}

/// A poor man's fuzzer: random byte damage in the metadata area of real images; every view is
/// walked and every file read; nothing may panic or take long.
#[test]
fn random_damage_never_panics() {
    let samples = [
        "libarchive/test_read_format_iso_xorriso.iso",
        "libarchive/test_read_format_iso_zisofs.iso",
        "libarchive/test_read_format_iso_rockridge_ce.iso",
        "libarchive/test_read_format_iso_joliet_rockridge.iso",
        "libcdio/deep-directory.iso",
        "libcdio/multi_extent_8k.iso",
        "debian-ipxe/ipxe.iso",
    ];
    let mut rng = spindle_testkit::pattern::Rng::new(0x1234_5678);
    let mut rnd = move || rng.next_u32();
    let t = Instant::now();
    for s in samples {
        let img = std::fs::read(format!("{SAMPLES}/{s}")).unwrap();
        // Metadata lives in the first ~60 blocks of these images.
        let meta_end = img.len().min(60 * 2048);
        for _ in 0..60 {
            let mut m = img.clone();
            for _ in 0..(1 + rnd() % 24) {
                let at = 16 * 2048 + (rnd() as usize) % (meta_end - 16 * 2048);
                m[at] = rnd() as u8;
            }
            let dev: spindle_fs::Device = std::sync::Arc::new(MemSource::new(m, "mutated.iso"));
            let _ = spindle_fs::boot_entries(&*dev, 0);
            let Ok(v) = detect(&*dev, 0) else { continue };
            for (k, on) in [
                (FsKind::Iso9660, true),
                (FsKind::Joliet, v.has_joliet),
                (FsKind::RockRidge, v.has_rock_ridge),
            ] {
                let Ok(fs) = open_iso(dev.clone(), k, 0) else {
                    continue;
                };
                if on {
                    walk_collecting(&*fs, &mut Vec::new());
                }
            }
        }
    }
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}
