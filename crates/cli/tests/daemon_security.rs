//! A root daemon serving another user: it opens images with that user's rights, mounts for
//! that user, and keeps users' drives apart. The CLI runs as nobody through setpriv.

mod daemon_common;

use daemon_common::{Env, as_nobody, run_timeout, sample};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn copy(src: &Path, dir: &Path, dir_mode: u32, file_mode: u32) -> PathBuf {
    std::fs::create_dir(dir).unwrap();
    let f = dir.join("disc.iso");
    std::fs::copy(src, &f).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(file_mode)).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(dir_mode)).unwrap();
    f
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn root_daemon_opens_with_the_users_rights() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root (a root daemon serving another user)");
        return;
    }
    let mut env = Env::new(120);
    env.start_daemon(&[]);
    let joliet = sample("libcdio/joliet.iso");
    let hidden = copy(&joliet, &env.root().join("hidden"), 0o700, 0o600);
    let private = copy(&joliet, &env.root().join("private"), 0o755, 0o600);
    let public = copy(&joliet, &env.root().join("public"), 0o755, 0o644);

    for f in [&hidden, &private] {
        let o = as_nobody(&env, &["mount", f.to_str().unwrap()]);
        assert!(!o.status.success(), "nobody mounted {}", f.display());
        assert!(
            stderr(&o).contains("permission denied: user 65534 cannot read this image"),
            "{}",
            stderr(&o)
        );
    }
    // A directory nobody does not own is no mount point for them.
    let rootdir = env.root().join("rootdir");
    std::fs::create_dir(&rootdir).unwrap();
    let o = as_nobody(
        &env,
        &[
            "mount",
            public.to_str().unwrap(),
            "--at",
            rootdir.to_str().unwrap(),
        ],
    );
    assert!(
        stderr(&o).contains("not by you (uid 65534)"),
        "{}",
        stderr(&o)
    );

    // The world-readable copy mounts, for nobody.
    let o = as_nobody(&env, &["mount", public.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let at = PathBuf::from(String::from_utf8(o.stdout).unwrap().trim());
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let line = info
        .lines()
        .find(|l| l.contains(at.to_str().unwrap().replace(' ', "\\040").as_str()))
        .unwrap();
    assert!(
        line.contains("user_id=65534") && !line.contains("allow_other"),
        "{line}"
    );
    let mut ls = Command::new("setpriv");
    ls.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "ls"])
        .arg(&at);
    let o = run_timeout(ls, Duration::from_secs(10));
    assert!(o.status.success() && !o.stdout.is_empty(), "{}", stderr(&o));
    // Without allow_other the mount is nobody's alone: even root is kept out.
    assert_eq!(
        std::fs::read_dir(&at).unwrap_err().kind(),
        std::io::ErrorKind::PermissionDenied
    );

    // allow_other only when asked: then root may enter too.
    let o = as_nobody(&env, &["mount", public.to_str().unwrap(), "--allow-other"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let shared = PathBuf::from(String::from_utf8(o.stdout).unwrap().trim());
    assert_ne!(shared, at);
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let line = info
        .lines()
        .find(|l| l.contains(shared.to_str().unwrap().replace(' ', "\\040").as_str()))
        .unwrap();
    assert!(
        line.contains("user_id=65534") && line.contains("allow_other"),
        "{line}"
    );
    assert!(std::fs::read_dir(&shared).unwrap().next().is_some());

    // Users' drives are apart: nobody cannot eject root's.
    env.ok(&["mount", joliet.to_str().unwrap(), "--drive", "3"]);
    let o = as_nobody(&env, &["eject", "3"]);
    assert!(stderr(&o).contains("belongs to uid 0"), "{}", stderr(&o));
    let o = as_nobody(&env, &["eject", "--all"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = env.drives();
    assert!(d["drives"][0]["image"].is_null(), "{d}");
    assert_eq!(d["drives"][3]["uid"], 0);
    let o = as_nobody(&env, &["eject", public.to_str().unwrap()]);
    assert!(!o.status.success());
    env.ok(&["eject", "--all"]);
    assert!(env.tree_mounts().is_empty());
}
