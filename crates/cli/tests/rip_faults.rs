//! `spindle rip` against a faulty emulated drive, through the real command (hidden
//! `--emulate` options): the map lists exactly the unreadable sectors (ddrescuelog is the
//! oracle); `--resume` once the drive "recovers" (run without the fault) fills them and the
//! result equals an uninterrupted rip and the source; a SIGINT mid-rip (a slow drive makes the
//! window) leaves a resumable map, and `--resume` gives the same result as an uninterrupted rip.

mod common;

use common::spindle;
use spindle_testkit::samples;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn beside(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// `ddrescuelog -l-`: the bad blocks of a map, one a line.
fn ddrescue_bad(map: &Path, block: u32) -> String {
    let out = Command::new("ddrescuelog")
        .args(["-b", &block.to_string(), "-l-"])
        .arg(map)
        .output()
        .expect("ddrescuelog (apt-get install gddrescue)");
    assert!(out.status.success(), "ddrescuelog: {}", text(&out.stderr));
    text(&out.stdout)
}

/// A clean rip of `src` to `out`.
fn clean_rip(src: &str, out: &Path) {
    let r = spindle(&["rip", "--emulate", src, "-o", out.to_str().unwrap()]);
    assert!(r.status.success(), "{}", text(&r.stderr));
}

#[test]
fn unreadable_sectors_are_listed_then_filled_on_resume() {
    let src = samples().join("generated-chd/mixed-mode1-audio.chd");
    let s = src.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.cue");
    let o = out.to_str().unwrap();
    let r = spindle(&[
        "rip",
        "--emulate",
        s,
        "--emulate-bad-sectors",
        "10,11,500,600-603",
        "-o",
        o,
    ]);
    assert_eq!(r.status.code(), Some(2), "{}", text(&r.stderr));
    let stdout = text(&r.stdout);
    assert!(
        stdout.contains("unreadable sectors (7): 10-11, 500, 600-603"),
        "{stdout}"
    );
    let log = std::fs::read_to_string(beside(&out, ".dat")).unwrap();
    assert!(log.contains("7 unreadable sector(s)"), "{log}");
    // The map lists exactly them (work-file index = LBA: session 1 is read from LBA 0).
    let map = beside(&out, ".rip.map");
    assert_eq!(
        ddrescue_bad(&map, 2448),
        "10\n11\n500\n600\n601\n602\n603\n"
    );
    assert!(
        beside(&out, ".rip").exists(),
        "the work file stays for --resume"
    );

    // Without --resume an existing map is refused.
    let r = spindle(&["rip", "--emulate", s, "-o", o]);
    assert!(!r.status.success());
    assert!(text(&r.stderr).contains("resume"), "{}", text(&r.stderr));

    // The drive "recovers" (no fault this time): --resume fills the sectors in.
    let r = spindle(&["rip", "--emulate", s, "--resume", "-o", o]);
    assert!(r.status.success(), "{}", text(&r.stderr));
    assert!(text(&r.stdout).contains("no errors"));
    assert!(!map.exists(), "a complete rip removes its map");
    let clean = dir.path().join("clean").join("x.cue");
    std::fs::create_dir_all(clean.parent().unwrap()).unwrap();
    clean_rip(s, &clean);
    for name in ["x.cue", "x.bin", "x.cue.dat"] {
        let a = std::fs::read(dir.path().join(name)).unwrap_or_default();
        let b = std::fs::read(clean.parent().unwrap().join(name)).unwrap_or_default();
        if name == "x.cue.dat" {
            // The logs differ only in the output path they name.
            assert_eq!(text(&a), text(&b).replace("clean/", ""), "{name}");
        } else {
            assert!(
                !a.is_empty() && a == b,
                "{name} differs from an uninterrupted rip"
            );
        }
    }
    // And the data equals the source: the raw sectors from LBA 0 (the BIN holds the pregap
    // the rip read, so compare the disc models).
    let a = spindle_image::open(&out).unwrap();
    let b = spindle_image::open(&src).unwrap();
    let raw = |d: &spindle_disc::Disc| {
        let mut v = vec![0u8; 754 * 2352];
        d.read_sectors(
            spindle_disc::Lba(0),
            754,
            spindle_disc::SectorFormat::RAW,
            &mut v,
        )
        .unwrap();
        v
    };
    assert!(raw(&a) == raw(&b), "the resumed rip equals the source");
}

#[test]
fn sigint_leaves_a_resumable_rip() {
    let src = samples().join("debian-ipxe/ipxe.iso");
    let s = src.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.iso");
    let o = out.to_str().unwrap();
    // 1024 sectors in 32-sector reads, 40 ms a command: about 1.5 s of ripping.
    let child = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(["rip", "--emulate", s, "--emulate-delay-ms", "40", "-o", o])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let work = beside(&out, ".rip");
    let start = Instant::now();
    while !work.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no work file appeared"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let r = child.wait_with_output().unwrap();
    assert_eq!(
        r.status.code(),
        Some(130),
        "stdout {} stderr {}",
        text(&r.stdout),
        text(&r.stderr)
    );
    assert!(text(&r.stderr).contains("--resume"), "{}", text(&r.stderr));
    assert!(!out.exists(), "an interrupted rip writes no image");
    // The map is saved and says the rip is partial: finished sectors and non-tried ones.
    let map = beside(&out, ".rip.map");
    let m = std::fs::read_to_string(&map).unwrap();
    let statuses: Vec<char> = m
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(2).and_then(|s| s.chars().next()))
        .collect();
    assert!(statuses.contains(&'+') && statuses.contains(&'?'), "{m}");
    let done = Command::new("ddrescuelog")
        .arg("-D")
        .arg(&map)
        .status()
        .unwrap();
    assert!(
        !done.success(),
        "ddrescuelog -D says the interrupted map is done"
    );

    let r = spindle(&["rip", "--emulate", s, "--resume", "-o", o]);
    assert!(r.status.success(), "{}", text(&r.stderr));
    assert!(
        std::fs::read(&out).unwrap() == std::fs::read(&src).unwrap(),
        "the resumed ISO equals the source"
    );
    let clean = dir.path().join("clean").join("x.iso");
    std::fs::create_dir_all(clean.parent().unwrap()).unwrap();
    clean_rip(s, &clean);
    assert!(std::fs::read(&out).unwrap() == std::fs::read(&clean).unwrap());
    assert_eq!(
        std::fs::read_to_string(beside(&out, ".dat")).unwrap(),
        std::fs::read_to_string(beside(&clean, ".dat"))
            .unwrap()
            .replace("clean/", "")
    );
}

#[test]
fn resume_needs_a_map_and_bad_lists_are_refused() {
    let src = samples().join("debian-ipxe/ipxe.iso");
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("x.iso");
    let r = spindle(&[
        "rip",
        "--emulate",
        src.to_str().unwrap(),
        "--resume",
        "-o",
        o.to_str().unwrap(),
    ]);
    assert!(!r.status.success());
    assert!(text(&r.stderr).contains("no map"), "{}", text(&r.stderr));
    let r = spindle(&[
        "rip",
        "--emulate",
        src.to_str().unwrap(),
        "--emulate-bad-sectors",
        "x",
        "-o",
        o.to_str().unwrap(),
    ]);
    assert!(!r.status.success());
    let r = spindle(&["rip", "/nonexistent/sr9", "-o", o.to_str().unwrap()]);
    assert!(!r.status.success());
    assert!(
        text(&r.stderr).contains("/nonexistent/sr9"),
        "{}",
        text(&r.stderr)
    );
}

/// A drive with a read offset of -30 samples: without `--read-offset` the audio track differs
/// from the source, with `--read-offset -30` it equals it; the data track is untouched.
#[test]
fn read_offset_is_corrected() {
    let src = samples().join("generated-chd/mixed-mode1-audio.chd");
    let s = src.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let raw = |d: &spindle_disc::Disc, lba: i32, n: u32| {
        let mut v = vec![0u8; n as usize * 2352];
        d.read_sectors(
            spindle_disc::Lba(lba),
            n,
            spindle_disc::SectorFormat::RAW,
            &mut v,
        )
        .unwrap();
        v
    };
    let source = spindle_image::open(&src).unwrap();
    for (name, fix) in [("plain", None), ("fixed", Some("-30"))] {
        let out = dir.path().join(format!("{name}.cue"));
        let mut args = vec![
            "rip",
            "--emulate",
            s,
            "--emulate-read-offset",
            "-30",
            "-o",
            out.to_str().unwrap(),
        ];
        if let Some(f) = fix {
            args.extend(["--read-offset", f]);
        }
        let r = spindle(&args);
        assert!(r.status.success(), "{}", text(&r.stderr));
        let d = spindle_image::open(&out).unwrap();
        assert!(
            raw(&d, 0, 302) == raw(&source, 0, 302),
            "{name}: data track"
        );
        let same = raw(&d, 452, 302) == raw(&source, 452, 302);
        assert_eq!(same, fix.is_some(), "{name}: audio track equals the source");
    }
}
