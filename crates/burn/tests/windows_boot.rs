//! The Windows stick boots (issue 18), proven without Windows: a Windows-like ISO (made by
//! genisoimage) whose `bootmgr` is a stub that prints a marker on COM1 (crates/fat/boot/
//! bootmgr_stub.asm) and whose `efi/boot/bootx64.efi` is a `grub-mkstandalone` image that
//! prints another is burned to a loop device by the library; QEMU then boots the stick as
//! a USB disk twice: SeaBIOS (legacy BIOS: spindle's MBR and FAT32 boot code load bootmgr)
//! and OVMF (UEFI: the firmware reads our FAT32 and starts the ISO's loader unchanged).
//! Under Secure Boot (OVMF with Microsoft's keys) that unsigned loader is refused, and a
//! stick whose ISO carries Debian's Microsoft-signed shim and signed GRUB as its loader
//! boots: the layout needs nothing unsigned of ours on the UEFI path.

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

/// Where scripts/setup unpacks Debian's signed shim and GRUB.
const SIGNED: &str = "/var/cache/spindle/secureboot/usr/lib";

fn pflash(code: &str, vars: &Path) -> Vec<String> {
    vec![
        "-drive".into(),
        format!("if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/{code}"),
        "-drive".into(),
        format!("if=pflash,format=raw,unit=1,file={}", vars.display()),
    ]
}

fn secure_boot(d: &Path, name: &str) -> Vec<String> {
    let vars = d.join(name);
    std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.ms.fd", &vars).expect("OVMF (ovmf; scripts/setup)");
    let mut a: Vec<String> = [
        "-machine",
        "q35,smm=on",
        "-global",
        "driver=cfi.pflash01,property=secure,value=on",
    ]
    .map(String::from)
    .to_vec();
    a.extend(pflash("OVMF_CODE_4M.ms.fd", &vars));
    a
}

/// A grub.cfg that prints `marker` on COM1 and halts.
fn marker_cfg(marker: &str) -> String {
    format!("serial --unit=0 --speed=115200\nterminal_output serial\necho {marker}\nhalt\n")
}

/// Builds a Windows-like ISO in `d/iso` (bootmgr stub, `extra` files), burns its stick to a
/// loop device over `d/<name>` with the library (verified), and returns that file.
fn stick_of(d: &Path, name: &str, extra: &[(&str, Vec<u8>)]) -> std::path::PathBuf {
    let tree = d.join(format!("iso-{name}"));
    std::fs::create_dir_all(tree.join("efi/boot")).unwrap();
    std::fs::create_dir_all(tree.join("sources")).unwrap();
    let fat_boot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fat/boot");
    run(Command::new("nasm")
        .args(["-f", "bin", "-o"])
        .arg(tree.join("bootmgr"))
        .arg(fat_boot.join("bootmgr_stub.asm")));
    std::fs::write(
        tree.join("sources/install.wim"),
        b"MSWIM\0\0\0 (not a real one)",
    )
    .unwrap();
    for (p, data) in extra {
        std::fs::write(tree.join(p), data).unwrap();
    }
    let iso = d.join(format!("{name}.iso"));
    run(Command::new("genisoimage")
        .args(["-quiet", "-J", "-udf", "-o"])
        .arg(&iso)
        .arg(&tree));
    let src = Source::open(&iso, None).unwrap();
    assert_eq!(
        spindle_burn::boot::check(&src),
        spindle_burn::Boot::WindowsIso
    );
    let l = Loop::new(d, name, 96 << 20, &[]);
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
    l.file.clone() // the loop device is detached on drop; QEMU reads the file it wrote
}

#[test]
fn the_stick_boots_on_bios_and_uefi_and_secure_boot_refuses_an_unsigned_loader() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = d.join("grub.cfg");
    std::fs::write(&cfg, marker_cfg("SPINDLE-UEFI-OK")).unwrap();
    let efi = d.join("bootx64.efi");
    run(Command::new("grub-mkstandalone")
        .args(["-O", "x86_64-efi", "--modules=serial echo halt", "-o"])
        .arg(&efi)
        .arg(format!("boot/grub/grub.cfg={}", cfg.display())));
    let stick = stick_of(
        d,
        "stick.img",
        &[("efi/boot/bootx64.efi", std::fs::read(&efi).unwrap())],
    );

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
    let mut uefi_args: Vec<String> = vec!["-machine".into(), "q35".into()];
    uefi_args.extend(pflash("OVMF_CODE_4M.fd", &vars));
    let uefi = boot(&stick, &uefi_args, &d.join("uefi.log"), "SPINDLE-UEFI-OK");
    assert!(uefi.contains("SPINDLE-UEFI-OK"), "OVMF: {uefi:?}");

    // Secure Boot with Microsoft's keys: the unsigned loader is refused (so the check below
    // is a real one).
    let sb = boot(
        &stick,
        &secure_boot(d, "sb-vars.fd"),
        &d.join("sb.log"),
        "Access Denied",
    );
    assert!(
        sb.contains("Access Denied") && !sb.contains("SPINDLE-UEFI-OK"),
        "Secure Boot: {sb:?}"
    );
}

#[test]
fn the_stick_boots_under_secure_boot_with_a_signed_loader() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let read = |p: &str| {
        std::fs::read(format!("{SIGNED}/{p}"))
            .unwrap_or_else(|e| panic!("{SIGNED}/{p}: {e} (scripts/setup unpacks it)"))
    };
    let stick = stick_of(
        d,
        "signed.img",
        &[
            ("efi/boot/bootx64.efi", read("shim/shimx64.efi.signed")),
            (
                "efi/boot/grubx64.efi",
                read("grub/x86_64-efi-signed/grubx64.efi.signed"),
            ),
            (
                "efi/boot/grub.cfg",
                marker_cfg("SPINDLE-SECUREBOOT-OK").into_bytes(),
            ),
        ],
    );
    let sb = boot(
        &stick,
        &secure_boot(d, "vars.fd"),
        &d.join("sb.log"),
        "SPINDLE-SECUREBOOT-OK",
    );
    assert!(sb.contains("SPINDLE-SECUREBOOT-OK"), "Secure Boot: {sb:?}");
}
