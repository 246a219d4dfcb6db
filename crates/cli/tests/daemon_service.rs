//! The daemon as a service: kill -9 and restart (stale mounts cleaned, drives restored),
//! SIGTERM (everything unmounted within 2 s, exit 0, restored at the next start), socket
//! activation through systemd-socket-activate, idle exit.

mod daemon_common;

use daemon_common::{Env, files, sample, wait_exit};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn mount(env: &Env, rel: &str) -> PathBuf {
    PathBuf::from(env.ok(&["mount", sample(rel).to_str().unwrap()]).trim())
}

#[test]
fn kill_9_then_restart_restores() {
    let env = Env::new(120);
    let a = mount(&env, "libcdio/joliet.iso");
    let b = mount(&env, "libcdio/isofs-m1.cue");
    let want_a = files(&a);
    let want_b = files(&b);
    let first = want_a.keys().next().unwrap().clone();
    let open = std::fs::File::open(a.join(&first)).unwrap();
    let pid = env.daemon_pid().unwrap();
    // SAFETY: plain kill(2) of the daemon this test started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        spindle_fuse::is_stale(&a),
        "a killed daemon leaves a stale mount"
    );
    // The next command starts a new daemon, which cleans up and restores.
    let d = env.drives();
    assert_ne!(env.daemon_pid().unwrap(), pid);
    assert_eq!(d["drives"][0]["mountpoints"][0], a.to_str().unwrap());
    assert_eq!(d["drives"][1]["mountpoints"][0], b.to_str().unwrap());
    drop(open);
    for p in [&a, &b] {
        assert!(!spindle_fuse::is_stale(p), "{} still stale", p.display());
        std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }
    assert_eq!(files(&a), want_a);
    assert_eq!(files(&b), want_b);
    let mut mounts = env.tree_mounts();
    mounts.sort();
    let mut want = vec![a.clone(), b.clone()];
    want.sort();
    assert_eq!(mounts, want, "one mount each, no stale one under it");
    assert!(
        env.log().contains("detached a stale mount"),
        "{}",
        env.log()
    );
    env.ok(&["eject", "--all"]);
}

#[test]
fn sigterm_unmounts_exits_0_and_restart_restores() {
    let mut env = Env::new(120);
    let i = env.start_daemon(&[]);
    let a = mount(&env, "libcdio/joliet.iso");
    let b = mount(&env, "kdomanski-iso9660/test.iso");
    let want = (files(&a), files(&b));
    assert_eq!(env.tree_mounts().len(), 2);
    let pid = env.children[i].id() as i32;
    let t = Instant::now();
    // SAFETY: plain kill(2) of our child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = wait_exit(&mut env.children[i], Duration::from_secs(2));
    let took = t.elapsed();
    assert!(status.success(), "exit status {status:?}");
    assert!(env.all_mounts().is_empty(), "left: {:?}", env.all_mounts());
    eprintln!("SIGTERM to exit: {took:?}");
    // The next start (on demand) restores both drives at the same places.
    let d = env.drives();
    assert_eq!(d["drives"][0]["mountpoints"][0], a.to_str().unwrap());
    assert_eq!(d["drives"][1]["mountpoints"][0], b.to_str().unwrap());
    assert_eq!((files(&a), files(&b)), want);
    env.ok(&["eject", "--all"]);
}

#[test]
fn encrypted_drives_restore_empty() {
    let mut env = Env::new(120);
    let i = env.start_daemon(&[]);
    let img = sample("mdsx/test_pass_compress.mdx");
    let no_pw = env.run(&["mount", img.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&no_pw.stderr).contains("password needed"),
        "{no_pw:?}"
    );
    let at = PathBuf::from(
        env.ok(&["mount", img.to_str().unwrap(), "--password", "pass"])
            .trim(),
    );
    assert!(!files(&at).is_empty());
    let saved = std::fs::read_to_string(env.state().join("spindle/drives.json")).unwrap();
    assert!(!saved.contains("pass\""), "no password in {saved}");
    // SAFETY: plain kill(2) of our child.
    unsafe { libc::kill(env.children[i].id() as i32, libc::SIGTERM) };
    assert!(wait_exit(&mut env.children[i], Duration::from_secs(2)).success());
    let d = env.drives();
    assert!(d["drives"][0]["image"].is_null(), "{d}");
    assert!(env.log().contains("encrypted"), "{}", env.log());
}

#[test]
fn socket_activation() {
    let mut env = Env::new(120);
    let socket = env.root().join("activated.sock");
    let mut c = std::process::Command::new("systemd-socket-activate");
    // systemd-socket-activate passes on only the variables named with -E.
    c.arg("-l")
        .arg(&socket)
        .arg(format!(
            "--setenv=XDG_RUNTIME_DIR={}",
            env.runtime().display()
        ))
        .arg(format!("--setenv=XDG_STATE_HOME={}", env.state().display()))
        .arg(daemon_common::BIN)
        .arg("daemon")
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(env.root().join("activate.log")).unwrap());
    env.children.push(
        c.spawn()
            .expect("systemd-socket-activate (Debian package systemd)"),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !socket.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let cli = |args: &[&str]| {
        let mut c = env.cmd(args);
        c.env("SPINDLE_SOCKET", &socket);
        let o = daemon_common::run_timeout(c, Duration::from_secs(30));
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    let at = PathBuf::from(cli(&["mount", sample("libcdio/joliet.iso").to_str().unwrap()]).trim());
    assert!(at.starts_with(env.media()), "{}", at.display());
    assert!(!files(&at).is_empty());
    assert!(cli(&["drives"]).contains("joliet.iso"));
    cli(&["eject", "--all"]);
    let log = std::fs::read_to_string(env.root().join("activate.log")).unwrap();
    assert!(log.contains("serving the socket passed"), "{log}");
    // No daemon of our own was started beside it.
    assert!(!env.runtime().join("spindle/daemon.log").exists());
    // SIGTERM stops the activated daemon cleanly too.
    let child = env.children.last_mut().unwrap();
    // SAFETY: plain kill(2) of our child (systemd-socket-activate execs the daemon).
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(wait_exit(child, Duration::from_secs(2)).success());
    assert!(env.all_mounts().is_empty(), "{:?}", env.all_mounts());
}

#[test]
fn idle_exit_not_before_10_s() {
    let mut env = Env::new(60);
    let i = env.start_daemon(&["--idle-exit", "1"]);
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        env.children[i].try_wait().unwrap().is_none(),
        "exited before 10 s"
    );
    let status = wait_exit(&mut env.children[i], Duration::from_secs(10));
    assert!(status.success());
}
