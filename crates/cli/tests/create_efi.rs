//! `spindle create --efi-dir`: spindle builds the EFI system partition image itself (FAT
//! through spindle-fat) from a folder holding a `grub-mkstandalone` loader that prints a
//! marker on COM1; QEMU with OVMF (TCG) boots the ISO as a CD-ROM and, made `--hybrid`
//! (protective MBR and GPT), as a disk. Two runs give the same bytes; `sfdisk --json` and
//! `sgdisk -v` read the GPT clean; a folder without a loader is refused.

mod create_common;

use create_common::*;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MARKER: &str = "SPINDLE-EFI-MARKER";

/// A folder `esp` with EFI/BOOT/BOOTX64.EFI: GRUB, standalone, printing the marker on COM1.
fn esp(d: &Path) -> PathBuf {
    let esp = d.join("esp");
    fs::create_dir_all(esp.join("EFI/BOOT")).unwrap();
    let cfg = d.join("grub.cfg");
    fs::write(
        &cfg,
        format!("serial --unit=0 --speed=115200\nterminal_output serial\necho {MARKER}\nhalt\n"),
    )
    .unwrap();
    run(Command::new("grub-mkstandalone")
        .args([
            "-O",
            "x86_64-efi",
            "--modules=serial echo halt",
            "--locales=",
            "--fonts=",
            "--themes=",
            "-o",
        ])
        .arg(esp.join("EFI/BOOT/BOOTX64.EFI"))
        .arg(format!("boot/grub/grub.cfg={}", cfg.display())));
    fs::write(
        esp.join("EFI/BOOT/a long name.txt"),
        b"kept on the FAT image\n",
    )
    .unwrap();
    esp
}

/// Boots QEMU (q35, OVMF) with `drive` arguments; the COM1 log once the marker shows or
/// after 120 s.
fn boot(d: &Path, name: &str, drive: &[String]) -> String {
    let vars = d.join(format!("vars-{name}.fd"));
    fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars).expect("OVMF (ovmf; scripts/setup)");
    let log = d.join(format!("serial-{name}.txt"));
    let mut qemu = Command::new("qemu-system-x86_64")
        .args(["-machine", "q35", "-m", "256", "-display", "none"])
        .args(["-monitor", "none", "-no-reboot", "-drive"])
        .arg("if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd")
        .arg("-drive")
        .arg(format!(
            "if=pflash,format=raw,unit=1,file={}",
            vars.display()
        ))
        .args(drive)
        .arg("-serial")
        .arg(format!("file:{}", log.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("qemu-system-x86_64 (scripts/setup installs it)");
    let start = Instant::now();
    let mut text = String::new();
    while start.elapsed() < Duration::from_secs(120) {
        text = String::from_utf8_lossy(&fs::read(&log).unwrap_or_default()).into_owned();
        if text.contains(MARKER) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = qemu.kill();
    let _ = qemu.wait();
    text
}

fn create(args: &[&OsStr]) -> String {
    let o = spindle(args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("checked:"));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn an_iso_with_an_efi_dir_boots_on_ovmf_as_a_cdrom() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let esp = esp(d);
    let src = d.join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("readme.txt"), b"an EFI-bootable image\n").unwrap();
    let iso = d.join("efi.iso");
    let again = d.join("again.iso");
    for out in [&iso, &again] {
        create(&[
            OsStr::new("create"),
            src.as_os_str(),
            OsStr::new("-o"),
            out.as_os_str(),
            OsStr::new("--efi-dir"),
            esp.as_os_str(),
        ]);
        std::thread::sleep(Duration::from_millis(1100));
    }
    assert_eq!(fs::read(&iso).unwrap(), fs::read(&again).unwrap());

    // The catalog: one UEFI entry, no emulation, the image's size in 512-byte sectors.
    let report = run(Command::new("xorriso")
        .arg("-indev")
        .arg(&iso)
        .args(["-report_el_torito", "plain"]));
    let r = String::from_utf8_lossy(&report.stdout);
    assert!(
        r.lines()
            .any(|l| l.contains("boot img") && l.contains("UEFI") && l.contains("none")),
        "{r}"
    );
    assert!(r.contains("/efi.img"), "{r}");

    // The FAT image (extracted by 7z, which reads Joliet) is clean and holds the folder.
    let out = d.join("x");
    run(Command::new("7z")
        .arg("x")
        .arg(format!("-o{}", out.display()))
        .arg(&iso));
    let img = out.join("efi.img");
    let fsck = run(Command::new("fsck.fat").arg("-n").arg(&img));
    assert!(
        String::from_utf8_lossy(&fsck.stdout).contains("efi.img: 4 files"),
        "{}",
        String::from_utf8_lossy(&fsck.stdout)
    );
    let copied = d.join("loader.efi");
    run(Command::new("mcopy")
        .arg("-i")
        .arg(&img)
        .arg("::/EFI/BOOT/BOOTX64.EFI")
        .arg(&copied));
    assert_eq!(
        fs::read(&copied).unwrap(),
        fs::read(esp.join("EFI/BOOT/BOOTX64.EFI")).unwrap()
    );
    let dir = run(Command::new("mdir").arg("-i").arg(&img).arg("::/EFI/BOOT"));
    assert!(String::from_utf8_lossy(&dir.stdout).contains("a long name.txt"));

    let cd = boot(
        d,
        "cd",
        &[
            "-drive".into(),
            format!("file={},media=cdrom,format=raw,readonly=on", iso.display()),
        ],
    );
    assert!(cd.contains(MARKER), "OVMF, CD-ROM: {cd:?}");

    // --hybrid: a protective MBR and a GPT whose EFI System Partition is the image's
    // efi.img extent; OVMF boots it as a disk.
    let hybrid = d.join("hybrid.iso");
    let args = [
        OsStr::new("create"),
        src.as_os_str(),
        OsStr::new("-o"),
        hybrid.as_os_str(),
        OsStr::new("--efi-dir"),
        esp.as_os_str(),
        OsStr::new("--hybrid"),
    ];
    create(&args);
    let bytes = fs::read(&hybrid).unwrap();
    assert_eq!(bytes.len() % (1 << 20), 0);
    assert_eq!(bytes[446 + 4], 0xEE, "the protective entry");
    let json = run(Command::new("sfdisk").arg("--json").arg(&hybrid));
    let t: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let t = &t["partitiontable"];
    assert_eq!(t["label"], "gpt");
    let parts = t["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 1, "{t}");
    assert_eq!(parts[0]["type"], "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    let start = parts[0]["start"].as_u64().unwrap() as usize * 512;
    let size = parts[0]["size"].as_u64().unwrap() as usize * 512;
    let img = fs::read(out.join("efi.img")).unwrap();
    assert_eq!(
        &bytes[start..start + size],
        &img[..],
        "the ESP is the efi.img extent"
    );
    let v = run(Command::new("sgdisk").arg("-v").arg(&hybrid));
    assert!(
        String::from_utf8_lossy(&v.stdout).contains("No problems found"),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
    // The GUIDs come from the tree: a second run gives the same bytes.
    fs::remove_file(&hybrid).unwrap();
    create(&args);
    assert_eq!(fs::read(&hybrid).unwrap(), bytes);
    let disk = boot(
        d,
        "disk",
        &[
            "-drive".into(),
            format!("file={},format=raw,snapshot=on", hybrid.display()),
        ],
    );
    assert!(disk.contains(MARKER), "OVMF, disk: {disk:?}");
}

#[test]
fn a_folder_without_a_loader_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let esp = d.join("esp");
    fs::create_dir_all(esp.join("EFI/BOOT")).unwrap();
    fs::write(esp.join("EFI/BOOT/grub.cfg"), b"x").unwrap();
    let src = d.join("src");
    fs::create_dir_all(&src).unwrap();
    let iso = d.join("x.iso");
    let o = spindle(&[
        OsStr::new("create"),
        src.as_os_str(),
        OsStr::new("-o"),
        iso.as_os_str(),
        OsStr::new("--efi-dir"),
        esp.as_os_str(),
    ]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains(esp.to_str().unwrap()) && e.contains("BOOTX64.EFI"),
        "{e}"
    );
    assert!(!iso.exists());
}
