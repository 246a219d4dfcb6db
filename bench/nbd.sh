#!/usr/bin/env bash
# NBD server benchmark (issue 7): the same 1 GiB file served by spindle's NBD server core
# (crates/nbd, the nbd-serve example, release build), by `qemu-nbd -r -f raw` and by
# `nbdkit -r file`, copied with `nbdcopy URI null:` with --connections=1 and 4, over a Unix
# socket and over TCP loopback; and `cat FILE > /dev/null` from the page cache. All in one run,
# best of RUNS interleaved rounds per cell (default 5). Prints MB/s and ratios; with --write-docs replaces the
# "NBD server" section of docs/benchmarks.md.
#
#   bash bench/nbd.sh [RUNS] [--write-docs]
#
# The file lives on $BENCH_DIR (default /dev/shm, tmpfs: "page cache" reads). Each copy is
# checked first: nbdcopy of every server to a file must equal the source (sha1).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/bench/lib${PYTHONPATH:+:$PYTHONPATH}" # docs_section.py
runs=5
[ $# -gt 0 ] && [ "$1" != "--write-docs" ] && runs=$1
write_docs=false
[ $# -gt 0 ] && [ "${@: -1}" = "--write-docs" ] && write_docs=true
for t in nbdcopy qemu-nbd nbdkit; do
  command -v $t >/dev/null || { echo "bench/nbd.sh needs $t (bash scripts/setup)"; exit 1; }
done
cargo build --release -q -p spindle-nbd --example nbd-serve
cargo build --release -q -p spindle-cli # (one command would build only examples of both)
serve=$PWD/target/release/examples/nbd-serve
spindle=$PWD/target/release/spindle
doc=$PWD/docs/benchmarks.md
dir=$(mktemp -d "${BENCH_DIR:-/dev/shm}/nbd-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
file=$dir/disc.iso
size=$((1024 * 1024 * 1024))
head -c $size /dev/urandom > "$file"
sum=$(sha1sum < "$file" | cut -d' ' -f1)
# A CD's worth of the same data (600 MiB: 1 GiB is a DVD, which BIN/CUE cannot hold) as a
# MODE1/2352 BIN (sync, header, EDC/ECC per sector), which only spindle can serve as
# 2048-byte blocks.
cd_size=$((600 * 1024 * 1024))
head -c $cd_size "$file" > "$dir/cd.iso"
cd_sum=$(sha1sum < "$dir/cd.iso" | cut -d' ' -f1)
"$spindle" convert "$dir/cd.iso" "$dir/raw.cue" >/dev/null
rm "$dir/cd.iso"

now() { date +%s.%N; }
wait_unix() { for _ in $(seq 200); do [ -S "$1" ] && return 0; sleep 0.05; done; echo "no socket $1"; exit 1; }
wait_tcp() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; echo "no port $1"; exit 1; }

# Servers: NAME -> unix URI and tcp URI.
declare -A uri_unix uri_tcp
declare -A pid_of
start() { local key=$1; shift; "$@" >/dev/null 2>&1 & pids+=($!); pid_of[$key]=$!; }
start spindle,unix "$serve" --unix "$dir/spindle.sock" disc="$file"
start spindle,tcp "$serve" --tcp 127.0.0.1:10901 disc="$file"
start qemu-nbd,unix qemu-nbd -r -t -f raw -x disc -e 8 -k "$dir/qemu.sock" "$file"
start qemu-nbd,tcp qemu-nbd -r -t -f raw -x disc -e 8 -b 127.0.0.1 -p 10902 "$file"
start nbdkit,unix nbdkit -f -r -U "$dir/nbdkit.sock" file "$file"
start nbdkit,tcp nbdkit -f -r -i 127.0.0.1 -p 10903 file "$file"
# The product path: a spindle daemon with the ISO in drive 0 and the BIN in drive 1, on its
# NBD socket and shared on TCP.
mkdir -p "$dir/run" "$dir/state"
export XDG_RUNTIME_DIR=$dir/run XDG_STATE_HOME=$dir/state SPINDLE_SOCKET=$dir/run/spindle/control.sock
start daemon "$spindle" daemon
for _ in $(seq 200); do "$spindle" drives >/dev/null 2>&1 && break; sleep 0.05; done
"$spindle" load 0 "$file" >/dev/null 2>&1
"$spindle" load 1 "$dir/raw.cue" >/dev/null 2>&1
"$spindle" share 0 --public --listen 127.0.0.1:10904 >/dev/null # plain TCP, like the peers
"$spindle" share 1 --public --listen 127.0.0.1:10905 >/dev/null
pid_of[daemon,unix]=${pid_of[daemon]}; pid_of[daemon,tcp]=${pid_of[daemon]}
pid_of[bin,unix]=${pid_of[daemon]}; pid_of[bin,tcp]=${pid_of[daemon]}
# CPU time (user + system, all threads) of a server process, in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
wait_unix "$dir/spindle.sock"; wait_unix "$dir/qemu.sock"; wait_unix "$dir/nbdkit.sock"
wait_tcp 10901; wait_tcp 10902; wait_tcp 10903
uri_unix[spindle]="nbd+unix:///disc?socket=$dir/spindle.sock"
uri_unix[qemu-nbd]="nbd+unix:///disc?socket=$dir/qemu.sock"
uri_unix[nbdkit]="nbd+unix:///?socket=$dir/nbdkit.sock"
uri_tcp[spindle]="nbd://127.0.0.1:10901/disc"
uri_tcp[qemu-nbd]="nbd://127.0.0.1:10902/disc"
uri_tcp[nbdkit]="nbd://127.0.0.1:10903/"
uri_unix[daemon]="nbd+unix:///drive0?socket=$dir/run/spindle/nbd.sock"
uri_tcp[daemon]="nbd://127.0.0.1:10904/drive0"
uri_unix[bin]="nbd+unix:///drive1?socket=$dir/run/spindle/nbd.sock"
uri_tcp[bin]="nbd://127.0.0.1:10905/drive1"
servers=(spindle qemu-nbd nbdkit daemon bin)

for s in "${servers[@]}"; do
  want=$sum; [ "$s" = bin ] && want=$cd_sum
  for u in "${uri_unix[$s]}" "${uri_tcp[$s]}"; do
    got=$(nbdcopy "$u" - | sha1sum | cut -d' ' -f1)
    [ "$got" = "$want" ] || { echo "content differs: $s $u"; exit 1; }
  done
done

mbps() { echo "scale=0; ${2:-$size} / $1 / 1000000" | bc -l; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# Rounds interleave every cell (cat, then each server in turn), so that load from
# elsewhere on the machine falls on all of them alike; each cell keeps its best round.
declare -A best_t cpu_ticks
keep() { # keep KEY SECONDS
  if [ -z "${best_t[$1]:-}" ] || [ "$(echo "$2 < ${best_t[$1]}" | bc -l)" = 1 ]; then best_t[$1]=$2; fi
}
timed() { # timed CMD...: prints wall seconds
  local t0 t1; t0=$(now); "$@" >/dev/null || { echo "failed: $*" >&2; exit 1; }; t1=$(now)
  echo "$t1 - $t0" | bc -l
}
for _ in $(seq "$runs"); do
  t=$(timed cat "$file"); keep cat "$t"
  for tr in unix tcp; do
    for c in 1 4; do
      for s in "${servers[@]}"; do
        if [ $tr = unix ]; then u=${uri_unix[$s]}; else u=${uri_tcp[$s]}; fi
        c0=$(ticks "${pid_of[$s,$tr]}")
        t=$(timed nbdcopy --connections=$c "$u" null:); keep "$s,$tr,$c" "$t"
        c1=$(ticks "${pid_of[$s,$tr]}")
        cpu_ticks[$s,$tr,$c]=$(( ${cpu_ticks[$s,$tr,$c]:-0} + c1 - c0 ))
      done
    done
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
cat_mb=$(mbps "${best_t[cat]}")
declare -A mb
for k in "${!best_t[@]}"; do
  if [ "${k%%,*}" = bin ]; then mb[$k]=$(mbps "${best_t[$k]}" $cd_size); else mb[$k]=$(mbps "${best_t[$k]}"); fi
done

table() {
  echo "| transport | connections | spindle MB/s | qemu-nbd -r MB/s | nbdkit file MB/s | spindle / faster peer | spindle / cat | server CPU s/GiB: spindle, qemu-nbd, nbdkit |"
  echo "|---|---|---|---|---|---|---|---|"
  for tr in unix tcp; do
    for c in 1 4; do
      local sp=${mb[spindle,$tr,$c]} q=${mb[qemu-nbd,$tr,$c]} k=${mb[nbdkit,$tr,$c]}
      local peer=$q; [ "$k" -gt "$peer" ] && peer=$k
      local cpu=""
      for s in spindle qemu-nbd nbdkit; do
        cpu="$cpu$(printf '%.2f' "$(echo "${cpu_ticks[$s,$tr,$c]} / $hz / $runs" | bc -l)"), "
      done
      printf '| %s | %d | %d | %d | %d | %.2fx | %.2fx | %s |\n' "$tr" "$c" "$sp" "$q" "$k" \
        "$(echo "$sp / $peer" | bc -l)" "$(echo "$sp / $cat_mb" | bc -l)" "${cpu%, }"
    done
  done
  echo
  echo "\`cat\` of the file to /dev/null: $cat_mb MB/s. Server CPU: user + system time of the server"
  echo "process over a copy (all its threads), mean of the rounds; the client's own CPU is not in it."
  echo
  echo "Through the daemon (\`spindle load\`; the Unix socket is the daemon's nbd.sock, TCP a \`spindle share\`):"
  echo "the ISO as \`drive0\`, and a MODE1/2352 BIN of its first 600 MiB (a CD) as \`drive1\` (2048-byte"
  echo "blocks cut out of 2352-byte sectors: no peer can serve it), against the faster peer serving the ISO."
  echo
  echo "| transport | connections | daemon ISO MB/s | daemon BIN as 2048 MB/s | faster peer (ISO) MB/s | ISO / peer | BIN / peer | server CPU s/GiB: ISO, BIN |"
  echo "|---|---|---|---|---|---|---|---|"
  for tr in unix tcp; do
    for c in 1 4; do
      local d=${mb[daemon,$tr,$c]} b=${mb[bin,$tr,$c]} q=${mb[qemu-nbd,$tr,$c]} k=${mb[nbdkit,$tr,$c]}
      local peer=$q; [ "$k" -gt "$peer" ] && peer=$k
      printf '| %s | %d | %d | %d | %d | %.2fx | %.2fx | %.2f, %.2f |\n' "$tr" "$c" "$d" "$b" "$peer" \
        "$(echo "$d / $peer" | bc -l)" "$(echo "$b / $peer" | bc -l)" \
        "$(echo "${cpu_ticks[daemon,$tr,$c]} / $hz / $runs" | bc -l)" "$(echo "${cpu_ticks[bin,$tr,$c]} / $hz / $runs" | bc -l)"
    done
  done
}
out=$(table)
echo "$out"

if $write_docs; then
  kernel=$(uname -r); cpus=$(nproc); cc=$(cat /proc/sys/net/ipv4/tcp_congestion_control)
  section=$(cat <<EOS
## NBD server ($(date -u +%Y-%m-%d))

\`bash bench/nbd.sh $runs --write-docs\`: a 1 GiB file of random bytes on tmpfs served read-only
by spindle's NBD server core (crates/nbd, \`nbd-serve\` example, release build), by
\`qemu-nbd -r -t -f raw -e 8\` (Debian 7.2) and by \`nbdkit -r file\` (Debian 1.32.5); copied with
\`nbdcopy --connections=N URI null:\` (libnbd 1.14.2), best of $runs interleaved rounds per cell; content
checked first (sha1 through every server and transport). $cpus CPUs, kernel $kernel; client and
servers share the CPUs. spindle sends file-backed ranges with sendfile(2); on a loopback
listener it picks cubic congestion control over the system's default (here $cc, which
the peers use), and sets TCP_NOTSENT_LOWAT (see docs/nbd.md).
Load average at the start and end of the run: $load_start / $load_end (other work on the
machine). Wall-clock cells move by up to ±30 % between runs on a busy machine; the server
CPU column is steadier. At these rates spindle is bound by the client (nbdcopy's receive copy
and the kernel's socket work), not by the server.

$out
EOS
)
  python3 - "$doc" "$section" <<'PY'
import sys
from docs_section import write_section
write_section(sys.argv[1], "## NBD server", sys.argv[2].rstrip() + "\n\n")
PY
  echo "wrote the NBD server section of $doc"
fi
