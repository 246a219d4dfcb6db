//! Issue 7's kernel checks: inside the guest, our daemon serves the drives over NBD on its Unix
//! socket and `spindle attach` puts them on the kernel's nbd devices; the kernel mounts them
//! (ISO 9660 and UDF; a CUE/BIN and an MDX too) and the files hash as `spindle extract` says on
//! the host; swapping a drive's disc leaves an attached device reading the old one. Also: the
//! devices are read-only, a mounted device refuses `detach`, the ioctl interface works as the
//! netlink one does, the raw export reads as the BIN `spindle convert` writes, and an empty
//! drive is a clear error. One boot for all of it.

use spindle_testkit::samples::existing_sample;
use spindle_testkit::vm;
use spindle_vmtest::VmTest;
use std::time::Duration;

const SCRIPT: &str = r#"
export XDG_RUNTIME_DIR=/tmp/xdg-run XDG_STATE_HOME=/tmp/xdg-state
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_STATE_HOME"
spindle daemon >/tmp/daemon.log 2>&1 &
vmtest_check daemon vmtest_wait "$XDG_RUNTIME_DIR/spindle/control.sock" 30
vmtest_check nbd-socket vmtest_wait "$XDG_RUNTIME_DIR/spindle/nbd.sock" 10

# ISO 9660 through netlink, on the device we name.
vmtest_check iso-load spindle load 1 /data/sample.iso
vmtest_check iso-attach sh -c 'spindle attach 1 /dev/nbd0 >/tmp/attach.out && grep -qx /dev/nbd0 /tmp/attach.out'
vmtest_check iso-pid test -e /sys/block/nbd0/pid
vmtest_check iso-read-only sh -c 'test "$(cat /sys/block/nbd0/ro)" = 1'
vmtest_check iso-size sh -c 'test "$(cat /sys/block/nbd0/size)" = "$(cat /data/sample.sectors)"'
vmtest_check iso-mount mount -t iso9660 -o ro /dev/nbd0 /mnt
vmtest_sums iso-hashes / /data/iso.sha256
vmtest_check iso-busy sh -c '! spindle detach 1 2>/tmp/busy.err && grep -q busy /tmp/busy.err'
vmtest_check iso-umount umount /mnt
vmtest_check iso-detach spindle detach 1
vmtest_check iso-detached sh -c '! test -e /sys/block/nbd0/pid'

# UDF through netlink, on the device the kernel picks.
vmtest_check udf-load spindle load 2 /data/udf.iso
vmtest_check udf-attach sh -c 'spindle attach 2 >/tmp/udf.dev && test -b "$(cat /tmp/udf.dev)"'
vmtest_check udf-mount sh -c 'mount -t udf -o ro "$(cat /tmp/udf.dev)" /mnt'
vmtest_sums udf-hashes / /data/udf.sha256
vmtest_check udf-umount umount /mnt
vmtest_check udf-detach sh -c 'spindle detach "$(cat /tmp/udf.dev)"'

# A CUE/BIN (MODE1/2352 sectors, served as 2048-byte blocks) and an MDX: images no kernel
# driver reads, mounted by the kernel through the daemon.
vmtest_check cue-load spindle load 3 /data/isofs-m1.cue
vmtest_check cue-attach spindle attach 3 /dev/nbd7
vmtest_check cue-mount mount -t iso9660 -o ro /dev/nbd7 /mnt
vmtest_sums cue-hashes / /data/cue.sha256
# Swapping the disc does not pull it from under the attached device: its connection keeps the
# disc it opened (read again with the caches dropped).
vmtest_check swap-load spindle load 3 /data/test.mdx
sync; echo 3 >/proc/sys/vm/drop_caches
vmtest_sums swap-keeps / /data/cue.sha256
vmtest_check cue-umount umount /mnt
vmtest_check cue-detach spindle detach /dev/nbd7
vmtest_check mdx-attach spindle attach 3 /dev/nbd7
# (plain ISO 9660 names: the kernel shows them in lower case; check=relaxed finds FILE1 too)
vmtest_check mdx-mount mount -t iso9660 -o ro,check=relaxed /dev/nbd7 /mnt
vmtest_sums mdx-hashes / /data/mdx.sha256
vmtest_check mdx-umount umount /mnt
vmtest_check mdx-detach spindle detach 3

# The ioctl interface (a background process in NBD_DO_IT) gives the same device.
vmtest_check ioctl-attach spindle attach --via ioctl 1 /dev/nbd3
vmtest_check ioctl-mount mount -t iso9660 -o ro /dev/nbd3 /mnt
vmtest_sums ioctl-hashes / /data/iso.sha256
vmtest_check ioctl-umount umount /mnt
vmtest_check ioctl-detach spindle detach /dev/nbd3
vmtest_check ioctl-detached sh -c 'sleep 1; ! test -e /sys/block/nbd3/pid'

# The raw export (2352-byte sectors from the track's 150-sector pregap on) on 512-byte kernel
# blocks: after the pregap, the BIN `spindle convert` writes, up to the last whole block.
vmtest_check raw-attach spindle attach --raw 1 /dev/nbd4
vmtest_check raw-size sh -c 'echo "kernel $(cat /sys/block/nbd4/size), host $(cat /data/raw.blocks)"; test "$(cat /sys/block/nbd4/size)" = "$(cat /data/raw.blocks)"'
vmtest_check raw-bytes sh -c 'test "$(dd if=/dev/nbd4 bs=2352 skip=150 2>/dev/null | sha256sum | cut -d" " -f1)" = "$(cat /data/raw.sha256)"'
vmtest_check raw-detach spindle detach /dev/nbd4

# Four connections (the export allows multi-conn); the backend names our socket and export.
vmtest_check multi-attach spindle attach --connections 4 1 /dev/nbd6
vmtest_check multi-backend grep -q ":drive1$" /sys/block/nbd6/backend
vmtest_check multi-busy sh -c '! spindle attach 2 /dev/nbd6 2>/tmp/busy2.err && grep -q "/dev/nbd6 is busy" /tmp/busy2.err'
vmtest_check multi-mount mount -t iso9660 -o ro /dev/nbd6 /mnt
vmtest_sums multi-hashes / /data/iso.sha256
vmtest_check multi-umount umount /mnt
vmtest_check multi-detach spindle detach /dev/nbd6

# Clear refusals.
vmtest_check empty-drive sh -c '! spindle attach 0 2>/tmp/empty.err && grep -q "drive 0 is empty" /tmp/empty.err'
vmtest_check not-attached sh -c '! spindle detach /dev/nbd5 2>/tmp/na.err && grep -q "not attached" /tmp/na.err'
sed 's/^/  daemon| /' /tmp/daemon.log | tail -n 40
"#;

#[test]
fn kernel_nbd_mounts_iso_and_udf_from_our_daemon() {
    let spindle = spindle_vmtest::spindle_binary().unwrap_or_else(|e| panic!("{e}"));
    let iso = existing_sample("kdomanski-iso9660/test_rockridge.iso");
    let udf = existing_sample("libcdio/test-udf1.iso");
    let cue = existing_sample("libcdio/isofs-m1.cue");
    let mdx = existing_sample("mdsx/test.mdx");
    let sectors = std::fs::metadata(&iso).unwrap().len() / 512;
    // The ISO's one track starts at LBA 0 with a synthesised 150-sector pregap (spindle info).
    let (raw_blocks, raw_sha256) = vm::raw_export_expectation(&spindle, &iso, 150);
    let outcome = VmTest::new("nbd")
        .spindle()
        .modules(["nbd", "isofs", "udf"])
        .file(&iso, "/data/sample.iso")
        .file(&udf, "/data/udf.iso")
        .file(&cue, "/data/isofs-m1.cue")
        .file(
            existing_sample("libcdio/isofs-m1.bin"),
            "/data/isofs-m1.bin",
        )
        .file(&mdx, "/data/test.mdx")
        .data(
            "/data/cue.sha256",
            vm::tree_sums(&spindle, &cue, None, "/mnt"),
        )
        .data(
            "/data/mdx.sha256",
            vm::tree_sums(&spindle, &mdx, None, "/mnt"),
        )
        .data("/data/sample.sectors", format!("{sectors}\n"))
        .data("/data/raw.blocks", format!("{raw_blocks}\n"))
        .data("/data/raw.sha256", format!("{raw_sha256}\n"))
        .data(
            "/data/iso.sha256",
            vm::tree_sums(&spindle, &iso, None, "/mnt"),
        )
        .data(
            "/data/udf.sha256",
            vm::tree_sums(&spindle, &udf, Some("udf"), "/mnt"),
        )
        .script(SCRIPT)
        .expect([
            "daemon",
            "nbd-socket",
            "iso-load",
            "iso-attach",
            "iso-pid",
            "iso-read-only",
            "iso-size",
            "iso-mount",
            "iso-hashes",
            "iso-busy",
            "iso-umount",
            "iso-detach",
            "iso-detached",
            "udf-load",
            "udf-attach",
            "udf-mount",
            "udf-hashes",
            "udf-umount",
            "udf-detach",
            "cue-load",
            "cue-attach",
            "cue-mount",
            "cue-hashes",
            "swap-load",
            "swap-keeps",
            "cue-umount",
            "cue-detach",
            "mdx-attach",
            "mdx-mount",
            "mdx-hashes",
            "mdx-umount",
            "mdx-detach",
            "ioctl-attach",
            "ioctl-mount",
            "ioctl-hashes",
            "ioctl-umount",
            "ioctl-detach",
            "ioctl-detached",
            "raw-attach",
            "raw-size",
            "raw-bytes",
            "raw-detach",
            "multi-attach",
            "multi-backend",
            "multi-busy",
            "multi-mount",
            "multi-hashes",
            "multi-umount",
            "multi-detach",
            "empty-drive",
            "not-attached",
        ])
        .timeout(Duration::from_secs(300))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "nbd VM: {} checks passed in {:.1} s",
        outcome.passed.len(),
        outcome.elapsed.as_secs_f64()
    );
}
