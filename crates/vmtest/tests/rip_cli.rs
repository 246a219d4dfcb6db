//! `spindle rip` and `spindle devices --optical` through a real kernel (issue 8): QEMU's ATAPI
//! drive (`-cdrom sample.iso`) behind the guest's sr driver, one boot: the drive list names
//! /dev/sr0 (and /dev/sg0, QEMU's INQUIRY strings, a CD-ROM medium; also as JSON); a rip of
//! /dev/sr0 to ISO equals the sample byte for byte; the first drive is the default device; a
//! rip to MDS converts back (`spindle convert` in the guest) to the same bytes; the hash log of
//! the ISO rip (read as user data) names the sample's SHA-1 (sha1sum on the host), that of a
//! rip to CUE (read raw) the SHA-1 sha1sum gives for its BIN in the guest (QEMU's READ CD
//! leaves EDC/ECC zero, so that BIN is not the one `spindle convert` makes on the host).

use spindle_testkit::digest::tool_sum;
use spindle_testkit::samples::existing_sample;
use spindle_vmtest::VmTest;
use std::time::Duration;

#[test]
fn spindle_rip_of_qemus_drive() {
    let iso = existing_sample("kdomanski-iso9660/test_rockridge.iso");
    let sha256 = tool_sum("sha256sum", &iso);
    let sha1 = tool_sum("sha1sum", &iso);
    let sums = format!("{sha256}  /tmp/a/x.iso\n{sha256}  /tmp/b/x.iso\n{sha256}  /tmp/c/y.iso\n");
    let outcome = VmTest::new("rip-cli")
        .spindle()
        .modules(["sr_mod", "ata_piix", "sg"])
        .qemu_args([std::ffi::OsString::from("-cdrom"), iso.into_os_string()])
        .data("/data/x.sha256", sums)
        .data("/data/x.sha1", format!("{sha1}\n"))
        .script(
            r#"
vmtest_check sr0 vmtest_wait /dev/sr0 20
vmtest_check sg0 vmtest_wait /dev/sg0 10
spindle devices --optical > /tmp/list.txt 2>&1; cat /tmp/list.txt
vmtest_check list sh -c 'grep -E "^/dev/sr0 +/dev/sg0 +QEMU +QEMU DVD-ROM .* CD-ROM$" /tmp/list.txt'
spindle devices --optical --json > /tmp/list.json 2>&1; cat /tmp/list.json
vmtest_check list-json sh -c 'grep -q "\"device\": \"/dev/sr0\"" /tmp/list.json && grep -q "\"profile\": 8" /tmp/list.json'
mkdir -p /tmp/a /tmp/b /tmp/c
vmtest_check rip-iso sh -c 'spindle rip /dev/sr0 -o /tmp/a/x.iso > /tmp/a/out.txt 2>&1'
cat /tmp/a/out.txt; cat /tmp/a/x.iso.dat
vmtest_check no-errors grep -q "no errors" /tmp/a/out.txt
mkdir -p /tmp/d
vmtest_check rip-cue sh -c 'spindle rip /dev/sr0 -o /tmp/d/x.cue > /tmp/d/out.txt 2>&1'
vmtest_check log-sha1 sh -c 'grep -q "sha1=\"$(cat /data/x.sha1)\"" /tmp/a/x.iso.dat'
vmtest_check log-sha1-bin sh -c 's=$(sha1sum /tmp/d/x.bin | cut -d" " -f1) && grep -q "sha1=\"$s\"" /tmp/d/x.cue.dat'
vmtest_check rip-default sh -c 'cd /tmp/b && spindle rip -o x.iso > out.txt 2>&1'
vmtest_check rip-mds sh -c 'spindle rip /dev/sg0 -o /tmp/c/x.mds > /tmp/c/out.txt 2>&1'
cat /tmp/c/out.txt
vmtest_check mds-convert spindle convert /tmp/c/x.mds /tmp/c/y.iso
vmtest_sums same / /data/x.sha256
vmtest_check work-removed sh -c '! ls /tmp/a/x.iso.rip /tmp/a/x.iso.rip.map 2>/dev/null'
"#,
        )
        .expect([
            "sr0",
            "sg0",
            "list",
            "list-json",
            "rip-iso",
            "no-errors",
            "rip-cue",
            "log-sha1",
            "log-sha1-bin",
            "rip-default",
            "rip-mds",
            "mds-convert",
            "same",
            "work-removed",
        ])
        .timeout(Duration::from_secs(300))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "rip-cli VM: {} checks passed in {:.1} s",
        outcome.passed.len(),
        outcome.elapsed.as_secs_f64()
    );
}
