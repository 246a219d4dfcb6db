//! Truncated and corrupted MDS, MDF and MDX files (header, descriptor, encryption headers,
//! group table, deflate data) end in an error that names the file, never in a panic or a hang.

use spindle_disc::SectorFormat;
use spindle_image::{ConvertOptions, Disc, ImageError, convert, open, open_with};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn mdsx(name: &str) -> PathBuf {
    spindle_testkit::sample("mdsx").join(name)
}

/// Reads every sector of every track; the first error, if any.
fn read_all(d: &Disc) -> Result<(), String> {
    let mut buf = vec![0u8; 64 * 2448];
    for t in d.tracks() {
        let fmt = if t.mode.is_audio() || !d.medium.is_cd() {
            SectorFormat::USER
        } else {
            SectorFormat::RAW
        };
        let fmt = if d.medium.is_cd() {
            fmt
        } else {
            SectorFormat::USER_2048
        };
        let mut lba = t.start;
        while lba < t.end() {
            let n = (t.end().since(lba) as u32).min(64);
            d.read_sectors(lba, n, fmt, &mut buf)
                .map_err(|e| e.to_string())?;
            lba = lba.offset(n as i64);
        }
    }
    Ok(())
}

/// Opens `path` (with `password`) and reads it all: returns the error text, if any, after
/// checking that it took less than a few seconds and that an open error names the file.
fn try_image(path: &Path, password: Option<&str>, longest: &mut Duration) -> Option<String> {
    let t0 = Instant::now();
    let r = open_with(path, password.map(str::to_string));
    let out = match &r {
        Err(e) => {
            let text = chain(e);
            assert!(
                text.contains(&path.file_name().unwrap().to_string_lossy().to_string()),
                "error does not name the file: {text}"
            );
            Some(text)
        }
        Ok(d) => read_all(d).err(),
    };
    *longest = (*longest).max(t0.elapsed());
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "{} took {:?}",
        path.display(),
        t0.elapsed()
    );
    out
}

fn chain(e: &ImageError) -> String {
    let mut out = e.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        out.push_str(" / ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

#[test]
fn truncated_containers() {
    let dir = tempfile::tempdir().unwrap();
    let mut longest = Duration::ZERO;
    let mut errors = 0;
    for (name, pw) in [
        ("test.mdx", None),
        ("test_compress.mdx", None),
        ("test_pass_compress.mdx", Some("pass")),
        ("test_pass.mds", Some("pass")),
        ("test_compress.mds", None),
    ] {
        let data = std::fs::read(mdsx(name)).unwrap();
        let ext = &name[name.len() - 3..];
        if ext == "mds" {
            let mdf = name.replace(".mds", ".mdf");
            std::fs::copy(mdsx(&mdf), dir.path().join("cut.mdf")).unwrap();
        }
        let step = (data.len() / 200).max(1);
        for len in (0..data.len()).step_by(step) {
            let p = dir.path().join(format!("cut.{ext}"));
            std::fs::write(&p, &data[..len]).unwrap();
            if try_image(&p, pw, &mut longest).is_some() {
                errors += 1;
            }
        }
    }
    assert!(errors > 500, "{errors}");
    eprintln!("longest: {longest:?}");
}

#[test]
fn truncated_data_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut longest = Duration::ZERO;
    for (mds, pw) in [
        ("test_compress.mds", None),
        ("test_pass_compress.mds", Some("pass")),
        ("test_pass.mds", Some("pass")),
    ] {
        std::fs::copy(mdsx(mds), dir.path().join("t.mds")).unwrap();
        let mdf = std::fs::read(mdsx(&mds.replace(".mds", ".mdf"))).unwrap();
        for len in [0, 1, 100, mdf.len() / 2] {
            std::fs::write(dir.path().join("t.mdf"), &mdf[..len]).unwrap();
            let err = try_image(&dir.path().join("t.mds"), pw, &mut longest)
                .expect("a truncated MDF must not read");
            assert!(err.contains("t.mdf"), "{err}");
        }
        std::fs::remove_file(dir.path().join("t.mdf")).unwrap();
        let err = try_image(&dir.path().join("t.mds"), pw, &mut longest).unwrap();
        assert!(err.contains("data file \"t.mdf\""), "{err}");
    }
}

/// Bytes of the small compressed samples flipped (every 5th byte of the encrypted ones, whose
/// opening costs three key derivations; every other byte of the compressed MDF), on two threads.
#[test]
fn corrupted_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(&str, &str, Option<&str>, usize)> = Vec::new();
    for (name, pw) in [
        ("test_compress.mdx", None),
        ("test_pass_compress.mdx", Some("pass")),
    ] {
        let len = std::fs::metadata(mdsx(name)).unwrap().len() as usize;
        cases.extend((0..len).step_by(5).map(|i| (name, "mdx", pw, i)));
    }
    let mdf_len = std::fs::metadata(mdsx("test_compress.mdf")).unwrap().len() as usize;
    cases.extend(
        (0..mdf_len)
            .step_by(2)
            .map(|i| ("test_compress.mdf", "mds", None, i)),
    );
    let (a, b) = cases.split_at(cases.len() / 2);
    let failed: usize = std::thread::scope(|s| {
        [a, b]
            .into_iter()
            .enumerate()
            .map(|(w, part)| {
                let dir = dir.path().join(format!("w{w}"));
                s.spawn(move || {
                    std::fs::create_dir(&dir).unwrap();
                    std::fs::copy(mdsx("test_compress.mds"), dir.join("g.mds")).unwrap();
                    let mut longest = Duration::ZERO;
                    let mut failed = 0;
                    for &(name, kind, pw, i) in part {
                        let mut bad = std::fs::read(mdsx(name)).unwrap();
                        bad[i] ^= 0x5A;
                        let p = if kind == "mdx" {
                            dir.join("flip.mdx")
                        } else {
                            std::fs::write(dir.join("g.mdf"), &bad).unwrap();
                            dir.join("g.mds")
                        };
                        if kind == "mdx" {
                            std::fs::write(&p, &bad).unwrap();
                        }
                        if try_image(&p, pw, &mut longest).is_some() {
                            failed += 1;
                        }
                    }
                    failed
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum()
    });
    assert!(failed > 300, "{failed}");
}

/// MDS v1 written by us, then cut and damaged.
#[test]
fn damaged_mds_v1() {
    let dir = tempfile::tempdir().unwrap();
    let iso = mdsx("mdxtest.iso");
    let disc = open(&iso).unwrap();
    let mds = dir.path().join("v1.mds");
    convert(&disc, &mds, &ConvertOptions::default(), &mut |_, _| {}).unwrap();
    let data = std::fs::read(&mds).unwrap();
    let mut longest = Duration::ZERO;
    // Cut anywhere before the file name's terminator.
    for len in 0..data.len() - 2 {
        std::fs::write(&mds, &data[..len]).unwrap();
        assert!(
            try_image(&mds, None, &mut longest).is_some(),
            "cut at {len} of {} still opens",
            data.len()
        );
    }
    for i in 0..data.len() {
        for x in [0xFF, 0x80, 0x01] {
            let mut bad = data.clone();
            bad[i] ^= x;
            std::fs::write(&mds, &bad).unwrap();
            try_image(&mds, None, &mut longest);
        }
    }
    std::fs::write(&mds, &data).unwrap();
    let mdf = dir.path().join("v1.mdf");
    let full = std::fs::metadata(&mdf).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&mdf)
        .unwrap()
        .set_len(full - 2048)
        .unwrap();
    let err = try_image(&mds, None, &mut longest).unwrap();
    assert!(
        err.contains("needs 177 sectors") && err.contains("hold 176"),
        "{err}"
    );
}
