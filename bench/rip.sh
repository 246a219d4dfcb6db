#!/bin/sh
# In-process ripping from the emulated drive (crates/rip/examples/rip-throughput): sectors
# per second of a whole rip, raw + P-W subchannel for a CD and 2048-byte user data for a
# DVD, as a multiple of a 52x CD / 16x DVD drive, and against `dd` reading the same image
# file in the same run (the ceiling: the bytes come from that file).
set -eu
cd "$(dirname "$0")/.."
cargo build -q --release -p spindle-rip --example rip-throughput
bin=target/release/examples/rip-throughput
S=../shared/samples
iso=$S/libarchive/test_read_format_iso_rockridge.iso
bin_img=$S/libcdio/isofs-m1.cue
dd_rate() { # sectors/s of dd reading $1 in 64 KiB blocks, $2 bytes per sector (best of 5)
  best=0
  for _ in 1 2 3 4 5; do
    s=$(date +%s.%N); dd if="$1" of=/dev/null bs=64k 2>/dev/null; e=$(date +%s.%N)
    r=$(echo "$(stat -c %s "$1") / $2 / ($e - $s)" | bc -l)
    best=$(echo "if ($r > $best) $r else $best" | bc -l)
  done
  printf '%.0f' "$best"
}
for case in "cd $iso 2048" "dvd $iso 2048" "cd $S/libcdio/isofs-m1.bin 2352"; do
  set -- $case
  img=$2
  [ "$img" = "$S/libcdio/isofs-m1.bin" ] && img=$bin_img
  out=$($bin "$img" "$1" 5)
  rate=$(echo "$out" | sed -E 's/.*: ([0-9]+) sectors\/s.*/\1/')
  dd=$(dd_rate "$2" "$3")
  printf '%-4s %-45s %s | dd %s sectors/s, rip/dd %.2f\n' "$1" "$(basename "$img")" "$out" "$dd" "$(echo "$rate / $dd" | bc -l)"
done

# Through a real kernel: QEMU's ATAPI drive with a generated ISO (SPINDLE_RIP_BENCH_MB, default
# 200 MB of random files made by xorriso) on -cdrom; in the guest, `dd if=/dev/sr0 bs=64k`
# (to a tmpfs file and to /dev/null, page cache dropped first) against `spindle rip /dev/sr0
# -o x.iso` (release build; with and without the hash log), best of 5, guest clock.
# crates/vmtest/tests/rip_bench.rs (an ignored test) does the boot and prints the table.
cargo test -q --release -p spindle-vmtest --test rip_bench -- --ignored --nocapture 2>&1 |
  sed -n '/^rip-bench/,/reading/p'
