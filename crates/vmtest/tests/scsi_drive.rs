//! Issue 17's kernel checks: spindle's drives as real SCSI CD/DVD/BD drives (/dev/srN through
//! LIO's target_core_user and tcm_loop), driven by the programs real users run. One boot:
//!
//! - the daemon runs as root in the guest; `spindle drives --json` names each drive's /dev/srN
//!   and /dev/sgN; an empty drive is a drive with no medium (cdrom_id);
//! - the mixed-mode CD, the DVD-sized UDF image and the BD-sized image (read-only virtio disks
//!   the daemon opens as images), each loaded in turn into drive 0, pass the optical checks
//!   (tests/optical/checks.sh: cd-info as on the image, cdrom_id, ISRC, cdparanoia, READ CD raw
//!   + subchannel as spindle's raw view, sg_inq, dd, mount and file hashes);
//! - a swap under a mounted-then-unmounted drive shows the new disc at the next mount; a
//!   mounted (locked) drive refuses `spindle eject`, keeps its disc and raises the eject
//!   request (GESN); `eject /dev/srN` empties the drive in `spindle drives`;
//! - four drives with a disc each, read at once; a daemon killed with SIGKILL and started again
//!   recovers its drives and rings (a read in flight completes); SIGTERM removes every device
//!   and configfs object.
//!
//! The same guest functions pass on QEMU's own drive in optical_tools.rs.

mod optical;

use optical::{CD_CHECKS, FS_CHECKS, media, named};
use spindle_vmtest::VmTest;
use std::ffi::OsString;
use std::time::Duration;

fn virtio_disk(file: &std::path::Path) -> [OsString; 2] {
    let mut arg = OsString::from("file=");
    arg.push(file);
    arg.push(",format=raw,if=virtio,readonly=on");
    ["-drive".into(), arg]
}

const SCRIPT: &str = r#"
. /vmtest/optical.sh
export XDG_RUNTIME_DIR=/tmp/xdg-run XDG_STATE_HOME=/tmp/xdg-state
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_STATE_HOME"
mount -t configfs configfs /sys/kernel/config
C=/sys/kernel/config/target
start_daemon() {
  spindle daemon >>/tmp/daemon.log 2>&1 &
  DPID=$!
  vmtest_wait "$XDG_RUNTIME_DIR/spindle/control.sock" 30
}
vmtest_check daemon start_daemon
vmtest_check scsi sh -c 'spindle drives --json >/tmp/d.json; grep -q "\"available\": true" /tmp/d.json || { spindle drives; exit 1; }'
spindle drives
D0=$(drive_key 0 device); G0=$(drive_key 0 sg)
echo "drive 0: $D0 $G0"
vmtest_check nodes sh -c "test -b '$D0' && test -c '$G0'"
vmtest_check empty opt_no_media "$D0"
ID='SPINDLE Virtual BD-ROM'

# The three media in turn, in drive 0.
vmtest_check cd-load spindle load 0 /data/mixed.cue
optical_cd cd "$D0" "$G0" SPINDLE "Virtual BD-ROM"
vmtest_check dvd-load spindle load 0 /dev/vda
vmtest_check dvd-medium drive_is 0 medium DVD-ROM
optical_fs dvd "$D0" "$G0" dvd udf SPINDLE "Virtual BD-ROM"
vmtest_check bd-load spindle load 0 /dev/vdb
vmtest_check bd-medium drive_is 0 medium BD-ROM
optical_fs bd "$D0" "$G0" bd iso9660 SPINDLE "Virtual BD-ROM"

# A swap under a mounted-then-unmounted drive: the next mount shows the new disc.
vmtest_check swap-mount mount -t iso9660 -o ro "$D0" /mnt
vmtest_check swap-umount umount /mnt
vmtest_check swap-load spindle load 0 /data/mixed.cue
vmtest_check swap-mount2 mount -t iso9660 -o ro "$D0" /mnt
vmtest_sums swap-tree / /data/expect/cd.tree.sha256
vmtest_check swap-umount2 umount /mnt

# The system's eject (START STOP UNIT, LoEj) empties the drive.
vmtest_check os-eject /opt/util-linux/eject "$D0"
vmtest_check os-eject-empty drive_is 0 image null
vmtest_check os-eject-no-media opt_no_media "$D0"

# Four drives, a disc each, read at once.
vmtest_check four-load sh -c 'spindle load 0 /data/mixed.cue && spindle load 1 /dev/vda && spindle load 2 /dev/vdb && spindle load 3 /data/cd-data.iso'
for n in 1 2 3; do eval "D$n=\$(drive_key $n device); G$n=\$(drive_key $n sg)"; done
echo "drives: $D0 $D1 $D2 $D3 / $G0 $G1 $G2 $G3"
vmtest_check four-nodes sh -c "test \$(printf '%s\n' '$D0' '$D1' '$D2' '$D3' | sort -u | grep -c '^/dev/sr') = 4"
read_all() {
  opt_dd "$D0" /data/expect/cd.data >/tmp/r0 2>&1 & p0=$!
  opt_dd "$D1" /data/expect/dvd.data >/tmp/r1 2>&1 & p1=$!
  opt_dd "$D2" /data/expect/bd.data >/tmp/r2 2>&1 & p2=$!
  opt_dd "$D3" /data/expect/cd.data >/tmp/r3 2>&1 & p3=$!
  _ok=0
  for p in $p0 $p1 $p2 $p3; do wait $p || _ok=1; done
  cat /tmp/r0 /tmp/r1 /tmp/r2 /tmp/r3
  return $_ok
}
vmtest_check four-read read_all
vmtest_check four-media sh -c ". /vmtest/optical.sh; opt_cdrom_id '$D0' $E/cd.cdrom_id && opt_cdrom_id '$D1' $E/dvd.cdrom_id && opt_cdrom_id '$D2' $E/bd.cdrom_id"

# Mounted, the drive is locked (PREVENT MEDIUM REMOVAL): spindle eject is refused and raises
# the eject request; the disc stays and still reads. (Late in the script: a daemon that hangs
# here is then killed by the SIGKILL checks below, which recover it.)
vmtest_check lock-mount mount -t iso9660 -o ro "$D0" /mnt
vmtest_check locked drive_is 0 locked true
vmtest_check locked-refused sh -c '! timeout 30 spindle eject 0 2>/tmp/ej.err && cat /tmp/ej.err && grep -q "locked by the system" /tmp/ej.err'
vmtest_check locked-keeps drive_is 0 image /data/mixed.cue
vmtest_check eject-request opt_gesn_eject "$G0"
sync; echo 3 >/proc/sys/vm/drop_caches
vmtest_sums locked-reads / /data/expect/cd.tree.sha256
vmtest_check unlocked-umount umount /mnt
vmtest_check unlocked drive_is 0 locked false

# SIGKILL mid-read: a new daemon takes the rings over, the read completes, every drive is back.
dd if="$D1" of=/dev/null bs=64k count=2000 iflag=direct 2>/tmp/inflight.err & INFLIGHT=$!
sleep 1
kill -9 "$DPID"; wait "$DPID" 2>/dev/null
vmtest_check kill-restart start_daemon
inflight() { wait "$INFLIGHT" && return; cat /tmp/inflight.err; dmesg | tail -n 15; return 1; }
vmtest_check kill-inflight inflight
vmtest_check kill-drives sh -c ". /vmtest/optical.sh; for n in 0 1 2 3; do drive_key \$n device; done > /tmp/nodes.after; cat /tmp/nodes.after; grep -c '^/dev/sr' /tmp/nodes.after | grep -qx 4 && printf '%s\n' '$D0' '$D1' '$D2' '$D3' | diff - /tmp/nodes.after"
vmtest_check kill-read read_all
sed 's/^/  daemon| /' /tmp/daemon.log | tail -n 30

# SIGTERM: every device and configfs object goes.
vmtest_check term sh -c "ls /sys/block | grep -c '^sr' | grep -qx 4 || { ls /sys/block; exit 1; }; kill -TERM $DPID; for i in \$(seq 100); do kill -0 $DPID 2>/dev/null || exit 0; sleep 0.2; done; exit 1"
vmtest_check term-devices sh -c "ls /sys/block | grep sr && exit 1; test ! -e '$D0'"
vmtest_check term-configfs sh -c 'find /sys/kernel/config/target -maxdepth 3 | grep -E "core/user_[0-9]+/|loopback/naa" && exit 1; exit 0'
"#;

#[test]
fn spindle_drives_are_real_scsi_drives() {
    let m = media::media();
    let mut expect: Vec<String> = [
        "daemon",
        "scsi",
        "nodes",
        "empty",
        "cd-load",
        "dvd-load",
        "dvd-medium",
        "bd-load",
        "bd-medium",
        "swap-mount",
        "swap-umount",
        "swap-load",
        "swap-mount2",
        "swap-tree",
        "swap-umount2",
        "lock-mount",
        "locked",
        "locked-refused",
        "locked-keeps",
        "eject-request",
        "locked-reads",
        "unlocked-umount",
        "unlocked",
        "os-eject",
        "os-eject-empty",
        "os-eject-no-media",
        "four-load",
        "four-nodes",
        "four-read",
        "four-media",
        "kill-restart",
        "kill-inflight",
        "kill-drives",
        "kill-read",
        "term",
        "term-devices",
        "term-configfs",
    ]
    .map(String::from)
    .to_vec();
    expect.extend(named("cd", &CD_CHECKS));
    expect.extend(named("dvd", &FS_CHECKS));
    expect.extend(named("bd", &FS_CHECKS));
    let vm = VmTest::new("scsi-drive")
        .spindle()
        .modules([
            "target_core_user",
            "tcm_loop",
            "sr_mod",
            "cdrom",
            "sg",
            "isofs",
            "udf",
            "virtio_pci",
            "virtio_blk",
        ])
        .memory_mb(1536)
        .qemu_args(virtio_disk(&m.dvd))
        .qemu_args(virtio_disk(&m.bd))
        .file(&m.cue, "/data/mixed.cue")
        .file(&m.bin, "/data/mixed.bin")
        .file(&m.cd_iso, "/data/cd-data.iso");
    let outcome = optical::with_tools(vm, &m)
        .script(SCRIPT)
        .expect(expect)
        .timeout(Duration::from_secs(420))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "scsi drives: {} checks passed in {:.1} s",
        outcome.passed.len(),
        outcome.elapsed.as_secs_f64()
    );
}
