#!/usr/bin/env bash
# Benchmarks, in one run: `spindle convert` of an MDS v1 + MDF (MODE1/2352 raw sectors, over
# 1 GiB) to ISO against mdf2iso; and `spindle convert` of a compressed MDX of the same disc
# (over 1 GiB of mixed content) to ISO next to `cp` of the uncompressed ISO, as MB/s per core.
#
#   bash bench/mds.sh [RUNS] [--write-docs]     (default 3 runs, each after one warm-up)
#
# The source is made fresh: an ISO (xorriso, Rock Ridge + Joliet) of twelve 96 MiB files, a
# third each urandom, English-like text and zeros, interleaved. Its sectors are written out as
# a MODE1/2352 BIN/CUE (sync pattern and MSF header in every sector, EDC/ECC left zero, which
# no tool here reads; written directly as bench/convert.sh does, because a CD of 1 GiB is
# longer than any CD) and that is converted by spindle to big.mds + big.mdf; the ISO itself
# is converted by spindle to mixed.mdx (compressed, the default; timed once, for information).
# Every tool reads from the page cache (warm, one untimed warm-up run each) and writes to the
# same filesystem; `sync` before each run keeps one run's writeback out of the next one's
# timing. The outputs of the timed runs are compared with `cmp` before anything is reported.
# MB/s per core = bytes / (user + system CPU seconds), from hyperfine's means.
# Results go to stdout and, with --write-docs as the last argument, into docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/bench/lib${PYTHONPATH:+:$PYTHONPATH}" # docs_section.py
runs=3
[ $# -gt 0 ] && [ "$1" != "--write-docs" ] && runs=$1
write_docs=false
[ $# -gt 0 ] && [ "${@: -1}" = "--write-docs" ] && write_docs=true

bash scripts/setup >/dev/null
command -v mdf2iso >/dev/null || { echo "bench/mds.sh needs mdf2iso (scripts/setup)"; exit 1; }
cargo build --release -q
spindle=$PWD/target/release/spindle
load_before=$(cut -d' ' -f1 /proc/loadavg)
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/spindle-bench-mds.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# 1. The disc: mixed.iso, then raw.bin/raw.cue (MODE1/2352) from its sectors.
mkdir src
python3 - <<'PY'
import os, random
random.seed(1)
words = [''.join(random.choice("etaoinshrdlcumwfgypbvk") for _ in range(random.randint(2, 9)))
         for _ in range(4000)]
lines, size = [], 0
while size < 4 << 20:
    line = " ".join(random.choices(words, k=random.randint(6, 14))).capitalize() + ".\n"
    lines.append(line); size += len(line)
text = "".join(lines).encode()[: 4 << 20]
zero = bytes(4 << 20)
for i in range(12):
    kind = ("random", "text", "zero")[i % 3]
    with open(f"src/f{i:02}-{kind}.dat", "wb") as f:
        for _ in range(24):  # 24 x 4 MiB = 96 MiB
            f.write(os.urandom(4 << 20) if kind == "random" else text if kind == "text" else zero)
PY
xorriso -as mkisofs -quiet -R -J -o mixed.iso src
rm -rf src
python3 - <<'PY'
sync = bytes([0] + [0xFF] * 10 + [0])
bcd = lambda v: ((v // 10) << 4) | (v % 10)
with open("mixed.iso", "rb") as iso, open("raw.bin", "wb", buffering=16 << 20) as f:
    a = 150
    while user := iso.read(2048):
        f.write(sync + bytes([bcd(a // 4500 % 100), bcd(a // 75 % 60), bcd(a % 75), 1]) + user + bytes(288))
        a += 1
open("raw.cue", "w").write('FILE "raw.bin" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\n')
PY
"$spindle" convert raw.cue big.mds >/dev/null
rm -f raw.bin raw.cue
iso_bytes=$(stat -c %s mixed.iso)
mdf_bytes=$(stat -c %s big.mdf)
echo "mixed.iso: $iso_bytes bytes; big.mdf: $mdf_bytes bytes ($((mdf_bytes / 2352)) sectors of 2352)"

# 2. MDS + MDF to ISO: spindle against mdf2iso (its per-sector progress bar goes to /dev/null).
hyperfine --style basic --runs "$runs" --warmup 1 --export-json mdf.json \
  --prepare 'rm -f out.iso; sync' -n spindle "$spindle convert big.mds out.iso" \
  --prepare 'rm -f peer.iso; sync' -n mdf2iso "mdf2iso big.mdf peer.iso"
cmp out.iso peer.iso
cmp out.iso mixed.iso
rm -f out.iso peer.iso big.mdf big.mds

# 3. Writing the compressed MDX, once (information only).
hyperfine --style basic --runs 1 --export-json mdxw.json \
  --prepare 'rm -f mixed.mdx; sync' -n "spindle (write MDX)" "$spindle convert mixed.iso mixed.mdx"
mdx_bytes=$(stat -c %s mixed.mdx)
echo "mixed.mdx: $mdx_bytes bytes"

# 4. Compressed MDX to ISO, next to cp of the uncompressed ISO.
hyperfine --style basic --runs "$runs" --warmup 1 --export-json mdx.json \
  --prepare 'rm -f out2.iso; sync' -n spindle "$spindle convert mixed.mdx out2.iso" \
  --prepare 'rm -f copy.iso; sync' -n cp "cp mixed.iso copy.iso"
cmp out2.iso mixed.iso
cmp copy.iso mixed.iso
load_after=$(cut -d' ' -f1 /proc/loadavg)

python3 - "$iso_bytes" "$mdf_bytes" "$mdx_bytes" "$runs" "$load_before" "$load_after" \
  "$write_docs" "$OLDPWD/docs/benchmarks.md" <<'PY'
import json, sys, platform, datetime, os
iso_bytes, mdf_bytes, mdx_bytes, runs = map(int, sys.argv[1:5])
load_before, load_after, write_docs, doc = float(sys.argv[5]), float(sys.argv[6]), sys.argv[7] == "true", sys.argv[8]
load = lambda f: {r["command"]: r for r in json.load(open(f))["results"]}
mdf, mdx, mdxw = load("mdf.json"), load("mdx.json"), load("mdxw.json")["spindle (write MDX)"]
cpu_s = lambda r: r["user"] + r["system"]
mb = lambda n: n / 1e6

rows = [f"| {n} | {r['mean']:.3f} ± {r['stddev']:.3f} | {cpu_s(r):.3f} | {mb(mdf_bytes) / r['mean']:.0f} |"
        for n, r in mdf.items()]
mdf_table = "\n".join(["| MDF → ISO | mean (s) | user+sys (s) | MB/s of MDF read |", "|---|---|---|---|", *rows])
rows = [f"| {n} | {r['mean']:.3f} ± {r['stddev']:.3f} | {cpu_s(r):.3f} | {mb(iso_bytes) / r['mean']:.0f} | {mb(iso_bytes) / cpu_s(r):.0f} |"
        for n, r in mdx.items()]
mdx_table = "\n".join(["| MDX → ISO | mean (s) | user+sys (s) | MB/s of ISO written | MB/s per core |",
                       "|---|---|---|---|---|", *rows])
mdf_ratio = mdf["mdf2iso"]["mean"] / mdf["spindle"]["mean"]
wall_ratio = mdx["cp"]["mean"] / mdx["spindle"]["mean"]
core_ratio = cpu_s(mdx["cp"]) / cpu_s(mdx["spindle"])
summary = (f"MDF → ISO: spindle / mdf2iso = **{mdf_ratio:.2f}x** (target ≥ 1.5x). "
           f"MDX → ISO: spindle / cp = **{wall_ratio:.2f}x** wall clock, **{core_ratio:.2f}x** per core.")
write_line = (f"Writing the MDX (`spindle convert mixed.iso mixed.mdx`, one run, information only): "
              f"{mdxw['mean']:.2f} s wall, {cpu_s(mdxw):.2f} s user+sys, "
              f"{mb(iso_bytes) / mdxw['mean']:.0f} MB/s of ISO read; {mdx_bytes} bytes "
              f"({100 * mdx_bytes / iso_bytes:.0f}% of the ISO).")
sp, pe, sx = mdf["spindle"], mdf["mdf2iso"], mdx["spindle"]
explain = (f"spindle's MDF read is mostly kernel time ({sp['system']:.2f} s system, {1000 * sp['user']:.0f} ms user: "
           f"page-cache copies), mdf2iso's {pe['system']:.2f} s system and {1000 * pe['user']:.0f} ms user. "
           f"Reading the MDX keeps {cpu_s(sx) / sx['mean']:.1f} of {os.cpu_count()} cores busy on average, "
           f"{sx['user']:.2f} s user (mostly inflating the deflated groups, the text third); cp only copies pages in the kernel.")
spread = max(r["stddev"] / r["mean"] for r in [*mdf.values(), *mdx.values()])
noisy = spread > 0.15 or max(load_before, load_after) > 0.5
noise = (f"The numbers are noisy: the largest run-to-run spread is {100 * spread:.0f}% of the mean and the "
         f"1-minute load average was {load_before:.2f} before and {load_after:.2f} after the run "
         f"(other jobs on the same {os.cpu_count()} cores).") if noisy else \
        f"Largest run-to-run spread {100 * spread:.0f}% of the mean; load average {load_before:.2f} before, {load_after:.2f} after."
print(mdf_table); print(); print(mdx_table); print(); print(summary); print(explain); print(write_line); print(noise)
if write_docs:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    section = f"""## MDS/MDF and MDX → ISO ({datetime.date.today().isoformat()})

`bash bench/mds.sh` — one disc, an ISO of {iso_bytes} bytes (Rock Ridge + Joliet; twelve 96 MiB
files, a third each random, English-like text and zeros), stored as MDS v1 + MDF of
{mdf_bytes} bytes ({mdf_bytes // 2352} MODE1/2352 sectors) and as a compressed MDX of
{mdx_bytes} bytes. {runs} runs each after a warm-up, page cache warm, `sync` between runs,
hyperfine; {os.cpu_count()} cores, {cpu}. Every output is compared with `cmp` (spindle's ISO equals
mdf2iso's and the original). MB/s per core = bytes / (user + system CPU seconds).

{mdf_table}

{mdx_table}

{summary}

{explain}

{write_line}

{noise}
"""
    from docs_section import write_section
    write_section(doc, "## MDS/MDF and MDX → ISO", section)
PY
