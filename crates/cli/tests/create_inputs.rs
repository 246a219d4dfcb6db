//! `spindle create`: the same tree gives the same bytes however it was made; bad input is
//! a clear error naming the path, with nothing left behind and an existing output kept.

mod create_common;

use create_common::*;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn create(src: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&OsStr> = vec![OsStr::new("create"), src.as_os_str(), OsStr::new("-o")];
    args.push(out.as_os_str());
    args.extend(extra.iter().map(OsStr::new));
    spindle(&args)
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "spindle create failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn failed(o: Output) -> String {
    assert!(!o.status.success(), "spindle create should have failed");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The same tree made in the opposite order, under another umask, at another time, written
/// under another time zone: the names, contents, modes, owners, times and links are the
/// same, so the bytes are.
fn make(root: &Path, reverse: bool) {
    let mut names: Vec<String> = (0..40).map(|i| format!("f{i:02}.dat")).collect();
    if reverse {
        names.reverse();
    }
    for dir in ["b", "a", "a/deeper"] {
        fs::create_dir_all(root.join(dir)).unwrap();
    }
    for n in &names {
        let dir = if n.as_bytes()[2] % 2 == 0 { "a" } else { "b" };
        let p = root.join(dir).join(n);
        fs::write(&p, n.repeat(100 + n.len() * usize::from(n.as_bytes()[2]))).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
    }
    std::os::unix::fs::symlink("../b/f01.dat", root.join("a/deeper/link")).unwrap();
    fs::hard_link(root.join("a/f00.dat"), root.join("b/hard")).unwrap();
    let mut all: Vec<_> = walk(root);
    all.sort();
    for (i, p) in all.iter().enumerate() {
        set_mtime(p, 1_500_000_000 + i as i64 * 61);
    }
    for d in ["a/deeper", "a", "b", ""] {
        fs::set_permissions(root.join(d), fs::Permissions::from_mode(0o755)).unwrap();
        set_mtime(&root.join(d), 1_600_000_000);
    }
}

fn walk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

#[test]
fn the_same_tree_gives_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    make(&a, false);
    // Another umask and later inodes and change times for the second tree.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // SAFETY: umask only changes the process's file mode mask; no thread creates files now.
    let old = unsafe { libc::umask(0o077) };
    make(&b, true);
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    let out = |n: &str| tmp.path().join(n);
    ok(create(&a, &out("1.iso"), &[]));
    ok(create(&a, &out("2.iso"), &[]));
    // ... and under another time zone.
    ok(Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args([OsStr::new("create"), b.as_os_str(), OsStr::new("-o")])
        .arg(out("3.iso"))
        .env_remove("SOURCE_DATE_EPOCH")
        .env("TZ", "Asia/Kolkata")
        .output()
        .unwrap());
    let one = fs::read(out("1.iso")).unwrap();
    assert_eq!(one, fs::read(out("2.iso")).unwrap(), "two runs differ");
    assert_eq!(
        one,
        fs::read(out("3.iso")).unwrap(),
        "the tree made otherwise differs"
    );
    // Volume dates: the newest mtime (2020-09-13 12:26:40) without SOURCE_DATE_EPOCH...
    assert_eq!(&one[16 * 2048 + 813..16 * 2048 + 829], b"2020091312264000");
    // ... and SOURCE_DATE_EPOCH when set, the rest unchanged.
    let o = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args([OsStr::new("create"), a.as_os_str(), OsStr::new("-o")])
        .arg(out("4.iso"))
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    ok(o);
    let four = fs::read(out("4.iso")).unwrap();
    assert_eq!(&four[16 * 2048 + 813..16 * 2048 + 829], b"2023111422132000");
    let differ = one.iter().zip(&four).filter(|(x, y)| x != y).count();
    assert!(differ > 0 && differ <= 2 * 3 * 16, "{differ} bytes differ");
    // Another tree (one mtime changed) gives other bytes.
    set_mtime(&a.join("b/f01.dat"), 1_400_000_000);
    ok(create(&a, &out("5.iso"), &[]));
    assert_ne!(one, fs::read(out("5.iso")).unwrap());
}

/// Nothing but the output (or, after an error, nothing at all) in the folder.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".spindle"))
        .collect()
}

#[test]
fn bad_input_names_the_path_and_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("x.iso");
    fs::write(&out, b"the previous image").unwrap();
    let kept = || assert_eq!(fs::read(&out).unwrap(), b"the previous image");

    // Two names alike in their first 103 characters: one Joliet name.
    let src = tmp.path().join("joliet");
    fs::create_dir(&src).unwrap();
    let base = "n".repeat(110);
    fs::write(src.join(format!("{base}1")), b"1").unwrap();
    fs::write(src.join(format!("{base}2")), b"2").unwrap();
    let e = failed(create(&src, &out, &[]));
    assert!(
        e.contains(&format!("{base}2")) && e.contains("Joliet"),
        "{e}"
    );
    kept();
    // Without Joliet the tree is fine.
    ok(create(
        &src,
        &out_dir.join("nojoliet.iso"),
        &["--no-joliet"],
    ));

    // A tree over the medium: the file that does not fit is named.
    let src = tmp.path().join("big");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("small"), b"x").unwrap();
    fs::File::create(src.join("huge"))
        .unwrap()
        .set_len(800 << 20)
        .unwrap();
    let e = failed(create(&src, &out, &["--media", "cd80"]));
    assert!(e.contains("huge") && e.contains("360000"), "{e}");
    kept();
    ok(create(&src, &out_dir.join("fits.iso"), &["--media", "dvd"]));

    // A name that is not UTF-8.
    let src = tmp.path().join("latin1");
    fs::create_dir(&src).unwrap();
    fs::write(src.join(OsStr::from_bytes(b"caf\xe9")), b"x").unwrap();
    let e = failed(create(&src, &out, &[]));
    assert!(e.contains("caf") && e.contains("UTF-8"), "{e}");
    kept();

    // Unreadable: a file and a folder, as a user who may not read them.
    let src = tmp.path().join("private");
    fs::create_dir_all(src.join("open")).unwrap();
    fs::write(src.join("open/secret"), b"x").unwrap();
    fs::set_permissions(src.join("open/secret"), fs::Permissions::from_mode(0o600)).unwrap();
    for p in [tmp.path(), &src, &src.join("open"), &out_dir] {
        fs::set_permissions(p, fs::Permissions::from_mode(0o777)).unwrap();
    }
    let as_nobody = |src: &Path| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_spindle"))
            .arg("create")
            .arg(src)
            .arg("-o")
            .arg(&out)
            .env_remove("SOURCE_DATE_EPOCH")
            .output()
            .expect("setpriv (util-linux)")
    };
    let e = failed(as_nobody(&src));
    assert!(
        e.contains("open/secret") && e.contains("ermission denied"),
        "{e}"
    );
    kept();
    fs::set_permissions(src.join("open/secret"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(src.join("open"), fs::Permissions::from_mode(0o700)).unwrap();
    let e = failed(as_nobody(&src));
    assert!(
        e.contains("private/open") && e.contains("ermission denied"),
        "{e}"
    );
    kept();

    // A FIFO is left out with a warning; --exclude leaves out what it names.
    let src = tmp.path().join("special");
    fs::create_dir_all(src.join("build")).unwrap();
    fs::write(src.join("keep.c"), b"x").unwrap();
    fs::write(src.join("drop.o"), b"x").unwrap();
    fs::write(src.join("build/drop.tmp"), b"x").unwrap();
    fs::write(src.join("build/keep.tmp2"), b"x").unwrap();
    run(Command::new("mkfifo").arg(src.join("pipe")));
    let o = ok(create(
        &src,
        &out,
        &["--exclude", "*.o", "--exclude", "build/*.tmp"],
    ));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("pipe") && e.contains("left out"), "{e}");
    let l = run(Command::new("xorriso")
        .arg("-indev")
        .arg(&out)
        .args(["-find", "/", "-type", "f"]));
    let mut l: Vec<String> = String::from_utf8_lossy(&l.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    l.sort();
    assert_eq!(l, ["'/build/keep.tmp2'", "'/keep.c'"]);

    assert_eq!(leftovers(&out_dir), Vec::<String>::new());
}

/// Through the disc model: a BIN/CUE pair holds the very ISO bytes, and the check reads it
/// back through the CUE.
#[test]
fn a_cue_output_holds_the_iso() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("file.txt"), b"through the disc model\n").unwrap();
    let o = ok(create(&src, &tmp.path().join("x.cue"), &[]));
    assert!(String::from_utf8_lossy(&o.stdout).contains("checked:"));
    ok(create(&src, &tmp.path().join("x.iso"), &[]));
    let bin = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "bin"))
        .expect("a .bin beside the .cue");
    // MODE1/2352: each raw sector holds an ISO sector after its 16-byte header.
    let (bin, iso) = (
        fs::read(bin).unwrap(),
        fs::read(tmp.path().join("x.iso")).unwrap(),
    );
    assert_eq!(bin.len() / 2352, iso.len() / 2048);
    for (raw, user) in bin.chunks(2352).zip(iso.chunks(2048)) {
        assert_eq!(&raw[16..2064], user);
    }
    assert_eq!(leftovers(tmp.path()), Vec::<String>::new());
}

/// An output inside the source folder is not put into the next image made there.
#[test]
fn an_output_inside_the_source_is_left_out() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("file.txt"), b"x").unwrap();
    let out = src.join("image.iso");
    set_mtime(&src, 1_000_000_000);
    ok(create(&src, &out, &[]));
    let first = fs::read(&out).unwrap();
    // The folder's time is part of the tree: put it back after the output appeared.
    set_mtime(&src, 1_000_000_000);
    ok(create(&src, &out, &[]));
    let l = run(Command::new("xorriso")
        .arg("-indev")
        .arg(&out)
        .args(["-find", "/", "-type", "f"]));
    assert_eq!(String::from_utf8_lossy(&l.stdout).trim(), "'/file.txt'");
    assert_eq!(fs::read(&out).unwrap(), first);
}
