# spindle-vmtest guest helpers, sourced by /init before the test script (/vmtest/test.sh).
# Markers the host reads from the serial console:
#   VMTEST PASS name            a check passed
#   VMTEST FAIL name: detail    a check failed
#   VMTEST VALUE name value     a measurement for the host (Outcome::value)
#   VMTEST DONE                 the script ran to its end (printed by /init)

vmtest_pass() { echo "VMTEST PASS $1"; }

# vmtest_fail NAME DETAIL...
vmtest_fail() {
  _n=$1; shift
  echo "VMTEST FAIL $_n: $*"
}

# vmtest_value NAME VALUE: reports a measurement (a time, a size) to the host.
vmtest_value() { echo "VMTEST VALUE $1 $2"; }

# vmtest_now: a monotonic clock in seconds with hundredths (from /proc/uptime), for timings.
vmtest_now() { cut -d' ' -f1 /proc/uptime; }

# vmtest_check NAME COMMAND [ARGS...]: runs the command; PASS if it exits 0, else FAIL with its
# exit status, after its output (the last 30 lines, indented with "| ").
vmtest_check() {
  _n=$1; shift
  if "$@" >/tmp/vmtest.out 2>&1; then
    vmtest_pass "$_n"
  else
    _rc=$?
    tail -n 30 /tmp/vmtest.out | sed 's/^/  | /'
    vmtest_fail "$_n" "exit $_rc from: $*"
  fi
}

# vmtest_wait PATH [SECONDS]: waits (default 10 s) for PATH to exist; non-zero if it never does.
vmtest_wait() {
  _i=0
  while [ ! -e "$1" ]; do
    _i=$((_i + 1))
    [ "$_i" -gt $((${2:-10} * 10)) ] && return 1
    sleep 0.1
  done
}

# vmtest_sums NAME DIR SUMFILE: checks `sha256sum -c SUMFILE` (or md5sum for *.md5) inside DIR.
vmtest_sums() {
  case "$3" in
    *.md5) _tool=md5sum ;;
    *) _tool=sha256sum ;;
  esac
  if [ ! -s "$3" ]; then
    vmtest_fail "$1" "$3 is missing or empty"
    return
  fi
  vmtest_check "$1" sh -c "cd '$2' && $_tool -c '$3'"
}

# vmtest_load_modules LIST: insmod every file LIST names (dependencies first); PASS modules when
# all load, FAIL modules naming the ones that did not.
vmtest_load_modules() {
  _bad=
  while read -r _ko; do
    [ -n "$_ko" ] || continue
    insmod "$_ko" >/tmp/vmtest.insmod 2>&1 || {
      cat /tmp/vmtest.insmod
      _bad="$_bad $(basename "$_ko")"
    }
  done <"$1"
  if [ -n "$_bad" ]; then vmtest_fail modules "insmod failed for$_bad"; else vmtest_pass modules; fi
}
