#!/usr/bin/env bash
# Benchmark (issue 18): `spindle burn` of a Windows-like ISO, which builds the stick from the
# ISO's files (MBR, FAT32, every file read through the UDF reader) and reads it back, against
# `dd bs=4M oflag=direct conv=fsync` of the ISO to the same device followed by `cmp`.
#
#   bash bench/burn_windows.sh [SIZE_MIB] [ROUNDS]   (default 1024 MiB, 5 rounds)
#
# The ISO (genisoimage, ISO 9660 + Joliet + UDF) holds a sources/install.wim of random bytes
# (SIZE_MIB - 16 MiB: under 4 GiB, so copied whole), a boot.wim, 200 small files, bootmgr and
# bootx64.efi. The ISO and the loop device's backing file live in /dev/shm unless BENCH_DIR
# names another directory, so the tools' own costs show. Each round runs both in turn; the
# ratio is the median of the per-round ratios of whole-command times. Target: ≤ 1.2x.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
rounds=${2:-5}
[ "$(id -u)" = 0 ] || { echo "bench/burn_windows.sh: needs root (losetup)" >&2; exit 1; }
cargo build --release -q -p spindle-cli
spindle=${CARGO_TARGET_DIR:-$PWD/target}/release/spindle
base=${BENCH_DIR:-/dev/shm}
work=$(mktemp -d "$base/spindle-winburn-bench.XXXXXX")
loopdev=""
cleanup() {
  [ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/iso/sources" "$work/iso/efi/boot"
head -c $(((size_mib - 16) << 20)) /dev/urandom > "$work/iso/sources/install.wim"
head -c $((8 << 20)) /dev/urandom > "$work/iso/sources/boot.wim"
for i in $(seq 1 200); do head -c 20000 /dev/urandom > "$work/iso/sources/file $i.dll"; done
head -c 400000 /dev/urandom > "$work/iso/bootmgr"
head -c 1000000 /dev/urandom > "$work/iso/efi/boot/bootx64.efi"
genisoimage -quiet -J -udf -o "$work/win.iso" "$work/iso"
rm -rf "$work/iso"
iso_bytes=$(stat -c %s "$work/win.iso")
truncate -s $(((size_mib + 64) << 20)) "$work/stick.img"
loopdev=$(losetup -f --show "$work/stick.img")

now() { date +%s.%N; }
run_spindle() {
  "$spindle" burn "$work/win.iso" "$loopdev" --yes --allow-fixed --json > "$work/report.json" 2> "$work/spindle.err"
  python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["targets"][0]; assert t["outcome"]["state"]=="verified", t' "$work/report.json"
  grep -q "built from its files" "$work/spindle.err"
}
run_dd() { dd if="$work/win.iso" of="$loopdev" bs=4M oflag=direct conv=fsync status=none; }
run_cmp() { cmp -n "$iso_bytes" "$work/win.iso" "$loopdev"; }

run_spindle; run_dd; run_cmp # warm-up, untimed
: > "$work/rounds.tsv"
for r in $(seq 1 "$rounds"); do
  dd if=/dev/zero of="$loopdev" bs=4M count=4 oflag=direct status=none
  t0=$(now); run_spindle; t1=$(now)
  dd if=/dev/zero of="$loopdev" bs=4M count=4 oflag=direct status=none
  t2=$(now); run_dd; t3=$(now); run_cmp; t4=$(now)
  echo "$t0 $t1 $t2 $t3 $t4" >> "$work/rounds.tsv"
done
python3 - "$work/rounds.tsv" "$iso_bytes" "$size_mib" "$rounds" <<'PY'
import sys, statistics
tsv, nbytes, size_mib, rounds = sys.argv[1:]
rows = [list(map(float, l.split())) for l in open(tsv)]
sp = [r[1] - r[0] for r in rows]
dd = [r[3] - r[2] for r in rows]
cm = [r[4] - r[3] for r in rows]
ratio = [s / (d + c) for s, d, c in zip(sp, dd, cm)]
print(f"ISO {int(nbytes) / 2**20:.0f} MiB, {rounds} rounds (medians):")
print(f"| spindle burn (stick built, written, verified) | {statistics.median(sp):.3f} s |")
print(f"| dd bs=4M oflag=direct conv=fsync | {statistics.median(dd):.3f} s |")
print(f"| cmp ISO device | {statistics.median(cm):.3f} s |")
print(f"| dd + cmp | {statistics.median([d + c for d, c in zip(dd, cm)]):.3f} s |")
print(f"ratio spindle / (dd + cmp): {statistics.median(ratio):.2f}x (rounds {min(ratio):.2f}-{max(ratio):.2f}; target <= 1.2x)")
PY
