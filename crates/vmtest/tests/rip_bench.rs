//! The rip benchmark through a real kernel (bench/rip.sh runs it; ignored by default because
//! it boots with a large disc): a generated ISO (`SPINDLE_RIP_BENCH_MB`, default 200 MB of
//! random files, made by xorriso on the host) on QEMU's `-cdrom`; inside the guest,
//! `dd if=/dev/sr0 bs=64k` (page cache dropped first) against `spindle rip /dev/sr0 -o x.iso`
//! (release build; with and without the hash log), five rounds, each timed by the guest's clock and reported as VMTEST VALUE lines; the
//! rip's ISO equals dd's copy.

use spindle_testkit::{pattern, vm};
use spindle_vmtest::VmTest;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn release_spindle() -> PathBuf {
    vm::cargo_build(&["--release", "-p", "spindle-cli", "--bin", "spindle"]);
    spindle_vmtest::target_dir().join("release/spindle")
}

/// A `mb` MB ISO of random files, made once per size by xorriso.
fn big_iso(mb: u64) -> PathBuf {
    let dir = spindle_vmtest::target_dir().join("vmtest/rip-bench-data");
    let iso = dir.join(format!("random-{mb}m.iso"));
    if iso.is_file() {
        return iso;
    }
    let tree = dir.join(format!("tree-{mb}"));
    std::fs::create_dir_all(&tree).unwrap();
    let files = mb.div_ceil(16);
    for i in 0..files {
        pattern::write_file(&tree.join(format!("f{i:03}.bin")), 16 << 20, i);
    }
    let tmp = dir.join(format!("random-{mb}m.iso.tmp"));
    let out = Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-R", "-V", "RIPBENCH", "-o"])
        .arg(&tmp)
        .arg(&tree)
        .output()
        .expect("xorriso (apt-get install xorriso)");
    assert!(
        out.status.success(),
        "xorriso: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&tmp, &iso).unwrap();
    std::fs::remove_dir_all(&tree).unwrap();
    iso
}

#[test]
#[ignore = "benchmark: bench/rip.sh runs it"]
fn rip_against_dd() {
    let mb: u64 = std::env::var("SPINDLE_RIP_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let iso = big_iso(mb);
    let bytes = std::fs::metadata(&iso).unwrap().len();
    // Two vCPUs (MTTCG: two host threads): the rip hashes in a second thread while it reads.
    let smp = std::env::var("SPINDLE_RIP_BENCH_SMP").unwrap_or_else(|_| "2".into());
    let outcome = VmTest::new("rip-bench")
        .binary(release_spindle(), "/bin/spindle")
        .modules(["sr_mod", "ata_piix", "sg"])
        .memory_mb(2048)
        .qemu_args([
            std::ffi::OsString::from("-cdrom"),
            iso.into_os_string(),
            "-smp".into(),
            smp.clone().into(),
        ])
        .script(
            r#"
vmtest_check sr0 vmtest_wait /dev/sr0 20
echo "sr0 queue: max_sectors_kb $(cat /sys/block/sr0/queue/max_sectors_kb) max_hw_sectors_kb $(cat /sys/block/sr0/queue/max_hw_sectors_kb) read_ahead_kb $(cat /sys/block/sr0/queue/read_ahead_kb)"
secs() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
# Warm the host's page cache for QEMU's reads (both tools then read the same way).
dd if=/dev/sr0 of=/dev/null bs=1M 2>/dev/null
for run in 1 2 3 4 5; do
  echo 3 > /proc/sys/vm/drop_caches
  t0=$(vmtest_now); dd if=/dev/sr0 of=/tmp/dd.iso bs=64k 2>/dev/null; t1=$(vmtest_now)
  vmtest_value dd-file-$run "$(secs $t0 $t1)"
  rm -f /tmp/dd.iso
  echo 3 > /proc/sys/vm/drop_caches
  t0=$(vmtest_now); dd if=/dev/sr0 of=/dev/null bs=64k 2>/dev/null; t1=$(vmtest_now)
  vmtest_value dd-null-$run "$(secs $t0 $t1)"
  t0=$(vmtest_now); spindle rip --timings /dev/sr0 -o /tmp/x.iso > /tmp/rip.txt 2>&1; rc=$?; t1=$(vmtest_now)
  cat /tmp/rip.txt
  [ $rc = 0 ] || vmtest_fail rip-$run "exit $rc"
  vmtest_value rip-$run "$(secs $t0 $t1)"
  vmtest_value rip-read-$run "$(sed -n 's/^read [0-9]* sectors in \([0-9.]*\) s.*/\1/p' /tmp/rip.txt)"
  rm -f /tmp/x.iso /tmp/x.iso.dat
  t0=$(vmtest_now); spindle rip --timings --no-hash /dev/sr0 -o /tmp/x.iso > /tmp/rip.txt 2>&1; rc=$?; t1=$(vmtest_now)
  [ $rc = 0 ] || vmtest_fail rip-nohash-$run "exit $rc"
  vmtest_value rip-nohash-$run "$(secs $t0 $t1)"
  cat /tmp/rip.txt
  [ $run = 5 ] || rm -f /tmp/x.iso
done
dd if=/dev/sr0 of=/tmp/dd.iso bs=64k 2>/dev/null
vmtest_check same cmp /tmp/x.iso /tmp/dd.iso
"#,
        )
        .expect(["sr0", "same"])
        .timeout(Duration::from_secs(900))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    let v = |k: &str| -> f64 {
        outcome
            .value(k)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no value {k}"))
    };
    let best = |a: &str| {
        (1..=5)
            .map(|i| v(&format!("{a}-{i}")))
            .fold(f64::INFINITY, f64::min)
    };
    let (dd_file, dd_null, rip, read) = (
        best("dd-file"),
        best("dd-null"),
        best("rip"),
        best("rip-read"),
    );
    let nohash = best("rip-nohash");
    let mbs = |s: f64| bytes as f64 / s / 1e6;
    println!("rip-bench {mb} MB ISO ({bytes} bytes), -smp {smp}, best of 5, guest seconds:");
    println!(
        "  dd bs=64k to a file   {dd_file:7.2} s  {:7.1} MB/s",
        mbs(dd_file)
    );
    println!(
        "  dd bs=64k to null     {dd_null:7.2} s  {:7.1} MB/s",
        mbs(dd_null)
    );
    println!(
        "  rip --no-hash         {nohash:7.2} s  {:7.1} MB/s  rip/dd-file {:.2}x",
        mbs(nohash),
        dd_file / nohash
    );
    println!(
        "  spindle rip (whole)   {rip:7.2} s  {:7.1} MB/s  rip/dd-file {:.2}x",
        mbs(rip),
        dd_file / rip
    );
    println!(
        "  spindle rip (reading) {read:7.2} s  {:7.1} MB/s  read/dd-null {:.2}x",
        mbs(read),
        dd_null / read
    );
}
