//! The harness itself: a failing check, a missing check and a hung guest are failures that
//! carry the console; modules resolve with their dependencies from the real kernel package.

use spindle_vmtest::{Kernel, ModuleIndex, VmTest};
use std::time::Duration;

#[test]
fn modules_resolve_dependencies_first() {
    let kernel = Kernel::get().unwrap_or_else(|e| panic!("{e}"));
    let index = ModuleIndex::new(&kernel.modules).unwrap();
    let order = index.resolve(&["udf", "sr_mod", "nbd"]).unwrap();
    let names: Vec<String> = order
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .trim_end_matches(".ko")
                .to_string()
        })
        .collect();
    let pos = |n: &str| {
        names
            .iter()
            .position(|x| x == n)
            .unwrap_or_else(|| panic!("{n} not in {names:?}"))
    };
    assert!(
        pos("cdrom") < pos("udf") && pos("crc-itu-t") < pos("udf"),
        "{names:?}"
    );
    assert!(
        pos("scsi_common") < pos("scsi_mod") && pos("scsi_mod") < pos("sr_mod"),
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| *n == "cdrom").count(),
        1,
        "{names:?}"
    );
    let err = index.resolve(&["no_such_module"]).unwrap_err().to_string();
    assert!(err.contains("no_such_module"), "{err}");
    assert!(Kernel::from_dir(std::path::Path::new("/nonexistent")).is_err());
}

#[test]
fn failures_and_missing_checks_fail_with_the_console() {
    let err = VmTest::new("harness-fail")
        .script("vmtest_pass good\nvmtest_check bad false\necho marker-from-the-guest\n")
        .expect(["good", "bad", "never-run"])
        .timeout(Duration::from_secs(90))
        .run_checked()
        .expect_err("a failing check must fail the test")
        .to_string();
    assert!(err.contains("bad failed: exit 1 from: false"), "{err}");
    assert!(err.contains("no PASS from bad, never-run"), "{err}");
    assert!(
        err.contains("marker-from-the-guest"),
        "the console is in the message: {err}"
    );
}

#[test]
fn a_hung_guest_times_out() {
    let err = VmTest::new("harness-timeout")
        .script("vmtest_pass started\nsleep 600\n")
        .expect(["started"])
        .timeout(Duration::from_secs(20))
        .run_checked()
        .expect_err("a guest that never finishes must fail")
        .to_string();
    assert!(
        err.contains("timed out") && err.contains("VMTEST DONE"),
        "{err}"
    );
    assert!(err.contains("VMTEST PASS started"), "{err}");
}
