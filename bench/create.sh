#!/usr/bin/env bash
# Benchmark: `spindle create` (release build) against `xorriso -as mkisofs -R -J` and
# `genisoimage -R -J`, and against `cp -r` of the same tree, on two trees made fresh:
#   mixed: 1 GiB of files (4 of 188 MiB, 1024 of 256 KiB, 4096 of 4 KiB, random bytes)
#   many:  100,000 entries (100 folders of 999 files of 100 bytes)
#
#   bash bench/create.sh [RUNS] [--write-docs]     (default 3 runs)
#
# hyperfine, one untimed warm-up per command (the trees are in the page cache); every
# command ends with `sync`, since spindle fsyncs its image before renaming it into place.
# spindle is timed with its self-check (the default: the image read back and compared) and
# without (--no-check). Each ISO is checked first: xorriso lists the same number of files
# in every image. Results go to stdout and, with --write-docs, into docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/bench/lib${PYTHONPATH:+:$PYTHONPATH}" # docs_section.py
runs=3
[ $# -gt 0 ] && [ "$1" != "--write-docs" ] && runs=$1
write_docs=false
[ $# -gt 0 ] && [ "${@: -1}" = "--write-docs" ] && write_docs=true
for t in hyperfine xorriso genisoimage; do
  command -v $t >/dev/null || { echo "bench/create.sh needs $t (bash scripts/setup)"; exit 1; }
done
cargo build --release -q -p spindle-cli
spindle=$PWD/target/release/spindle
doc=$PWD/docs/benchmarks.md
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/create-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

python3 - <<'PY'
import os
pool = os.urandom(32 << 20)
def put(path, size, seed):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        done = 0
        while done < size:
            off = (seed * 7919 + done) % (len(pool) - (1 << 20))
            n = min(1 << 20, size - done)
            f.write(pool[off:off + n])
            done += n
for i in range(4):
    put(f"mixed/big/file{i}.bin", 188 << 20, i)
for i in range(1024):
    put(f"mixed/medium/d{i // 64:02}/file{i:04}.dat", 256 << 10, 100 + i)
for i in range(4096):
    put(f"mixed/small/d{i // 256:02}/file{i:04}.txt", 4 << 10, 5000 + i)
for d in range(100):
    os.makedirs(f"many/dir{d:03}")
    for i in range(999):
        with open(f"many/dir{d:03}/file_{i:04}.txt", "wb") as f:
            f.write(pool[d * 999 + i:d * 999 + i + 100])
PY
sync

declare -A bytes
for tree in mixed many; do
  bytes[$tree]=$(du -sb --apparent-size $tree | cut -f1)
  # The outputs agree before their speed counts.
  "$spindle" create $tree -o s.iso >/dev/null
  xorriso -as mkisofs -quiet -R -J -o x.iso $tree 2>/dev/null
  genisoimage -quiet -R -J -o g.iso $tree 2>/dev/null
  counts=$(for i in s x g; do xorriso -indev $i.iso -find / -type f 2>/dev/null | wc -l; done | sort -u | wc -l)
  [ "$counts" = 1 ] || { echo "the images of $tree list different file counts"; exit 1; }
  hyperfine --style basic --runs "$runs" --warmup 1 --export-json $tree.json \
    --prepare 'rm -rf out.iso copy; sync' \
    -n "spindle" "$spindle create $tree -o out.iso >/dev/null && sync" \
    -n "spindle --no-check" "$spindle create $tree -o out.iso --no-check >/dev/null && sync" \
    -n "xorriso -as mkisofs -R -J" "xorriso -as mkisofs -quiet -R -J -o out.iso $tree 2>/dev/null && sync" \
    -n "genisoimage -R -J" "genisoimage -quiet -R -J -o out.iso $tree 2>/dev/null && sync" \
    -n "cp -r" "cp -r $tree copy && sync"
done

python3 - "$runs" "$write_docs" "$doc" "${bytes[mixed]}" "${bytes[many]}" "${BENCH_DIR:-/var/tmp}" <<'PY'
import json, sys, os, datetime, platform
runs, write_docs, doc = sys.argv[1], sys.argv[2] == "true", sys.argv[3]
where = sys.argv[6]
sizes = {"mixed": int(sys.argv[4]), "many": int(sys.argv[5])}
names = ["spindle", "spindle --no-check", "xorriso -as mkisofs -R -J", "genisoimage -R -J", "cp -r"]
out = []
for tree, what in [("mixed", "1 GiB in 5,124 files"), ("many", "100,000 entries")]:
    res = {r["command"]: r for r in json.load(open(f"{tree}.json"))["results"]}
    out.append(f"**{tree}** ({what}, {sizes[tree]} bytes):\n")
    out.append("| command | mean (s) | vs spindle |")
    out.append("|---|---|---|")
    s = res["spindle"]["mean"]
    for n in names:
        out.append(f"| {n} | {res[n]['mean']:.3f} ± {res[n]['stddev']:.3f} | {res[n]['mean'] / s:.2f}x |")
    x = res["xorriso -as mkisofs -R -J"]["mean"]
    c = res["cp -r"]["mean"]
    out.append("")
    out.append(f"xorriso / spindle = **{x / s:.2f}x** (target ≥ 2x); spindle / cp -r = **{s / c:.2f}x** (target ≤ 1.5x); without the check: {x / res['spindle --no-check']['mean']:.2f}x and {res['spindle --no-check']['mean'] / c:.2f}x")
    out.append("")
text = "\n".join(out)
print(text)
if write_docs:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    section = f"""## create: folders → ISO ({datetime.date.today().isoformat()})

`BENCH_DIR={where} bash bench/create.sh` — trees and images in {where}; {runs} runs per
command after a warm-up (trees in the page cache), hyperfine; {os.cpu_count()} cores, {cpu}; every command ends with `sync` (spindle fsyncs its
image before the rename). spindle writes Rock Ridge and Joliet like the others and, by
default, reads the whole image back through its own readers and compares it with the
folders (docs/create.md); `--no-check` skips that.

{text}
"""
    from docs_section import write_section
    write_section(doc, "## create: folders → ISO", section)
PY
