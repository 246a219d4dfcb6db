//! Issue 17's speed figure, in the kernel test VM (ignored by default: run with
//! `cargo test -p spindle-tcmu --test vm_bench -- --ignored --nocapture`): `dd bs=1M` of a
//! 96 MB ISO through the TCMU `/dev/sr0` (the example server, debug build, over the emulated
//! drive) against `dd` of a loop device over the same file, each after dropping caches.
//! Under TCG both are slow; the ratio is what counts.

use spindle_vmtest::VmTest;
use std::process::Command;
use std::time::Duration;

#[test]
#[ignore = "a benchmark: about a minute of VM time"]
fn tcmu_against_a_loop_device() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let st = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "spindle-tcmu",
            "--example",
            "tcmu_serve",
        ])
        .current_dir(spindle_vmtest::workspace_root())
        .status()
        .unwrap();
    assert!(st.success());
    let serve = spindle_vmtest::target_dir().join("debug/examples/tcmu_serve");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("tree");
    std::fs::create_dir(&data).unwrap();
    let st = Command::new("dd")
        .args(["if=/dev/urandom", "bs=1M", "count=96", "status=none"])
        .arg(format!("of={}", data.join("blob").display()))
        .status()
        .unwrap();
    assert!(st.success());
    let iso = dir.path().join("big.iso");
    let st = Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-o"])
        .arg(&iso)
        .arg(&data)
        .status()
        .unwrap();
    assert!(st.success());
    let outcome = VmTest::new("tcmu-bench")
        .modules(["target_core_user", "tcm_loop", "sr_mod", "cdrom", "loop"])
        .binary(&serve, "/bin/tcmu_serve")
        .file(&iso, "/data/disc.iso")
        .memory_mb(2048)
        .script(
            r#"
/bin/tcmu_serve /data/disc.iso >/tmp/s.log 2>&1 &
S=$!
i=0; while ! grep -q '^nodes sr=/dev/sr0' /tmp/s.log; do i=$((i+1)); [ $i -gt 400 ] && break; sleep 0.1; done
vmtest_check sr0 vmtest_wait /dev/sr0 5
timed() {
  sync; echo 3 >/proc/sys/vm/drop_caches
  t0=$(vmtest_now)
  dd if=$1 of=/dev/null bs=1M 2>/dev/null || return 1
  t1=$(vmtest_now)
  vmtest_value $2 $(echo "$t1 $t0" | awk '{printf "%.2f", $1 - $2}')
}
timed /dev/sr0 tcmu_s && vmtest_pass tcmu || vmtest_fail tcmu "dd of /dev/sr0"
losetup /dev/loop0 /data/disc.iso
timed /dev/loop0 loop_s && vmtest_pass loop || vmtest_fail loop "dd of /dev/loop0"
timed /dev/sr0 tcmu2_s && vmtest_pass tcmu2 || vmtest_fail tcmu2 "dd of /dev/sr0"
timed /dev/loop0 loop2_s && vmtest_pass loop2 || vmtest_fail loop2 "dd of /dev/loop0"
losetup -d /dev/loop0
kill -TERM $S; wait $S; cat /tmp/s.log
"#,
        )
        .expect(["sr0", "tcmu", "loop", "tcmu2", "loop2"])
        .timeout(Duration::from_secs(300))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{:?}", outcome.values);
}
