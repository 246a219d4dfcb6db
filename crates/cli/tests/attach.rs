//! `spindle attach` / `spindle detach` on the host: the refusals that need no kernel nbd driver
//! (an empty or missing drive, a device that is not an nbd device, nothing attached), and the
//! host kernel's answer: where it has no nbd driver (the build machines), a clear error after a
//! real NBD handshake with the daemon; where it has one, a read-only device that detaches. The
//! kernel side proper runs in the test VM (crates/vmtest/tests/nbd.rs).

mod daemon_common;

use daemon_common::{Env, sample};
use std::path::Path;

fn fails_with(env: &Env, args: &[&str], needle: &str) {
    let o = env.run(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "spindle {args:?} should fail: {err}");
    assert!(
        err.contains(needle),
        "spindle {args:?}: expected {needle:?} in: {err}"
    );
}

#[test]
fn attach_refuses_empty_and_missing_drives_and_other_devices() {
    let mut env = Env::new(120);
    env.start_daemon(&[]);
    fails_with(
        &env,
        &["attach", "0"],
        "drive 0 is empty: load a disc first",
    );
    fails_with(&env, &["attach", "99"], "there is no drive 99");
    let iso = sample("libcdio/joliet.iso");
    env.ok(&["load", "0", iso.to_str().unwrap()]);
    fails_with(
        &env,
        &["attach", "0", "/dev/sda"],
        "/dev/sda: not an nbd device",
    );
    fails_with(&env, &["detach", "/dev/loop0"], "not an nbd device");
    fails_with(&env, &["detach", "3"], "drive 3 is not attached");
    // An audio CD has no user-data export: the error says so and points at --raw.
    let cdda = sample("libcdio/cdda.cue");
    env.ok(&["load", "2", cdda.to_str().unwrap()]);
    fails_with(
        &env,
        &["attach", "2"],
        "drive 2: its disc has no data track",
    );
}

#[test]
fn attach_on_this_kernel() {
    let mut env = Env::new(120);
    env.start_daemon(&[]);
    let iso = sample("libcdio/joliet.iso");
    env.ok(&["load", "1", iso.to_str().unwrap()]);
    if !Path::new("/sys/module/nbd").exists() {
        // `attach` tries `modprobe nbd` first; if that loaded it, the branch below runs.
        fails_with(
            &env,
            &["attach", "1"],
            "the kernel has no nbd driver: load it with `modprobe nbd`",
        );
        fails_with(
            &env,
            &["attach", "--via", "netlink", "1"],
            "the kernel has no nbd driver",
        );
        fails_with(
            &env,
            &["detach", "/dev/nbd0"],
            "/dev/nbd0: no such nbd device",
        );
        if !Path::new("/sys/module/nbd").exists() {
            eprintln!(
                "this kernel has no nbd driver: checked the error; the VM test checks attaching"
            );
            return;
        }
    }
    // A kernel with nbd (as root): a real attach, read-only, equal to the image, detached.
    let dev = env.ok(&["attach", "1"]).trim().to_string();
    let name = dev.trim_start_matches("/dev/");
    let ro = std::fs::read_to_string(format!("/sys/block/{name}/ro")).unwrap();
    let data = std::fs::read(&dev);
    env.ok(&["detach", &dev]);
    assert_eq!(ro.trim(), "1", "{dev} is read-only");
    assert_eq!(
        data.unwrap(),
        std::fs::read(&iso).unwrap(),
        "{dev} reads as the image"
    );
}
