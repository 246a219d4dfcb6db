//! The Windows stick boots (issue 18), proven without Windows: a Windows-like ISO (made by
//! genisoimage) whose `bootmgr` is a stub that prints a marker on COM1 (crates/fat/boot/
//! bootmgr_stub.asm) and whose `efi/boot/bootx64.efi` is a `grub-mkstandalone` image that
//! prints another is burned to a loop device by the library; QEMU then boots the stick as
//! a USB disk twice: SeaBIOS (legacy BIOS: spindle's MBR and FAT32 boot code load bootmgr)
//! and OVMF (UEFI: the firmware reads our FAT32 and starts the ISO's loader unchanged).

use spindle_burn::{Options, Outcome, Policy, Source, Target, device, safety, stick};
use spindle_testkit::loopdev::Loop;
use spindle_testkit::tools::run;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// Boots `stick` (a raw disk image, opened as a snapshot so it stays unchanged) as a USB
/// disk with `firmware` arguments; the COM1 log once `marker` shows or after 120 s.
fn boot(stick: &Path, firmware: &[String], log: &Path, marker: &str) -> String {
    let mut qemu = Command::new("qemu-system-x86_64")
        .args(firmware)
        .args([
            "-m",
            "256",
            "-display",
            "none",
            "-monitor",
            "none",
            "-no-reboot",
        ])
        .args(["-device", "qemu-xhci"])
        .arg("-drive")
        .arg(format!(
            "if=none,id=stick,format=raw,snapshot=on,file={}",
            stick.display()
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
    while start.elapsed() < Duration::from_secs(120) {
        text = String::from_utf8_lossy(&std::fs::read(log).unwrap_or_default()).into_owned();
        if text.contains(marker) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = qemu.kill();
    let _ = qemu.wait();
    text
}

#[test]
fn the_stick_boots_on_bios_and_uefi() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tree = d.join("iso");
    std::fs::create_dir_all(tree.join("efi/boot")).unwrap();
    std::fs::create_dir_all(tree.join("sources")).unwrap();
    let fat_boot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fat/boot");
    run(Command::new("nasm")
        .args(["-f", "bin", "-o"])
        .arg(tree.join("bootmgr"))
        .arg(fat_boot.join("bootmgr_stub.asm")));
    let cfg = d.join("grub.cfg");
    std::fs::write(
        &cfg,
        "serial --unit=0 --speed=115200\nterminal_output serial\necho SPINDLE-UEFI-OK\nhalt\n",
    )
    .unwrap();
    run(Command::new("grub-mkstandalone")
        .args(["-O", "x86_64-efi", "--modules=serial echo halt", "-o"])
        .arg(tree.join("efi/boot/bootx64.efi"))
        .arg(format!("boot/grub/grub.cfg={}", cfg.display())));
    std::fs::write(
        tree.join("sources/install.wim"),
        b"MSWIM\0\0\0 (not a real one)",
    )
    .unwrap();
    let iso = d.join("win.iso");
    run(Command::new("genisoimage")
        .args(["-quiet", "-J", "-udf", "-o"])
        .arg(&iso)
        .arg(&tree));

    let src = Source::open(&iso, None).unwrap();
    assert_eq!(
        spindle_burn::boot::check(&src),
        spindle_burn::Boot::WindowsIso
    );
    let l = Loop::new(d, "stick.img", 96 << 20, &[]);
    let dev = device::open_device(&l.dev).unwrap();
    let s = stick::layout(&src, dev.size).unwrap();
    assert!(s.bios && s.uefi);
    let src = stick::source(&src, s);
    let policy = Policy {
        allow_fixed: true,
        unmount: false,
    };
    safety::check(&dev, src.len(), &src.reads, policy).unwrap();
    let report = spindle_burn::burn(
        &src,
        vec![Target::open(dev).unwrap()],
        &Options::default(),
        &AtomicBool::new(false),
        &|_| {},
    );
    assert_eq!(report.targets[0].outcome, Outcome::Verified);
    drop(l); // detached: QEMU reads the file the loop device wrote

    let stick = d.join("stick.img");
    let bios = boot(
        &stick,
        &["-machine".into(), "pc".into()],
        &d.join("bios.log"),
        "SPINDLE-BOOTMGR-OK",
    );
    assert!(
        bios.contains("SPINDLE-BOOTMGR-OK DL=80"),
        "SeaBIOS: {bios:?}"
    );

    let vars = d.join("vars.fd");
    std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars).expect("OVMF (ovmf; scripts/setup)");
    let uefi = boot(
        &stick,
        &[
            "-machine".into(),
            "q35".into(),
            "-drive".into(),
            "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd".into(),
            "-drive".into(),
            format!("if=pflash,format=raw,file={}", vars.display()),
        ],
        &d.join("uefi.log"),
        "SPINDLE-UEFI-OK",
    );
    assert!(uefi.contains("SPINDLE-UEFI-OK"), "OVMF: {uefi:?}");
}
