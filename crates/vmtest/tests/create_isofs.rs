//! An image from `spindle create` through the Linux kernel's own isofs (Rock Ridge and, with
//! `-o norock`, Joliet) on QEMU's ATAPI drive: every path, kind, mode, owner, modification
//! time, size, link count and link target the kernel shows equals the source tree, and every
//! file's bytes hash the same. One boot.

use spindle_vmtest::VmTest;
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn touch(p: &Path, secs: i64) {
    run(Command::new("touch")
        .arg("-h")
        .arg("-d")
        .arg(format!("@{secs}"))
        .arg(p));
}

/// A tree with the cases the kernel reads from Rock Ridge: modes, owners, symlinks, hard
/// links, long and UTF-8 names, deep folders, times before 1970 and after 2038.
fn tree(root: &Path) {
    let w = |rel: &str, data: &[u8]| {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, data).unwrap();
    };
    w("plain.txt", b"hello\n");
    w("empty", b"");
    w(&"L".repeat(200), b"long\n");
    w("Ünïcødé 😀 名前.txt", "utf-8\n".as_bytes());
    let mut deep = String::from("deep");
    for i in 0..40 {
        deep.push_str(&format!("/d{i:02}"));
    }
    w(&format!("{deep}/bottom"), b"bottom\n");
    w(
        "data/random.bin",
        &(0..300_000u32)
            .map(|i| (i * 7 + i / 13) as u8)
            .collect::<Vec<_>>(),
    );
    w("hard/a", b"linked\n");
    fs::hard_link(root.join("hard/a"), root.join("hard/b")).unwrap();
    symlink("../plain.txt", root.join("hard/rel")).unwrap();
    symlink("/etc/passwd", root.join("abs")).unwrap();
    symlink("x/".repeat(150) + "end", root.join("longlink")).unwrap();
    w("modes/suid", b"#!/bin/sh\n");
    fs::set_permissions(root.join("modes/suid"), fs::Permissions::from_mode(0o4755)).unwrap();
    w("modes/private", b"p");
    fs::set_permissions(
        root.join("modes/private"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::os::unix::fs::chown(root.join("modes/private"), Some(1234), Some(5678)).unwrap();
    fs::create_dir(root.join("modes/sticky")).unwrap();
    fs::set_permissions(
        root.join("modes/sticky"),
        fs::Permissions::from_mode(0o1777),
    )
    .unwrap();
    for (name, secs) in [
        ("t1960", -315_619_200i64),
        ("t2039", 2_177_452_800),
        ("t2100", 4_102_444_800),
    ] {
        w(name, name.as_bytes());
        touch(&root.join(name), secs);
    }
    touch(&root.join("modes"), 1_000_000_000);
}

/// The listing the guest script prints, computed from the source: `path kind mode uid gid
/// mtime` and, for files, `size links`, for symlinks `-> target`.
fn expected(root: &Path) -> (String, String) {
    let mut lines = Vec::new();
    let mut sums = Vec::new();
    let mut stack = vec![(root.to_path_buf(), ".".to_string())];
    while let Some((p, rel)) = stack.pop() {
        let m = fs::symlink_metadata(&p).unwrap();
        // Debian 12's kernel (6.1) computes ISO 9660 times in an `int` (fs/isofs/util.c
        // `iso_date`), so times after 2038 wrap; the image holds them right (xorriso and
        // spindle read 2039 and 2100 back: crates/cli/tests/create_tools.rs).
        let mtime = m.mtime() as i32 as i64;
        let head = format!(
            "{rel} {:o} {} {} {mtime}",
            m.mode() & 0o7777,
            m.uid(),
            m.gid()
        );
        if m.is_dir() {
            lines.push(format!("{head} d"));
            for e in fs::read_dir(&p).unwrap() {
                let e = e.unwrap();
                stack.push((
                    e.path(),
                    format!("{rel}/{}", e.file_name().to_str().unwrap()),
                ));
            }
        } else if m.file_type().is_symlink() {
            let t = fs::read_link(&p).unwrap();
            lines.push(format!("{head} l -> {}", t.display()));
        } else {
            lines.push(format!("{head} f {} {}", m.len(), m.nlink()));
            let sum = run(Command::new("sha256sum").arg(&p));
            let hash = sum.split_whitespace().next().unwrap();
            sums.push(format!("{hash}  {}", &rel[2..]));
        }
    }
    lines.sort();
    sums.sort();
    (lines.join("\n") + "\n", sums.join("\n") + "\n")
}

#[test]
fn the_kernel_reads_what_create_wrote() {
    let spindle = spindle_vmtest::spindle_binary().unwrap_or_else(|e| panic!("{e}"));
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    tree(&src);
    let iso = tmp.path().join("created.iso");
    run(Command::new(&spindle)
        .arg("create")
        .arg(&src)
        .arg("-o")
        .arg(&iso)
        .env_remove("SOURCE_DATE_EPOCH"));
    let (listing, sums) = expected(&src);
    // The Joliet names the kernel shows with -o norock,utf8.
    let mut joliet = String::new();
    for n in ["plain.txt", "Ünïcødé 😀 名前.txt", &"L".repeat(103)] {
        writeln!(joliet, "{n}").unwrap();
    }
    // Names the same in Joliet: their bytes must hash the same through it too.
    let joliet_sums: String = sums
        .lines()
        .filter(|l| l.ends_with("  plain.txt") || l.ends_with("  data/random.bin"))
        .map(|l| format!("{l}\n"))
        .collect();
    let outcome = VmTest::new("create_isofs")
        .modules([
            "scsi_common", "scsi_mod", "cdrom", "sr_mod", "libata", "ata_piix", "isofs",
        ])
        .qemu_args([std::ffi::OsString::from("-cdrom"), iso.into_os_string()])
        .data("/data/expect.txt", listing)
        .data("/data/files.sha256", sums)
        .data("/data/joliet.txt", joliet)
        .data("/data/joliet.sha256", joliet_sums)
        .script(
            r#"
vmtest_check sr0 vmtest_wait /dev/sr0 20
vmtest_check mount mount -t iso9660 -o ro /dev/sr0 /mnt
list() {
  cd /mnt && find . | while read -r p; do
    set -- $(stat -c '%a %u %g %Y' "$p")
    if [ -L "$p" ]; then echo "$p $1 $2 $3 $4 l -> $(readlink "$p")"
    elif [ -d "$p" ]; then echo "$p $1 $2 $3 $4 d"
    else echo "$p $1 $2 $3 $4 f $(stat -c '%s %h' "$p")"; fi
  done | sort
}
list > /tmp/got.txt
vmtest_check rock-ridge-tree diff /data/expect.txt /tmp/got.txt
vmtest_sums contents /mnt /data/files.sha256
cd /
vmtest_check umount umount /mnt
vmtest_check joliet-mount mount -t iso9660 -o ro,norock,utf8 /dev/sr0 /mnt
vmtest_check joliet-names sh -c 'find /mnt -mindepth 1 -maxdepth 1 | sed s,^/mnt/,, > /tmp/j.txt; while read -r n; do grep -qxF "$n" /tmp/j.txt || { echo "missing $n"; cat /tmp/j.txt; exit 1; }; done < /data/joliet.txt'
vmtest_sums joliet-contents /mnt /data/joliet.sha256
vmtest_check joliet-umount umount /mnt
"#,
        )
        .expect([
            "sr0",
            "mount",
            "rock-ridge-tree",
            "contents",
            "umount",
            "joliet-mount",
            "joliet-names",
            "joliet-contents",
            "joliet-umount",
        ])
        .timeout(Duration::from_secs(300))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "create_isofs VM: {} checks passed in {:.1} s",
        outcome.passed.len(),
        outcome.elapsed.as_secs_f64()
    );
}
