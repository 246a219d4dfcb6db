//! Disc sets (M3U playlists) in one drive, through the real daemon, FUSE and NBD clients:
//! `spindle mount set.m3u` puts disc 1 in; `spindle disc` changes discs with the drive
//! empty in between (sampled: `drives`, the mount point, `nbdinfo`); each disc shows under
//! FUSE and equals its image over NBD (`nbdcopy`); a restarted daemon and a set mounted
//! again start at the last disc used; bad playlists are refused naming their line, with
//! nothing loaded.

mod daemon_common;

use daemon_common::{Env, run_timeout, wait_exit};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// An ISO labelled `label` holding `which.txt` = `text` (and a file whose size differs
/// from disc to disc), made by xorriso.
fn make_disc(dir: &Path, name: &str, label: &str, text: &str, pad: usize) -> PathBuf {
    let tree = dir.join(format!("{name}.tree"));
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("which.txt"), text).unwrap();
    std::fs::write(tree.join("pad.bin"), vec![pad as u8; pad * 4096]).unwrap();
    let iso = dir.join(name);
    let mut c = Command::new("xorriso");
    c.args(["-as", "mkisofs", "-quiet", "-R", "-J", "-V", label, "-o"])
        .arg(&iso)
        .arg(&tree);
    let o = run_timeout(c, Duration::from_secs(60));
    assert!(
        o.status.success(),
        "xorriso (scripts/setup installs it): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    iso
}

fn uri(env: &Env) -> String {
    format!(
        "nbd+unix:///drive0?socket={}",
        env.runtime().join("spindle/nbd.sock").display()
    )
}

/// Drive 0's export, copied whole with nbdcopy.
fn export_bytes(env: &Env) -> Vec<u8> {
    let out = env.root().join("export.img");
    let mut c = Command::new("nbdcopy");
    c.arg(uri(env)).arg(&out);
    let o = run_timeout(c, Duration::from_secs(60));
    assert!(
        o.status.success(),
        "nbdcopy: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read(out).unwrap()
}

fn export_exists(env: &Env) -> bool {
    let mut c = Command::new("nbdinfo");
    c.arg(uri(env));
    run_timeout(c, Duration::from_secs(30)).status.success()
}

fn set_of(env: &Env) -> Value {
    env.drives()["drives"][0]["set"].clone()
}

/// Changes disc with `spindle disc 0 WHICH --empty-for SECS`, sampling the drive while the
/// command runs; returns how many samples saw it empty (drives, mount point and NBD all
/// agreeing) and none saw it hold a disc between the two.
fn change(env: &Env, mp: &Path, which: &str, secs: &str) -> usize {
    let mut child = env
        .cmd(&["disc", "0", which, "--empty-for", secs])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut empty = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        let d = &env.drives()["drives"][0];
        if d["set"]["changing"].is_u64() {
            assert!(d["image"].is_null(), "an image during the swap: {d}");
            let listed = std::fs::read_dir(mp).unwrap().count();
            let nbd = export_exists(env);
            // The tray may shut between the samples: count only a consistent view.
            if env.drives()["drives"][0]["set"]["changing"].is_u64() {
                assert_eq!(listed, 0, "files at {} with the tray open", mp.display());
                assert!(!nbd, "an NBD export with the tray open");
                empty += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert!(
        status.success(),
        "spindle disc 0 {which} failed\n{}",
        env.log()
    );
    empty
}

#[test]
fn discs_change_in_turn_under_fuse_and_nbd_and_the_last_is_remembered() {
    let env = Env::new(300);
    let dir = env.root().join("game");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let isos = [
        make_disc(&dir, "a.iso", "DISC_A", "disc 1\n", 1),
        make_disc(&dir.join("sub"), "b.iso", "DISC_B", "disc 2\n", 2),
        make_disc(&dir, "c.iso", "DISC_C", "disc 3\n", 3),
    ];
    let m3u = dir.join("set.m3u");
    std::fs::write(
        &m3u,
        "\u{feff}#EXTM3U\r\n#EXTINF:0,Disc One\r\na.iso\r\n# a comment\r\n#LABEL:Disc Two\r\nsub/b.iso\r\nc.iso|Disc Three\r\n",
    )
    .unwrap();
    let mp = PathBuf::from(env.ok(&["mount", m3u.to_str().unwrap()]).trim());
    let shows = |n: usize| {
        assert_eq!(
            std::fs::read_to_string(mp.join("which.txt")).unwrap(),
            format!("disc {n}\n")
        );
        assert!(
            export_bytes(&env) == std::fs::read(&isos[n - 1]).unwrap(),
            "the NBD export is not disc {n}"
        );
        let s = set_of(&env);
        assert_eq!(s["disc"], n, "{s}");
        assert_eq!(s["count"], 3);
        assert!(s["changing"].is_null());
    };
    shows(1);
    assert_eq!(set_of(&env)["label"], "Disc One");
    assert!(
        env.ok(&["drives"]).contains("disc 1 of 3 (Disc One)"),
        "{}",
        env.ok(&["drives"])
    );

    // Each disc in turn, the drive empty in between.
    let t = Instant::now();
    let seen = change(&env, &mp, "next", "1.5");
    assert!(
        t.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    assert!(
        seen >= 3,
        "the drive was seen empty {seen} times during a 1.5 s swap"
    );
    shows(2);
    assert!(env.ok(&["drives"]).contains("disc 2 of 3 (Disc Two)"));
    change(&env, &mp, "next", "0.5");
    shows(3);
    change(&env, &mp, "next", "0.3");
    shows(1);
    change(&env, &mp, "prev", "0.3");
    shows(3);
    change(&env, &mp, "Disc Two", "0.3");
    shows(2);
    change(&env, &mp, "3", "0.3");
    shows(3);
    let bad = env.run(&["disc", "0", "4", "--empty-for", "0"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("discs 1 to 3"));
    shows(3);

    // A restarted daemon puts the set back with its last disc in.
    let pid = env.daemon_pid().unwrap();
    // SAFETY: plain kill(2) of the daemon this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let s = set_of(&env);
    assert_ne!(env.daemon_pid().unwrap(), pid);
    assert_eq!(s["disc"], 3, "after a restart: {s}\n{}", env.log());
    shows(3);

    // Mounted again after an eject: the last disc used, too.
    env.ok(&["eject", "0"]);
    let mp2 = PathBuf::from(env.ok(&["mount", m3u.to_str().unwrap()]).trim());
    assert_eq!(
        std::fs::read_to_string(mp2.join("which.txt")).unwrap(),
        "disc 3\n"
    );
    // A plain image loaded over the set ends the set.
    env.ok(&["load", "0", isos[0].to_str().unwrap()]);
    assert!(set_of(&env).is_null());
    let plain = env.run(&["disc", "0", "next"]);
    assert!(!plain.status.success());
    env.ok(&["eject", "--all"]);
}

#[test]
fn bad_playlists_name_their_line_and_load_nothing() {
    let env = Env::new(120);
    let dir = env.root().join("bad");
    std::fs::create_dir_all(&dir).unwrap();
    make_disc(&dir, "a.iso", "DISC_A", "disc 1\n", 1);
    std::fs::write(dir.join("notes.txt"), "not a disc at all\n").unwrap();
    let cases: [(&str, &str, &str); 6] = [
        ("missing.m3u", "a.iso\n\nnone.iso\n", "missing.m3u:3: "),
        ("self.m3u", "#EXTM3U\na.iso\nself.m3u\n", "self.m3u:3: "),
        ("x.m3u", "a.iso\ny.m3u\n", "y.m3u:1: "),
        ("empty.m3u", "#EXTM3U\n# nothing\n", "names no disc"),
        ("text.m3u", "a.iso\r\nnotes.txt|Notes\r\n", "text.m3u:2: "),
        (
            "long.m3u",
            &format!("a.iso\n{}\n", "x".repeat(5000)),
            "long.m3u:2: ",
        ),
    ];
    std::fs::write(dir.join("y.m3u"), "x.m3u\n").unwrap();
    for (name, text, want) in cases {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        for args in [
            vec!["mount", p.to_str().unwrap()],
            vec!["load", "1", p.to_str().unwrap()],
        ] {
            let o = env.run(&args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!o.status.success(), "{args:?} succeeded");
            assert!(
                err.contains(want),
                "{args:?}: {err:?} does not say {want:?}"
            );
            let d = env.drives();
            for drive in d["drives"].as_array().unwrap() {
                assert!(drive["image"].is_null(), "loaded after {name}: {drive}");
            }
        }
    }
    assert!(env.tree_mounts().is_empty());
}
