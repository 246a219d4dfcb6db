//! The daemon's side of issue 17 that scsi_drive.rs does not cover, in one boot of Debian's
//! kernel with target_core_user, tcm_loop and sr_mod:
//!
//! - a root daemon serving another user: the drive that user loads is theirs (`/dev/srN` and
//!   `/dev/sgN` uid 1000, mode 0600), they read the disc through it, another user cannot open
//!   it, and after the eject the nodes are root's again;
//! - `spindle drives --identity` makes the kernel probe the drive again (sysfs vendor and
//!   model follow) and the identity survives a restart;
//! - `spindle drives --count` adds and removes devices; SIGTERM removes every one;
//! - a user's daemon: without the privileged helper it says so; with `spindle-drive-helper`
//!   (root) its drives are `/dev/srN` served by the user's own process, and SIGTERM removes them.

use spindle_vmtest::VmTest;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Builds the privileged helper (the daemon is built by `.spindle()`).
fn helper() -> PathBuf {
    let st = Command::new(env!("CARGO"))
        .args([
            "build",
            "-p",
            "spindle-drive-helper",
            "--bin",
            "spindle-drive-helper",
        ])
        .current_dir(spindle_vmtest::workspace_root())
        .status()
        .expect("cargo build");
    assert!(st.success(), "building spindle-drive-helper");
    spindle_vmtest::target_dir().join("debug/spindle-drive-helper")
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

const SCRIPT: &str = r#"
mount -t configfs configfs /sys/kernel/config
chmod 644 /data/disc.iso
SUM=$(cat /data/disc.sha256)
export XDG_RUNTIME_DIR=/tmp/xdg-run XDG_STATE_HOME=/tmp/xdg-state
mkdir -p -m 755 "$XDG_RUNTIME_DIR" "$XDG_STATE_HOME"
SOCK=$XDG_RUNTIME_DIR/spindle/control.sock
# Drive N's key K from `spindle drives --json` (one "K": line per drive, in order).
key() { spindle drives --json | grep "\"$2\":" | sed -n "$(($1 + 1))p" | sed 's/.*": "\{0,1\}\([^",]*\)"\{0,1\},\{0,1\}$/\1/'; }
as_user() { _u=$1; shift; su -s /bin/sh -c "SPINDLE_SOCKET=$SOCK; export SPINDLE_SOCKET; $*" "$_u"; }
srs() { ls /sys/block | grep -c '^sr'; }
start_root() {
  spindle daemon >>/tmp/root.log 2>&1 &
  RPID=$!
  vmtest_wait "$SOCK" 30 && spindle drives >/dev/null
}
stop() { kill -TERM "$1"; for i in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.2; done; return 1; }

vmtest_check root-start start_root
vmtest_check root-four sh -c "test \$(ls /sys/block | grep -c '^sr') = 4"
vmtest_check alice-load as_user alice "spindle load 1 /data/disc.iso"
D1=$(key 1 device); G1=$(key 1 sg)
echo "drive 1: $D1 $G1"; ls -l "$D1" "$G1"
vmtest_check owner-sr sh -c "test \"\$(stat -c '%u %g %a' $D1)\" = '1000 1000 600'"
vmtest_check owner-sg sh -c "test \"\$(stat -c '%u %g %a' $G1)\" = '1000 1000 600'"
vmtest_check alice-reads sh -c "test \"\$(su -s /bin/sh -c 'sha256sum < $D1' alice | cut -c1-64)\" = $SUM"
vmtest_check bob-refused sh -c "! su -s /bin/sh -c 'dd if=$D1 of=/dev/null count=1' bob"
vmtest_check alice-eject as_user alice "spindle eject 1"
vmtest_check root-again sh -c "test \"\$(stat -c '%u %g %a' $D1)\" = '0 0 600'"

vmtest_check alice-load0 as_user alice "spindle load 0 /data/disc.iso"
vmtest_check identity spindle drives --identity 0 'PLEXTOR,DVDR   PX-716A,1.11'
D0=$(key 0 device); echo "drive 0 now $D0"
vmtest_check identity-owner sh -c "test \"\$(stat -c '%u %a' $D0)\" = '1000 600'"
vmtest_check alice-eject0 as_user alice "spindle eject 0"
vmtest_check identity-vendor grep -q '^PLEXTOR' /sys/block/${D0#/dev/}/device/vendor
vmtest_check identity-model grep -q '^DVDR   PX-716A' /sys/block/${D0#/dev/}/device/model
vmtest_check count-2 sh -c "spindle drives --count 2 >/dev/null && sleep 1 && test \$(ls /sys/block | grep -c '^sr') = 2"
vmtest_check count-3 sh -c "spindle drives --count 3 >/dev/null && test \$(ls /sys/block | grep -c '^sr') = 3"
vmtest_check root-term stop $RPID
vmtest_check root-term-gone sh -c "test \$(ls /sys/block | grep -c '^sr') = 0 && ! ls /sys/kernel/config/target/core/user_0 2>/dev/null | grep -q spindle"
vmtest_check root-restart start_root
D0=$(key 0 device)
vmtest_check restart-three sh -c "test \$(ls /sys/block | grep -c '^sr') = 3"
vmtest_check restart-identity grep -q '^PLEXTOR' /sys/block/${D0#/dev/}/device/vendor
vmtest_check root-term2 stop $RPID
sed 's/^/  root| /' /tmp/root.log | tail -n 20

# A user's daemon.
mkdir -p -m 700 /tmp/alice-run /tmp/alice-state; chown alice:alice /tmp/alice-run /tmp/alice-state
AENV="XDG_RUNTIME_DIR=/tmp/alice-run XDG_STATE_HOME=/tmp/alice-state SPINDLE_SOCKET=/tmp/alice-run/spindle/control.sock"
su -s /bin/sh -c "export $AENV SPINDLE_DRIVE_HELPER=/run/none.sock; exec spindle daemon" alice >/tmp/a1.log 2>&1 &
A1=$!
vmtest_wait /tmp/alice-run/spindle/control.sock 30
su -s /bin/sh -c "export $AENV; spindle drives" alice >/tmp/a1.txt 2>&1; cat /tmp/a1.txt
vmtest_check user-no-helper grep -q 'no /dev/srN drives: no privileged helper: enable spindle-drive-helper.socket' /tmp/a1.txt
vmtest_check user-no-helper-stop stop $A1
/bin/spindle-drive-helper --socket /run/h.sock --max-per-user 8 >/tmp/h.log 2>&1 &
vmtest_check helper vmtest_wait /run/h.sock 10
su -s /bin/sh -c "export $AENV SPINDLE_DRIVE_HELPER=/run/h.sock; exec spindle daemon" alice >/tmp/a2.log 2>&1 &
A2=$!
vmtest_wait /tmp/alice-run/spindle/control.sock 30
su -s /bin/sh -c "export $AENV; spindle drives" alice
vmtest_check user-uid grep -q '^Uid:[[:space:]]*1000[[:space:]]' /proc/$A2/status
vmtest_check user-four sh -c "test \$(ls /sys/block | grep -c '^sr') = 4"
vmtest_check user-load su -s /bin/sh -c "export $AENV; spindle load 0 /data/disc.iso" alice
UD=$(su -s /bin/sh -c "export $AENV; spindle drives --json" alice | grep '"device":' | sed -n 1p | sed 's/.*": "\([^"]*\)".*/\1/')
echo "alice's drive 0: $UD"; ls -l "$UD"
vmtest_check user-reads sh -c "test \"\$(su -s /bin/sh -c 'sha256sum < $UD' alice | cut -c1-64)\" = $SUM"
vmtest_check user-term stop $A2
vmtest_check user-term-gone sh -c "test \$(ls /sys/block | grep -c '^sr') = 0"
sed 's/^/  alice| /' /tmp/a2.log | tail -n 20
sed 's/^/  helper| /' /tmp/h.log | tail -n 10
"#;

#[test]
fn drives_belong_to_their_owner_follow_the_count_and_go_at_exit() {
    let iso = spindle_vmtest::samples_dir()
        .unwrap()
        .join("kdomanski-iso9660/test_rockridge.iso");
    let outcome = VmTest::new("drives-lifecycle")
        .spindle()
        .binary(helper(), "/bin/spindle-drive-helper")
        .modules(["target_core_user", "tcm_loop", "sr_mod", "cdrom", "sg"])
        .data(
            "/etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/tmp:/bin/sh\nbob:x:1001:1001::/tmp:/bin/sh\n",
        )
        .data("/etc/group", "root:x:0:\nalice:x:1000:\nbob:x:1001:\n")
        .file(&iso, "/data/disc.iso")
        .data("/data/disc.sha256", sha256(&iso))
        .script(SCRIPT)
        .expect([
            "root-start",
            "root-four",
            "alice-load",
            "owner-sr",
            "owner-sg",
            "alice-reads",
            "bob-refused",
            "alice-eject",
            "root-again",
            "alice-load0",
            "identity",
            "identity-owner",
            "alice-eject0",
            "identity-vendor",
            "identity-model",
            "count-2",
            "count-3",
            "root-term",
            "root-term-gone",
            "root-restart",
            "restart-three",
            "restart-identity",
            "root-term2",
            "user-no-helper",
            "user-no-helper-stop",
            "helper",
            "user-uid",
            "user-four",
            "user-load",
            "user-reads",
            "user-term",
            "user-term-gone",
        ])
        .timeout(Duration::from_secs(300))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "drives lifecycle: {} checks passed in {:.1} s",
        outcome.passed.len(),
        outcome.elapsed.as_secs_f64()
    );
}
