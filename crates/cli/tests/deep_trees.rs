//! Hostile nesting through the `spindle` binary: images whose directories nest 100,000 deep
//! (ISO 9660, Rock Ridge, Rock Ridge relocated through `CL`/`RE`, UDF; built by
//! spindle_testkit::deep_images) and directory loops. `ls -R`, `ls` and `cat` of deep paths,
//! `info` and `extract` end with a clear error or succeed: never a crash (a recursive walk
//! overflowed its stack at 30,000 levels), with bounded memory (maximum RSS, measured by GNU
//! time) and no endless loop.

mod daemon_common;

use deep::{Iso, Udf};
use spindle_testkit::deep_images as deep;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const LIMIT: usize = 2048;
/// A generous bound on the maximum RSS of one command (it measures about 16-30 MB; the
/// recursive walk took 151 MB at 10,000 levels before it crashed at 30,000).
const MAX_RSS_KB: u64 = 128 * 1024;

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
    max_rss_kb: u64,
    secs: f64,
}

/// Runs spindle with `args` under GNU time (its maximum RSS: a child's own `ru_maxrss`
/// also counts the memory of the process it was forked from, here the test's, so the
/// measuring parent must be small); output goes to files (no pipe to drain).
fn run(tmp: &Path, args: &[&str]) -> Run {
    let (out, err, times) = (tmp.join("stdout"), tmp.join("stderr"), tmp.join("time"));
    let t = Instant::now();
    let status = Command::new("/usr/bin/time")
        .arg("-o")
        .arg(&times)
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .status()
        .expect("/usr/bin/time runs (scripts/setup installs it)");
    let secs = t.elapsed().as_secs_f64();
    let times = std::fs::read_to_string(&times).unwrap();
    assert!(
        !times.contains("terminated by signal"),
        "spindle {}: {times} (a crash)",
        args[..2.min(args.len())].join(" ")
    );
    Run {
        code: status.code().expect("time exits"),
        stdout: std::fs::read(&out).unwrap(),
        stderr: std::fs::read_to_string(&err).unwrap(),
        max_rss_kb: times
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .expect("time's %M"),
        secs,
    }
}

fn report(what: &str, r: &Run) {
    eprintln!(
        "{what}: exit {}, {} bytes of output, max RSS {} KB, {:.2} s",
        r.code,
        r.stdout.len(),
        r.max_rss_kb,
        r.secs
    );
    assert!(
        r.max_rss_kb < MAX_RSS_KB,
        "{what}: max RSS {} KB",
        r.max_rss_kb
    );
}

/// `ls -R` of a 100,000-level chain: the directories down to the limit are listed, then a
/// clear error names the image and the path.
fn check_ls_r(img: &Path, tmp: &Path, what: &str, dir: &str) {
    let img_s = img.to_str().unwrap();
    let r = run(tmp, &["ls", "-R", img_s]);
    report(&format!("{what}: ls -R"), &r);
    assert_eq!(r.code, 1, "{what}: {}", r.stderr);
    assert!(
        r.stderr.contains(img_s),
        "{what}: the error names the image: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "({} components): nested deeper than {LIMIT} directories",
            LIMIT + 1
        )),
        "{what}: {}",
        r.stderr
    );
    let text = String::from_utf8(r.stdout).unwrap();
    let headers: Vec<&str> = text.lines().filter(|l| l.ends_with(':')).collect();
    assert_eq!(headers.len(), LIMIT, "{what}: directories listed");
    assert_eq!(
        headers.last().unwrap().trim_end_matches(':'),
        format!("/{dir}").repeat(LIMIT - 1)
    );
    // A long listing walks the same way.
    let r = run(tmp, &["ls", "-lR", img_s]);
    report(&format!("{what}: ls -lR"), &r);
    assert_eq!(r.code, 1, "{what}: {}", r.stderr);
    assert!(
        r.stderr.contains("nested deeper than"),
        "{what}: {}",
        r.stderr
    );
    // Paths deeper than the limit are refused; `info` does not walk.
    let too_deep = format!("/{dir}").repeat(LIMIT + 1);
    for cmd in ["ls", "cat"] {
        let r = run(tmp, &[cmd, img_s, &too_deep]);
        assert_eq!(r.code, 1, "{what}: {cmd}");
        assert!(
            r.stderr.contains("nested deeper than") && r.stderr.contains(img_s),
            "{what}: {cmd}: {}",
            r.stderr
        );
        assert!(
            r.stderr.len() < 1000,
            "{what}: {cmd}: the message abbreviates the path"
        );
    }
    let r = run(tmp, &["ls", img_s, &format!("/{dir}").repeat(LIMIT)]);
    assert_eq!(
        (r.code, r.stdout.as_slice()),
        (0, format!("{dir}\n").as_bytes()),
        "{what}: {}",
        r.stderr
    );
    let r = run(tmp, &["info", img_s]);
    report(&format!("{what}: info"), &r);
    assert_eq!(r.code, 0, "{what}: {}", r.stderr);
    // No boot catalog here: a plain answer, no walk.
    let r = run(tmp, &["boot", img_s]);
    assert!(r.code <= 1, "{what}: boot: {}", r.stderr);
    // extract stops descending at its own depth limit (256 levels) and says so.
    let out = tmp.join("x");
    let r = run(
        tmp,
        &["extract", "--output", out.to_str().unwrap(), img_s, "/"],
    );
    report(&format!("{what}: extract"), &r);
    assert!(r.code <= 1, "{what}: {}", r.stderr);
    assert!(
        r.stderr.contains("deeper than 256 directory levels"),
        "{what}: {}",
        r.stderr
    );
    std::fs::remove_dir_all(&out).unwrap();
}

fn iso_100000(kind: Iso, dir: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("deep.iso");
    let t = Instant::now();
    deep::write_iso(&img, kind, 100_000).unwrap();
    eprintln!(
        "{kind:?}: 100,000 levels, {} bytes, built in {:.1} s",
        img.metadata().unwrap().len(),
        t.elapsed().as_secs_f64()
    );
    check_ls_r(&img, tmp.path(), &format!("{kind:?}"), dir);
}

#[test]
fn plain_iso_100000_levels() {
    iso_100000(Iso::Plain, "D");
}

#[test]
fn rock_ridge_iso_100000_levels() {
    iso_100000(Iso::RockRidge, "d");
}

#[test]
fn relocated_rock_ridge_iso_100000_levels() {
    iso_100000(Iso::Relocated, "d");
}

#[test]
fn udf_100000_levels() {
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("deep.udf.iso");
    deep::write_udf(&img, 100_000, Udf::Chain).unwrap();
    check_ls_r(&img, tmp.path(), "UDF", "d");
}

/// The file at the bottom of a chain as deep as the limit allows reads back through `cat`
/// and lists through `ls`, in each kind of image.
#[test]
fn deepest_file_within_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("deep.iso");
    for kind in [Iso::Plain, Iso::RockRidge, Iso::Relocated] {
        deep::write_iso(&img, kind, LIMIT - 1).unwrap();
        let path = deep::deep_path(kind, LIMIT - 1);
        let r = run(tmp.path(), &["cat", img.to_str().unwrap(), &path]);
        assert_eq!(
            (r.code, r.stdout.as_slice()),
            (0, deep::CONTENT),
            "{kind:?}: {}",
            r.stderr
        );
        let r = run(tmp.path(), &["ls", "-R", img.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{kind:?}: {}", r.stderr);
    }
    deep::write_udf(&img, LIMIT - 1, Udf::Chain).unwrap();
    let r = run(
        tmp.path(),
        &[
            "cat",
            img.to_str().unwrap(),
            &deep::deep_path(Iso::RockRidge, LIMIT - 1),
        ],
    );
    assert_eq!(
        (r.code, r.stdout.as_slice()),
        (0, deep::CONTENT),
        "UDF: {}",
        r.stderr
    );
}

/// A directory naming its ancestor (a record, a Rock Ridge CL, a UDF FID), and a UDF
/// directory named by two FIDs at each of 64 levels (2^64 paths: a walk that lists a
/// directory once per path never ends): `ls -R` ends at once with an error saying so, naming
/// the image and the directory; so does `extract`.
#[test]
fn directory_loops() {
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("loop.iso");
    type Build<'a> = &'a dyn Fn(&Path) -> std::io::Result<()>;
    let cases: [(&str, Build, &str); 4] = [
        ("ISO record", &|p| deep::write_iso(p, Iso::Cycle, 5), "loop"),
        (
            "Rock Ridge CL",
            &|p| deep::write_iso(p, Iso::CycleCl, 5),
            "loop",
        ),
        ("UDF FID", &|p| deep::write_udf(p, 5, Udf::Cycle), "cycle"),
        (
            "UDF shared directories",
            &|p| deep::write_udf(p, 64, Udf::Dag),
            "twice",
        ),
    ];
    for (what, build, says) in cases {
        build(&img).unwrap();
        let img_s = img.to_str().unwrap();
        let r = run(tmp.path(), &["ls", "-R", img_s]);
        report(&format!("{what}: ls -R"), &r);
        assert_eq!(r.code, 1, "{what}: {}", r.stderr);
        assert!(r.stderr.contains(img_s), "{what}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{what}: {}", r.stderr);
        assert!(
            r.stdout.len() < 16384,
            "{what}: {} bytes listed",
            r.stdout.len()
        );
        {
            let out = tmp.path().join("x");
            let r = run(
                tmp.path(),
                &["extract", "--output", out.to_str().unwrap(), img_s, "/"],
            );
            assert_eq!(r.code, 1, "{what}: {}", r.stderr);
            assert!(r.stderr.contains(says), "{what}: {}", r.stderr);
            let _ = std::fs::remove_dir_all(&out);
        }
    }
}

/// `spindle mount` of a 100,000-level image through the daemon: `find` over the mount stops
/// at the limit with ENAMETOOLONG ("File name too long"), and the daemon lives on and ejects.
#[test]
fn daemon_mount_of_100000_levels() {
    let env = daemon_common::Env::new(600);
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("deep.iso");
    deep::write_iso(&img, Iso::RockRidge, 100_000).unwrap();
    let at = std::path::PathBuf::from(env.ok(&["mount", img.to_str().unwrap()]).trim());
    let pid = env.daemon_pid().expect("a daemon");
    let t = Instant::now();
    let out = Command::new("find")
        .arg(&at)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let lines = out.stdout.iter().filter(|&&b| b == b'\n').count();
    eprintln!(
        "daemon mount: find exit {:?}, {lines} lines in {:.1} s",
        out.status.code(),
        t.elapsed().as_secs_f64()
    );
    assert!(!out.status.success());
    assert!(err.contains("File name too long"), "{err}");
    assert_eq!(lines, 1 + LIMIT);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let hwm: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    eprintln!("daemon mount: the daemon's peak RSS {hwm} KB");
    assert!(hwm < MAX_RSS_KB, "daemon peak RSS {hwm} KB");
    // The same daemon answers and ejects.
    assert_eq!(env.daemon_pid(), Some(pid));
    assert_eq!(
        env.drives()["drives"][0]["mountpoints"][0],
        at.to_str().unwrap()
    );
    env.ok(&["eject", at.to_str().unwrap()]);
    assert!(env.tree_mounts().is_empty());
    assert_eq!(env.daemon_pid(), Some(pid));
}
