#!/bin/sh
# Issue 17's drive benchmark, in the kernel test VM: `dd if=/dev/srN of=/dev/null bs=1M` of a
# generated ISO (SPINDLE_DRIVE_BENCH_MB, default 200 MiB of random files made by xorriso) from
# spindle's TCMU drive (release build; the daemon reads the ISO from a read-only virtio disk),
# against dd from a loop device over that virtio disk and from QEMU's own ATAPI drive (-cdrom)
# with the same file; page cache dropped before each run, best of 3, guest clock, -smp 2
# (SPINDLE_DRIVE_BENCH_SMP). crates/vmtest/tests/drive_bench.rs (an ignored test) does the boot
# and prints the table.
set -eu
cd "$(dirname "$0")/.."
cargo test -q --release -p spindle-vmtest --test drive_bench -- --ignored --nocapture 2>&1 |
  sed -n -e '/^drive-bench/,/^  loop/p' -e '/^  diag /p'
