#!/usr/bin/env bash
# Benchmark: random 2048-byte reads across a 1 GiB image, as a plain ISO, as seekable zstd
# (1 MiB frames), as gzip (inflate checkpoints) and as CHD (chdman createcd), all through the
# registry and the disc model, in one run. Reports reads per second and ratios to the plain
# ISO.
#
#   bash bench/random_reads.sh [READS] [--write-docs]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/bench/lib${PYTHONPATH:+:$PYTHONPATH}" # docs_section.py
reads=${1:-20000}
[[ $reads =~ ^[0-9]+$ ]] || reads=20000
write_docs=false
[ "${@: -1}" = "--write-docs" ] && write_docs=true
bash scripts/setup >/dev/null
cargo build --release -q --example random_reads
tool=$PWD/target/release/examples/random_reads
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/spindle-bench-r.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# A CD-sized image (chdman's CD limit) and a 1 GiB one, of mixed content: a third random,
# a third text, a third zeros.
make_iso() { # NAME MiB
  mkdir -p "src-$1"
  python3 - "src-$1" "$2" <<'PY'
import os, sys
d, mib = sys.argv[1], int(sys.argv[2])
part = mib // 3 << 20
words = b"spindle reads every disc image format there is, fast and exactly. "
with open(f"{d}/random.bin", "wb") as f: f.write(os.urandom(part))
with open(f"{d}/text.txt", "wb") as f: f.write((words * (part // len(words) + 1))[:part])
with open(f"{d}/zeros.bin", "wb") as f: f.write(bytes(part))
PY
  xorriso -as mkisofs -quiet -o "$1.iso" "src-$1"
  rm -rf "src-$1"
}
make_iso big 1050
make_iso cd 690
"$tool" --make-seekable big.iso big.iso.zst
gzip -1 -k big.iso
# The plain images stay beside their compressed copies: the registry must read the file named.
printf 'FILE "cd.iso" BINARY\n  TRACK 01 MODE1/2048\n    INDEX 01 00:00:00\n' > cd.cue
chdman createcd -i cd.cue -o cd.chd >/dev/null 2>&1
ls -l big.iso big.iso.zst big.iso.gz cd.iso cd.chd

run() { # IMAGE [READS] -> reads/s (best of 3)
  local best=0
  for _ in 1 2 3; do
    r=$("$tool" "$1" "${2:-$reads}" | sed -E 's/.*: ([0-9]+) reads\/s.*/\1/')
    (( r > best )) && best=$r
  done
  echo "$best"
}
iso=$(run big.iso); zst=$(run big.iso.zst); gz=$(run big.iso.gz $((reads / 100 + 1))); cdiso=$(run cd.iso); chd=$(run cd.chd)
python3 - "$reads" "$iso" "$zst" "$gz" "$cdiso" "$chd" "$write_docs" "$OLDPWD/docs/benchmarks.md" "$(stat -c %s big.iso)" "$(stat -c %s big.iso.zst)" "$(stat -c %s big.iso.gz)" "$(stat -c %s cd.iso)" "$(stat -c %s cd.chd)" <<'PY'
import sys, datetime
reads, iso, zst, gz, cdiso, chd = map(int, sys.argv[1:7])
write, doc = sys.argv[7] == "true", sys.argv[8]
bi, bz, bg, ci, cc = map(int, sys.argv[9:14])
table = f"""| image | bytes | reads/s | vs plain ISO |
|---|---|---|---|
| ISO, 1 GiB | {bi} | {iso} | 1.00x |
| seekable zstd (1 MiB frames) | {bz} | {zst} | {zst/iso:.3f}x |
| gzip -1 (8 MiB checkpoints; reads/100 of them) | {bg} | {gz} | {gz/iso:.4f}x |
| ISO, CD size | {ci} | {cdiso} | 1.00x |
| CHD (chdman createcd defaults) | {cc} | {chd} | {chd/cdiso:.3f}x |
"""
print(table)
if write:
    section = f"""## random reads: compressed images ({datetime.date.today().isoformat()})

`bash bench/random_reads.sh` — {reads} random 2048-byte reads (best of 3 runs) across the
data track through the registry and the disc model (`crates/image/examples/random_reads.rs`),
page cache warm. The images hold a third random bytes, a third text, a third zeros.

{table}
A seekable zstd read decodes one 1 MiB frame (a small cache keeps the last four); a gzip read
restores the checkpoint before it and inflates up to 8 MiB; a CHD read decodes one hunk
(8 frames) through chd-rs, with a 16-hunk cache.
"""
    from docs_section import write_section
    write_section(doc, "## random reads: compressed images", section)
PY
