//! A rip through a real kernel: QEMU's ATAPI drive (`-cdrom sample.iso`) behind the guest's
//! sr driver, read over SG_IO by examples/rip-device.rs; the ISO it writes equals the sample
//! byte for byte (sha256sum on the host, sha256sum in the guest).

use spindle_testkit::digest::tool_sum;
use spindle_testkit::samples::existing_sample;
use spindle_testkit::vm;
use spindle_vmtest::VmTest;
use std::time::Duration;

#[test]
fn rip_qemu_cdrom_to_iso() {
    let iso = existing_sample("kdomanski-iso9660/test_rockridge.iso");
    let sum = tool_sum("sha256sum", &iso);
    let outcome = VmTest::new("rip-iso")
        .modules(["sr_mod", "ata_piix", "sg"])
        .binary(
            vm::cargo_example(&spindle_vmtest::target_dir(), "spindle-rip", "rip-device"),
            "/bin/rip-device",
        )
        .qemu_args([std::ffi::OsString::from("-cdrom"), iso.into_os_string()])
        .data("/data/x.sha256", format!("{sum}  /tmp/x.iso\n"))
        .script(
            r#"
vmtest_check sr0 vmtest_wait /dev/sr0 20
vmtest_check list sh -c '/bin/rip-device --list > /tmp/list.txt 2>&1'
cat /tmp/list.txt
vmtest_check rip sh -c '/bin/rip-device /dev/sr0 /tmp/x.iso > /tmp/rip.txt 2>&1'
cat /tmp/rip.txt
vmtest_sums same / /data/x.sha256
"#,
        )
        .expect(["sr0", "list", "rip", "same"])
        .timeout(Duration::from_secs(240))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<&str> = outcome
        .console
        .lines()
        .filter_map(|l| l.find("rip ").map(|i| &l[i..]))
        .filter(|l| l.starts_with("rip "))
        .collect();
    assert!(
        lines.iter().any(|l| l.trim_end() == "rip bad 0"),
        "{}",
        lines.join("\n")
    );
    // The drive list from sysfs: QEMU's drive with its sg node and INQUIRY strings.
    let drives: Vec<&str> = outcome
        .console
        .lines()
        .filter_map(|l| l.find("drive /dev/").map(|i| l[i..].trim_end()))
        .collect();
    assert_eq!(drives.len(), 1, "{}", outcome.console);
    assert!(
        drives[0].starts_with("drive /dev/sr0 /dev/sg0 \"QEMU\" \"QEMU DVD-ROM\""),
        "{}",
        drives[0]
    );
    eprintln!(
        "rip VM ({:.1} s):\n{}",
        outcome.elapsed.as_secs_f64(),
        lines.join("\n")
    );
}
