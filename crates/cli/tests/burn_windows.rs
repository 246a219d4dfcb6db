//! `spindle burn` of a Windows installation ISO (issue 18) onto loop devices (root): the stick
//! is built from the ISO's files (MBR, one active FAT32 partition at 1 MiB, every file with
//! its name and bytes), checked with tools nobody here wrote: `sfdisk --json`, `fsck.fat -n`
//! and mtools. `--raw` writes the ISO as it is; an ISO whose files FAT cannot hold is refused
//! without writing anything; an interrupted burn leaves no MBR and no boot sector.

use spindle_testkit::loopdev::Loop;
use spindle_testkit::tools::{run, tool};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn spindle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

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

/// A Windows-like ISO made by genisoimage (ISO 9660 + Joliet + UDF, like the real media):
/// the files by path, and the ISO.
fn windows_iso(dir: &Path, extra: &[(&str, usize)]) -> (BTreeMap<String, Vec<u8>>, PathBuf) {
    let tree = dir.join("win");
    let mut files = BTreeMap::new();
    let list: Vec<(&str, usize)> = [
        ("bootmgr", 300_001),
        ("bootmgr.efi", 70_000),
        ("autorun.inf", 43),
        ("setup.exe", 90_000),
        ("sources/install.wim", 5 << 20),
        ("sources/boot.wim", 2 << 20),
        ("sources/Setup Resources/en-US/setup.exe.mui", 4097),
        ("efi/boot/bootx64.efi", 100_000),
        ("efi/microsoft/boot/BCD", 16_384),
        ("efi/microsoft/boot/fonts/Segoe UI Symbol.ttf", 1),
        ("support/Ünïcode ✓ Setup.txt", 12),
    ]
    .into_iter()
    .chain(extra.iter().copied())
    .collect();
    for (i, (p, n)) in list.iter().enumerate() {
        let path = tree.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let data = pattern(i as u64 + 1, *n);
        std::fs::write(&path, &data).unwrap();
        files.insert(p.to_string(), data);
    }
    let iso = dir.join("win.iso");
    tool(
        "genisoimage",
        &[
            "-quiet",
            "-input-charset",
            "utf-8",
            "-J",
            "-joliet-long",
            "-udf",
            "-V",
            "CCCOMA_X64FRE_EN-US_DV9",
            "-o",
            iso.to_str().unwrap(),
            tree.to_str().unwrap(),
        ],
    );
    (files, iso)
}

/// Every file mtools reads from the FAT volume at byte `offset` of `image`, by path.
fn fat_files(image: &Path, offset: u64, into: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::create_dir_all(into).unwrap();
    run(Command::new("mcopy")
        .env("LC_ALL", "C.UTF-8")
        .env("MTOOLS_SKIP_CHECK", "1")
        .args([
            "-s",
            "-n",
            "-i",
            &format!("{}@@{offset}", image.display()),
            "::/",
        ])
        .arg(into));
    let mut out = BTreeMap::new();
    let mut stack = vec![into.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e
                    .path()
                    .strip_prefix(into)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

#[test]
fn a_windows_iso_becomes_a_fat32_stick_with_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let (files, iso) = windows_iso(dir.path(), &[]);
    let size = 300u64 << 20;
    let l = Loop::new(dir.path(), "stick.img", size, &[]);
    let o = spindle(&[
        "burn",
        iso.to_str().unwrap(),
        l.path(),
        "--yes",
        "--allow-fixed",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("built from its files"), "{t}");
    assert!(t.contains("FAT32 partition at 1 MiB"), "{t}");
    assert!(
        t.contains(&format!("{}: complete and verified", l.path())),
        "{t}"
    );

    // One active FAT32 (LBA) partition from 1 MiB to the end.
    let json = tool("sfdisk", &["--json", l.path()]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let parts = v["partitiontable"]["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 1, "{json}");
    assert_eq!(parts[0]["start"], 2048, "{json}");
    assert_eq!(parts[0]["size"], size / 512 - 2048, "{json}");
    assert_eq!(parts[0]["type"], "c", "{json}");
    assert_eq!(parts[0]["bootable"], true, "{json}");

    // fsck.fat on the partition alone (a read-only loop device at its offset).
    let part = Loop::over(&l.file, &["-r", "-o", "1048576"]);
    let out = Command::new("fsck.fat")
        .args(["-n", part.path()])
        .output()
        .unwrap();
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert_eq!(
        report.lines().filter(|l| !l.trim().is_empty()).count(),
        2,
        "{report}"
    );
    assert!(
        report.contains("FAT32") || tool("file", &["-s", part.path()]).contains("FAT (32 bit)")
    );
    drop(part);

    // Every file, names and case as in the ISO's UDF tree, bytes equal.
    let got = fat_files(&l.file, 1 << 20, &dir.path().join("out"));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        files.keys().collect::<Vec<_>>()
    );
    for (p, data) in &files {
        assert!(got[p] == *data, "{p}: other bytes on the stick");
    }
    // The label comes from the ISO's, cut to FAT's 11 characters.
    let info = run(Command::new("minfo").env("MTOOLS_SKIP_CHECK", "1").args([
        "-i",
        &format!("{}@@1048576", l.file.display()),
        "::",
    ]));
    assert!(String::from_utf8_lossy(&info.stdout).contains("CCCOMA_X64F"));

    // The same ISO again gives the same stick (volume serial and disk signature included).
    let first = l.hash();
    let o = spindle(&[
        "burn",
        iso.to_str().unwrap(),
        l.path(),
        "--yes",
        "--allow-fixed",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        first,
        l.hash(),
        "a second burn of the same ISO wrote other bytes"
    );

    // --raw writes the ISO byte for byte, with the warning that it will not boot.
    let o = spindle(&[
        "burn",
        iso.to_str().unwrap(),
        l.path(),
        "--yes",
        "--allow-fixed",
        "--raw",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("will NOT boot"), "{t}");
    let want = std::fs::read(&iso).unwrap();
    assert!(
        l.head(want.len()) == want,
        "--raw did not write the ISO as it is"
    );
}

#[test]
fn an_iso_whose_files_fat_cannot_hold_is_refused_not_written_raw() {
    let dir = tempfile::tempdir().unwrap();
    // Two names that differ only in case: UDF keeps both, FAT cannot (names compare
    // without case). (genisoimage itself replaces the characters FAT forbids.)
    let (_, iso) = windows_iso(
        dir.path(),
        &[("sources/Readme.txt", 5), ("sources/README.TXT", 6)],
    );
    let l = Loop::new(dir.path(), "stick.img", 64 << 20, &[]);
    let before = l.hash();
    let o = spindle(&[
        "burn",
        iso.to_str().unwrap(),
        l.path(),
        "--yes",
        "--allow-fixed",
    ]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("cannot build a bootable stick") && t.contains("sources/R"),
        "{t}"
    );
    assert_eq!(before, l.hash(), "the refused burn wrote to the device");
    // Too small a stick for the files: refused too, naming the sizes.
    let small = Loop::new(dir.path(), "small.img", 8 << 20, &[]);
    let (_, iso2) = windows_iso(&dir.path().join("b"), &[]);
    let o = spindle(&[
        "burn",
        iso2.to_str().unwrap(),
        small.path(),
        "--yes",
        "--allow-fixed",
    ]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("cannot build a bootable stick") && t.contains("clusters"),
        "{t}"
    );
    assert!(
        small.head(512).iter().all(|&b| b == 0),
        "the refused burn wrote to the device"
    );
}

#[test]
fn an_interrupted_stick_has_no_partition_table_and_no_boot_sector() {
    let dir = tempfile::tempdir().unwrap();
    let (_, iso) = windows_iso(dir.path(), &[("sources/big.bin", 700 << 20)]);
    let l = Loop::new(dir.path(), "stick.img", 1 << 30, &[]);
    let child = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args([
            "burn",
            iso.to_str().unwrap(),
            l.path(),
            "--yes",
            "--allow-fixed",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stat = format!("/sys/block/{}/stat", l.name());
    let written = || -> u64 {
        let s = std::fs::read_to_string(&stat).unwrap();
        s.split_whitespace().nth(6).unwrap().parse().unwrap()
    };
    let at_start = written();
    let start = std::time::Instant::now();
    while written() <= at_start {
        assert!(
            start.elapsed().as_secs() < 60,
            "no write reached the device"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(130), "{t}");
    assert!(t.contains(&format!("{}: INCOMPLETE", l.path())), "{t}");
    // Whatever was written, the MBR and the FAT32 boot sector were not: nothing takes the
    // stick for a finished one.
    let head = l.head((1 << 20) + 512);
    assert!(head[..512].iter().all(|&b| b == 0), "the MBR was written");
    assert!(
        head[1 << 20..].iter().all(|&b| b == 0),
        "the boot sector was written"
    );
    let probe = Command::new("sfdisk")
        .args(["--json", l.path()])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&probe.stdout).contains("partitions"),
        "sfdisk sees a table"
    );
}

#[test]
fn two_sticks_of_different_sizes_get_the_same_stick() {
    let dir = tempfile::tempdir().unwrap();
    let (files, iso) = windows_iso(dir.path(), &[]);
    let a = Loop::new(dir.path(), "a.img", 100 << 20, &[]);
    let b = Loop::new(dir.path(), "b.img", 160 << 20, &[]);
    let o = spindle(&[
        "burn",
        iso.to_str().unwrap(),
        a.path(),
        b.path(),
        "--yes",
        "--allow-fixed",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("the partition fills the smallest"), "{t}");
    for l in [&a, &b] {
        assert!(
            t.contains(&format!("{}: complete and verified", l.path())),
            "{t}"
        );
        let json = tool("sfdisk", &["--json", l.path()]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v["partitiontable"]["partitions"][0]["size"],
            (100u64 << 20) / 512 - 2048
        );
        let got = fat_files(
            &l.file,
            1 << 20,
            &dir.path().join(format!("out-{}", l.name())),
        );
        assert_eq!(got.len(), files.len());
        assert!(
            files.iter().all(|(p, d)| got.get(p) == Some(d)),
            "{}: files differ",
            l.path()
        );
    }
}
