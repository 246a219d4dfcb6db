//! Mount points of a root daemon against a hostile user: a throwaway unprivileged user swaps
//! its mount point for a symlink to a root-owned directory (`renameat2(RENAME_EXCHANGE)` in a
//! loop) while asking for mounts there; names symlinks, system paths, other people's and
//! non-empty directories; and swaps a saved mount point for a symlink before a restart.
//!
//! The racing user acts from threads of this test whose credentials are the user's (raw
//! per-thread `setresuid`, so the kernel checks the renames as the user and the daemon sees
//! the user's uid on the socket), which makes thousands of swaps and hundreds of requests
//! take seconds; the other requests go through the CLI under `setpriv`.

mod daemon_common;

use daemon_common::{BIN, Env, run_timeout, sample};
use serde_json::json;
use spindle_daemon::EjectTarget;
use spindle_daemon::protocol::{ErrorCode, MountArgs};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A throwaway system user (and its group), deleted on drop.
struct TempUser {
    name: String,
    uid: u32,
    gid: u32,
}

impl TempUser {
    fn new(tag: &str) -> TempUser {
        let name = format!("spmp{tag}{}", std::process::id() % 100_000);
        let st = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--user-group",
                "--shell",
                "/usr/sbin/nologin",
            ])
            .arg(&name)
            .status()
            .unwrap();
        assert!(st.success(), "useradd {name} failed");
        let id = |flag: &str| -> u32 {
            let o = Command::new("id").args([flag, &name]).output().unwrap();
            String::from_utf8(o.stdout).unwrap().trim().parse().unwrap()
        };
        let (uid, gid) = (id("-u"), id("-g"));
        TempUser { name, uid, gid }
    }

    /// `spindle ARGS` as this user.
    fn spindle(&self, env: &Env, args: &[&str]) -> Output {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .args(["--clear-groups", BIN])
            .args(args)
            .env("XDG_RUNTIME_DIR", env.runtime())
            .env("SPINDLE_SOCKET", env.socket())
            .env_remove("XDG_STATE_HOME");
        run_timeout(c, Duration::from_secs(30))
    }

    /// A shell command as this user.
    fn sh(&self, script: &str) -> Output {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .args(["--clear-groups", "sh", "-c", script]);
        run_timeout(c, Duration::from_secs(30))
    }

    /// Makes the calling thread this user (filesystem, socket and all), for good: only for
    /// a thread that ends afterwards.
    fn become_on_this_thread(&self) {
        let groups = [self.gid];
        // SAFETY: raw per-thread system calls (glibc's wrappers would change every thread of
        // the test); the arguments are valid.
        unsafe {
            assert_eq!(
                libc::syscall(libc::SYS_setgroups, 1usize, groups.as_ptr()),
                0
            );
            assert_eq!(
                libc::syscall(libc::SYS_setresgid, self.gid, self.gid, self.gid),
                0
            );
            assert_eq!(
                libc::syscall(libc::SYS_setresuid, self.uid, self.uid, self.uid),
                0
            );
            assert_eq!(libc::geteuid(), self.uid);
        }
    }
}

impl Drop for TempUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel")
            .arg(&self.name)
            .stderr(Stdio::null())
            .status();
    }
}

/// A directory owned by `user` (mode 0755).
fn user_dir(p: &Path, user: &TempUser) {
    std::fs::create_dir(p).unwrap();
    std::os::unix::fs::chown(p, Some(user.uid), Some(user.gid)).unwrap();
}

/// A world-readable copy of the sample image in `dir`.
fn image(env: &Env) -> PathBuf {
    let f = env.root().join("disc.iso");
    std::fs::copy(sample("libcdio/joliet.iso"), &f).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    f
}

/// Mounts (any type) at `p` or below it.
fn mounts_at_or_under(p: &Path) -> Vec<PathBuf> {
    spindle_fuse::mounts()
        .into_iter()
        .map(|m| m.mount_point)
        .filter(|m| m.starts_with(p))
        .collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the request was refused as a bad mount point, with `words` in the message.
fn assert_refused(o: &Output, words: &[&str]) {
    let e = stderr(o);
    assert!(!o.status.success(), "mounted, though it should not: {e}");
    assert!(
        e.contains("cannot mount there") && e.contains("[bad_mount_point]"),
        "{e}"
    );
    assert!(
        words.iter().any(|w| e.contains(w)),
        "expected one of {words:?} in: {e}"
    );
}

fn rename_exchange(a: &CString, b: &CString) -> bool {
    // SAFETY: both are valid NUL-terminated paths.
    unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        ) == 0
    }
}

#[test]
fn rename_exchange_race_never_mounts_over_a_root_directory() {
    if !is_root() {
        eprintln!("skipped: needs root (a root daemon serving another user)");
        return;
    }
    let mut env = Env::new(300);
    env.start_daemon(&[]);
    let user = TempUser::new("r");
    let img = image(&env);
    let rootdir = env.root().join("rootdir");
    std::fs::create_dir(&rootdir).unwrap();
    let base = env.root().join("race");
    user_dir(&base, &user);
    let (d, l) = (base.join("d"), base.join("l"));
    user_dir(&d, &user);
    std::os::unix::fs::symlink(&rootdir, &l).unwrap();
    std::os::unix::fs::lchown(&l, Some(user.uid), Some(user.gid)).unwrap();
    let rootdir_meta = std::fs::metadata(&rootdir).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let wins = Arc::new(AtomicU64::new(0));
    let user = Arc::new(user);
    std::thread::scope(|s| {
        // The attacker's swapper, as the user.
        let swapper = s.spawn(|| {
            user.become_on_this_thread();
            let (a, b) = (
                CString::new(d.as_os_str().as_bytes()).unwrap(),
                CString::new(l.as_os_str().as_bytes()).unwrap(),
            );
            while !stop.load(Ordering::Relaxed) {
                // EBUSY while the user's own mount sits on the directory.
                if rename_exchange(&a, &b) {
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        // Root's view: no mount ever appears on the root-owned directory.
        let monitor = s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                if !mounts_at_or_under(&rootdir).is_empty() {
                    wins.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        // The attacker's requests, as the user, straight on the socket.
        let requests = s.spawn(|| {
            // However this thread ends, the others stop.
            struct Stop<'a>(&'a AtomicBool);
            impl Drop for Stop<'_> {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::Relaxed);
                }
            }
            let _stop = Stop(&stop);
            user.become_on_this_thread();
            let mut c = spindle_daemon::client::Client::connect(&env.socket()).unwrap();
            let (mut tries, mut mounted, mut refused) = (0u64, 0u64, 0u64);
            let start = Instant::now();
            while (swaps.load(Ordering::Relaxed) < 2_000 || tries < 200)
                && start.elapsed() < Duration::from_secs(120)
            {
                tries += 1;
                let req = MountArgs {
                    image: img.clone(),
                    at: Some(d.clone()),
                    ..MountArgs::default()
                };
                match c.mount(req) {
                    Ok(r) => {
                        mounted += 1;
                        assert_eq!(r.mountpoint.as_ref(), Some(&d), "{r:?}");
                        c.eject(EjectTarget::Drive(r.drive)).unwrap();
                    }
                    Err(e) => {
                        assert_eq!(e.code(), Some(ErrorCode::BadMountPoint), "{e}");
                        assert!(e.to_string().contains("symbolic link"), "{e}");
                        refused += 1;
                    }
                }
            }
            (tries, mounted, refused)
        });
        let (tries, mounted, refused) = requests.join().unwrap();
        stop.store(true, Ordering::Relaxed);
        swapper.join().unwrap();
        monitor.join().unwrap();
        let swaps = swaps.load(Ordering::Relaxed);
        eprintln!(
            "race: {swaps} swaps, {tries} mount requests: {mounted} mounted on the user's directory, {refused} refused"
        );
        assert!(swaps >= 2_000, "only {swaps} swaps");
        assert!(
            mounted > 0,
            "the user's own mounts never worked during the race"
        );
    });
    assert_eq!(
        wins.load(Ordering::Relaxed),
        0,
        "a mount appeared on the root-owned directory"
    );
    assert!(mounts_at_or_under(&rootdir).is_empty());
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(&rootdir).unwrap().dev(),
        rootdir_meta.dev()
    );
    assert!(env.tree_mounts().is_empty(), "{:?}", env.tree_mounts());

    // The user's legitimate mount still works afterwards.
    let own = if std::fs::symlink_metadata(&d).unwrap().is_dir() {
        d.clone()
    } else {
        l.clone()
    };
    let o = user.spindle(
        &env,
        &[
            "mount",
            img.to_str().unwrap(),
            "--at",
            own.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let line = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .find(|l| l.split(' ').nth(4) == Some(own.to_str().unwrap()))
        .map(String::from)
        .unwrap_or_else(|| panic!("no mount at {}", own.display()));
    assert!(line.contains(&format!("user_id={}", user.uid)), "{line}");
    env.ok(&["eject", "--all"]);
}

/// An empty directory somewhere under `roots` (searched two levels deep).
fn empty_dir_under(roots: &[&str]) -> Option<PathBuf> {
    let empty = |p: &Path| std::fs::read_dir(p).is_ok_and(|mut r| r.next().is_none());
    for r in roots {
        let r = Path::new(r);
        if empty(r) {
            return Some(r.to_path_buf());
        }
        for e in std::fs::read_dir(r).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) && empty(&p) {
                return Some(p);
            }
        }
    }
    None
}

/// A bind mount, detached (and its directory removed) on drop.
struct BindMount(PathBuf);
impl BindMount {
    fn new(what: &Path, at: &Path) -> BindMount {
        std::fs::create_dir(at).unwrap();
        let st = Command::new("mount")
            .arg("--bind")
            .arg(what)
            .arg(at)
            .status()
            .unwrap();
        assert!(
            st.success(),
            "mount --bind {} {}",
            what.display(),
            at.display()
        );
        BindMount(at.to_path_buf())
    }
}
impl Drop for BindMount {
    fn drop(&mut self) {
        let c = CString::new(self.0.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid path.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Removes a directory on drop.
struct RmDir(PathBuf);
impl Drop for RmDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn links_system_paths_and_other_peoples_directories_are_refused() {
    if !is_root() {
        eprintln!("skipped: needs root (a root daemon serving another user)");
        return;
    }
    let mut env = Env::new(180);
    env.start_daemon(&[]);
    let user = TempUser::new("s");
    let img = image(&env);
    let i = img.to_str().unwrap();
    let home = env.root().join("home");
    user_dir(&home, &user);
    let own = home.join("own");
    user_dir(&own, &user);
    let rootdir = env.root().join("rootdir");
    std::fs::create_dir(&rootdir).unwrap();

    // Symbolic links, to the user's own directory or to root's: refused, never followed.
    let o = user.sh(&format!(
        "ln -s {} {}/link-own && ln -s {} {}/link-root",
        own.display(),
        home.display(),
        rootdir.display(),
        home.display()
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    for link in ["link-own", "link-root"] {
        let at = home.join(link);
        assert_refused(
            &user.spindle(&env, &["mount", i, "--at", at.to_str().unwrap()]),
            &["symbolic link"],
        );
    }
    assert_refused(
        &user.spindle(&env, &["mount", i, "--at", "/proc/self"]),
        &["symbolic link"],
    );
    // The user's own process directory under /proc (it would hide the process from ps).
    let mut sleeper = Command::new("setpriv")
        .arg(format!("--reuid={}", user.uid))
        .arg(format!("--regid={}", user.gid))
        .args(["--clear-groups", "sleep", "60"])
        .spawn()
        .unwrap();
    let proc_dir = format!("/proc/{}", sleeper.id());
    let o = user.spindle(&env, &["mount", i, "--at", &proc_dir]);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert_refused(&o, &["proc filesystem", "under /proc"]);
    // Someone else's directory; a non-empty one of the user's.
    assert_refused(
        &user.spindle(&env, &["mount", i, "--at", rootdir.to_str().unwrap()]),
        &[&format!("not by you (uid {})", user.uid)],
    );
    let o = user.sh(&format!("touch {}/file", own.display()));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_refused(
        &user.spindle(&env, &["mount", i, "--at", own.to_str().unwrap()]),
        &["not empty"],
    );

    // Root may use any empty directory, but never / nor one under /proc, /sys, /dev (the
    // place is checked before the emptiness, so the full system directories show it too).
    let shm = RmDir(PathBuf::from(format!(
        "/dev/shm/spindle-mp-test-{}",
        std::process::id()
    )));
    std::fs::create_dir(&shm.0).unwrap();
    let mut system: Vec<(PathBuf, &[&str])> = vec![
        (PathBuf::from("/"), &["the root directory"]),
        (PathBuf::from("/proc"), &["proc filesystem"]),
        (PathBuf::from("/sys"), &["sysfs filesystem"]),
        (
            PathBuf::from("/dev"),
            &["devtmpfs filesystem", "under /dev"],
        ),
        (shm.0.clone(), &["under /dev"]),
    ];
    // Empty ones, where this machine has them.
    if let Some(p) = empty_dir_under(&["/sys/fs", "/sys/kernel"]) {
        system.push((p, &["under /sys", "filesystem"]));
    }
    if let Some(p) = empty_dir_under(&["/proc/fs", "/proc/driver", "/proc/sys/fs"]) {
        system.push((p, &["under /proc", "filesystem"]));
    }
    // /proc bind-mounted elsewhere: judged by what it is, not where.
    let bind = BindMount::new(Path::new("/proc"), &env.root().join("procbind"));
    system.push((bind.0.clone(), &["proc filesystem"]));
    for (p, words) in &system {
        assert_refused(&env.run(&["mount", i, "--at", p.to_str().unwrap()]), words);
    }
    assert!(
        spindle_daemon::client::ping(&env.socket()),
        "the daemon died"
    );
    assert!(env.tree_mounts().is_empty());
    for p in system.iter().map(|(p, _)| p).chain([&rootdir]) {
        assert!(
            !spindle_fuse::mounts()
                .iter()
                .any(|m| m.mount_point == *p && m.fstype == "fuse.spindle"),
            "a disc was mounted at {}",
            p.display()
        );
    }

    // The user's own empty directory still mounts.
    let o = user.sh(&format!("rm {}/file", own.display()));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = user.spindle(&env, &["mount", i, "--at", own.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(env.tree_mounts(), vec![own.clone()]);
    // Twice at one place: refused.
    assert_refused(
        &user.spindle(&env, &["mount", i, "--at", own.to_str().unwrap()]),
        &["mounted there already"],
    );
    env.ok(&["eject", "--all"]);
}

/// Starts the daemon with its log in `log`; waits until it answers.
fn start_logged(env: &mut Env, log: &Path) {
    let f = std::fs::File::create(log).unwrap();
    let child = env
        .cmd(&["daemon"])
        .stdin(Stdio::null())
        .stderr(f)
        .spawn()
        .unwrap();
    env.adopt(child);
    env.wait_ready();
}

/// SIGTERM to the daemon; waits for its exit (the saved drives stay).
fn stop(env: &mut Env) {
    let child = env.children.last_mut().unwrap();
    // SAFETY: plain kill(2) of our child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    daemon_common::wait_exit(child, Duration::from_secs(30));
}

#[test]
fn restore_rechecks_saved_mount_points_as_their_owner() {
    if !is_root() {
        eprintln!("skipped: needs root (a root daemon serving another user)");
        return;
    }
    let mut env = Env::new(180);
    let log = env.root().join("daemon.log");
    start_logged(&mut env, &log);
    let user = TempUser::new("t");
    let img = image(&env);
    let home = env.root().join("home");
    user_dir(&home, &user);
    let at = home.join("disc");
    user_dir(&at, &user);
    let rootdir = env.root().join("rootdir");
    std::fs::create_dir(&rootdir).unwrap();
    let o = user.spindle(
        &env,
        &["mount", img.to_str().unwrap(), "--at", at.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // A default mount point too (made by the daemon under its media dir).
    let o = user.spindle(&env, &["mount", img.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let media_mount = PathBuf::from(String::from_utf8(o.stdout).unwrap().trim());
    stop(&mut env);
    assert!(env.tree_mounts().is_empty(), "{:?}", env.tree_mounts());

    // The saved mount point becomes a symlink to root's directory.
    let o = user.sh(&format!(
        "mv {0} {0}.old && ln -s {1} {0}",
        at.display(),
        rootdir.display()
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    start_logged(&mut env, &log);
    assert!(
        mounts_at_or_under(&rootdir).is_empty(),
        "restore mounted over root's directory"
    );
    let d = env.drives();
    let mine: Vec<_> = d["drives"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["uid"] == json!(user.uid))
        .collect();
    assert_eq!(mine.len(), 2, "{d}");
    let points: Vec<_> = mine
        .iter()
        .flat_map(|d| d["mountpoints"].as_array().unwrap().clone())
        .collect();
    // The drive keeps its disc; only the default mount point is mounted again.
    assert_eq!(points, vec![json!(media_mount)], "{d}");
    assert_eq!(env.tree_mounts(), vec![media_mount.clone()]);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(&format!(
            "{}: cannot mount there: it is a symbolic link",
            at.display()
        )) && text.contains("not mounted again"),
        "{text}"
    );
    env.ok(&["eject", "--all"]);

    // Given away instead (a root-owned directory in its place): refused as well.
    let o = user.spindle(
        &env,
        &[
            "mount",
            img.to_str().unwrap(),
            "--at",
            &format!("{}.old", at.display()),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    stop(&mut env);
    let old = PathBuf::from(format!("{}.old", at.display()));
    std::os::unix::fs::chown(&old, Some(0), Some(0)).unwrap();
    start_logged(&mut env, &log);
    let d = env.drives();
    assert_eq!(d["drives"][0]["uid"], json!(user.uid), "{d}");
    assert_eq!(d["drives"][0]["mountpoints"], json!([]), "{d}");
    assert!(env.tree_mounts().is_empty(), "{:?}", env.tree_mounts());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(&format!("owned by uid 0, not by you (uid {})", user.uid)),
        "{text}"
    );
    env.ok(&["eject", "--all"]);
}
