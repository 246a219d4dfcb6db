//! The kernel's own CD-ROM stack on QEMU's emulated ATAPI drive (`-cdrom`): /dev/sr0 appears, it
//! mounts as ISO 9660, and its files and bytes match what spindle reads on the host; with `sg`,
//! /dev/sg0 is the same drive (SCSI type 5, a CD/DVD drive). Issue 8's
//! ripper reuses this setup (QEMU's drive is an MMC implementation we did not write).

use spindle_testkit::samples::existing_sample;
use spindle_testkit::vm;
use spindle_vmtest::VmTest;
use std::time::Duration;

#[test]
fn qemu_cdrom_mounts_and_matches_spindle() {
    let spindle = spindle_vmtest::spindle_binary().unwrap_or_else(|e| panic!("{e}"));
    let iso = existing_sample("kdomanski-iso9660/test_rockridge.iso");
    let image = std::fs::read(&iso).unwrap();
    let device_sum = format!("{}  /dev/sr0\n", vm::sha256(&image));
    let cat_sum = format!(
        "{}  /mnt/dir2/large.txt\n",
        vm::cat_sha256(&spindle, &iso, "/dir2/large.txt")
    );
    let tree = vm::tree_sums(&spindle, &iso, None, "/mnt");
    let outcome = VmTest::new("cdrom")
        .modules([
            "scsi_common",
            "scsi_mod",
            "cdrom",
            "sr_mod",
            "libata",
            "ata_piix",
            "isofs",
            "sg",
        ])
        .qemu_args([std::ffi::OsString::from("-cdrom"), iso.into_os_string()])
        .data("/data/device.sha256", device_sum)
        .data("/data/cat.sha256", cat_sum)
        .data("/data/tree.sha256", tree)
        .script(
            r#"
vmtest_check sr0 vmtest_wait /dev/sr0 20
vmtest_check sg0 vmtest_wait /dev/sg0 10
vmtest_check sg0-type sh -c 'test "$(cat /sys/class/scsi_generic/sg0/device/type)" = 5'
vmtest_sums sr0-bytes / /data/device.sha256
t0=$(vmtest_now); dd if=/dev/sr0 of=/dev/null bs=64k 2>/dev/null; t1=$(vmtest_now)
vmtest_value sr0-read-seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
vmtest_check mount mount -t iso9660 -o ro /dev/sr0 /mnt
vmtest_sums cat-hash / /data/cat.sha256
vmtest_sums tree-hashes / /data/tree.sha256
vmtest_check umount umount /mnt
"#,
        )
        .expect([
            "sr0",
            "sg0",
            "sg0-type",
            "sr0-bytes",
            "mount",
            "cat-hash",
            "tree-hashes",
            "umount",
        ])
        .timeout(Duration::from_secs(180))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    let read: f64 = outcome
        .value("sr0-read-seconds")
        .and_then(|v| v.parse().ok())
        .expect("the guest timed its read of /dev/sr0");
    assert!(
        (0.0..60.0).contains(&read),
        "reading 2.5 MB from /dev/sr0 took {read} s"
    );
    eprintln!(
        "cdrom VM: {} checks passed in {:.1} s; dd of /dev/sr0 (2.5 MB) took {read} s of guest time",
        outcome.passed.len(),
        outcome.elapsed.as_secs_f64()
    );
}
