//! `spindle create` with El Torito and a hybrid MBR: Debian's isolinux boots the image in
//! QEMU (SeaBIOS, TCG) both as a CD-ROM and as a hard disk, reads its configuration from our
//! ISO 9660 tree and prints the marker on the serial console; xorriso reports the entries,
//! the isohybrid MBR and (an EFI image being present) the GPT.

mod create_common;

use create_common::*;
use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MARKER: &str = "spindle-boot-marker";

/// isolinux (Debian's isolinux and syslinux-common packages) with a configuration that
/// prints the banner and then tries to load a kernel named after the marker.
fn boot_tree(root: &Path) {
    fs::create_dir_all(root.join("isolinux")).unwrap();
    for (from, to) in [
        ("/usr/lib/ISOLINUX/isolinux.bin", "isolinux/isolinux.bin"),
        (
            "/usr/lib/syslinux/modules/bios/ldlinux.c32",
            "isolinux/ldlinux.c32",
        ),
    ] {
        fs::copy(from, root.join(to))
            .unwrap_or_else(|e| panic!("{from}: {e} (bash scripts/setup)"));
    }
    fs::write(
        root.join("isolinux/isolinux.cfg"),
        format!("SERIAL 0 115200\nPROMPT 0\nDEFAULT m\nLABEL m\n  KERNEL /{MARKER}\n"),
    )
    .unwrap();
    // A second entry for UEFI: any file will do for the catalog.
    fs::write(root.join("efi.img"), vec![0xE5u8; 64 * 1024]).unwrap();
}

/// Boots QEMU with `drive` arguments until the serial console shows the marker (true) or
/// `limit` passes (false).
fn boots(dir: &Path, name: &str, drive: &[String], limit: Duration) -> (bool, String) {
    let serial = dir.join(format!("serial-{name}.txt"));
    let mut child = Command::new("qemu-system-x86_64")
        .args(["-m", "128", "-display", "none", "-no-reboot", "-serial"])
        .arg(format!("file:{}", serial.display()))
        .args(drive)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu-system-x86_64 (bash scripts/setup)");
    let start = Instant::now();
    let mut seen = String::new();
    let mut found = false;
    while start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(500));
        seen = fs::read_to_string(&serial).unwrap_or_default();
        if seen.contains(&format!("Loading /{MARKER}")) {
            found = true;
            break;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    seen.push_str(&String::from_utf8_lossy(&out.stderr));
    (found, seen)
}

#[test]
fn isolinux_boots_from_cd_and_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    boot_tree(&src);
    let iso = tmp.path().join("boot.iso");
    let args = |out: &Path| -> Vec<std::ffi::OsString> {
        [
            "create",
            src.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--boot-bios",
            "isolinux/isolinux.bin",
            "--boot-info-table",
            "--boot-efi",
            "efi.img",
            "--hybrid",
            "--mbr",
            "/usr/lib/ISOLINUX/isohdpfx.bin",
        ]
        .iter()
        .map(|s| s.into())
        .collect()
    };
    let a = args(&iso);
    let o = spindle(&a.iter().map(|s| s.as_os_str()).collect::<Vec<&OsStr>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("checked:"));
    // Hybrid images are whole 1 MiB cylinders; the MBR id comes from the tree: same bytes.
    assert_eq!(fs::metadata(&iso).unwrap().len() % (1 << 20), 0);
    let again = tmp.path().join("again.iso");
    let a = args(&again);
    assert!(
        spindle(&a.iter().map(|s| s.as_os_str()).collect::<Vec<&OsStr>>())
            .status
            .success()
    );
    assert_eq!(fs::read(&iso).unwrap(), fs::read(&again).unwrap());

    let report = run(Command::new("xorriso").arg("-indev").arg(&iso).args([
        "-report_el_torito",
        "plain",
        "-report_system_area",
        "plain",
    ]));
    let r = String::from_utf8_lossy(&report.stdout);
    let has = |words: &[&str]| {
        r.lines()
            .any(|l| words.iter().all(|w| l.split_whitespace().any(|x| x == *w)))
    };
    assert!(
        has(&["El", "Torito", "boot", "img", "1", "BIOS", "y", "none", "4"]),
        "{r}"
    );
    assert!(
        has(&[
            "El", "Torito", "boot", "img", "2", "UEFI", "y", "none", "128"
        ]),
        "{r}"
    );
    assert!(
        has(&["/isolinux/isolinux.bin"]) && has(&["/efi.img"]),
        "{r}"
    );
    assert!(has(&["boot-info-table", "isohybrid-suitable"]), "{r}");
    // With an EFI image, the partition table is a GPT (protective MBR entry, the EFI image
    // as the EFI System Partition); the MBR code still loads isolinux.
    assert!(r.contains("MBR isohybrid") && r.contains("GPT"), "{r}");
    assert!(has(&["GPT", "partition", "path", "1", "/efi.img"]), "{r}");
    let fdisk = run(Command::new("sfdisk").arg("--dump").arg(&iso));
    let f = String::from_utf8_lossy(&fdisk.stdout);
    assert!(
        f.contains("label: gpt") && f.contains("type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B"),
        "{f}"
    );
    let v = run(Command::new("sgdisk").arg("-v").arg(&iso));
    let v = String::from_utf8_lossy(&v.stdout);
    assert!(v.contains("No problems found"), "{v}");

    // Both boots at once (two cores): as a CD-ROM, and as an IDE disk (copy-on-write).
    let limit = Duration::from_secs(240);
    let cd = vec![
        "-cdrom".into(),
        iso.display().to_string(),
        "-boot".into(),
        "d".into(),
    ];
    let disk = vec![
        "-drive".into(),
        format!("file={},format=raw,if=ide,snapshot=on", iso.display()),
        "-boot".into(),
        "c".into(),
    ];
    let dir = tmp.path().to_path_buf();
    let d2 = dir.clone();
    let t = std::thread::spawn(move || boots(&d2, "disk", &disk, limit));
    let (cd_ok, cd_log) = boots(&dir, "cd", &cd, limit);
    let (disk_ok, disk_log) = t.join().unwrap();
    assert!(cd_ok, "no marker booting as a CD-ROM:\n{cd_log}");
    assert!(disk_ok, "no marker booting as a disk:\n{disk_log}");
    assert!(cd_log.contains("ISOLINUX") && disk_log.contains("ISOLINUX"));
}

/// A hybrid image needs a BIOS default entry with the isolinux hybrid signature.
#[test]
fn hybrid_refuses_a_boot_image_without_the_signature() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("boot.bin"), vec![0x90u8; 2048]).unwrap();
    let out = tmp.path().join("x.iso");
    let o = spindle(&[
        OsStr::new("create"),
        src.as_os_str(),
        OsStr::new("-o"),
        out.as_os_str(),
        OsStr::new("--boot-bios"),
        OsStr::new("boot.bin"),
        OsStr::new("--boot-info-table"),
        OsStr::new("--hybrid"),
        OsStr::new("--mbr"),
        OsStr::new("/usr/lib/ISOLINUX/isohdpfx.bin"),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("boot.bin") && e.contains("hybrid signature"),
        "{e}"
    );
    let o = spindle(&[
        OsStr::new("create"),
        src.as_os_str(),
        OsStr::new("-o"),
        out.as_os_str(),
        OsStr::new("--boot-bios"),
        OsStr::new("missing.bin"),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("missing.bin") && e.contains("no such file"),
        "{e}"
    );
    assert!(!out.exists());
}
