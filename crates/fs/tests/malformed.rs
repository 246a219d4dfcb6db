//! Broken samples end in a clear error or a partial listing, quickly, without a panic.

mod common;
use common::*;
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

fn check(rel: &str, expect_error: Option<&str>) {
    let path = std::path::PathBuf::from(format!("{SAMPLES}/{rel}"));
    let dev = device(&path);
    let t = Instant::now();
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
    let took = t.elapsed();
    eprintln!("{rel}: {seen} entries, {took:?}, errors: {errors:?}");
    assert!(took < Duration::from_secs(1), "{rel} took {took:?}");
    if let Some(want) = expect_error {
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "{rel}: no error mentioning {want:?} in {errors:?}"
        );
    }
}

#[test]
fn libcdio_bad_dir() {
    check("libcdio/bad-dir.iso", Some("corrupt"));
}

#[test]
fn libcdio_malformed() {
    check("libcdio/malformed.iso", None);
    check("libcdio/malformed2.iso", None);
}

#[test]
fn libarchive_ce_loop() {
    check("libarchive/test_read_format_iso_rockridge_ce_loop.iso", Some("loop"));
}

#[test]
fn libarchive_zisofs_overflows() {
    check("libarchive/test_read_format_iso_rockridge_zf_overflow.iso", None);
    check("libarchive/test_read_format_iso_zisofs_overflow.iso", None);
}

#[test]
fn libarchive_joliet_utf16_overflow() {
    check("libarchive/test_read_format_iso_joliet_utf16be_overflow.iso", None);
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
    let dev: spindle_fs::Device = std::sync::Arc::new(img);
    let fs = open_iso(dev, FsKind::RockRidge, 0).unwrap();
    let copy = spindle_fs::resolve(&*fs, "copy").unwrap();
    let err = fs.read_dir(copy).unwrap_err();
    assert!(matches!(err, FsError::Corrupt { .. }) && err.to_string().contains("loop"), "{err}");
    let mut errors = Vec::new();
    walk_collecting(&*fs, &mut errors);
    assert_eq!(errors.len(), 1, "{errors:?}");
}

/// Truncated images: every prefix length of a sample opens or fails cleanly.
#[test]
fn truncated_images_fail_cleanly() {
    let img = std::fs::read(format!("{SAMPLES}/libarchive/test_read_format_iso_xorriso.iso")).unwrap();
    for cut in (0..img.len()).step_by(2048 * 7).chain([img.len() - 1000]) {
        let dev: spindle_fs::Device = std::sync::Arc::new(img[..cut].to_vec());
        let Ok(v) = detect(&*dev, 0) else { continue };
        let kind = if v.has_rock_ridge { FsKind::RockRidge } else { FsKind::Iso9660 };
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
    let mut x = 0x1234_5678u32;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
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
            let dev: spindle_fs::Device = std::sync::Arc::new(m);
            let _ = spindle_fs::boot_entries(&*dev, 0);
            let Ok(v) = detect(&*dev, 0) else { continue };
            for (k, on) in [
                (FsKind::Iso9660, true),
                (FsKind::Joliet, v.has_joliet),
                (FsKind::RockRidge, v.has_rock_ridge),
            ] {
                let Ok(fs) = open_iso(dev.clone(), k, 0) else { continue };
                if on {
                    walk_collecting(&*fs, &mut Vec::new());
                }
            }
        }
    }
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}
