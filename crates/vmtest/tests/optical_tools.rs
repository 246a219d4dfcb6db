//! The optical-drive test kit proven on a drive we did not write: QEMU's own ATAPI drives carry
//! the mixed-mode CD's data track, the DVD-sized UDF image and the BD-sized image (QEMU knows CD
//! and DVD only, so it shows the BD image as a DVD), and the guest's copies of cd-info,
//! cdrom_id, cdparanoia, sg_inq, sg_raw, util-linux eject, mount and dd check them against the
//! host-side expectations (tests/optical). The big images are also handed in as read-only
//! virtio disks, as scsi_drive.rs gives them to spindle's daemon. One boot.
//! scsi_drive.rs runs the same guest functions on spindle's TCMU drives.

mod optical;

use optical::{FS_CHECKS, media, named};
use spindle_vmtest::VmTest;
use std::ffi::OsString;
use std::time::Duration;

fn ide_cdrom(file: &std::path::Path, index: u32) -> [OsString; 2] {
    let mut arg = OsString::from("file=");
    arg.push(file);
    arg.push(format!(
        ",format=raw,if=ide,index={index},media=cdrom,readonly=on"
    ));
    ["-drive".into(), arg]
}

fn virtio_disk(file: &std::path::Path) -> [OsString; 2] {
    let mut arg = OsString::from("file=");
    arg.push(file);
    arg.push(",format=raw,if=virtio,readonly=on");
    ["-drive".into(), arg]
}

const SCRIPT: &str = r#"
. /vmtest/optical.sh
vmtest_check sr2 vmtest_wait /dev/sr2 20
for d in sr0 sr1 sr2 vda vdb; do echo "$d: $(cat /sys/block/$d/size 2>&1) blocks, ro $(cat /sys/block/$d/ro 2>&1)"; done
tools() {
  for t in "cd-info --version" "cdparanoia -V" "sg_inq -V" "sg_raw --version /dev/null" "/opt/util-linux/eject -V"; do
    $t >/tmp/tool.out 2>&1
    head -n 1 /tmp/tool.out
    grep -qi "version\|release\|sg_raw 0\|util-linux" /tmp/tool.out || { echo "$t does not run"; return 1; }
  done
}
vmtest_check tools tools

# sr0: the CD's data track (QEMU carries one 2048-byte track; its READ CD leaves EDC/ECC zero).
vmtest_check qcd-cdinfo sh -c 'cd-info --no-cddb --no-device-info /dev/sr0 > /tmp/ci.txt 2>&1; awk -f /data/cdinfo.awk /tmp/ci.txt | tee /tmp/ci.norm; grep -qx "1: 00:02:00 000000 data false no" /tmp/ci.norm && grep -q "^ISO 9660: 64 blocks" /tmp/ci.norm'
vmtest_check qcd-cdrom-id opt_cdrom_id /dev/sr0 /data/qemu/cd.cdrom_id
vmtest_check qcd-readcd opt_readcd_prefix /dev/sg0
vmtest_check qcd-inq opt_inq /dev/sg0 QEMU "QEMU DVD-ROM"
vmtest_check qcd-dd opt_dd /dev/sr0 /data/expect/cd.data
opt_tree qcd /dev/sr0 iso9660 /data/expect/cd.tree.sha256
# cdparanoia reaches the drive through SG_IO and reads its TOC (a data-only disc: nothing to rip).
vmtest_check qcd-paranoia sh -c 'cdparanoia -v -Q -d /dev/sr0 > /tmp/cdp.txt 2>&1; cat /tmp/cdp.txt; grep -q "sensed: QEMU QEMU DVD-ROM" /tmp/cdp.txt && grep -q "Could not find any audio tracks" /tmp/cdp.txt'

# sr1: the DVD-sized UDF image; sr2: the BD-sized one (a DVD to QEMU).
vmtest_check qdvd-cdrom-id opt_cdrom_id /dev/sr1 /data/expect/dvd.cdrom_id
vmtest_check qdvd-inq opt_inq /dev/sg1 QEMU "QEMU DVD-ROM"
vmtest_check qdvd-dd opt_dd /dev/sr1 /data/expect/dvd.data
opt_tree qdvd /dev/sr1 udf /data/expect/dvd.tree.sha256
vmtest_check qbd-cdrom-id opt_cdrom_id /dev/sr2 /data/qemu/bd.cdrom_id
vmtest_check qbd-dd opt_dd /dev/sr2 /data/expect/bd.data
opt_tree qbd /dev/sr2 iso9660 /data/expect/bd.tree.sha256

# util-linux eject opens QEMU's tray: no medium; closing it brings the disc back.
vmtest_check qbd-eject /opt/util-linux/eject /dev/sr2
vmtest_check qbd-empty opt_no_media /dev/sr2
vmtest_check qbd-close /opt/util-linux/eject -t /dev/sr2
vmtest_check qbd-back sh -c '. /vmtest/optical.sh; for i in 1 2 3 4 5 6 7 8 9 10; do opt_cdrom_id /dev/sr2 /data/qemu/bd.cdrom_id >/dev/null 2>&1 && exit 0; sleep 0.5; done; opt_cdrom_id /dev/sr2 /data/qemu/bd.cdrom_id'

# The virtio disks the daemon will open as images: read-only, whole, the same bytes.
vmtest_check virtio-dvd sh -c 'test "$(cat /sys/block/vda/ro)" = 1 && test "$(cat /sys/block/vda/size)" = "$(cat /data/qemu/dvd.blocks512)"'
vmtest_check virtio-bd sh -c 'test "$(cat /sys/block/vdb/ro)" = 1 && test "$(cat /sys/block/vdb/size)" = "$(cat /data/qemu/bd.blocks512)"'
vmtest_check virtio-dvd-dd opt_dd /dev/vda /data/expect/dvd.data
vmtest_check virtio-bd-dd opt_dd /dev/vdb /data/expect/bd.data
"#;

#[test]
fn the_tools_agree_with_qemus_own_drive() {
    let m = media::media();
    let mut expect: Vec<String> = [
        "sr2",
        "tools",
        "qcd-cdinfo",
        "qcd-cdrom-id",
        "qcd-readcd",
        "qcd-inq",
        "qcd-dd",
        "qcd-mount",
        "qcd-tree",
        "qcd-umount",
        "qcd-paranoia",
        "qbd-cdrom-id",
        "qbd-dd",
        "qbd-mount",
        "qbd-tree",
        "qbd-umount",
        "qbd-eject",
        "qbd-empty",
        "qbd-close",
        "qbd-back",
        "virtio-dvd",
        "virtio-bd",
        "virtio-dvd-dd",
        "virtio-bd-dd",
    ]
    .map(String::from)
    .to_vec();
    expect.extend(named("qdvd", &FS_CHECKS));
    let dvd_lines = "ID_CDROM=1\nID_CDROM_MEDIA=1\nID_CDROM_MEDIA_DVD=1\n";
    let vm = VmTest::new("optical-tools")
        .modules([
            "sr_mod",
            "ata_piix",
            "sg",
            "isofs",
            "udf",
            "virtio_pci",
            "virtio_blk",
        ])
        .qemu_args(ide_cdrom(&m.cd_iso, 0))
        .qemu_args(ide_cdrom(&m.dvd, 1))
        .qemu_args(ide_cdrom(&m.bd, 2))
        .qemu_args(virtio_disk(&m.dvd))
        .qemu_args(virtio_disk(&m.bd))
        .data(
            "/data/qemu/cd.cdrom_id",
            "ID_CDROM=1\nID_CDROM_MEDIA=1\nID_CDROM_MEDIA_CD=1\nID_CDROM_MEDIA_TRACK_COUNT=1\n\
             ID_CDROM_MEDIA_TRACK_COUNT_DATA=1\n",
        )
        .data("/data/qemu/bd.cdrom_id", dvd_lines)
        .data(
            "/data/qemu/dvd.blocks512",
            format!("{}\n", media::DVD_BYTES / 512),
        )
        .data(
            "/data/qemu/bd.blocks512",
            format!("{}\n", media::BD_BYTES / 512),
        );
    let outcome = optical::with_tools(vm, &m)
        .script(SCRIPT)
        .expect(expect)
        .timeout(Duration::from_secs(240))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "optical tools on QEMU's drives: {} checks passed in {:.1} s",
        outcome.passed.len(),
        outcome.elapsed.as_secs_f64()
    );
}
