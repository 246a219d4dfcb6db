//! TCMU in the kernel test VM (Debian's stock kernel): the example server
//! (examples/tcmu_serve.rs, spindle-mmc's emulated drive over a sample ISO) gives a real
//! `/dev/sr0` through `target_core_user` + `tcm_loop`. In one boot: the node appears (and
//! `/dev/sg0`, SCSI type 5), `dd` of it equals the ISO, `mount -t iso9660` gives the tree
//! xorriso extracts on the host, a server killed with SIGKILL and restarted completes a read
//! the kernel issued while it was down, and SIGTERM tears everything down (configfs empty,
//! node gone). Then the privilege split: `spindle-drive-helper` (root) does the configfs
//! work for an unprivileged server (uid 1000, busybox `su`), which serves the ring through the
//! passed `/dev/uioN` descriptor; the nodes are the caller's (0600), another user cannot read
//! them, the helper refuses another uid's device name and an index past the cap, and a
//! killed unprivileged server reopens its device through the helper.

use spindle_vmtest::VmTest;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Builds a target of this workspace (debug) and returns its path.
fn build(args: &[&str], path: &str) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .arg("build")
        .arg("--quiet")
        .args(args)
        .current_dir(spindle_vmtest::workspace_root())
        .output()
        .expect("running cargo build");
    assert!(
        out.status.success(),
        "cargo build {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = spindle_vmtest::target_dir().join("debug").join(path);
    assert!(p.is_file(), "{} was not built", p.display());
    p
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `sha256sum` lines of every file xorriso extracts from `iso`, as paths under `/mnt`.
fn tree_sums(iso: &Path) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    run(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .args(["-extract", "/"])
        .arg(&out));
    let sums = run(Command::new("sh")
        .arg("-c")
        .arg("find . -type f -exec sha256sum {} + | sort")
        .current_dir(&out));
    // Let the temporary tree be removed although xorriso kept read-only modes.
    let _ = Command::new("chmod")
        .arg("-R")
        .arg("u+w")
        .arg(&out)
        .status();
    let sums = sums.replace("  ./", "  /mnt/");
    assert!(
        sums.lines().count() >= 2,
        "xorriso extracted too little:\n{sums}"
    );
    sums
}

fn sha256(path: &Path) -> String {
    run(Command::new("sha256sum").arg(path))
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn a_tcmu_cd_rom_serves_mounts_recovers_and_tears_down() {
    let serve = build(
        &["-p", "spindle-tcmu", "--example", "tcmu_serve"],
        "examples/tcmu_serve",
    );
    let helper = build(
        &[
            "-p",
            "spindle-drive-helper",
            "--bin",
            "spindle-drive-helper",
        ],
        "spindle-drive-helper",
    );
    let iso = spindle_vmtest::samples_dir()
        .unwrap()
        .join("kdomanski-iso9660/test_rockridge.iso");
    let outcome = VmTest::new("tcmu-smoke")
        .modules([
            "target_core_user",
            "tcm_loop",
            "sr_mod",
            "cdrom",
            "isofs",
            "sg",
        ])
        .binary(&serve, "/bin/tcmu_serve")
        .binary(&helper, "/bin/spindle-drive-helper")
        .data(
            "/etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/tmp:/bin/sh\nbob:x:1001:1001::/tmp:/bin/sh\n",
        )
        .data("/etc/group", "root:x:0:\nalice:x:1000:\nbob:x:1001:\n")
        .file(&iso, "/data/disc.iso")
        .data(
            "/data/device.sha256",
            format!("{}  /dev/sr0\n", sha256(&iso)),
        )
        .data("/data/tree.sha256", tree_sums(&iso))
        .script(SCRIPT)
        .expect([
            "serve",
            "sr0",
            "sg",
            "type",
            "dd",
            "mount",
            "tree",
            "pending",
            "reopened",
            "resumed",
            "read_ok",
            "teardown",
            "configfs_empty",
        ])
        .timeout(Duration::from_secs(240))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{}", outcome.console);
}

const SCRIPT: &str = r#"
# wait_line FILE PATTERN SECONDS: waits for a line matching PATTERN in FILE.
wait_line() {
  _i=0
  while ! grep -q "$2" "$1" 2>/dev/null; do
    _i=$((_i + 1))
    if [ "$_i" -gt $(($3 * 10)) ]; then cat "$1"; return 1; fi
    sleep 0.1
  done
}

TCMU_TRACE=1 /bin/tcmu_serve /data/disc.iso >/tmp/s1.log 2>/tmp/s1.trace &
S1=$!
vmtest_check serve wait_line /tmp/s1.log '^nodes sr=/dev/sr0 ' 40
cat /tmp/s1.log
if ! grep -q '^nodes sr=/dev/sr0' /tmp/s1.log; then
  tail -c 3000 /tmp/s1.trace
  for d in /sys/bus/scsi/devices/*:*; do echo "$d type $(cat $d/type) $(ls $d | tr '\n' ' ')"; done
  dmesg | grep -v evm | tail -30
fi
ADDR=$(sed -n 's/^nodes .* address=//p' /tmp/s1.log)
vmtest_check sr0 vmtest_wait /dev/sr0 10
vmtest_check sg sh -c 'grep -q "^nodes sr=/dev/sr0 sg=/dev/sg[0-9]" /tmp/s1.log && [ -c /dev/sg0 ]'
vmtest_check type sh -c "[ \"\$(cat /sys/bus/scsi/devices/$ADDR/type)\" = 5 ]"
vmtest_sums dd / /data/device.sha256
mkdir -p /mnt
vmtest_check mount mount -t iso9660 -o ro /dev/sr0 /mnt
vmtest_sums tree / /data/tree.sha256
umount /mnt

# Recovery: kill the server; a read issued while it is down waits in the ring and completes
# once a new server has reopened the device.
kill -9 $S1
wait $S1 2>/dev/null
(dd if=/dev/sr0 iflag=direct bs=2048 skip=16 count=1 of=/tmp/pvd 2>/tmp/dd.err; echo $? >/tmp/dd.rc) &
sleep 3
vmtest_check pending sh -c '[ ! -e /tmp/dd.rc ]'
/bin/tcmu_serve /data/disc.iso >/tmp/s2.log 2>&1 &
S2=$!
vmtest_check reopened wait_line /tmp/s2.log '^nodes sr=/dev/sr0 ' 40
cat /tmp/s2.log
vmtest_check resumed wait_line /tmp/dd.rc . 40
cat /tmp/dd.err
vmtest_check read_ok sh -c 'grep -q reopening /tmp/s2.log && [ "$(cat /tmp/dd.rc)" = 0 ] && dd if=/data/disc.iso bs=2048 skip=16 count=1 2>/dev/null | cmp - /tmp/pvd'

# Whole-disc reads through the restarted server, 1 MiB at a time, bypassing the page cache;
# the server's count of commands in several pieces is printed at teardown.
vmtest_check big_read dd if=/dev/sr0 iflag=direct bs=1M of=/dev/null

# Teardown on SIGTERM.
kill -TERM $S2
wait $S2
echo "server exit $?"
cat /tmp/s2.log
vmtest_check teardown grep -q '^removed spindle_u0_d0' /tmp/s2.log
vmtest_check configfs_empty sh -c '[ ! -e /sys/kernel/config/target/core/user_0 ] && [ -z "$(ls /sys/kernel/config/target/loopback 2>/dev/null | grep naa)" ] && [ ! -e /dev/sr0 ]'

# The privilege split: the helper as root, the server as alice (uid 1000). busybox su as
# root asks no password; `exec` keeps the server's pid the one $! names.
as_user() {
  _u=$1; shift
  su -s /bin/sh -c "exec $*" "$_u"
}
/bin/spindle-drive-helper --socket /run/h.sock --max-per-user 4 >/tmp/h.log 2>&1 &
H=$!
vmtest_check helper vmtest_wait /run/h.sock 10
# Started with su itself in the background (not through the function) so that $! is the
# server's pid: su and sh exec into it.
su -s /bin/sh -c "exec /bin/tcmu_serve /data/disc.iso --helper /run/h.sock --index 1" alice >/tmp/u1.log 2>&1 &
U1=$!
vmtest_check user_serve wait_line /tmp/u1.log '^nodes sr=/dev/sr' 40
cat /tmp/u1.log
SRU=$(sed -n 's/^nodes sr=\([^ ]*\) .*/\1/p' /tmp/u1.log)
SGU=$(sed -n 's/^nodes sr=[^ ]* sg=\([^ ]*\) .*/\1/p' /tmp/u1.log)
ls -l $SRU $SGU
vmtest_check user_uid grep -q '^Uid:[[:space:]]*1000[[:space:]]' /proc/$U1/status
owned() { [ "$(stat -c '%u %a' $SRU)" = '1000 600' ] && [ "$(stat -c '%u %a' $SGU)" = '1000 600' ]; }
vmtest_check user_owner owned
alice_reads() { as_user alice cat $SRU >/tmp/u.img && cmp /tmp/u.img /data/disc.iso; }
vmtest_check user_reads alice_reads
bob_denied() { ! as_user bob dd if=$SRU of=/dev/null count=1; }
vmtest_check other_denied bob_denied
as_user bob /bin/tcmu_serve /data/disc.iso --helper /run/h.sock --device spindle_u1000_d2 >/tmp/b.log 2>&1
cat /tmp/b.log
vmtest_check not_yours grep -q 'belongs to uid 1000' /tmp/b.log
as_user alice /bin/tcmu_serve /data/disc.iso --helper /run/h.sock --index 4 >/tmp/c.log 2>&1
cat /tmp/c.log
vmtest_check cap grep -q 'at most 4 drives per user' /tmp/c.log
kill -9 $U1
wait $U1 2>/dev/null
su -s /bin/sh -c "exec /bin/tcmu_serve /data/disc.iso --helper /run/h.sock --index 1" alice >/tmp/u2.log 2>&1 &
U2=$!
reopened_as_alice() {
  wait_line /tmp/u2.log '^nodes sr=' 40 && grep -q reopening /tmp/u2.log &&
    as_user alice dd if=$SRU bs=2048 skip=16 count=1 2>/dev/null | cmp - /tmp/pvd
}
vmtest_check user_reopened reopened_as_alice
kill -TERM $U2
wait $U2
cat /tmp/u2.log
vmtest_check user_teardown grep -q '^removed spindle_u1000_d1' /tmp/u2.log
vmtest_check user_configfs_empty sh -c '[ ! -e /sys/kernel/config/target/core/user_0 ] && [ -z "$(ls /sys/kernel/config/target/loopback 2>/dev/null | grep naa)" ]'
cat /tmp/h.log
kill $H
"#;
