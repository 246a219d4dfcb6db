//! SG_IO against a drive we did not write: QEMU's emulated ATAPI CD-ROM, through the guest
//! kernel's sr driver (crates/vmtest boots Debian's kernel under QEMU). The probe example
//! (examples/sgio-probe.rs) sends INQUIRY, GET CONFIGURATION, READ CAPACITY, READ TOC,
//! READ DISC/TRACK INFORMATION, MODE SENSE, GESN, READ(10) of the whole disc and READ CD;
//! the host checks its answers against the image, and the dump against `sha256sum`.

use spindle_testkit::digest::tool_sum;
use spindle_testkit::samples::existing_sample;
use spindle_testkit::vm;
use spindle_vmtest::VmTest;
use std::time::Duration;

#[test]
fn sgio_against_qemu_cdrom() {
    let iso = existing_sample("kdomanski-iso9660/test.iso");
    let size = std::fs::metadata(&iso).unwrap().len();
    let blocks = size / 2048;
    let sum = tool_sum("sha256sum", &iso);
    let outcome = VmTest::new("mmc-sgio")
        .modules(["sr_mod", "ata_piix"])
        .binary(
            vm::cargo_example(&spindle_vmtest::target_dir(), "spindle-mmc", "sgio-probe"),
            "/bin/sgio-probe",
        )
        .qemu_args([std::ffi::OsString::from("-cdrom"), iso.into_os_string()])
        .data("/data/dump.sha256", format!("{sum}  /tmp/dump.iso\n"))
        .script(
            r#"
vmtest_check sr0 vmtest_wait /dev/sr0 20
vmtest_check probe sh -c '/bin/sgio-probe /dev/sr0 /tmp/dump.iso > /tmp/probe.txt 2>&1'
cat /tmp/probe.txt
vmtest_sums dump / /data/dump.sha256
"#,
        )
        .expect(["sr0", "probe", "dump"])
        .timeout(Duration::from_secs(180))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<&str> = outcome
        .console
        .lines()
        .filter_map(|l| l.find("probe ").map(|i| l[i + 6..].trim_end()))
        .collect();
    let has = |want: &str| {
        assert!(
            lines.contains(&want),
            "no `probe {want}` in:\n{}",
            lines.join("\n")
        )
    };
    has("ready true");
    has("inquiry type=5 removable=true vendor=\"QEMU\" product=\"QEMU DVD-ROM\"");
    has("profile 0x0008");
    has(&format!("capacity {} 2048", blocks - 1));
    for msf in [false, true] {
        has(&format!("toc msf={msf} track=1 control=4 lba=0"));
        // QEMU gives the lead-out CONTROL 6 (data, copy permitted).
        has(&format!("toc msf={msf} track=170 control=6 lba={blocks}"));
    }
    has("sessions 1 1");
    has(&format!("dumped {blocks}"));
    has("readcd-user same");
    // The header of LBA 16 (00:02:16): BCD on a real drive; QEMU writes the MSF in binary.
    assert!(
        lines.contains(&"readcd-raw sync=true header=00021601 user=same")
            || lines.contains(&"readcd-raw sync=true header=00021001 user=same"),
        "READ CD raw of LBA 16:\n{}",
        lines.join("\n")
    );
    // QEMU's ATAPI drive has no READ TRACK INFORMATION and lists only feature 0000.
    has(
        "trackinfo error /dev/sr0: READ TRACK INFORMATION failed: IllegalRequest 05/20/00 (invalid command operation code) at 0",
    );
    has("features 0000");
    has("past-end 05/21/00");
    has("event present=true");
    eprintln!(
        "mmc SG_IO VM: {} probe lines in {:.1} s:\n{}",
        lines.len(),
        outcome.elapsed.as_secs_f64(),
        lines.join("\n")
    );
}
