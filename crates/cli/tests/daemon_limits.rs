//! A root daemon against hostile local users (real throwaway users, real clients): floods of
//! idle and trickling connections, opens that block, the drive count, loopback shares of
//! private discs, and requests with duplicate keys, unknown fields or wrong types. Each
//! test checks that another user is still served.

mod daemon_common;
mod daemon_users;

use daemon_common::{Env, run_timeout, sample};
use daemon_users::{TestUser, raise_fd_limit, threads};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A root daemon with short deadlines for tests: 2 s for a line, 60 s between requests,
/// `open_timeout` seconds for a request's open.
fn daemon(open_timeout: &str) -> Env {
    let mut env = Env::new(300);
    env.start_daemon(&[
        "--line-timeout",
        "2",
        "--idle-timeout",
        "60",
        "--open-timeout",
        open_timeout,
    ]);
    env
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Reads one reply line (20 s at most); `None` at EOF or on a timeout.
fn reply(s: &mut BufReader<UnixStream>) -> Option<Value> {
    s.get_ref()
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut line = String::new();
    match s.read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => serde_json::from_str(&line).ok(),
    }
}

/// `spindle drives` as `who` answers, and how long it took.
fn drives_answered(env: &Env, who: &TestUser) -> Duration {
    let t = Instant::now();
    let o = who.spindle(env, &["drives", "--json"]);
    assert!(
        o.status.success(),
        "{} could not list the drives: {}",
        who.name,
        text(&o)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["count"], 4, "{v}");
    t.elapsed()
}

#[test]
fn a_flood_of_idle_and_trickling_connections_does_not_lock_out_another_user() {
    if !is_root() {
        eprintln!("skipped: needs root (a root daemon and throwaway users)");
        return;
    }
    raise_fd_limit();
    let env = daemon("3");
    let pid = env.daemon_pid().expect("daemon pid");
    let mallory = TestUser::new(&env, "flood");
    let alice = TestUser::new(&env, "alice");

    // Three tricklers first: one byte of a request every half second, never a newline.
    let mut tricklers: Vec<UnixStream> = mallory
        .connect(&env.socket(), 3)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let trickle = {
        let mut ws: Vec<UnixStream> = tricklers.iter().map(|s| s.try_clone().unwrap()).collect();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let req = br#"{"v":1,"id":1,"cmd":"drives","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#;
            let mut sent = 0;
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) && i < req.len() {
                for w in &mut ws {
                    if w.write_all(&req[i..i + 1]).is_ok() {
                        sent += 1;
                    }
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(500));
            }
            sent
        })
    };

    // Then 2,000 idle connections of the same user.
    let flood = mallory.connect(&env.socket(), 2000);
    let connected = flood.iter().filter(|c| c.is_ok()).count();
    // Each is refused with one `busy` line, or held; wait (30 s at most) until no more than
    // the per-user cap of 32 are left without an answer.
    let mut pending: Vec<UnixStream> = flood.into_iter().flatten().collect();
    let mut kept = Vec::new(); // every connection stays open until the end of the test
    let mut refused = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while pending.len() > 32 && Instant::now() < deadline {
        let mut still = Vec::new();
        for mut c in pending {
            c.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 1024];
            match c.read(&mut buf) {
                Ok(n) if n > 0 => {
                    let v: Value = serde_json::from_slice(buf[..n].trim_ascii()).unwrap();
                    assert_eq!(v["code"], "busy", "{v}");
                    refused += 1;
                    kept.push(c);
                }
                _ => still.push(c),
            }
        }
        pending = still;
        std::thread::sleep(Duration::from_millis(50));
    }
    let held = pending.len();
    eprintln!("flood: {connected} connected, {refused} refused busy, {held} held");
    assert_eq!(connected, 2000);
    assert!(
        held <= 32,
        "{held} idle connections of one user were accepted"
    );
    kept.extend(pending);

    // Another user, and root, are served while all that is going on.
    let took = drives_answered(&env, &alice);
    eprintln!("alice's `spindle drives` with the flood connected: {took:?}");
    env.ok(&["drives"]);
    assert!(threads(pid) < 100, "daemon has {} threads", threads(pid));
    // The tricklers are cut off by the line deadline (2 s), in the middle of their lines.
    for t in &mut tricklers {
        let start = Instant::now();
        let mut r = BufReader::new(t.try_clone().unwrap());
        let v = reply(&mut r).expect("no reply to a trickler");
        assert_eq!(v["code"], "timeout", "{v}");
        // Then the daemon closes the connection.
        let mut rest = Vec::new();
        t.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        assert_eq!(t.read_to_end(&mut rest).unwrap_or(0), 0);
        assert!(start.elapsed() < Duration::from_secs(20));
    }
    // Mallory's own next command is refused, with the reason (her held connections topped
    // up to the cap first, now that the tricklers are gone).
    let top_up = mallory.connect(&env.socket(), 5);
    let o = mallory.spindle(&env, &["drives"]);
    assert!(!o.status.success(), "mallory was served: {}", text(&o));
    assert!(
        text(&o).contains("connections in progress (at most 32 per user)"),
        "{}",
        text(&o)
    );

    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let sent = trickle.join().unwrap();
    assert!(sent >= 3, "the tricklers sent {sent} bytes");
    drives_answered(&env, &alice);
    drop((kept, top_up));
}

#[test]
fn blocking_opens_hold_neither_the_daemon_nor_other_users() {
    if !is_root() {
        eprintln!("skipped: needs root (a root daemon and throwaway users)");
        return;
    }
    raise_fd_limit();
    let env = daemon("1");
    let pid = env.daemon_pid().expect("daemon pid");
    let mallory = TestUser::new(&env, "fifo");
    let alice = TestUser::new(&env, "alice");

    // A FIFO image nobody writes to: opening it blocks (unless the open refuses FIFOs).
    let fifo = mallory.home.join("disc.iso");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid path string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::chown(&fifo, Some(mallory.uid), Some(mallory.gid)).unwrap();

    // 1,030 mount requests of it, pipelined on the 32 connections mallory may hold.
    let conns: Vec<UnixStream> = mallory
        .connect(&env.socket(), 32)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let per = 1030usize.div_ceil(conns.len());
    let mut sent = 0;
    let mut counts = Vec::new();
    for (i, c) in conns.iter().enumerate() {
        let mut w = c.try_clone().unwrap();
        let mut batch = String::new();
        let mut n = 0;
        while n < per && sent < 1030 {
            let req = serde_json::json!({"v":1,"id": i * per + n,"cmd":"mount","image": fifo});
            batch.push_str(&format!("{req}\n"));
            sent += 1;
            n += 1;
        }
        w.write_all(batch.as_bytes()).unwrap();
        counts.push(n);
    }

    // Meanwhile alice lists the drives and mounts and ejects a disc of hers.
    std::thread::sleep(Duration::from_millis(500));
    let took = drives_answered(&env, &alice);
    eprintln!("alice's `spindle drives` with 1,030 blocked mounts sent: {took:?}");
    let iso = sample("libcdio/joliet.iso");
    let o = alice.spindle(&env, &["mount", iso.to_str().unwrap()]);
    assert!(o.status.success(), "alice could not mount: {}", text(&o));
    let o = alice.spindle(&env, &["eject", "--all"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = threads(pid);
    eprintln!("daemon threads with the blocked opens: {t}");
    assert!(t < 120, "daemon has {t} threads");

    // Every request of mallory's is answered: `busy` (no open permit of hers given back within
    // 1 s), `timeout` (the open did not return in 1 s) or `failed` (an open that refuses a
    // FIFO); none mounts anything.
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for (c, &count) in conns.iter().zip(&counts) {
        let mut r = BufReader::new(c.try_clone().unwrap());
        let mut n = 0;
        while n < count {
            let Some(v) = reply(&mut r) else { break };
            assert_eq!(v["ok"], false, "{v}");
            if v["code"] == "failed" {
                // An open that refuses a FIFO says which file and why.
                let e = v["error"].as_str().unwrap_or("");
                assert!(
                    e.contains(fifo.to_str().unwrap()) && e.to_lowercase().contains("fifo"),
                    "{v}"
                );
            }
            *codes
                .entry(v["code"].as_str().unwrap_or("?").to_string())
                .or_default() += 1;
            n += 1;
        }
    }
    eprintln!("replies to the FIFO mounts: {codes:?}");
    assert_eq!(codes.values().sum::<usize>(), 1030, "{codes:?}");
    for k in codes.keys() {
        assert!(
            ["busy", "timeout", "failed"].contains(&k.as_str()),
            "{codes:?}"
        );
    }
    assert!(
        env.drives()["drives"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["image"].is_null())
    );
    drives_answered(&env, &alice);
    assert!(threads(pid) < 120, "daemon has {} threads", threads(pid));
    // One more, through the CLI once her connections are closed (their slots come free as
    // the daemon sees them go): answered (an error, whichever kind) and timed.
    drop(conns);
    let deadline = Instant::now() + Duration::from_secs(30);
    let (o, took) = loop {
        let t = Instant::now();
        let o = mallory.spindle(&env, &["mount", fifo.to_str().unwrap()]);
        if !text(&o).contains("connections in progress") || Instant::now() > deadline {
            break (o, t.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!o.status.success());
    assert!(text(&o).contains(fifo.to_str().unwrap()), "{}", text(&o));
    eprintln!(
        "one FIFO mount through the CLI: {took:?}: {}",
        text(&o).trim()
    );
    // Let the blocked opens go (a writer appears), so the daemon stops cleanly.
    let _w = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo);
}

/// Resumes a stopped process when dropped (so that a failing test leaves nothing stopped;
/// the Env guard then kills it).
struct Resume(i32);

impl Drop for Resume {
    fn drop(&mut self) {
        // SAFETY: plain kill(2) of a daemon this test started.
        unsafe { libc::kill(self.0, libc::SIGCONT) };
    }
}

#[test]
fn an_open_on_a_filesystem_that_stopped_answering_holds_nothing_else() {
    if !is_root() {
        eprintln!("skipped: needs root (a root daemon and throwaway users)");
        return;
    }
    let env = daemon("3");
    let pid = env.daemon_pid().expect("daemon pid");
    let mallory = TestUser::new(&env, "hang");
    let alice = TestUser::new(&env, "alice");

    // A filesystem that stops answering, as a hung NFS server would: a second daemon's FUSE
    // mount (open to all users), its daemon stopped with SIGSTOP. Any lookup under it waits.
    let mut other = Env::new(300);
    other.start_daemon(&[]);
    let iso = sample("libcdio/joliet.iso");
    let at = PathBuf::from(
        other
            .ok(&["mount", iso.to_str().unwrap(), "--allow-other"])
            .trim(),
    );
    let listed = mallory.run(&env, "ls", &[at.to_str().unwrap()]);
    assert!(listed.status.success(), "{}", text(&listed));
    let other_pid = other.daemon_pid().expect("second daemon pid");
    // SAFETY: plain kill(2) of the daemon this test started.
    assert_eq!(unsafe { libc::kill(other_pid, libc::SIGSTOP) }, 0);
    let _resume = Resume(other_pid);

    // 40 mounts of images under it, each a name never looked up (no cached entry).
    let conns: Vec<UnixStream> = mallory
        .connect(&env.socket(), 8)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    for (i, c) in conns.iter().enumerate() {
        let mut w = c.try_clone().unwrap();
        for j in 0..5 {
            let image = at.join(format!("hung-{i}-{j}.iso"));
            let req = serde_json::json!({"v":1,"id": i * 5 + j,"cmd":"mount","image": image});
            w.write_all(format!("{req}\n").as_bytes()).unwrap();
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let took = drives_answered(&env, &alice);
    eprintln!("alice's `spindle drives` with opens hung on a stopped filesystem: {took:?}");
    let o = alice.spindle(&env, &["mount", iso.to_str().unwrap()]);
    assert!(o.status.success(), "alice could not mount: {}", text(&o));
    assert!(alice.spindle(&env, &["eject", "--all"]).status.success());

    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for c in &conns {
        let mut r = BufReader::new(c.try_clone().unwrap());
        for _ in 0..5 {
            let v = reply(&mut r).expect("a hung mount was not answered");
            assert_eq!(v["ok"], false, "{v}");
            *codes
                .entry(v["code"].as_str().unwrap_or("?").to_string())
                .or_default() += 1;
        }
    }
    eprintln!(
        "replies to the hung mounts: {codes:?}, daemon threads: {}",
        threads(pid)
    );
    // Four opens of hers hang (her open limit), answered `timeout`; the rest `busy`.
    assert_eq!(codes.get("timeout"), Some(&4), "{codes:?}");
    assert_eq!(codes.get("busy"), Some(&36), "{codes:?}");
    assert!(threads(pid) < 60, "daemon has {} threads", threads(pid));
    // Still hung: her next open is refused at once, alice's goes through.
    let o = mallory.spindle(&env, &["mount", iso.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o).contains("at most 4 per user"), "{}", text(&o));
    let o = alice.spindle(&env, &["load", "0", iso.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        env.drives()["drives"][0]["uid"] == alice.uid,
        "{}",
        env.drives()
    );
    assert!(alice.spindle(&env, &["eject", "--all"]).status.success());

    // Mount points under it: each look-up gives up after 10 s but its thread stays stuck;
    // a user may leave 8 such behind, then is refused at once.
    let carol = TestUser::new(&env, "carol");
    let conns: Vec<UnixStream> = carol
        .connect(&env.socket(), 12)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    for (i, c) in conns.iter().enumerate() {
        let req = serde_json::json!({"v":1,"id": i,"cmd":"mount","image": iso, "at": at.join(format!("dir-{i}"))});
        c.try_clone()
            .unwrap()
            .write_all(format!("{req}\n").as_bytes())
            .unwrap();
    }
    let took = drives_answered(&env, &alice);
    eprintln!("alice's `spindle drives` with mount points hung: {took:?}");
    let (mut gave_up, mut refused) = (0, 0);
    for c in &conns {
        let v = reply(&mut BufReader::new(c.try_clone().unwrap()))
            .expect("a hung mount point was not answered");
        assert_eq!(v["ok"], false, "{v}");
        let e = v["error"].as_str().unwrap_or("");
        if e.contains("at most 8 per user") {
            refused += 1;
        } else if e.contains("no answer within") {
            gave_up += 1;
        } else {
            panic!("{v}");
        }
    }
    eprintln!(
        "hung mount points: {gave_up} gave up, {refused} refused; daemon threads: {}",
        threads(pid)
    );
    assert_eq!((gave_up, refused), (8, 4));
    assert!(threads(pid) < 80, "daemon has {} threads", threads(pid));
    drives_answered(&env, &alice);
}

#[test]
fn only_root_or_the_owner_changes_the_drive_count() {
    if !is_root() {
        eprintln!("skipped: needs root (a root daemon and throwaway users)");
        return;
    }
    let env = daemon("3");
    let mallory = TestUser::new(&env, "count");
    let o = mallory.spindle(&env, &["drives", "--count", "1"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("only root or the daemon's own user"),
        "{}",
        text(&o)
    );
    assert_eq!(env.drives()["count"], 4);
    env.ok(&["drives", "--count", "6"]);
    assert_eq!(env.drives()["count"], 6);
    // Nor may an ordinary user claim the one share slot of a drive nobody has loaded.
    let o = mallory.spindle(&env, &["share", "5", "--listen", "127.0.0.1:0", "--public"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("drive 5 is empty"), "{}", text(&o));
}

/// `nbdinfo --size URI` as `who`.
fn size_as(env: &Env, who: &TestUser, uri: &str) -> Output {
    who.run(env, "nbdinfo", &["--size", uri])
}

/// A copy of a sample only `who` can read (0600 in a 0700 directory of theirs).
fn private_copy(who: &TestUser, name: &str) -> PathBuf {
    let dir = who.home.join("discs");
    std::fs::create_dir(&dir).unwrap_or(());
    let f = dir.join(name);
    std::fs::copy(sample("libcdio/joliet.iso"), &f).unwrap();
    for p in [&dir, &f] {
        std::os::unix::fs::chown(p, Some(who.uid), Some(who.gid)).unwrap();
    }
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    f
}

fn port_of(uri: &str) -> String {
    uri.rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn a_private_disc_shared_on_loopback_needs_the_psk() {
    if !is_root() {
        eprintln!("skipped: needs root (a root daemon and throwaway users)");
        return;
    }
    let env = daemon("3");
    let alice = TestUser::new(&env, "owner");
    let mallory = TestUser::new(&env, "peek");
    let secret = private_copy(&alice, "secret.iso");
    let bytes = std::fs::read(&secret).unwrap();
    let o = alice.spindle(&env, &["load", "0", secret.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));

    // The daemon refuses a plain share of it...
    let mut c = alice.connect(&env.socket(), 1).pop().unwrap().unwrap();
    c.write_all(b"{\"v\":1,\"id\":1,\"cmd\":\"share\",\"drive\":0,\"listen\":\"127.0.0.1:0\"}\n")
        .unwrap();
    let v = reply(&mut BufReader::new(c)).unwrap();
    assert_eq!(v["code"], "private_disc", "{v}");

    // ...so `spindle share` without TLS options makes a key file of alice's and shares with it.
    let o_share = alice.spindle(&env, &["share", "0", "--listen", "127.0.0.1:0"]);
    let o = &o_share;
    assert!(o.status.success(), "{}", text(o));
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    let with_psk = out
        .lines()
        .find(|u| u.contains("/drive0?"))
        .unwrap_or_else(|| panic!("{}", text(o)));
    assert!(
        with_psk.starts_with("nbds://spindle@127.0.0.1:"),
        "{with_psk}"
    );
    let key = PathBuf::from(with_psk.split("tls-psk-file=").nth(1).unwrap());
    let meta = std::fs::metadata(&key).unwrap();
    assert_eq!(
        (meta.uid(), meta.mode() & 0o777),
        (alice.uid, 0o600),
        "{}",
        key.display()
    );
    let port = port_of(with_psk);

    // Mallory cannot read it: not in plain NBD, not with the key file (not hers to read).
    let plain = format!("nbd://127.0.0.1:{port}/drive0");
    let o = size_as(&env, &mallory, &plain);
    assert!(
        !o.status.success(),
        "mallory read the private disc: {}",
        text(&o)
    );
    let o = size_as(&env, &mallory, with_psk);
    assert!(
        !o.status.success(),
        "mallory read the private disc: {}",
        text(&o)
    );
    let o = mallory.run(&env, "nbdcopy", &[&plain, "/dev/null"]);
    assert!(!o.status.success(), "nbdcopy as mallory: {}", text(&o));
    // Alice, with her key, copies it byte for byte.
    let copy = alice.home.join("copy.iso");
    let o = alice.run(&env, "nbdcopy", &[with_psk, copy.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::read(&copy).unwrap() == bytes, "the copy differs");
    // And so does qemu-img, the way `spindle share` told her.
    let qcopy = alice.home.join("qemu.iso");
    let object = format!(
        "tls-creds-psk,id=tls0,endpoint=client,dir={},username=spindle",
        key.parent().unwrap().display()
    );
    let opts = format!("driver=nbd,host=127.0.0.1,port={port},export=drive0,tls-creds=tls0");
    assert!(
        text(&o_share).contains(&object) && text(&o_share).contains(&opts),
        "{}",
        text(&o_share)
    );
    let o = alice.run(
        &env,
        "qemu-img",
        &[
            "convert",
            "--object",
            &object,
            "--image-opts",
            &opts,
            "-O",
            "raw",
            qcopy.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        std::fs::read(&qcopy).unwrap() == bytes,
        "qemu-img's copy differs"
    );

    // --public says so: then anyone on the machine may read it.
    assert!(
        alice
            .spindle(&env, &["share", "0", "--stop"])
            .status
            .success()
    );
    let o = alice.spindle(&env, &["share", "0", "--listen", "127.0.0.1:0", "--public"]);
    assert!(o.status.success(), "{}", text(&o));
    let uri = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .find(|u| u.ends_with("/drive0"))
        .unwrap()
        .to_string();
    assert!(uri.starts_with("nbd://127.0.0.1:"), "{uri}");
    let o = size_as(&env, &mallory, &uri);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        bytes.len().to_string()
    );
    assert!(
        alice
            .spindle(&env, &["share", "0", "--stop"])
            .status
            .success()
    );

    // A public image shares as before, in plain NBD.
    let public = sample("libcdio/joliet.iso");
    let o = alice.spindle(&env, &["load", "1", public.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = alice.spindle(&env, &["share", "1", "--listen", "127.0.0.1:0"]);
    assert!(o.status.success(), "{}", text(&o));
    let uri = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .find(|u| u.ends_with("/drive1"))
        .unwrap()
        .to_string();
    assert!(uri.starts_with("nbd://127.0.0.1:"), "{uri}");
    let o = size_as(&env, &mallory, &uri);
    assert!(o.status.success(), "{}", text(&o));

    // Swapping a private disc in behind that plain share does not put it on the share.
    let o = alice.spindle(&env, &["load", "1", secret.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = size_as(&env, &mallory, &uri);
    assert!(
        !o.status.success(),
        "a private disc swapped in went out on a plain share: {}",
        text(&o)
    );
    let o = mallory.run(&env, "nbdcopy", &[&uri, "/dev/null"]);
    assert!(!o.status.success(), "{}", text(&o));
}

#[test]
fn duplicate_keys_unknown_fields_and_wrong_types_are_refused_and_the_daemon_lives() {
    if !is_root() {
        eprintln!("skipped: needs root (a root daemon and throwaway users)");
        return;
    }
    let env = daemon("3");
    let mallory = TestUser::new(&env, "proto");
    let iso = sample("libcdio/joliet.iso");
    let cases: Vec<(String, &str)> = vec![
        (
            r#"{"v":1,"id":1,"cmd":"ping","cmd":"shutdown"}"#.into(),
            "duplicate_field",
        ),
        (
            r#"{"v":1,"id":2,"cmd":"shutdown","cmd":"ping"}"#.into(),
            "duplicate_field",
        ),
        (
            r#"{"v":1,"id":3,"cmd":"count","n":4,"n":1}"#.into(),
            "duplicate_field",
        ),
        (
            r#"{"v":1,"id":{"a":1,"a":2},"cmd":"ping"}"#.into(),
            "duplicate_field",
        ),
        (
            r#"{"v":1,"id":5,"cmd":"ping","c\u006dd":"shutdown"}"#.into(),
            "duplicate_field",
        ),
        (
            r#"{"v":1,"id":6,"cmd":"drives","uid":0}"#.into(),
            "unknown_field",
        ),
        (
            format!(
                r#"{{"v":1,"id":7,"cmd":"mount","image":"{}","owner":0}}"#,
                iso.display()
            ),
            "unknown_field",
        ),
        (
            r#"{"v":1,"id":8,"cmd":"eject","drive":"0"}"#.into(),
            "bad_request",
        ),
        (
            r#"{"v":1,"id":9,"cmd":"mount","image":["/x"]}"#.into(),
            "bad_request",
        ),
        (r#"{"v":"1","id":10,"cmd":"ping"}"#.into(), "bad_request"),
        (r#"{"v":1,"id":11,"cmd":true}"#.into(), "bad_request"),
    ];
    let c = mallory.connect(&env.socket(), 1).pop().unwrap().unwrap();
    let mut r = BufReader::new(c.try_clone().unwrap());
    let mut w = c;
    for (line, want) in &cases {
        w.write_all(format!("{line}\n").as_bytes()).unwrap();
        let v = reply(&mut r).unwrap_or_else(|| panic!("no reply to {line}"));
        assert_eq!(v["ok"], false, "{line}: {v}");
        assert_eq!(v["code"], *want, "{line}: {v}");
        assert!(!v["error"].as_str().unwrap_or("").is_empty(), "{v}");
    }
    // Same connection, still served; the daemon did not shut down, nothing was mounted.
    w.write_all(b"{\"v\":1,\"id\":99,\"cmd\":\"ping\"}\n")
        .unwrap();
    assert_eq!(reply(&mut r).unwrap()["ok"], true);
    assert!(spindle_daemon::client::ping(&env.socket()));
    assert!(
        env.drives()["drives"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["image"].is_null())
    );
    let o = run_timeout(env.cmd(&["drives"]), Duration::from_secs(30));
    assert!(o.status.success());
}
