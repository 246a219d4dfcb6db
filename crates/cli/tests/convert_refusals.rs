//! What `convert` and `boot -o` refuse or say so that nothing is lost quietly: a companion
//! file the user did not name is never replaced, Mode 2 Form 2 sectors are not cut to 2048
//! bytes, a cut image converts only with a warning, and a boot image never goes through a
//! symlink already in the output folder.

mod common;

use common::spindle;
use spindle_testkit::samples;
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A MODE2/2352 track of `sectors` raw sectors; those from `form2_from` on are Form 2.
fn xa_track(dir: &Path, name: &str, sectors: u32, form2_from: u32) -> std::path::PathBuf {
    let mut bin = Vec::with_capacity(sectors as usize * 2352);
    for i in 0..sectors {
        let mut sec = [0u8; 2352];
        sec[1..11].fill(0xFF);
        let lba = i + 150;
        let bcd = |v: u32| (((v / 10) << 4) | (v % 10)) as u8;
        sec[12] = bcd(lba / 75 / 60);
        sec[13] = bcd(lba / 75 % 60);
        sec[14] = bcd(lba % 75);
        sec[15] = 2;
        let submode = if i >= form2_from { 0x20 } else { 0x08 };
        for at in [16, 20] {
            sec[at + 2] = submode;
        }
        sec[24..24 + 2048].fill((i % 251) as u8);
        bin.extend_from_slice(&sec);
    }
    std::fs::write(dir.join(format!("{name}.bin")), bin).unwrap();
    let cue = dir.join(format!("{name}.cue"));
    std::fs::write(
        &cue,
        format!("FILE \"{name}.bin\" BINARY\n  TRACK 01 MODE2/2352\n    INDEX 01 00:00:00\n"),
    )
    .unwrap();
    cue
}

#[test]
fn a_companion_nobody_named_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let iso = samples().join("libcdio/copying.iso");
    let bin = dir.path().join("other.bin");
    std::fs::write(&bin, b"somebody's own dump").unwrap();
    let cue = dir.path().join("other.cue");
    let o = spindle(&["convert", s(&iso), s(&cue)]);
    assert!(!o.status.success(), "accepted");
    assert!(
        stderr(&o).contains("other.bin") && stderr(&o).contains("already exist"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&bin).unwrap(), b"somebody's own dump");
    assert!(!cue.exists());
    // Replacing an image (its descriptor named and there) replaces its companions.
    std::fs::write(
        &cue,
        "FILE \"other.bin\" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\n",
    )
    .unwrap();
    let o = spindle(&["convert", s(&iso), s(&cue)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(std::fs::read(&bin).unwrap(), b"somebody's own dump");
}

#[test]
fn form2_sectors_are_not_cut_to_an_iso() {
    let dir = tempfile::tempdir().unwrap();
    let xa = xa_track(dir.path(), "xa", 300, 20);
    let iso = dir.path().join("xa.iso");
    let o = spindle(&["convert", s(&xa), s(&iso)]);
    assert!(!o.status.success(), "accepted");
    assert!(stderr(&o).contains("280 Mode 2 Form 2"), "{}", stderr(&o));
    assert!(!iso.exists());
    // --data-only takes the 2048-byte blocks, saying what was cut.
    let o = spindle(&["convert", s(&xa), s(&iso), "--data-only"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("dropped: track 1 holds 280 Mode 2 Form 2"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::metadata(&iso).unwrap().len(), 300 * 2048);
    // To a format that keeps raw sectors it converts.
    let o = spindle(&["convert", s(&xa), s(&dir.path().join("copy.cue"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Form 1 only: the ISO holds everything.
    let f1 = xa_track(dir.path(), "f1", 300, 300);
    let o = spindle(&["convert", s(&f1), s(&dir.path().join("f1.iso"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::metadata(dir.path().join("f1.iso")).unwrap().len(),
        300 * 2048
    );
}

#[test]
fn a_cut_image_converts_only_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read(samples().join("debian-ipxe/ipxe.iso")).unwrap();
    let cut = dir.path().join("cut.iso");
    std::fs::write(&cut, &full[..full.len() / 4096 * 2048]).unwrap();
    let o = spindle(&["convert", s(&cut), s(&dir.path().join("cut.cue"))]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the image is incomplete"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("ISO 9660 volume space size"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn boot_images_never_go_through_a_link_in_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, b"keep me").unwrap();
    for name in [
        "boot-01-bios.img",
        "boot-01-bios.img.part",
        "boot-02-uefi.img.part",
    ] {
        std::os::unix::fs::symlink(&victim, out.join(name)).unwrap();
    }
    let o = spindle(&[
        "boot",
        s(&samples().join("debian-ipxe/ipxe.iso")),
        "-o",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    let meta = std::fs::symlink_metadata(out.join("boot-01-bios.img")).unwrap();
    assert!(
        meta.is_file(),
        "the link was not replaced by the boot image"
    );
    assert_eq!(meta.len(), 38912);
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".spindle-boot-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
