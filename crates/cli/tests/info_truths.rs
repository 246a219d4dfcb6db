//! `info`, `boot` and `mount` tell the truth about what an image is: no known filesystem
//! (zeros, a FAT floppy, an MBR or GPT disk made by mkfs.fat and sfdisk), the real file of
//! a compressed image, the UDF label (udfinfo as oracle), a stored track-1 INDEX 00, boot
//! on a UDF-only image, and the whole boot file (xorriso as oracle).

mod daemon_common;

use daemon_common::{Env, sample};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn spindle(args: &[&str]) -> Output {
    Command::new(daemon_common::BIN)
        .args(args)
        .output()
        .expect("run spindle")
}

fn ok(args: &[&str]) -> String {
    let o = spindle(args);
    assert!(
        o.status.success(),
        "spindle {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn tool(cmd: &str, args: &[&str], stdin: Option<&str>) -> String {
    let mut c = Command::new(cmd);
    c.args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if stdin.is_some() {
        c.stdin(std::process::Stdio::piped());
    }
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd}: {e} (scripts/setup installs it)"));
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn sized(p: &Path, len: u64) {
    std::fs::File::create(p).unwrap().set_len(len).unwrap();
}

/// Images that open as ISO by their size alone: zeros, a FAT floppy, MBR and GPT disks.
fn not_cds(dir: &Path) -> Vec<(std::path::PathBuf, &'static str)> {
    let zeros = dir.join("zeros.iso");
    sized(&zeros, 4 << 20);
    let fat = dir.join("floppy.img");
    tool("mkfs.fat", &["-C", s(&fat), "1440"], None);
    let mbr = dir.join("mbr.img");
    sized(&mbr, 8 << 20);
    tool("sfdisk", &["-q", s(&mbr)], Some("label: dos\n,4M,c\n"));
    let gpt = dir.join("gpt.img");
    sized(&gpt, 8 << 20);
    tool("sfdisk", &["-q", s(&gpt)], Some("label: gpt\n,4M\n"));
    vec![
        (zeros, "all zeros"),
        (fat, "a FAT12 filesystem"),
        (mbr, "an MBR-partitioned disk image"),
        (gpt, "a GPT-partitioned disk image"),
    ]
}

#[test]
fn info_says_when_there_is_no_known_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    for (img, looks) in not_cds(dir.path()) {
        let text = ok(&["info", s(&img)]);
        assert!(
            text.contains("Content:  no known filesystem") && text.contains(looks),
            "{}: {text}",
            img.display()
        );
        let v: Value = serde_json::from_str(&ok(&["info", "--json", s(&img)])).unwrap();
        assert!(v["content"].as_str().unwrap().contains(looks), "{v}");
    }
    // A real ISO, a UDF-only volume and an audio CD have no such line.
    for good in [
        "libcdio/copying.iso",
        "libcdio/cdda.cue",
        "libcdio/udf102.iso",
    ] {
        let v: Value = serde_json::from_str(&ok(&["info", "--json", s(&sample(good))])).unwrap();
        assert_eq!(v["content"], Value::Null, "{good}");
    }
}

#[test]
fn info_of_a_compressed_image_names_the_file_and_the_container() {
    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("game.iso");
    std::fs::copy(sample("libcdio/copying.iso"), &iso).unwrap();
    tool("xz", &["-0", s(&iso)], None);
    let xz = dir.path().join("game.iso.xz");
    assert!(!iso.exists());
    let text = ok(&["info", s(&xz)]);
    assert!(
        text.contains(&format!("Image:    {}\n", xz.display())),
        "{text}"
    );
    assert!(text.contains("Container: xz"), "{text}");
    let v: Value = serde_json::from_str(&ok(&["info", "--json", s(&xz)])).unwrap();
    assert_eq!(v["path"], s(&xz));
    assert_eq!(v["container"], "xz");
    // A plain file of the inner name beside it changes nothing.
    std::fs::copy(sample("libcdio/joliet.iso"), &iso).unwrap();
    let v: Value = serde_json::from_str(&ok(&["info", "--json", s(&xz)])).unwrap();
    assert_eq!(
        (v["path"].as_str(), v["container"].as_str()),
        (Some(s(&xz)), Some("xz"))
    );
    let v: Value = serde_json::from_str(&ok(&["info", "--json", s(&iso)])).unwrap();
    assert_eq!(v["container"], Value::Null);
}

#[test]
fn udf_only_images_have_their_label_and_no_boot_record() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("udf.img");
    sized(&img, 8 << 20);
    tool(
        "mkudffs",
        &["--blocksize=2048", "--label=SpindleUDF", s(&img)],
        None,
    );
    let label = tool("udfinfo", &[s(&img)], None)
        .lines()
        .find_map(|l| l.strip_prefix("label=").map(String::from))
        .expect("udfinfo label");
    let v: Value = serde_json::from_str(&ok(&["info", "--json", s(&img)])).unwrap();
    assert_eq!(v["label"].as_str(), Some(label.as_str()));
    assert!(ok(&["info", s(&img)]).contains(&format!("Label:    {label}\n")));
    // boot: no El Torito record, exit 0, like an ISO without one.
    let o = spindle(&["boot", s(&img)]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("no El Torito boot record"));
    let o = spindle(&["boot", s(&sample("libcdio/copying.iso"))]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn a_stored_track_1_index_00_is_not_marked_synthesised() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(sample("libcdio/cdda.bin"), dir.path().join("cdda.bin")).unwrap();
    let cue = dir.path().join("gap.cue");
    std::fs::write(
        &cue,
        "FILE \"cdda.bin\" BINARY\n  TRACK 01 AUDIO\n    INDEX 00 00:00:00\n    INDEX 01 00:00:32\n",
    )
    .unwrap();
    let v: Value = serde_json::from_str(&ok(&["info", "--json", s(&cue)])).unwrap();
    let t = &v["sessions"][0]["tracks"][0];
    assert_eq!(t["pregap"], 182, "{t}");
    assert_eq!(t["pregap_synthesised"], 0, "{t}");
    let text = ok(&["info", s(&cue)]);
    assert!(text.contains(" 182 ") && !text.contains("182*"), "{text}");
    // A pregap that is not stored keeps its mark: session 2 of the CD-Extra fixture.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cd-extra/disc.cue");
    assert!(ok(&["info", s(&fixture)]).contains("150*"));
}

#[test]
fn boot_writes_the_whole_boot_file_as_xorriso_extracts_it() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("isolinux")).unwrap();
    let loader = spindle_testkit::pattern::bytes(38_912, 3);
    std::fs::write(tree.join("isolinux/isolinux.bin"), &loader).unwrap();
    let iso = dir.path().join("boot.iso");
    tool(
        "xorriso",
        &[
            "-as",
            "mkisofs",
            "-quiet",
            "-o",
            s(&iso),
            "-b",
            "isolinux/isolinux.bin",
            "-c",
            "isolinux/boot.cat",
            "-no-emul-boot",
            "-boot-load-size",
            "4",
            "-boot-info-table",
            s(&tree),
        ],
        None,
    );
    let out = dir.path().join("out");
    let text = ok(&["boot", s(&iso), "-o", s(&out)]);
    assert!(
        text.contains("38912 bytes: the whole file /isolinux/isolinux.bin"),
        "{text}"
    );
    // xorriso's copy of the file (with the boot info table it patched in).
    let theirs = dir.path().join("theirs.bin");
    let o = Command::new("xorriso")
        .args([
            "-osirrox",
            "on",
            "-indev",
            s(&iso),
            "-extract",
            "/isolinux/isolinux.bin",
            s(&theirs),
        ])
        .output()
        .expect("xorriso");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ours = std::fs::read(out.join("boot-01-bios.img")).unwrap();
    assert_eq!(ours.len(), 38_912);
    assert!(
        ours == std::fs::read(&theirs).unwrap(),
        "differs from xorriso's extract"
    );
    assert!(!out.join("boot-01-bios.img.part").exists());
}

#[test]
fn mount_of_an_image_with_no_filesystem_says_so_and_mounts_only_raw_views() {
    let dir = tempfile::tempdir().unwrap();
    let images = not_cds(dir.path());
    let env = Env::new(120);
    let (fat, looks) = &images[1];
    let o = env.run(&["mount", s(fat)]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}\n{}", env.log());
    assert!(
        err.contains("no known filesystem")
            && err.contains(looks)
            && err.contains("only the raw views are mounted"),
        "{err}"
    );
    let d = env.drives();
    assert_eq!(d["drives"][0]["image"], s(fat));
    assert_eq!(
        d["drives"][0]["mountpoints"].as_array().map_or(0, Vec::len),
        0,
        "{d}"
    );
    assert!(env.tree_mounts().is_empty());
    env.ok(&["eject", "--all"]);
}
