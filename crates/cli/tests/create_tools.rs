//! `spindle create` checked by tools nobody here wrote: what `xorriso -osirrox` extracts
//! (Rock Ridge) and what `7z x` extracts (Joliet) equal the source tree; `isoinfo` reads the
//! descriptors and the Joliet names.

mod create_common;

use create_common::*;
use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::Command;

/// What a Joliet reader shows for a name: `*/:;?\` as `_`, cut to 103 UTF-16 units.
fn joliet(name: &str) -> String {
    let mut out = String::new();
    let mut units = 0;
    for c in name.chars() {
        let c = if "*/:;?\\".contains(c) { '_' } else { c };
        if units + c.len_utf16() > 103 {
            break;
        }
        units += c.len_utf16();
        out.push(c);
    }
    out
}

fn create(src: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args: Vec<&OsStr> = vec![OsStr::new("create"), src.as_os_str(), OsStr::new("-o")];
    args.push(out.as_os_str());
    args.extend(extra.iter().map(OsStr::new));
    let o = spindle(&args);
    assert!(
        o.status.success(),
        "spindle create failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn awkward_tree_reads_back_through_xorriso_7z_and_isoinfo() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    awkward_tree(&src);
    let iso = tmp.path().join("out.iso");
    let said = create(&src, &iso, &["--label", "Awkward_1"]);
    assert!(said.contains("checked:"), "{said}");
    let source = list(&src);

    // Rock Ridge through xorriso: kinds, modes, owners, link targets, contents, times, links.
    let x = tmp.path().join("xorriso");
    run(Command::new("xorriso")
        .args(["-osirrox", "on", "-hardlinks", "on", "-indev"])
        .arg(&iso)
        .args(["-extract", "/"])
        .arg(&x));
    // xorriso restores the root's permissions onto the target folder too.
    let got = list(&x);
    assert_eq!(
        source.entries.keys().collect::<Vec<_>>(),
        got.entries.keys().collect::<Vec<_>>(),
        "xorriso extracted other names"
    );
    for (path, want) in &source.entries {
        let mut have = got.entries[path].clone();
        if want.kind == 'l' {
            // Nobody restores a symlink's time or mode.
            have.mtime = want.mtime;
            have.mode = want.mode;
        }
        assert_eq!(&have, want, "xorriso: {path}");
    }
    assert_eq!(source.links, got.links, "xorriso: hard-link groups");
    assert_eq!(source.links.len(), 2);

    // Joliet through 7z: names as Joliet maps them, no symlinks; kinds and contents.
    let z = tmp.path().join("7z");
    run(Command::new("7z")
        .arg("x")
        .arg(format!("-o{}", z.display()))
        .arg(&iso));
    let got = list(&z);
    let mut want_names = Vec::new();
    for (path, e) in &source.entries {
        if e.kind == 'l' {
            continue;
        }
        let mapped: Vec<String> = path.split('/').map(joliet).collect();
        let mapped = mapped.join("/");
        let have = got
            .entries
            .get(&mapped)
            .unwrap_or_else(|| panic!("7z did not extract {mapped:?} (source {path:?})"));
        assert_eq!(
            (have.kind, have.size, &have.digest),
            (e.kind, e.size, &e.digest),
            "7z: {path}"
        );
        want_names.push(mapped);
    }
    assert_eq!(got.entries.len(), want_names.len(), "7z extracted more");

    // isoinfo: the descriptors and the Joliet names.
    let d = run(Command::new("isoinfo").arg("-d").arg("-i").arg(&iso));
    let d = String::from_utf8_lossy(&d.stdout);
    assert!(d.contains("Volume id: AWKWARD_1"), "{d}");
    assert!(d.contains("Joliet with UCS level 3 found"), "{d}");
    assert!(d.contains("Rock Ridge signatures version 1 found"), "{d}");
    let sectors = fs::metadata(&iso).unwrap().len() / 2048;
    assert!(d.contains(&format!("Volume size is: {sectors}\n")), "{d}");
    // isoinfo prints Joliet names in ISO 8859-1 (it has no UTF-8 output): compare
    // Latin-1 names, and the Latin-1 start of the one with emoji and CJK.
    let j = run(Command::new("isoinfo")
        .arg("-J")
        .arg("-l")
        .arg("-i")
        .arg(&iso));
    let j: String = j.stdout.iter().map(|&b| b as char).collect();
    for name in [
        "Ünïcødé ".to_string(),
        joliet(&long_name('L')) + " ",
        joliet(&long_name('é')) + " ",
        "a_b_c_d.txt ".into(),
        "level_99 ".into(),
        ".hidden ".into(),
    ] {
        assert!(
            j.contains(&format!(" {name}")),
            "isoinfo -J -l lacks {name:?}:\n{j}"
        );
    }
    // The Rock Ridge listing has the real long name too.
    let r = run(Command::new("isoinfo")
        .arg("-R")
        .arg("-l")
        .arg("-i")
        .arg(&iso));
    assert!(String::from_utf8_lossy(&r.stdout).contains(&long_name('L')));
}

/// A 4.5 GiB sparse file takes two sections (ISO 9660 level 3); the bytes either side of the
/// 4 GiB boundary and at the end come back through xorriso, and 7z sees the whole size. The
/// image is sparse too: holes are not written.
#[test]
fn a_sparse_file_over_4_gib_takes_two_sections() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir(&src).unwrap();
    let big = src.join("big.bin");
    let size: u64 = 4_831_838_208;
    let f = fs::File::create(&big).unwrap();
    f.set_len(size).unwrap();
    use std::os::unix::fs::FileExt;
    let marks: [(u64, &[u8]); 4] = [
        (0, b"START"),
        (0xFFFF_F800 - 3, b"ACROSS-THE-SECTION-BOUNDARY"),
        (4_294_967_296 + 12_345, b"PAST-4-GIB"),
        (size - 3, b"END"),
    ];
    for (at, m) in marks {
        f.write_all_at(m, at).unwrap();
    }
    drop(f);
    fs::write(src.join("small.txt"), b"small").unwrap();
    let iso = tmp.path().join("big.iso");
    create(&src, &iso, &[]);
    let meta = fs::metadata(&iso).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert!(meta.len() > size);
    assert!(
        meta.blocks() * 512 < 64 << 20,
        "the image should stay sparse: {} bytes allocated",
        meta.blocks() * 512
    );
    let lsl = run(Command::new("xorriso")
        .arg("-indev")
        .arg(&iso)
        .args(["-lsl", "/"]));
    assert!(
        String::from_utf8_lossy(&lsl.stdout).contains(&format!(" {size} ")),
        "{}",
        String::from_utf8_lossy(&lsl.stdout)
    );
    for (at, m) in marks {
        let piece = tmp.path().join(format!("piece{at}"));
        run(Command::new("xorriso")
            .args(["-osirrox", "on", "-indev"])
            .arg(&iso)
            .arg("-extract_cut")
            .arg("/big.bin")
            .arg(at.to_string())
            .arg(m.len().to_string())
            .arg(&piece));
        assert_eq!(fs::read(&piece).unwrap(), m, "xorriso: bytes at {at}");
    }
    let l = run(Command::new("7z").arg("l").arg(&iso));
    let l = String::from_utf8_lossy(&l.stdout);
    assert!(
        l.lines()
            .any(|x| x.contains(&size.to_string()) && x.ends_with("big.bin")),
        "{l}"
    );
}

/// 100,000 entries: every one is listed by xorriso and by 7z.
#[test]
fn a_tree_of_100_000_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    for d in 0..100 {
        let dir = src.join(format!("dir{d:03}"));
        fs::create_dir_all(&dir).unwrap();
        for f in 0..999 {
            let p = dir.join(format!("file_{f:04}_with_a_longer_name.txt"));
            fs::write(
                p,
                if f % 100 == 0 {
                    format!("{d}/{f}")
                } else {
                    String::new()
                },
            )
            .unwrap();
        }
    }
    let iso = tmp.path().join("many.iso");
    let t = std::time::Instant::now();
    let said = create(&src, &iso, &[]);
    eprintln!("100,000 entries: created and checked in {:?}", t.elapsed());
    assert!(said.contains("100000 entries"), "{said}");
    let find = run(Command::new("xorriso")
        .arg("-indev")
        .arg(&iso)
        .args(["-find", "/", "-type", "f"]));
    let files = String::from_utf8_lossy(&find.stdout)
        .lines()
        .filter(|l| l.contains("_with_a_longer_name.txt"))
        .count();
    assert_eq!(files, 99_900);
    let l = run(Command::new("7z").arg("l").arg(&iso));
    let l = String::from_utf8_lossy(&l.stdout);
    assert!(
        l.lines()
            .last()
            .is_some_and(|x| x.contains("99900 files, 100 folders")),
        "{}",
        l.lines().last().unwrap_or("")
    );
}
