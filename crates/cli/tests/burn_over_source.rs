//! `spindle burn` never writes over its own source. A target that is a loop device backed by
//! the image, by a file the image reads (a CUE's BIN) or by the container it is read from
//! (`.gz`), directly or through a nested loop, is refused whatever the flags, and every input
//! stays byte for byte as it was (`sha256sum` before and after, on the inputs and the
//! device). A burn to an unrelated loop device beside them, on the same filesystem, works.
//! Real loop devices (root); device mapper is in crates/vmtest/tests/burn_dm_vm.rs (this
//! machine's kernel has none).

use spindle_testkit::digest::sha256sum as sha256;
use spindle_testkit::loopdev::{Loop, make_iso};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn spindle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run spindle")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// An ISO, the CUE/BIN `spindle convert` makes of it, and a gzip copy of it.
struct Inputs {
    _dir: tempfile::TempDir,
    iso: PathBuf,
    cue: PathBuf,
    bin: PathBuf,
    gz: PathBuf,
}

impl Inputs {
    fn new() -> Inputs {
        let dir = tempfile::tempdir().unwrap();
        let iso = make_iso(dir.path(), "disc.iso", 3);
        let cue = dir.path().join("disc.cue");
        let o = spindle(&["convert", iso.to_str().unwrap(), cue.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o));
        let bin = dir.path().join("disc.bin");
        assert!(bin.exists(), "convert wrote {}", bin.display());
        let gz = dir.path().join("disc.iso.gz");
        let o = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "gzip -n -c '{}' > '{}'",
                iso.display(),
                gz.display()
            ))
            .status()
            .unwrap();
        assert!(o.success(), "gzip");
        Inputs {
            _dir: dir,
            iso,
            cue,
            bin,
            gz,
        }
    }
    fn dir(&self) -> &Path {
        self._dir.path()
    }
    fn all(&self) -> [&Path; 4] {
        [&self.iso, &self.cue, &self.bin, &self.gz]
    }
    fn hashes(&self) -> Vec<String> {
        self.all().iter().map(|p| sha256(p)).collect()
    }
}

/// `spindle burn IMAGE TARGET extra...` must be refused as writing over the source, with every
/// `parts` in the message; every input and the device keep their sha256.
fn refused_over_source(
    inp: &Inputs,
    image: &Path,
    target: &Loop,
    extra: &[&str],
    parts: &[&str],
) -> String {
    let before = (inp.hashes(), sha256(&target.dev));
    let mut args = vec!["burn", image.to_str().unwrap(), target.path()];
    args.extend_from_slice(extra);
    let o = spindle(&args);
    let t = text(&o);
    assert!(!o.status.success(), "burned over its own source: {t}");
    assert!(t.contains("writing it would overwrite the source"), "{t}");
    assert!(t.contains("no option overrides this"), "{t}");
    for p in parts {
        assert!(t.contains(p), "expected {p:?} in: {t}");
    }
    assert!(!t.contains("complete"), "{t}");
    assert_eq!(
        before,
        (inp.hashes(), sha256(&target.dev)),
        "a refused burn changed an input or the device"
    );
    t
}

const FORCE: &[&str] = &["--allow-fixed", "--yes"];

#[test]
fn a_loop_device_over_the_iso_itself_is_refused() {
    let inp = Inputs::new();
    let l = Loop::over(&inp.iso, &[]);
    let chain = format!("{} → backing file {}", l.path(), inp.iso.display());
    refused_over_source(&inp, &inp.iso, &l, FORCE, &[&chain, "is the image"]);
    // Without --allow-fixed, and with --unmount: still this reason, not the fixed-disk one.
    let t = refused_over_source(&inp, &inp.iso, &l, &["--yes", "--unmount"], &[&chain]);
    assert!(!t.contains("fixed disk"), "{t}");
}

#[test]
fn a_loop_device_over_the_bin_a_cue_reads_is_refused() {
    let inp = Inputs::new();
    let l = Loop::over(&inp.bin, &[]);
    let chain = format!("{} → backing file {}", l.path(), inp.bin.display());
    let reads = format!("which the image {} reads", inp.cue.display());
    refused_over_source(&inp, &inp.cue, &l, FORCE, &[&chain, &reads]);
}

#[test]
fn a_loop_device_over_the_gz_container_is_refused() {
    let inp = Inputs::new();
    let l = Loop::over(&inp.gz, &[]);
    let chain = format!("{} → backing file {}", l.path(), inp.gz.display());
    refused_over_source(&inp, &inp.gz, &l, FORCE, &[&chain, "is the image"]);
}

#[test]
fn a_nested_loop_over_a_loop_over_the_bin_is_refused() {
    let inp = Inputs::new();
    let inner = Loop::over(&inp.bin, &[]);
    let outer = Loop::over(&inner.dev, &[]);
    let chain = format!(
        "{} → {} → backing file {}",
        outer.path(),
        inner.path(),
        inp.bin.display()
    );
    refused_over_source(&inp, &inp.cue, &outer, FORCE, &[&chain]);
}

#[test]
fn a_backing_file_known_only_by_its_inode_is_refused() {
    // The loop's file was attached under a name that is gone (sysfs says "(deleted)"); the
    // image is the same inode under another name: only the kernel's dev/inode tell.
    let inp = Inputs::new();
    let first = inp.dir().join("first-name.iso");
    std::fs::hard_link(&inp.iso, &first).unwrap();
    let l = Loop::over(&first, &[]);
    std::fs::remove_file(&first).unwrap();
    let shown =
        std::fs::read_to_string(format!("/sys/block/{}/loop/backing_file", l.name())).unwrap();
    assert!(
        shown.trim_end().ends_with("(deleted)"),
        "sysfs shows {shown:?}"
    );
    refused_over_source(
        &inp,
        &inp.iso,
        &l,
        FORCE,
        &["first-name.iso (deleted)", "is the image"],
    );
}

#[test]
fn an_unrelated_loop_device_on_the_same_filesystem_is_written_and_verified() {
    let inp = Inputs::new();
    let want = std::fs::read(&inp.iso).unwrap();
    let before = inp.hashes();
    for image in [&inp.iso, &inp.cue, &inp.gz] {
        let l = Loop::new(inp.dir(), "stick.img", 8 << 20, &[]);
        let o = spindle(&[
            "burn",
            image.to_str().unwrap(),
            l.path(),
            "--allow-fixed",
            "--yes",
        ]);
        let t = text(&o);
        assert!(o.status.success(), "{t}");
        assert!(
            t.contains(&format!("{}: complete and verified", l.path())),
            "{t}"
        );
        assert!(
            l.head(want.len()) == want,
            "{} does not hold the image",
            l.path()
        );
    }
    assert_eq!(before, inp.hashes(), "burning changed an input");
}

#[test]
fn a_target_reattached_to_the_bin_while_the_prompt_waits_is_not_written() {
    let inp = Inputs::new();
    let mut l = Loop::new(inp.dir(), "shown.img", 8 << 20, &[]);
    let before = inp.hashes();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(["burn", inp.cue.to_str().unwrap(), l.path(), "--allow-fixed"])
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
    // The shown disk now reads and writes the BIN.
    l.attach_instead(&inp.bin);
    let bin_dev = sha256(&l.dev);
    writeln!(child.stdin.take().unwrap(), "{}", l.name()).unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "{rest}");
    assert!(
        rest.contains("nothing was written") || rest.contains("would overwrite the source"),
        "{rest}"
    );
    assert_eq!(before, inp.hashes(), "the BIN was written");
    assert_eq!(bin_dev, sha256(&l.dev));
}
