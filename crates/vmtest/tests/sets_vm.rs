//! Issue 20's kernel check of a disc set: three generated ISOs in one playlist, loaded into
//! drive 0, a SCSI drive of the guest's kernel (/dev/srN through target_core_user and
//! tcm_loop). At each `spindle disc 0 next` the kernel sees an empty drive while the tray is
//! open (opening /dev/srN fails with "No medium found", sampled during the swap) and the next
//! mount shows the next disc, with /sys/block/srN/size the new disc's. (Linux 6.1's sr keeps
//! the old capacity in /sys/block/srN/size while no medium is present: it revalidates only a
//! ready unit; the samples print it.) One boot.

use spindle_vmtest::VmTest;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const SCRIPT: &str = r#"
export XDG_RUNTIME_DIR=/tmp/xdg-run XDG_STATE_HOME=/tmp/xdg-state
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_STATE_HOME" /mnt
mount -t configfs configfs /sys/kernel/config
drive_key() { timeout 20 spindle drives --json | awk -v n="$1" -v k="$2" -f /data/drives.awk; }
spindle daemon >>/tmp/daemon.log 2>&1 &
vmtest_check daemon vmtest_wait "$XDG_RUNTIME_DIR/spindle/control.sock" 30
D0=$(drive_key 0 device); B=${D0#/dev/}
echo "drive 0: $D0"
vmtest_check node test -b "$D0"
vmtest_check set-load spindle load 0 /data/set.m3u
disc_is() {
  mount -t iso9660 -o ro "$D0" /mnt || return 1
  cat /mnt/which.txt; grep -qx "disc $1" /mnt/which.txt; _r=$?
  umount /mnt
  echo "size $(cat /sys/block/$B/size), disc $1 has $(cat /data/d$1.size)"
  [ $_r = 0 ] && [ "$(cat /sys/block/$B/size)" = "$(cat /data/d$1.size)" ]
}
vmtest_check disc1 disc_is 1
# Samples the kernel's view while `spindle disc 0 next` holds the tray open 4 s: an open of
# /dev/srN fails for want of a medium.
swap() {
  spindle disc 0 next --empty-for 4 & _p=$!
  _empty=0; _sizes=
  for _i in $(seq 100); do
    kill -0 $_p 2>/dev/null || break
    if spindle drives | grep -q "tray open"; then
      if ! dd if="$D0" of=/dev/null bs=2048 count=1 2>/tmp/dd.err; then
        grep -q "No medium found" /tmp/dd.err && _empty=$((_empty + 1))
      fi
      _sizes="$_sizes $(cat /sys/block/$B/size)"
    fi
    sleep 0.2
  done
  wait $_p || return 1
  echo "samples with the tray open: no medium $_empty; sizes:$_sizes"
  echo "$_empty" >/tmp/no-medium.$1
  [ $_empty -ge 3 ]
}
vmtest_check swap2 swap 2
vmtest_value no-medium-samples-2 "$(cat /tmp/no-medium.2)"
vmtest_check disc2 disc_is 2
vmtest_check swap3 swap 3
vmtest_value no-medium-samples-3 "$(cat /tmp/no-medium.3)"
vmtest_check disc3 disc_is 3
vmtest_check drives-text sh -c 'spindle drives | grep "disc 3 of 3 (Third)"'
sed 's/^/  daemon| /' /tmp/daemon.log | tail -n 20
"#;

fn make_disc(dir: &Path, n: usize) -> std::path::PathBuf {
    let tree = dir.join(format!("t{n}"));
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("which.txt"), format!("disc {n}\n")).unwrap();
    std::fs::write(tree.join("pad.bin"), vec![n as u8; n * 65536]).unwrap();
    let iso = dir.join(format!("d{n}.iso"));
    let o = Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-R", "-V"])
        .arg(format!("SET_DISC_{n}"))
        .arg("-o")
        .arg(&iso)
        .arg(&tree)
        .output()
        .expect("xorriso (scripts/setup installs it)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    iso
}

#[test]
fn the_kernel_sees_an_empty_drive_between_discs_of_a_set() {
    let dir = tempfile::tempdir().unwrap();
    let mut vm = VmTest::new("sets")
        .spindle()
        .modules([
            "target_core_user",
            "tcm_loop",
            "sr_mod",
            "cdrom",
            "sg",
            "isofs",
        ])
        .data("/data/drives.awk", include_str!("optical/drives.awk"))
        .data(
            "/data/set.m3u",
            "#EXTM3U\n#EXTINF:0,First\nd1.iso\n#LABEL:Second\nd2.iso\nd3.iso|Third\n",
        );
    for n in 1..=3 {
        let iso = make_disc(dir.path(), n);
        let sectors = std::fs::metadata(&iso).unwrap().len() / 512;
        vm = vm
            .file(iso, &format!("/data/d{n}.iso"))
            .data(&format!("/data/d{n}.size"), format!("{sectors}\n"));
    }
    let outcome = vm
        .script(SCRIPT)
        .expect([
            "daemon",
            "node",
            "set-load",
            "disc1",
            "swap2",
            "disc2",
            "swap3",
            "disc3",
            "drives-text",
        ])
        .timeout(Duration::from_secs(300))
        .run_checked()
        .unwrap_or_else(|e| panic!("{e}"));
    for (name, value) in &outcome.values {
        eprintln!("sets: {name} {value}");
    }
    eprintln!(
        "sets: {} checks passed in {:.1} s",
        outcome.passed.len(),
        outcome.elapsed.as_secs_f64()
    );
}
