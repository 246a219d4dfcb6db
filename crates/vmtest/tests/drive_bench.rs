//! Issue 17's benchmark (bench/drive.sh runs it; ignored by default: a release build and a big
//! disc): `dd if=/dev/srN of=/dev/null bs=1M` of a ~200 MiB ISO from spindle's TCMU drive,
//! against dd from a loop device over the same ISO and from QEMU's own ATAPI drive (`-cdrom`)
//! with the same file, in one boot. The ISO reaches the guest as a read-only virtio disk that
//! the daemon opens as its image and the loop device sits on; the page cache is dropped before
//! every run; best of three by the guest's clock, reported as VMTEST VALUE lines.

use spindle_testkit::{pattern, vm};
use spindle_vmtest::VmTest;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn release_spindle() -> PathBuf {
    vm::cargo_build(&["--release", "-p", "spindle-cli", "--bin", "spindle"]);
    spindle_vmtest::target_dir().join("release/spindle")
}

/// A `mb` MiB ISO of seeded random files, made once per size by xorriso.
fn big_iso(mb: u64) -> PathBuf {
    let dir = spindle_vmtest::target_dir().join("vmtest/drive-bench-data");
    let iso = dir.join(format!("random-{mb}m.iso"));
    if iso.is_file() {
        return iso;
    }
    let tree = dir.join(format!("tree-{mb}"));
    std::fs::create_dir_all(&tree).unwrap();
    for i in 0..mb.div_ceil(16) {
        pattern::write_file(&tree.join(format!("f{i:03}.bin")), 16 << 20, 1000 + i);
    }
    let tmp = dir.join(format!("random-{mb}m.iso.tmp"));
    vm::run(
        Command::new("xorriso")
            .args(["-as", "mkisofs", "-quiet", "-R", "-V", "DRIVEBENCH", "-o"])
            .arg(&tmp)
            .arg(&tree),
    );
    std::fs::rename(&tmp, &iso).unwrap();
    std::fs::remove_dir_all(&tree).unwrap();
    iso
}

const CHECKS: [&str; 7] = [
    "modules",
    "daemon",
    "load",
    "loop",
    "same-spindle",
    "same-qemu",
    "same-loop",
];

const SCRIPT: &str = r#"
export XDG_RUNTIME_DIR=/tmp/xdg-run XDG_STATE_HOME=/tmp/xdg-state
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_STATE_HOME"
mount -t configfs configfs /sys/kernel/config
spindle daemon >/tmp/daemon.log 2>&1 &
DPID=$!
vmtest_check daemon vmtest_wait "$XDG_RUNTIME_DIR/spindle/control.sock" 30
vmtest_check load spindle load 0 /dev/vda
SP=$(spindle drives --json | awk -v n=0 -v k=device -f /data/drives.awk)
QEMU=
for s in /sys/block/sr*; do
  grep -q QEMU "$s/device/vendor" 2>/dev/null && QEMU=/dev/${s##*/}
done
LOOP=$(losetup -f)
vmtest_check loop losetup -r "$LOOP" /dev/vda
echo "spindle $SP, qemu $QEMU, loop $LOOP"
for d in "$SP" "$QEMU" "$LOOP"; do
  b=${d#/dev/}
  echo "diag $d: queue_depth $(cat /sys/block/$b/device/queue_depth 2>&1) nr_requests $(cat /sys/block/$b/queue/nr_requests) max_hw_sectors_kb $(cat /sys/block/$b/queue/max_hw_sectors_kb) max_segments $(cat /sys/block/$b/queue/max_segments) scheduler $(cat /sys/block/$b/queue/scheduler)"
  echo "$d: max_sectors_kb $(cat /sys/block/$b/queue/max_sectors_kb 2>&1) read_ahead_kb $(cat /sys/block/$b/queue/read_ahead_kb 2>&1) size $(cat /sys/block/$b/size 2>&1)"
done
secs() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
want=$(cat /data/iso.sha256)
same() { # DEV: the whole device hashes as the ISO
  [ "$(dd if="$1" bs=1M 2>/dev/null | sha256sum | cut -d' ' -f1)" = "$want" ]
}
vmtest_check same-spindle same "$SP"
vmtest_check same-qemu same "$QEMU"
vmtest_check same-loop same "$LOOP"
for run in 1 2 3; do
  for pair in "spindle $SP" "qemu $QEMU" "loop $LOOP"; do
    set -- $pair
    sync; echo 3 > /proc/sys/vm/drop_caches
    b=${2#/dev/}; s0=$(cat /sys/block/$b/stat); c0=$(cut -d' ' -f14,15 /proc/$DPID/stat)
    t0=$(vmtest_now); dd if="$2" of=/dev/null bs=1M 2>/dev/null; t1=$(vmtest_now)
    vmtest_value "$1-$run" "$(secs $t0 $t1)"
    echo "diag $1-$run stat0 $s0 | stat1 $(cat /sys/block/$b/stat) | daemon ticks $c0 -> $(cut -d' ' -f14,15 /proc/$DPID/stat)"
  done
done
sed 's/^/  daemon| /' /tmp/daemon.log | tail -n 20
"#;

#[test]
#[ignore = "benchmark: bench/drive.sh runs it"]
fn dd_from_a_spindle_drive_against_loop_and_qemu() {
    let mb: u64 = std::env::var("SPINDLE_DRIVE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let iso = big_iso(mb);
    let bytes = std::fs::metadata(&iso).unwrap().len();
    let sum = vm::run(Command::new("sha256sum").arg(&iso));
    let sum = String::from_utf8(sum).unwrap();
    let smp = std::env::var("SPINDLE_DRIVE_BENCH_SMP").unwrap_or_else(|_| "2".into());
    let mut virtio = OsString::from("file=");
    virtio.push(&iso);
    virtio.push(",format=raw,if=virtio,readonly=on");
    let outcome = VmTest::new("drive-bench")
        .binary(release_spindle(), "/bin/spindle")
        .modules([
            "target_core_user",
            "tcm_loop",
            "sr_mod",
            "ata_piix",
            "loop",
            "virtio_pci",
            "virtio_blk",
        ])
        .memory_mb(2048)
        .data(
            "/data/drives.awk",
            include_str!("optical/drives.awk").as_bytes(),
        )
        .data("/data/iso.sha256", sum.split_whitespace().next().unwrap())
        .qemu_args([
            OsString::from("-cdrom"),
            iso.clone().into_os_string(),
            "-drive".into(),
            virtio,
            "-smp".into(),
            smp.clone().into(),
        ])
        .script(SCRIPT)
        .timeout(Duration::from_secs(900))
        .run();
    let outcome = outcome.unwrap_or_else(|e| panic!("{e}"));
    let best = |name: &str| -> Option<f64> {
        (1..=3)
            .filter_map(|i| outcome.value(&format!("{name}-{i}"))?.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .reduce(f64::min)
    };
    let mbs = |s: f64| bytes as f64 / s / (1 << 20) as f64;
    println!("drive-bench {mb} MiB ISO ({bytes} bytes), -smp {smp}, dd bs=1M, best of 3, guest s:");
    let lp = best("loop");
    for name in ["spindle", "qemu", "loop"] {
        match best(name) {
            Some(s) => println!(
                "  {name:<8} {s:7.2} s {:8.1} MiB/s  {}",
                mbs(s),
                lp.map_or(String::new(), |l| format!("{:.2}x loop", l / s))
            ),
            None => println!("  {name:<8} no measurement"),
        }
    }
    for l in outcome.console.lines().filter(|l| l.contains("diag ")) {
        println!("  {l}");
    }
    if let Some(problems) = outcome.problems(&CHECKS) {
        panic!("{problems}\n{}", outcome.console);
    }
}
