//! `spindle burn` and `spindle devices` on real loop devices (root; `losetup` on sparse files).
//! Every refusal must leave the device byte for byte as it was.

use spindle_testkit::loopdev::{Loop, Mount, make_iso};
use spindle_testkit::tools::tool as sh;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn spindle(args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spindle"));
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        let mut i = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            let _ = i.write_all(s.as_bytes());
        }
    }
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Burns and checks the device's first bytes are `want`.
fn burn_ok(image: &Path, l: &Loop, want: &[u8]) {
    let o = spindle(
        &[
            "burn",
            image.to_str().unwrap(),
            l.path(),
            "--yes",
            "--allow-fixed",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("{}: complete and verified", l.path())),
        "{out}"
    );
    assert!(
        l.head(want.len()) == want,
        "{} does not start with the image's data",
        l.path()
    );
}

/// Runs a burn that must be refused with `reason` in its message and the device unchanged.
fn refused(args: &[&str], stdin: Option<&str>, l: &Loop, reason: &str) -> String {
    let before = l.hash();
    let o = spindle(args, stdin);
    let t = text(&o);
    assert!(!o.status.success(), "should refuse: {t}");
    assert!(t.contains(reason), "expected {reason:?} in: {t}");
    assert!(t.contains(l.path()), "the message names the device: {t}");
    assert_eq!(
        before,
        l.hash(),
        "{} changed although the burn was refused",
        l.path()
    );
    t
}

#[test]
fn iso_cue_bin_and_iso_zst_burn_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "src.iso", 10);
    let data = std::fs::read(&iso).unwrap();
    let cue = dir.path().join("src.cue");
    let o = spindle(
        &["convert", iso.to_str().unwrap(), cue.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        std::fs::metadata(dir.path().join("src.bin")).unwrap().len() > data.len() as u64,
        "BIN holds raw 2352-byte sectors"
    );
    let zst = dir.path().join("src.iso.zst");
    sh(
        "zstd",
        &[
            "-q",
            "-3",
            iso.to_str().unwrap(),
            "-o",
            zst.to_str().unwrap(),
        ],
    );

    for (i, image) in [&iso, &cue, &zst].into_iter().enumerate() {
        let l = Loop::new(dir.path(), &format!("t{i}.img"), 16 << 20, &[]);
        burn_ok(image, &l, &data);
    }
}

#[test]
fn raw_images_compressed_with_xz_and_gzip_are_written_as_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("disk.img");
    let data = spindle_testkit::pattern::bytes((3 << 20) + 777, 1);
    std::fs::write(&raw, &data).unwrap();
    sh("xz", &["-k", "-T1", raw.to_str().unwrap()]);
    sh("gzip", &["-k", raw.to_str().unwrap()]);
    for (i, ext) in ["img", "img.xz", "img.gz"].into_iter().enumerate() {
        let l = Loop::new(dir.path(), &format!("r{i}.img"), 8 << 20, &[]);
        burn_ok(&dir.path().join(format!("disk.{ext}")), &l, &data);
    }
}

#[test]
fn three_loop_devices_written_at_once_all_verify() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "three.iso", 12);
    let data = std::fs::read(&iso).unwrap();
    let loops: Vec<Loop> = (0..3)
        .map(|i| Loop::new(dir.path(), &format!("m{i}.img"), 16 << 20, &[]))
        .collect();
    let mut args = vec!["burn", iso.to_str().unwrap()];
    args.extend(loops.iter().map(|l| l.path()));
    args.extend(["--yes", "--allow-fixed"]);
    let o = spindle(&args, None);
    assert!(o.status.success(), "{}", text(&o));
    for l in &loops {
        assert!(
            String::from_utf8_lossy(&o.stdout)
                .contains(&format!("{}: complete and verified", l.path()))
        );
        assert!(l.head(data.len()) == data);
    }
}

#[test]
fn refusals_leave_the_device_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "r.iso", 3);
    let isos = iso.to_str().unwrap();

    // A mounted ext4 filesystem.
    let m = Loop::new(dir.path(), "mounted.img", 16 << 20, &[]);
    let mnt = Mount::ext4(&m.dev, &dir.path().join("mnt"));
    std::fs::write(mnt.dir.join("keep.txt"), b"precious").unwrap();
    // The image on the target's own filesystem (for the check further down).
    let inner = mnt.dir.join("inner.iso");
    std::fs::copy(&iso, &inner).unwrap();
    // Read-only from here: a read-write ext4 writes its journal and superblock by itself,
    // and the hashes must only change if spindle writes.
    sh("mount", &["-o", "remount,ro", mnt.dir.to_str().unwrap()]);
    refused(
        &["burn", isos, m.path(), "--yes", "--allow-fixed"],
        None,
        &m,
        "has mounted filesystems",
    );

    // The device holding the image file (mounted too; the image reason comes first).
    let t = refused(
        &[
            "burn",
            inner.to_str().unwrap(),
            m.path(),
            "--yes",
            "--allow-fixed",
            "--unmount",
        ],
        None,
        &m,
        "holds the image",
    );
    assert!(t.contains("inner.iso"), "{t}");
    assert!(
        mnt.dir.join("keep.txt").exists(),
        "--unmount must not unmount after a refusal"
    );

    // Smaller than the image.
    let small = Loop::new(dir.path(), "small.img", 1 << 20, &[]);
    refused(
        &["burn", isos, small.path(), "--yes", "--allow-fixed"],
        None,
        &small,
        "is too small",
    );

    // Read-only.
    let ro = Loop::new(dir.path(), "ro.img", 16 << 20, &["-r"]);
    refused(
        &["burn", isos, ro.path(), "--yes", "--allow-fixed"],
        None,
        &ro,
        "is read-only",
    );

    // Fixed (a loop device) without --allow-fixed.
    let fixed = Loop::new(dir.path(), "fixed.img", 16 << 20, &[]);
    refused(
        &["burn", isos, fixed.path(), "--yes"],
        None,
        &fixed,
        "--allow-fixed",
    );

    // A confirmation answered wrongly, and none at all.
    let t = refused(
        &["burn", isos, fixed.path(), "--allow-fixed"],
        Some("sda\n"),
        &fixed,
        "not confirmed",
    );
    assert!(
        t.contains(&format!("Type its name ({})", fixed.name())),
        "{t}"
    );
    refused(
        &["burn", isos, fixed.path(), "--allow-fixed"],
        Some(""),
        &fixed,
        "not confirmed",
    );

    // One bad target refuses the whole run: the good one is untouched too.
    let before = fixed.hash();
    let o = spindle(
        &[
            "burn",
            isos,
            fixed.path(),
            small.path(),
            "--yes",
            "--allow-fixed",
        ],
        None,
    );
    assert!(!o.status.success() && text(&o).contains("is too small"));
    assert_eq!(before, fixed.hash());

    // The same device twice.
    refused(
        &[
            "burn",
            isos,
            fixed.path(),
            fixed.path(),
            "--yes",
            "--allow-fixed",
        ],
        None,
        &fixed,
        "named twice",
    );

    // Not a block device at all.
    let o = spindle(&["burn", isos, isos, "--yes", "--allow-fixed"], None);
    assert!(
        !o.status.success() && text(&o).contains("not a block device"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_partition_is_refused_with_its_disk_named() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "p.iso", 1);
    let l = Loop::new(dir.path(), "parted.img", 16 << 20, &["-P"]);
    // One MBR partition (type 0x83) from sector 2048, 8 MiB long, then a partition rescan.
    let mut mbr = [0u8; 512];
    mbr[446 + 4] = 0x83;
    mbr[446 + 8..446 + 12].copy_from_slice(&2048u32.to_le_bytes());
    mbr[446 + 12..446 + 16].copy_from_slice(&16384u32.to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&l.dev)
            .unwrap();
        f.write_all_at(&mbr, 0).unwrap();
        f.sync_all().unwrap();
    }
    sh("partx", &["-a", l.path()]);
    let part = format!("{}p1", l.path());
    let sys = format!("/sys/class/block/{}p1/dev", l.name());
    let dev = std::fs::read_to_string(&sys)
        .unwrap_or_else(|e| panic!("{sys}: {e}: the kernel did not see the partition"));
    let (ma, mi) = dev.trim().split_once(':').unwrap();
    // No udev here: make the partition's node ourselves, in the test's directory.
    let node = dir.path().join("part1");
    sh("mknod", &[node.to_str().unwrap(), "b", ma, mi]);
    let o = spindle(
        &[
            "burn",
            iso.to_str().unwrap(),
            node.to_str().unwrap(),
            "--yes",
            "--allow-fixed",
        ],
        None,
    );
    let t = text(&o);
    assert!(
        !o.status.success()
            && t.contains("is partition")
            && t.contains(&format!("/dev/{}", l.name())),
        "{t}"
    );
    // `devices --all` shows the partition under its disk.
    let o = spindle(&["devices", "--all"], None);
    assert!(text(&o).contains(&part), "{}", text(&o));
}

#[test]
fn unmount_unmounts_then_burns() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "u.iso", 4);
    let data = std::fs::read(&iso).unwrap();
    let l = Loop::new(dir.path(), "u.img", 16 << 20, &[]);
    let mnt = Mount::ext4(&l.dev, &dir.path().join("umnt"));
    let o = spindle(
        &[
            "burn",
            iso.to_str().unwrap(),
            l.path(),
            "--yes",
            "--allow-fixed",
            "--unmount",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("unmounting"), "{}", text(&o));
    let mounted = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounted.contains(mnt.dir.to_str().unwrap()),
        "still mounted"
    );
    assert!(l.head(data.len()) == data);
}

#[test]
fn the_right_confirmation_burns() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "c.iso", 2);
    let data = std::fs::read(&iso).unwrap();
    let l = Loop::new(dir.path(), "c.img", 8 << 20, &[]);
    let o = spindle(
        &["burn", iso.to_str().unwrap(), l.path(), "--allow-fixed"],
        Some(&format!("{}\n", l.name())),
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("EVERYTHING on") && t.contains("8.0 MiB"),
        "shows the device: {t}"
    );
    assert!(
        t.contains("will NOT boot"),
        "a plain ISO is warned about: {t}"
    );
    assert!(l.head(data.len()) == data);
}

#[test]
fn no_verify_skips_the_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "nv.iso", 2);
    let l = Loop::new(dir.path(), "nv.img", 8 << 20, &[]);
    let o = spindle(
        &[
            "burn",
            iso.to_str().unwrap(),
            l.path(),
            "--yes",
            "--allow-fixed",
            "--no-verify",
            "--json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["targets"][0]["outcome"]["state"], "written");
    assert!(text(&o).contains("not verified"));
}

#[test]
fn ctrl_c_stops_cleanly_and_says_what_the_stick_holds() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("big.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(768 << 20)
        .unwrap();
    let l = Loop::new(dir.path(), "big-target.img", 768 << 20, &[]);
    let child = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args([
            "burn",
            img.to_str().unwrap(),
            l.path(),
            "--yes",
            "--allow-fixed",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first write to reach the device (its sectors-written count grows; the
    // count survives earlier uses of the same loop number), then interrupt.
    let stat = format!("/sys/block/{}/stat", l.name());
    let written = || -> u64 {
        let s = std::fs::read_to_string(&stat).unwrap();
        s.split_whitespace().nth(6).unwrap().parse().unwrap()
    };
    let at_start = written();
    let start = std::time::Instant::now();
    loop {
        if written() > at_start {
            break;
        }
        assert!(
            start.elapsed().as_secs() < 30,
            "no write reached the device"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(130), "{t}");
    assert!(
        t.contains("stopped") && t.contains(&format!("{}: INCOMPLETE", l.path())),
        "{t}"
    );
}

#[test]
fn devices_lists_loop_devices_only_with_all() {
    let dir = tempfile::tempdir().unwrap();
    let l = Loop::new(dir.path(), "dev.img", 4 << 20, &[]);
    let o = spindle(&["devices", "--json"], None);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|d| d["name"] != l.name().as_str())
    );
    let o = spindle(&["devices", "--all", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let d = v
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == l.name().as_str())
        .expect("listed with --all");
    assert_eq!(d["transport"], "loop");
    assert_eq!(d["removable"], false);
    assert_eq!(d["read_only"], false);
    assert_eq!(d["size"], 4 << 20);
    let o = spindle(&["devices", "--all"], None);
    let t = text(&o);
    assert!(t.contains(l.path()) && t.contains("backed by"), "{t}");
}

#[test]
fn a_user_without_write_permission_is_told_so_not_that_the_disk_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "perm.iso", 2);
    // The image readable by nobody; the loop device is root's, mode 660.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&iso, std::fs::Permissions::from_mode(0o644)).unwrap();
    let l = Loop::new(dir.path(), "perm.img", 8 << 20, &[]);
    let before = l.hash();
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_spindle"))
        .args([
            "burn",
            iso.to_str().unwrap(),
            l.path(),
            "--yes",
            "--allow-fixed",
        ])
        .output()
        .expect("setpriv (util-linux)");
    let t = text(&o);
    assert!(!o.status.success(), "nobody burned a root-owned disk: {t}");
    assert!(
        t.contains(&format!("{}: permission denied", l.path())),
        "{t}"
    );
    assert!(!t.contains("read-only"), "{t}");
    assert_eq!(before, l.hash());
}

#[test]
fn a_stick_swapped_while_the_confirmation_waits_is_not_written() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let iso = make_iso(dir.path(), "swap.iso", 2);
    let mut l = Loop::new(dir.path(), "shown.img", 8 << 20, &[]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(["burn", iso.to_str().unwrap(), l.path(), "--allow-fixed"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut b = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains("to go on: ") {
        assert_eq!(
            err.read(&mut b).unwrap(),
            1,
            "ended before asking: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.push(b[0]);
    }
    // While the user reads the prompt, the stick is pulled and another takes its name.
    l.replace_backing("other.img");
    let before = l.hash();
    let name = l.name();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{name}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    err.read_to_end(&mut seen).unwrap();
    let t = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&seen)
    );
    assert!(
        !out.status.success(),
        "wrote a disk that was never shown: {t}"
    );
    assert!(
        t.contains(&format!(
            "{}: is no longer the disk that was checked and confirmed",
            l.path()
        )),
        "{t}"
    );
    assert_eq!(before, l.hash(), "the replacement was touched");
}
