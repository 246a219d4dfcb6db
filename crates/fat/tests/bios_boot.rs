//! spindle's BIOS boot code: the bytes kept in the repository are what nasm assembles from
//! the source beside them, and a stick built with them boots in QEMU's SeaBIOS from a USB
//! disk: the MBR chains the active FAT32 partition, whose boot code finds BOOTMGR among
//! many root entries (long names, a root directory of several clusters), loads all its
//! clusters to 2000:0000 and jumps there with DL = 0x80. BOOTMGR here is a stub (boot/
//! bootmgr_stub.asm) that jumps 128 KiB into itself and prints a marker on COM1.

use spindle_bytes::{ByteSource, MemSource};
use spindle_fat::{Disk, DiskOptions, FatType, Options, Tree, boot, write_to};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn boot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("boot")
}

fn nasm(src: &Path, out: &Path) -> Vec<u8> {
    let st = Command::new("nasm")
        .args(["-f", "bin", "-o"])
        .arg(out)
        .arg(src)
        .status()
        .expect("nasm (scripts/setup installs it)");
    assert!(st.success(), "nasm {}", src.display());
    std::fs::read(out).unwrap()
}

#[test]
fn the_kept_bytes_are_what_the_source_assembles_to() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["mbr", "fat32"] {
        let got = nasm(
            &boot_dir().join(format!("{name}.asm")),
            &dir.path().join(name),
        );
        let kept = std::fs::read(boot_dir().join(format!("{name}.bin"))).unwrap();
        assert!(
            got == kept,
            "boot/{name}.bin is not what boot/{name}.asm assembles to"
        );
    }
    assert_eq!(boot::MBR.len(), 440);
    assert_eq!(boot::FAT32_CODE.len(), 420);
    assert_eq!(boot::FAT32_SECTORS.len(), 2048);
}

#[test]
fn a_stick_boots_bootmgr_in_seabios() {
    let dir = tempfile::tempdir().unwrap();
    let stub = nasm(
        &boot_dir().join("bootmgr_stub.asm"),
        &dir.path().join("stub"),
    );
    let mut tree = Tree::new(1_700_000_000);
    let file = |d: Vec<u8>, n: &str| -> Arc<dyn ByteSource> { Arc::new(MemSource::new(d, n)) };
    // Root entries before BOOTMGR: 60 long names (three entries each) fill several clusters.
    for i in 0..60 {
        tree.add_file(
            &format!("Setup Resource Number {i}.dat"),
            file(vec![i as u8; 700], "x"),
            0,
        )
        .unwrap();
    }
    tree.add_file("efi/boot/bootx64.efi", file(vec![1; 5000], "efi"), 0)
        .unwrap();
    tree.add_file("bootmgr", file(stub, "bootmgr"), 0).unwrap();
    let (opts, disk) = boot::bootmgr(
        &Options {
            fat_type: Some(FatType::Fat32),
            serial: 1,
            ..Options::default()
        },
        &DiskOptions::default(),
    );
    let size = 64u64 << 20;
    let d = Disk::build(&tree, &opts, &disk, size).unwrap();
    assert_eq!(
        d.volume.geometry.cluster_sectors, 1,
        "one-sector clusters: long chains"
    );
    let img = dir.path().join("stick.img");
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(size).unwrap();
    write_to(&d, &f, 0, 1 << 20, true).unwrap();
    drop(f);

    let log = dir.path().join("com1.log");
    let mut qemu = Command::new("qemu-system-x86_64")
        .args([
            "-machine", "pc", "-m", "128", "-display", "none", "-monitor", "none",
        ])
        .args(["-no-reboot", "-device", "qemu-xhci"])
        .arg("-drive")
        .arg(format!(
            "if=none,id=stick,format=raw,file={}",
            img.display()
        ))
        .args(["-device", "usb-storage,drive=stick,removable=on"])
        .arg("-serial")
        .arg(format!("file:{}", log.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("qemu-system-x86_64 (scripts/setup installs it)");
    let start = Instant::now();
    let mut text = String::new();
    while start.elapsed() < Duration::from_secs(90) {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("SPINDLE-BOOTMGR-OK") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = qemu.kill();
    let _ = qemu.wait();
    assert!(
        text.contains("SPINDLE-BOOTMGR-OK DL=80"),
        "no marker from BOOTMGR on COM1 after {:?}: {text:?}",
        start.elapsed()
    );
}
