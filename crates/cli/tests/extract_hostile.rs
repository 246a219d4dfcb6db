//! `spindle extract` on hostile images built here with xorriso (Rock Ridge), some with their
//! NM (name) entries patched afterwards: names that repeat through symbolic links (a link
//! `x -> /outside/dir` then a directory `x/`; a link `f -> /outside/secret` then a setuid
//! file `f`), `..`, `.`, relative escapes and absolute names. A sentinel tree next to the
//! output folder is snapshotted (kind, mode, every byte) before and after: it must not
//! change, and nothing may appear beside the output folder. Also: existing files refused
//! without --overwrite and replaced (not followed) with it; special bits dropped unless
//! --keep-special-bits and shown by `ls -l` as GNU ls shows them; Ctrl-C removes the
//! unfinished file and exits 130.

use spindle_testkit::tree::names;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

type Snapshot = BTreeMap<String, (char, u32, Vec<u8>)>;

/// Every entry under `root` (not following links): kind, mode with special bits, content
/// or link target.
fn snapshot(root: &Path) -> Snapshot {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let mode = m.permissions().mode() & 0o7777;
            let t = m.file_type();
            let v = if t.is_symlink() {
                (
                    'l',
                    0,
                    std::fs::read_link(&p)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                )
            } else if t.is_dir() {
                stack.push(p);
                ('d', mode, Vec::new())
            } else if t.is_file() {
                ('f', mode, std::fs::read(&p).unwrap())
            } else {
                ('?', mode, Vec::new())
            };
            out.insert(rel, v);
        }
    }
    out
}

/// `xorriso -outdev ISO -map SRC /` (Rock Ridge on by default: modes, links, devices).
fn xorriso_image(src: &Path, iso: &Path, extra: &[&str]) {
    let o = Command::new("xorriso")
        .arg("-outdev")
        .arg(iso)
        .arg("-map")
        .arg(src)
        .arg("/")
        .args(extra)
        .output()
        .expect("xorriso must be installed (scripts/setup installs it)");
    assert!(
        o.status.success(),
        "xorriso: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Rewrites the Rock Ridge name `from` to `to` in the image (`to` no longer than `from`;
/// the bytes left over become a SUSP padding entry, PD, so the record stays well formed).
fn patch_name(iso: &Path, from: &str, to: &str) {
    let mut img = std::fs::read(iso).unwrap();
    let mut pat = vec![b'N', b'M', 5 + from.len() as u8, 1, 0];
    pat.extend_from_slice(from.as_bytes());
    let at: Vec<usize> = img
        .windows(pat.len())
        .enumerate()
        .filter(|(_, w)| *w == pat)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "NM entry of {from:?}");
    let spare = from.len() - to.len();
    assert!(spare == 0 || spare >= 4, "padding of {spare} bytes");
    let mut new = vec![b'N', b'M', 5 + to.len() as u8, 1, 0];
    new.extend_from_slice(to.as_bytes());
    if spare > 0 {
        new.extend_from_slice(&[b'P', b'D', spare as u8, 1]);
        new.resize(pat.len(), 0);
    }
    img[at[0]..at[0] + pat.len()].copy_from_slice(&new);
    std::fs::write(iso, img).unwrap();
}

fn spindle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .output()
        .expect("run spindle")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The sentinel tree: `outside/dir/` (0755, one file) and `outside/secret` (0600).
fn sentinel(t: &Path) -> std::path::PathBuf {
    let outside = t.join("outside");
    std::fs::create_dir_all(outside.join("dir")).unwrap();
    std::fs::write(outside.join("dir/keep"), b"sentinel file\n").unwrap();
    std::fs::write(outside.join("secret"), b"secret, mode 0600\n").unwrap();
    std::fs::set_permissions(
        outside.join("secret"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::set_permissions(outside.join("dir"), std::fs::Permissions::from_mode(0o755)).unwrap();
    outside
}

#[test]
fn hostile_names_and_links_stay_inside_the_output_folder() {
    let t = tempfile::tempdir().unwrap();
    let t = t.path();
    let outside = sentinel(t);
    let src = t.join("src");
    std::fs::create_dir(&src).unwrap();
    // Two names that will be made equal to the links before them.
    std::os::unix::fs::symlink(outside.join("dir"), src.join("a_evil")).unwrap();
    std::fs::create_dir(src.join("b_evil")).unwrap();
    std::fs::write(src.join("b_evil/planted"), b"PWNED through a_evil\n").unwrap();
    std::os::unix::fs::symlink(outside.join("secret"), src.join("f_link")).unwrap();
    std::fs::write(src.join("g_file"), b"PWNED through f_link\n").unwrap();
    std::fs::set_permissions(src.join("g_file"), std::fs::Permissions::from_mode(0o4777)).unwrap();
    // Names to become "..", ".", "../pwned" and an absolute path beside the output folder.
    let abs = t.join("pwned_abs").to_str().unwrap().to_string();
    let abs_src = "A".repeat(abs.len() + 4);
    for n in ["dotdot", "dot_xx", "relative1234", &abs_src] {
        std::fs::write(src.join(n), b"PWNED by name\n").unwrap();
    }
    std::fs::create_dir(src.join("dotdir")).unwrap();
    std::fs::write(src.join("dotdir/pwned_dir"), b"PWNED\n").unwrap();
    std::fs::write(src.join("plain"), b"an ordinary file\n").unwrap();
    let iso = t.join("hostile.iso");
    xorriso_image(&src, &iso, &[]);
    patch_name(&iso, "b_evil", "a_evil");
    patch_name(&iso, "g_file", "f_link");
    patch_name(&iso, "dotdot", "..");
    patch_name(&iso, "dot_xx", ".");
    patch_name(&iso, "dotdir", "..");
    patch_name(&iso, "relative1234", "../pwned");
    patch_name(&iso, &abs_src, &abs);
    // spindle reads the repeated names as they are (the attack reaches extract); the
    // filesystem layer already hides "." and ".." records and turns '/' into '_' (extract
    // refuses such names itself too: crates/extract unit tests and fuzz target).
    let ls = spindle(&["ls", iso.to_str().unwrap()]);
    let listing = String::from_utf8_lossy(&ls.stdout);
    assert_eq!(listing.matches("a_evil\n").count(), 2, "{listing}");
    assert_eq!(listing.matches("f_link\n").count(), 2, "{listing}");
    let before = snapshot(&outside);
    let beside = names(t);
    let out = t.join("out");
    let o = spindle(&[
        "extract",
        iso.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = text(&o);
    eprintln!("{err}");
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(snapshot(&outside), before, "the sentinel tree changed");
    let mut want_beside = beside.clone();
    want_beside.push("out".into());
    want_beside.sort();
    assert_eq!(
        names(t),
        want_beside,
        "something appeared beside the output folder"
    );
    // The first of each repeated name is kept (a link, made as a link), the second skipped.
    assert_eq!(
        std::fs::read_link(out.join("a_evil")).unwrap(),
        outside.join("dir")
    );
    assert_eq!(
        std::fs::read_link(out.join("f_link")).unwrap(),
        outside.join("secret")
    );
    assert!(err.contains("a_evil: the name appears again"), "{err}");
    assert!(err.contains("f_link: the name appears again"), "{err}");
    assert!(err.contains("skipped 2"), "{err}");
    // Whatever became of the other names, each is a plain file inside the output folder.
    for n in names(&out) {
        let m = std::fs::symlink_metadata(out.join(&n)).unwrap();
        match n.as_str() {
            "a_evil" | "f_link" => assert!(m.file_type().is_symlink()),
            _ => assert!(
                m.is_file() && m.permissions().mode() & 0o7000 == 0,
                "{n}: {m:?}"
            ),
        }
    }
    assert_eq!(
        std::fs::read(out.join("plain")).unwrap(),
        b"an ordinary file\n"
    );
    // Extracting again over the same folder, with --overwrite: still nothing outside.
    let o = spindle(&[
        "extract",
        iso.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--overwrite",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        snapshot(&outside),
        before,
        "the sentinel tree changed (--overwrite)"
    );
    assert_eq!(names(t), want_beside);
}

#[test]
fn existing_files_are_refused_and_with_overwrite_replaced_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let t = t.path();
    let outside = sentinel(t);
    let src = t.join("src");
    std::fs::create_dir_all(src.join("d")).unwrap();
    std::fs::write(src.join("d/inner"), b"image inner\n").unwrap();
    for n in ["f", "h", "plain"] {
        std::fs::write(src.join(n), format!("image {n}\n")).unwrap();
    }
    std::fs::set_permissions(src.join("f"), std::fs::Permissions::from_mode(0o4777)).unwrap();
    let iso = t.join("img.iso");
    xorriso_image(&src, &iso, &[]);
    let out = t.join("out");
    std::fs::create_dir(&out).unwrap();
    // In the way: a link to the secret, a hard link to it, a link to the sentinel directory.
    std::os::unix::fs::symlink(outside.join("secret"), out.join("f")).unwrap();
    std::fs::hard_link(outside.join("secret"), out.join("h")).unwrap();
    std::os::unix::fs::symlink(outside.join("dir"), out.join("d")).unwrap();
    let before = snapshot(&outside);
    let secret_ino = std::fs::metadata(outside.join("secret")).unwrap().ino();

    let o = spindle(&[
        "extract",
        iso.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("already exists (--overwrite replaces it)"),
        "{err}"
    );
    assert_eq!(snapshot(&outside), before);
    assert!(
        std::fs::symlink_metadata(out.join("f"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::symlink_metadata(out.join("d"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::metadata(out.join("h")).unwrap().ino(), secret_ino);
    assert!(
        !names(&out).iter().any(|n| n.starts_with(".spindle-")),
        "{:?}",
        names(&out)
    );

    let o = spindle(&[
        "extract",
        iso.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--overwrite",
    ]);
    let err = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(snapshot(&outside), before, "the sentinel tree changed");
    let f = std::fs::symlink_metadata(out.join("f")).unwrap();
    assert!(f.file_type().is_file());
    assert_eq!(f.permissions().mode() & 0o7777, 0o777, "setuid dropped");
    assert_eq!(std::fs::read(out.join("f")).unwrap(), b"image f\n");
    let h = std::fs::symlink_metadata(out.join("h")).unwrap();
    assert!(
        h.file_type().is_file() && h.ino() != secret_ino,
        "the hard link's name is replaced, not its inode"
    );
    assert_eq!(std::fs::read(out.join("h")).unwrap(), b"image h\n");
    assert!(std::fs::symlink_metadata(out.join("d")).unwrap().is_dir());
    assert_eq!(
        std::fs::read(out.join("d/inner")).unwrap(),
        b"image inner\n"
    );
    assert!(
        err.contains("setuid/setgid/sticky bits dropped from 1"),
        "{err}"
    );

    // A directory in the way of a file is never replaced.
    std::fs::remove_file(out.join("plain")).unwrap();
    std::fs::create_dir(out.join("plain")).unwrap();
    let o = spindle(&[
        "extract",
        iso.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--overwrite",
    ]);
    let err = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("plain is a directory in the output folder"),
        "{err}"
    );
    assert!(
        !names(&out).iter().any(|n| n.starts_with(".spindle-")),
        "{:?}",
        names(&out)
    );
}

/// `ls -l` lines (GNU's or spindle's) as name → mode string (names without spaces).
fn ls_modes(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let name = match f.iter().position(|w| *w == "->") {
                Some(i) => f[i - 1],
                None => f.last()?,
            };
            (f[0].len() == 10).then(|| (name.to_string(), f[0].to_string()))
        })
        .collect()
}

#[test]
fn special_bits_are_dropped_unless_kept_and_listed_as_gnu_ls_lists_them() {
    let t = tempfile::tempdir().unwrap();
    let t = t.path();
    let src = t.join("src");
    std::fs::create_dir(&src).unwrap();
    let modes: &[(&str, u32, bool)] = &[
        ("suid_x", 0o4755, false),
        ("suid_nox", 0o4644, false),
        ("sgid_x", 0o2755, false),
        ("sgid_nox", 0o2644, false),
        ("all", 0o7777, false),
        ("sticky_dir", 0o1777, true),
        ("sticky_nox", 0o1776, true),
        ("sgid_dir", 0o2755, true),
        ("plain", 0o644, false),
    ];
    for (n, mode, dir) in modes {
        if *dir {
            std::fs::create_dir(src.join(n)).unwrap();
        } else {
            std::fs::write(src.join(n), n.as_bytes()).unwrap();
        }
        std::fs::set_permissions(src.join(n), std::fs::Permissions::from_mode(*mode)).unwrap();
    }
    std::os::unix::fs::symlink("plain", src.join("link")).unwrap();
    let mk = Command::new("mknod")
        .arg(src.join("cdev"))
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    assert!(mk.success(), "mknod (the tests run as root)");
    let mk = Command::new("mkfifo")
        .arg(src.join("fifo"))
        .status()
        .unwrap();
    assert!(mk.success());
    let iso = t.join("modes.iso");
    xorriso_image(&src, &iso, &[]);

    // The oracle: GNU ls -l on the tree xorriso read.
    let gnu = Command::new("ls").arg("-l").arg(&src).output().unwrap();
    let gnu = ls_modes(&String::from_utf8_lossy(&gnu.stdout));
    let ours = spindle(&["ls", "-l", iso.to_str().unwrap()]);
    let ours = ls_modes(&String::from_utf8_lossy(&ours.stdout));
    assert_eq!(gnu.len(), modes.len() + 3, "{gnu:?}");
    assert_eq!(ours, gnu, "spindle ls -l against GNU ls -l");

    // Default: bits dropped, devices and FIFOs not made (and counted).
    let out = t.join("plain_out");
    let o = spindle(&[
        "extract",
        iso.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = text(&o);
    assert!(o.status.success(), "{err}");
    for (n, mode, _) in modes {
        let got = std::fs::symlink_metadata(out.join(n))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777;
        assert_eq!(got, mode & 0o777, "{n}");
    }
    assert!(
        err.contains("setuid/setgid/sticky bits dropped from 8"),
        "{err}"
    );
    assert!(
        err.contains("2 device nodes, FIFOs or sockets not created"),
        "{err}"
    );
    assert!(
        err.contains("cdev: a character device") && err.contains("fifo: a FIFO"),
        "{err}"
    );
    assert!(!out.join("cdev").exists() && !out.join("fifo").exists());

    // --keep-special-bits: the modes as they were, and GNU ls on the extracted tree agrees.
    let kept = t.join("kept_out");
    let o = spindle(&[
        "extract",
        iso.to_str().unwrap(),
        "-o",
        kept.to_str().unwrap(),
        "--keep-special-bits",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for (n, mode, _) in modes {
        let got = std::fs::symlink_metadata(kept.join(n))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777;
        assert_eq!(got, *mode, "{n}");
    }
    let gnu_kept = Command::new("ls").arg("-l").arg(&kept).output().unwrap();
    let gnu_kept = ls_modes(&String::from_utf8_lossy(&gnu_kept.stdout));
    for (n, m) in &gnu_kept {
        assert_eq!(Some(m), ours.get(n), "{n}");
    }
    assert_eq!(gnu_kept.len(), modes.len() + 1);
}

#[test]
fn sigint_removes_the_unfinished_file_and_exits_130() {
    let t = tempfile::tempdir().unwrap();
    let t = t.path();
    let src = t.join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("small"), b"done first\n").unwrap();
    // 1 GiB of zeros, zisofs-compressed: a small image whose extraction takes a while.
    let big = std::fs::File::create(src.join("zbig")).unwrap();
    big.set_len(1 << 30).unwrap();
    drop(big);
    let iso = t.join("big.iso");
    xorriso_image(&src, &iso, &["-set_filter_r", "--zisofs", "/", "--"]);
    assert!(std::fs::metadata(&iso).unwrap().len() < 8 << 20);
    let out = t.join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args([
            "extract",
            iso.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the big file to be under way (a temporary name with bytes in it).
    let start = std::time::Instant::now();
    let under_way = loop {
        let tmp = std::fs::read_dir(&out).ok().and_then(|d| {
            d.filter_map(Result::ok).find(|e| {
                e.file_name().to_string_lossy().starts_with(".spindle-")
                    && e.metadata().is_ok_and(|m| m.len() > 0)
            })
        });
        if tmp.is_some() {
            break true;
        }
        if child.try_wait().unwrap().is_some()
            || start.elapsed() > std::time::Duration::from_secs(120)
        {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert!(under_way, "the big file never started");
    // SAFETY: signalling our own child, whose pid we hold.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    let err = text(&o);
    eprintln!("{err}");
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(
        err.contains(&format!(
            "removed the unfinished {}",
            out.join("zbig").display()
        )),
        "{err}"
    );
    assert!(
        err.contains("completed before stopping: 1 files (11 bytes)"),
        "{err}"
    );
    assert_eq!(names(&out), ["small"], "only the finished file remains");
}

#[test]
fn a_read_error_part_way_removes_the_unfinished_file() {
    let t = tempfile::tempdir().unwrap();
    let t = t.path();
    let src = t.join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("a_first"), b"complete\n").unwrap();
    // 4 MiB of text, zisofs-compressed in 32 KiB blocks; block 100 (at 3.1 MiB) is then
    // damaged, so the read fails after more than one 1 MiB write.
    let lines: String = (0..400_000).map(|i| format!("line {i:08}\n")).collect();
    std::fs::write(src.join("b_damaged"), &lines.as_bytes()[..4 << 20]).unwrap();
    let iso = t.join("damaged.iso");
    xorriso_image(&src, &iso, &["-set_filter_r", "--zisofs", "/", "--"]);
    let mut img = std::fs::read(&iso).unwrap();
    let magic = [0x37, 0xE4, 0x53, 0x96, 0xC9, 0xDB, 0xD6, 0x07];
    let start = img
        .windows(8)
        .position(|w| w == magic)
        .expect("a zisofs file");
    assert_eq!(
        (img[start + 12], img[start + 13]),
        (4, 15),
        "header of 4 words, 32 KiB blocks"
    );
    let ptr = |i: usize| {
        let at = start + 16 + 4 * i;
        u32::from_le_bytes(img[at..at + 4].try_into().unwrap()) as usize
    };
    let (a, b) = (ptr(100), ptr(101));
    assert!(b > a + 8);
    img[start + a + 2..start + b].fill(0xFF);
    std::fs::write(&iso, img).unwrap();
    let out = t.join("out");
    let o = spindle(&[
        "extract",
        iso.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = text(&o);
    eprintln!("{err}");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("b_damaged: reading it from the image: corrupt zisofs"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "removed the unfinished {}",
            out.join("b_damaged").display()
        )),
        "{err}"
    );
    assert_eq!(names(&out), ["a_first"], "only the complete file remains");
}
