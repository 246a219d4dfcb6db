//! Issue 9 in the kernel test VM. The kernel first: a QEMU usb-storage stick (removable=on)
//! is a removable disk under a USB path in sysfs, a SATA (AHCI) and a virtio disk are fixed
//! ones. Then spindle: `spindle devices` lists the stick as a removable USB disk and hides
//! the fixed disks unless `--all`; `spindle burn` refuses them without `--allow-fixed` and
//! writes and verifies the stick. The host then checks the stick's image holds the ISO and
//! the virtio and SATA images are still untouched.

use spindle_vmtest::VmTest;
use std::time::Duration;

const SCRIPT: &str = r#"
# find_disk PATH-PART REMOVABLE OUT: the disk whose sysfs device path contains PATH-PART, with
# that removable flag in sysfs, written to OUT (waits up to 15 s: USB enumerates late).
find_disk() {
  _t=0
  while [ "$_t" -lt 150 ]; do
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
# row DEV TRANSPORT RM [--all]: `spindle devices` has a row for /dev/DEV with that transport and
# removable column (SIZE takes two words: "16.0 MiB").
row() {
  spindle devices $4 >/tmp/devices.txt 2>&1; _rc=$?
  cat /tmp/devices.txt
  [ "$_rc" = 0 ] || return 1
  awk -v d="/dev/$1" -v t="$2" -v r="$3" '$1 == d && $2 == t && $5 == r { found = 1 } END { exit !found }' /tmp/devices.txt
}
# absent DEV: no row for /dev/DEV without --all.
absent() {
  spindle devices >/tmp/devices.txt 2>&1 || { cat /tmp/devices.txt; return 1; }
  cat /tmp/devices.txt
  ! grep -q "^/dev/$1 " /tmp/devices.txt
}
# refused DEV: burn without --allow-fixed fails and says why.
refused() {
  if spindle burn /data/ipxe.iso "/dev/$1" --yes >/tmp/burn.txt 2>&1; then
    cat /tmp/burn.txt; echo "burned a fixed disk"; return 1
  fi
  cat /tmp/burn.txt
  grep -q "/dev/$1: is a fixed disk ($2)" /tmp/burn.txt && grep -q -- "--allow-fixed" /tmp/burn.txt
}
burn_stick() {
  spindle burn /data/ipxe.iso "/dev/$1" --yes >/tmp/burn.txt 2>&1; _rc=$?
  cat /tmp/burn.txt
  [ "$_rc" = 0 ] && grep -q "^/dev/$1: complete and verified" /tmp/burn.txt && grep -q "hybrid ISO" /tmp/burn.txt
}
vmtest_check usb-removable find_disk /usb 1 /tmp/usb.dev
vmtest_check virtio-fixed find_disk /virtio 0 /tmp/virtio.dev
vmtest_check sata-fixed find_disk /ata 0 /tmp/sata.dev
USB=$(cat /tmp/usb.dev); VIRTIO=$(cat /tmp/virtio.dev); SATA=$(cat /tmp/sata.dev)
vmtest_check usb-listed row "$USB" usb yes
vmtest_check virtio-hidden absent "$VIRTIO"
vmtest_check sata-hidden absent "$SATA"
vmtest_check virtio-with-all row "$VIRTIO" virtio no --all
vmtest_check sata-with-all row "$SATA" sata no --all
vmtest_check virtio-refused refused "$VIRTIO" virtio
vmtest_check sata-refused refused "$SATA" sata
vmtest_check usb-burned burn_stick "$USB"
"#;

#[test]
fn burn_lists_the_usb_stick_refuses_fixed_disks_and_verifies_the_stick() {
    let iso = spindle_vmtest::samples_dir()
        .unwrap()
        .join("debian-ipxe/ipxe.iso");
    let want = std::fs::read(&iso).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mk = |name: &str, size: u64| {
        let p = tmp.path().join(name);
        std::fs::File::create(&p).unwrap().set_len(size).unwrap();
        p.into_os_string().into_string().unwrap()
    };
    let (stick, sata, virtio) = (
        mk("stick.img", 16 << 20),
        mk("sata.img", 8 << 20),
        mk("virtio.img", 8 << 20),
    );
    VmTest::new("burn")
        .spindle()
        .modules([
            "xhci-pci",
            "usb-storage",
            "sd_mod",
            "ahci",
            "virtio_pci",
            "virtio_blk",
        ])
        .file(&iso, "/data/ipxe.iso")
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
        .expect([
            "usb-removable",
            "virtio-fixed",
            "sata-fixed",
            "usb-listed",
            "virtio-hidden",
            "sata-hidden",
            "virtio-with-all",
            "sata-with-all",
            "virtio-refused",
            "sata-refused",
            "usb-burned",
        ])
        .timeout(Duration::from_secs(180))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    let written = std::fs::read(&stick).unwrap();
    assert!(
        written[..want.len()] == want[..],
        "the stick's image starts with the ISO"
    );
    for fixed in [&sata, &virtio] {
        assert!(
            std::fs::read(fixed).unwrap().iter().all(|&b| b == 0),
            "{fixed} was written"
        );
    }
}
