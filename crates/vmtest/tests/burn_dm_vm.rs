//! `spindle burn` never writes over its own source through device mapper, in the kernel test
//! VM (the build machines' kernel has no device mapper). In the guest: a CUE/BIN made by
//! `spindle convert` from the iPXE sample, a loop device over the BIN and a dm linear target
//! over that loop, a dm target over a nested loop (loop over the BIN's loop device), and a dm
//! target over a loop over an unrelated file. The first two are refused with the whole chain
//! named; the unrelated one burns and verifies; then, while the confirmation prompt waits,
//! the unrelated target's table is reloaded onto the BIN's loop, and the burn is refused
//! after the open (the re-check before writing). The BIN, the CUE and the ISO keep their
//! sha256 throughout.

use spindle_vmtest::VmTest;
use std::time::Duration;

const SCRIPT: &str = r#"
export DM_DISABLE_UDEV=1
cd /tmp
# dm_name NAME: the kernel name (dm-N) of the mapping called NAME.
dm_name() {
  for d in /sys/block/dm-*; do
    [ "$(cat "$d/dm/name")" = "$1" ] && { basename "$d"; return 0; }
  done
  return 1
}
setup() {
  spindle convert /data/ipxe.iso /tmp/disc.cue || return 1
  sha256sum /tmp/disc.cue /tmp/disc.bin /data/ipxe.iso >/tmp/before.sha
  head -c 16777216 /dev/zero >/tmp/stick.img
  losetup /dev/loop0 /tmp/disc.bin || return 1
  losetup /dev/loop1 /tmp/stick.img || return 1
  losetup /dev/loop2 /dev/loop0 || return 1
  SECT=$(cat /sys/block/loop0/size)
  echo "$SECT" >/tmp/sect
  dmsetup create src --table "0 $SECT linear /dev/loop0 0" || return 1
  dmsetup create nest --table "0 $SECT linear /dev/loop2 0" || return 1
  dmsetup create free --table "0 $SECT linear /dev/loop1 0" || return 1
  dm_name src >/tmp/src.dm && dm_name nest >/tmp/nest.dm && dm_name free >/tmp/free.dm
  cat /tmp/src.dm /tmp/nest.dm /tmp/free.dm
  losetup -a
}
# refused DEV CHAIN: burning the CUE to DEV fails naming CHAIN; the inputs are unchanged.
refused() {
  if spindle burn /tmp/disc.cue "/dev/$1" --allow-fixed --yes >/tmp/burn.txt 2>&1; then
    cat /tmp/burn.txt; echo "burned over its own source"; return 1
  fi
  cat /tmp/burn.txt
  grep -qF "writing it would overwrite the source: $2" /tmp/burn.txt && sha256sum -c /tmp/before.sha
}
burn_free() {
  spindle burn /tmp/disc.cue "/dev/$1" --allow-fixed --yes >/tmp/burn.txt 2>&1; _rc=$?
  cat /tmp/burn.txt
  [ "$_rc" = 0 ] && grep -q "^/dev/$1: complete and verified" /tmp/burn.txt || return 1
  _size=$(stat -c %s /data/ipxe.iso)
  [ "$(head -c "$_size" "/dev/$1" | sha256sum | cut -d' ' -f1)" = "$(sha256sum /data/ipxe.iso | cut -d' ' -f1)" ] \
    && sha256sum -c /tmp/before.sha
}
# reload_while_prompting DEV: the prompt for DEV waits; meanwhile DEV's table is moved onto
# the BIN's loop; typing the right name must not write.
reload_while_prompting() {
  rm -f /tmp/answer; mkfifo /tmp/answer
  spindle burn /tmp/disc.cue "/dev/$1" --allow-fixed </tmp/answer >/tmp/prompt.txt 2>&1 &
  _pid=$!
  exec 3>/tmp/answer
  _t=0
  until grep -q "to go on: " /tmp/prompt.txt; do
    _t=$((_t + 1))
    if [ "$_t" -gt 600 ]; then exec 3>&-; cat /tmp/prompt.txt; return 1; fi
    sleep 0.1
  done
  dmsetup reload free --table "0 $(cat /tmp/sect) linear /dev/loop0 0" && dmsetup resume free || { exec 3>&-; return 1; }
  ls /sys/block/"$1"/slaves
  echo "$1" >&3
  exec 3>&-
  wait "$_pid"; _rc=$?
  cat /tmp/prompt.txt
  [ "$_rc" != 0 ] || { echo "the burn succeeded"; return 1; }
  grep -qF "writing it would overwrite the source: /dev/$1 → /dev/loop0 → backing file /tmp/disc.bin" /tmp/prompt.txt \
    && sha256sum -c /tmp/before.sha
}
vmtest_check setup setup
SRC=$(cat /tmp/src.dm); NEST=$(cat /tmp/nest.dm); FREE=$(cat /tmp/free.dm)
vmtest_check dm-over-bin-refused refused "$SRC" "/dev/$SRC → /dev/loop0 → backing file /tmp/disc.bin is /tmp/disc.bin, which the image /tmp/disc.cue reads"
vmtest_check dm-over-nested-loop-refused refused "$NEST" "/dev/$NEST → /dev/loop2 → /dev/loop0 → backing file /tmp/disc.bin"
vmtest_check dm-unrelated-burns burn_free "$FREE"
vmtest_check dm-reloaded-while-prompting-refused reload_while_prompting "$FREE"
vmtest_check inputs-unchanged sha256sum -c /tmp/before.sha
"#;

#[test]
fn burn_refuses_device_mapper_targets_over_the_source_and_writes_an_unrelated_one() {
    let iso = spindle_vmtest::samples_dir()
        .unwrap()
        .join("debian-ipxe/ipxe.iso");
    VmTest::new("burn-dm")
        .spindle()
        .binary("/usr/sbin/dmsetup", "/sbin/dmsetup")
        .modules(["loop", "dm-mod"])
        .file(&iso, "/data/ipxe.iso")
        .script(SCRIPT)
        .expect([
            "setup",
            "dm-over-bin-refused",
            "dm-over-nested-loop-refused",
            "dm-unrelated-burns",
            "dm-reloaded-while-prompting-refused",
            "inputs-unchanged",
        ])
        .timeout(Duration::from_secs(240))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
}
