//! The disks issue 9's burn checks need, as the kernel sees them: a QEMU usb-storage stick with
//! removable=on is a removable USB disk, a SATA disk (AHCI) and a virtio disk are fixed ones,
//! and bytes written to the stick in the guest read back on the host.

use spindle_vmtest::VmTest;
use std::time::Duration;

const SCRIPT: &str = r#"
# find_disk PATH-PART REMOVABLE OUT: the disk whose sysfs device path contains PATH-PART, with
# that removable flag, written to OUT (waits up to 10 s for it: USB enumerates late).
find_disk() {
  _t=0
  while [ "$_t" -lt 100 ]; do
    for d in /sys/block/*; do
      case "$(readlink -f "$d")" in
        *"$1"*) [ "$(cat "$d/removable")" = "$2" ] && { basename "$d" >"$3"; cat "$3"; return 0; } ;;
      esac
    done
    _t=$((_t + 1))
    sleep 0.1
  done
  ls -l /sys/block/
  return 1
}
vmtest_check usb-removable find_disk /usb 1 /tmp/usb.dev
vmtest_check sata-fixed find_disk /ata 0 /tmp/sata.dev
vmtest_check virtio-fixed find_disk /virtio 0 /tmp/virtio.dev
vmtest_check usb-write sh -c 'dd if=/data/pattern of=/dev/$(cat /tmp/usb.dev) bs=4096 conv=fsync 2>&1'
"#;

#[test]
fn usb_stick_is_removable_and_fixed_disks_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let mk = |name: &str, size: u64| {
        let p = tmp.path().join(name);
        std::fs::File::create(&p).unwrap().set_len(size).unwrap();
        p.into_os_string().into_string().unwrap()
    };
    let (stick, sata, virtio) = (mk("stick.img", 16 << 20), mk("sata.img", 8 << 20), mk("virtio.img", 8 << 20));
    let pattern: Vec<u8> = (0..65536u32).map(|i| (i * 7 % 251) as u8).collect();
    VmTest::new("disks")
        .modules(["xhci-pci", "usb-storage", "sd_mod", "ahci", "virtio_pci", "virtio_blk"])
        .data("/data/pattern", pattern.clone())
        .qemu_args([
            "-device".to_string(),
            "qemu-xhci".into(),
            "-drive".into(),
            format!("if=none,id=stick,file={stick},format=raw"),
            "-device".into(),
            "usb-storage,drive=stick,removable=on".into(),
            "-drive".into(),
            format!("if=none,id=sata,file={sata},format=raw"),
            "-device".into(),
            "ahci,id=ahci".into(),
            "-device".into(),
            "ide-hd,drive=sata,bus=ahci.0".into(),
            "-drive".into(),
            format!("if=virtio,file={virtio},format=raw"),
        ])
        .script(SCRIPT)
        .expect(["usb-removable", "sata-fixed", "virtio-fixed", "usb-write"])
        .timeout(Duration::from_secs(180))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    let written = std::fs::read(&stick).unwrap();
    assert_eq!(&written[..pattern.len()], &pattern[..], "the stick holds what the guest wrote");
}
