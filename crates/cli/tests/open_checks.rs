//! What an image path may be: a FIFO, a character device, a directory (as the image, or as
//! a file a cue sheet names) is refused at once with a message naming it, never read or
//! waited on; decompression bombs are refused by the decompression budget, leaving nothing
//! in the temporary directory. Through the CLI, and through a root daemon serving nobody
//! (whose other requests must still be answered).

mod daemon_common;

use daemon_common::{Env, as_nobody, run_timeout};
use spindle_testkit::tools::sh_in as sh;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Far beyond what a refusal takes; a regression (a blocking open) fails here, not hangs.
const LIMIT: Duration = Duration::from_secs(30);

fn info(path: &Path, envs: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(daemon_common::BIN);
    c.arg("info").arg(path);
    for (k, v) in envs {
        c.env(k, v);
    }
    run_timeout(c, LIMIT)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().unwrap();
    assert!(st.success());
}

fn cue_naming(dir: &Path, cue: &str, file: &str) -> std::path::PathBuf {
    let p = dir.join(cue);
    std::fs::write(
        &p,
        format!("FILE \"{file}\" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\n"),
    )
    .unwrap();
    p
}

#[test]
fn fifos_devices_and_directories_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    mkfifo(&d.join("fifo.iso"));
    mkfifo(&d.join("track.bin"));
    let _sock = std::os::unix::net::UnixListener::bind(d.join("sock.iso")).unwrap();
    let cases: Vec<(std::path::PathBuf, String)> = vec![
        (
            d.join("fifo.iso"),
            format!(
                "{} is a FIFO (named pipe), not a disc image",
                d.join("fifo.iso").display()
            ),
        ),
        (
            cue_naming(d, "fifo.cue", "track.bin"),
            "track.bin is a FIFO (named pipe), not a disc image".into(),
        ),
        (
            cue_naming(d, "zero.cue", "/dev/zero"),
            "/dev/zero is a character device, not a disc image".into(),
        ),
        (
            cue_naming(d, "root.cue", "/"),
            "/ is a directory, not a disc image".into(),
        ),
        (
            cue_naming(d, "here.cue", "."),
            "is a directory, not a disc image".into(),
        ),
        (
            Path::new("/dev/zero").into(),
            "/dev/zero is a character device, not a disc image".into(),
        ),
        (
            Path::new("/").into(),
            "/ is a directory, not a disc image".into(),
        ),
        (
            d.to_path_buf(),
            format!("{} is a directory, not a disc image", d.display()),
        ),
    ];
    for (path, want) in cases {
        let o = info(&path, &[]);
        assert!(!o.status.success(), "{}: accepted", path.display());
        assert!(
            stderr(&o).contains(&want),
            "{}: {}",
            path.display(),
            stderr(&o)
        );
        assert!(
            !stderr(&o).contains("not found"),
            "{}: {}",
            path.display(),
            stderr(&o)
        );
    }
}

/// `spindle burn` opens its source like every image (also the zstd stream it decodes while
/// writing): a FIFO is refused before any target is looked at, never waited on.
#[test]
fn burn_refuses_a_fifo_source() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["fifo.iso", "fifo.iso.zst"] {
        let fifo = dir.path().join(name);
        mkfifo(&fifo);
        let mut c = Command::new(daemon_common::BIN);
        c.arg("burn")
            .arg(&fifo)
            .arg(dir.path().join("no-such-device"))
            .arg("--yes");
        let o = run_timeout(c, LIMIT);
        assert!(!o.status.success(), "{name}: accepted");
        let want = format!(
            "{} is a FIFO (named pipe), not a disc image",
            fifo.display()
        );
        assert!(stderr(&o).contains(&want), "{name}: {}", stderr(&o));
    }
}

#[test]
fn decompression_bombs_are_refused_within_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    sh(
        d,
        "truncate -s 256M big.iso && zstd -q -1 --single-thread big.iso -o declared.iso.zst && rm big.iso \
         && head -c 256M /dev/zero | zstd -q -1 --single-thread --no-content-size > unsized.iso.zst \
         && head -c 128M /dev/zero | xz -q -0 -T1 > block.iso.xz",
    );
    let budget = Path::new("64M");
    for (name, want) in [
        (
            "declared.iso.zst",
            "a decompressed copy of 256 MiB (its frame header says so)",
        ),
        ("unsized.iso.zst", "decoding stopped there"),
        (
            "block.iso.xz",
            "a decompressed copy of 128 MiB (its index says so)",
        ),
    ] {
        let o = info(
            &d.join(name),
            &[("SPINDLE_DECODE_BUDGET", budget), ("TMPDIR", &tmp)],
        );
        let e = stderr(&o);
        assert!(!o.status.success(), "{name}: accepted");
        assert!(
            e.contains(name) && e.contains(want) && e.contains("over the decompression budget of"),
            "{name}: {e}"
        );
        // 64 MiB, unless the disk is so full that its free space (less 1 GiB) is less.
        assert!(
            e.contains("budget of 64 MiB") && e.contains("SPINDLE_DECODE_BUDGET=")
                || e.contains("free space"),
            "{name}: {e}"
        );
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "{name}");
    }
    // A budget that is not a size is an error, not the default.
    let o = info(
        &d.join("declared.iso.zst"),
        &[("SPINDLE_DECODE_BUDGET", Path::new("lots"))],
    );
    assert!(
        stderr(&o).contains("SPINDLE_DECODE_BUDGET=\"lots\" is not a size"),
        "{}",
        stderr(&o)
    );
    // Within a larger budget the same file reads (unless the disk is too full for a copy).
    let o = info(
        &d.join("declared.iso.zst"),
        &[("SPINDLE_DECODE_BUDGET", Path::new("1G")), ("TMPDIR", &tmp)],
    );
    assert!(
        o.status.success() || stderr(&o).contains("free space"),
        "{}",
        stderr(&o)
    );
}

/// Links of the daemon's open descriptors.
fn daemon_fds(pid: i32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|r| {
            r.flatten()
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_root_daemon_refuses_fifos_and_bombs_and_keeps_answering() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root (a root daemon serving another user)");
        return;
    }
    let mut env = Env::new(180);
    let files = env.root().join("files");
    let tmp = env.root().join("tmp");
    for d in [&files, &tmp] {
        std::fs::create_dir(d).unwrap();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o1777)).unwrap();
    }
    mkfifo(&files.join("fifo.iso"));
    std::fs::set_permissions(
        files.join("fifo.iso"),
        std::fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    sh(
        &files,
        "head -c 256M /dev/zero | zstd -q -1 --single-thread --no-content-size > bomb.iso.zst && chmod 644 bomb.iso.zst",
    );
    let child = env
        .cmd(&["daemon"])
        .env("SPINDLE_DECODE_BUDGET", "64M")
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    env.adopt(child);
    env.wait_ready();
    let pid = env.children[0].id() as i32;

    // Several times: a blocked worker per request would show as a hang by the last one.
    for _ in 0..4 {
        let o = as_nobody(&env, &["mount", files.join("fifo.iso").to_str().unwrap()]);
        assert!(!o.status.success());
        assert!(
            stderr(&o).contains("fifo.iso is a FIFO (named pipe), not a disc image"),
            "{}",
            stderr(&o)
        );
    }
    let o = as_nobody(
        &env,
        &["mount", files.join("bomb.iso.zst").to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("bomb.iso.zst")
            && stderr(&o).contains("over the decompression budget of"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    let tmp_s = tmp.to_string_lossy().into_owned();
    assert!(
        !daemon_fds(pid).iter().any(|l| l.starts_with(&tmp_s)),
        "the daemon still holds a temporary copy: {:?}",
        daemon_fds(pid)
    );
    // The daemon still answers.
    let o = as_nobody(&env, &["drives", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A read-only loop device, detached when dropped (even when the test fails).
struct LoopDev(String);

impl Drop for LoopDev {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}

#[test]
fn a_block_device_reads_as_the_image_it_holds() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root (losetup)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("disc.iso");
    std::fs::copy(daemon_common::sample("libcdio/joliet.iso"), &iso).unwrap();
    let o = Command::new("losetup")
        .args(["-f", "--show", "-r"])
        .arg(&iso)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "losetup: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dev = LoopDev(String::from_utf8(o.stdout).unwrap().trim().to_string());
    let from_file = info(&iso, &[]);
    let from_dev = info(Path::new(&dev.0), &[]);
    assert!(from_dev.status.success(), "{}", stderr(&from_dev));
    // The same disc: everything after the name line (its size is where the device ends).
    let tail = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .skip(1)
            .filter(|l| !l.starts_with("Files:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(tail(&from_dev), tail(&from_file));
    assert!(
        tail(&from_dev).contains("Label:    K3b data project"),
        "{}",
        tail(&from_dev)
    );
}
