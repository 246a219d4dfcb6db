//! The daemon's NBD exports through real clients: `qemu-img compare` of every loaded drive
//! against `spindle convert`, `nbdinfo --list` and `--map`, `nbdcopy` with four connections,
//! and `spindle share` over TCP (loopback plain, PSK TLS, non-loopback refused without TLS).

mod daemon_common;

use daemon_common::{Env, run_timeout, sample};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

fn tool(name: &str, args: &[&str]) -> Output {
    let mut c = Command::new(name);
    c.args(args);
    run_timeout(c, Duration::from_secs(60))
}

fn tool_ok(name: &str, args: &[&str]) -> String {
    let o = tool(name, args);
    assert!(
        o.status.success(),
        "{name} {args:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn uri(env: &Env, export: &str) -> String {
    format!(
        "nbd+unix:///{export}?socket={}",
        env.runtime().join("spindle/nbd.sock").display()
    )
}

const IMAGES: [&str; 4] = [
    "libcdio/joliet.iso",
    "libcdio/isofs-m1.cue",
    "mdsx/test.mdx",
    "libcdio/videocd.nrg",
];

fn load_all(env: &Env) -> Vec<std::path::PathBuf> {
    let mut isos = Vec::new();
    for (i, rel) in IMAGES.iter().enumerate() {
        let img = sample(rel);
        let iso = env.root().join(format!("{i}.iso"));
        env.ok(&[
            "convert",
            img.to_str().unwrap(),
            iso.to_str().unwrap(),
            "--data-only",
        ]);
        env.ok(&["load", &i.to_string(), img.to_str().unwrap()]);
        isos.push(iso);
    }
    isos
}

#[test]
fn every_drive_is_an_export_equal_to_convert() {
    let env = Env::new(240);
    let isos = load_all(&env);
    for (i, iso) in isos.iter().enumerate() {
        let u = uri(&env, &format!("drive{i}"));
        tool_ok(
            "qemu-img",
            &[
                "compare",
                "-f",
                "raw",
                "-F",
                "raw",
                iso.to_str().unwrap(),
                &u,
            ],
        );
        // `spindle drives` names the export.
        let d = env.drives();
        let nbd: Vec<&str> = d["drives"][i]["nbd"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(nbd.contains(&u.as_str()), "drive {i}: {nbd:?}");
    }
    assert!(
        env.ok(&["drives"])
            .contains("over NBD: nbd+unix:///drive0?socket=")
    );

    // Every export listed, with its size and block sizes.
    let list: Value =
        serde_json::from_str(&tool_ok("nbdinfo", &["--list", "--json", &uri(&env, "")])).unwrap();
    let exports = list["exports"].as_array().unwrap();
    for (i, iso) in isos.iter().enumerate() {
        let name = format!("drive{i}");
        let e = exports
            .iter()
            .find(|e| e["export-name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} not listed: {list}"));
        assert_eq!(
            e["export-size"].as_u64(),
            Some(std::fs::metadata(iso).unwrap().len()),
            "{e}"
        );
        assert_eq!(e["block_size_minimum"].as_u64(), Some(1), "{e}");
        assert_eq!(e["block_size_preferred"].as_u64(), Some(2048), "{e}");
        assert_eq!(e["block_size_maximum"].as_u64(), Some(32 << 20), "{e}");
        assert_eq!(e["is_read_only"], true, "{e}");
        let raw = format!("drive{i}.raw");
        assert!(
            exports.iter().any(|e| e["export-name"] == raw.as_str()),
            "{raw} not listed"
        );
    }
    let info = tool_ok("nbdinfo", &[&uri(&env, "drive0")]);
    assert!(info.contains("structured"), "{info}");

    // nbdcopy with four connections, byte for byte.
    let copy = env.root().join("copy.iso");
    tool_ok(
        "nbdcopy",
        &[
            "--connections=4",
            &uri(&env, "drive2"),
            copy.to_str().unwrap(),
        ],
    );
    assert!(
        std::fs::read(&copy).unwrap() == std::fs::read(&isos[2]).unwrap(),
        "nbdcopy copy differs"
    );

    // An ejected drive's export is gone.
    env.ok(&["eject", "3"]);
    let o = tool("nbdinfo", &[&uri(&env, "drive3")]);
    assert!(!o.status.success(), "drive3 still exported after eject");
}

#[test]
fn unstored_pregap_maps_as_zero() {
    let env = Env::new(120);
    let chd = sample("generated-chd/mixed-mode1-audio.chd");
    env.ok(&["load", "0", chd.to_str().unwrap()]);
    let map: Value = serde_json::from_str(&tool_ok(
        "nbdinfo",
        &["--map", "--json", &uri(&env, "drive0.raw")],
    ))
    .unwrap();
    let runs = map.as_array().unwrap_or_else(|| panic!("{map}"));
    // Track 2 (audio) starts at raw sector 452 - (-150)... read the model through `spindle info --json`.
    let info: Value =
        serde_json::from_str(&env.ok(&["info", "--json", chd.to_str().unwrap()])).unwrap();
    let tracks = info["sessions"][0]["tracks"]
        .as_array()
        .unwrap_or_else(|| panic!("{info}"));
    let first_start = tracks[0]["start"].as_i64().unwrap() - tracks[0]["pregap"].as_i64().unwrap();
    let pregap_at = (tracks[1]["start"].as_i64().unwrap()
        - tracks[1]["pregap"].as_i64().unwrap()
        - first_start) as u64
        * 2352;
    let zero = runs
        .iter()
        .find(|r| r["offset"].as_u64() == Some(pregap_at))
        .unwrap_or_else(|| panic!("no extent at {pregap_at}: {map}"));
    assert_eq!(zero["length"].as_u64(), Some(150 * 2352), "{zero}");
    assert_eq!(zero["type"].as_u64(), Some(3), "hole+zero expected: {zero}");
    assert!(
        runs.iter().any(|r| r["type"].as_u64() == Some(0)),
        "no data extents: {map}"
    );
}

fn share(env: &Env, args: &[&str]) -> Vec<String> {
    let mut a = vec!["share"];
    a.extend_from_slice(args);
    env.ok(&a).lines().map(str::to_string).collect()
}

fn psk_file(dir: &Path) -> std::path::PathBuf {
    let f = dir.join("keys.psk");
    tool_ok("psktool", &["-u", "alice", "-p", f.to_str().unwrap()]);
    f
}

#[test]
fn share_over_tcp_plain_and_tls() {
    let env = Env::new(180);
    let iso = sample("libcdio/joliet.iso");
    env.ok(&["load", "0", iso.to_str().unwrap()]);
    env.ok(&["load", "1", iso.to_str().unwrap()]);
    let size = std::fs::metadata(&iso).unwrap().len().to_string();

    // Loopback without TLS.
    let uris = share(&env, &["0", "--listen", "127.0.0.1:0"]);
    let plain = uris
        .iter()
        .find(|u| u.ends_with("/drive0"))
        .unwrap_or_else(|| panic!("{uris:?}"));
    assert!(plain.starts_with("nbd://127.0.0.1:"), "{plain}");
    assert_eq!(tool_ok("nbdinfo", &["--size", plain]).trim(), size);
    tool_ok(
        "qemu-img",
        &[
            "compare",
            "-f",
            "raw",
            "-F",
            "raw",
            iso.to_str().unwrap(),
            plain,
        ],
    );
    // Only drive 0 is on that address.
    let other = plain.replace("/drive0", "/drive1");
    assert!(
        !tool("nbdinfo", &[&other]).status.success(),
        "drive1 served on drive0's share"
    );
    assert!(
        env.drives()["drives"][0]["nbd"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == plain.as_str())
    );

    // Off loopback, TLS is required.
    let o = env.run(&["share", "1", "--listen", "0.0.0.0:0"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("needs TLS"),
        "{o:?}"
    );

    // PSK: nbds:// works, a plain client is refused.
    let keys = psk_file(&env.root());
    let uris = share(
        &env,
        &[
            "1",
            "--listen",
            "0.0.0.0:0",
            "--tls-psk",
            keys.to_str().unwrap(),
        ],
    );
    let tls = uris
        .iter()
        .find(|u| u.ends_with("/drive1"))
        .unwrap_or_else(|| panic!("{uris:?}"));
    assert!(tls.starts_with("nbds://"), "{tls}");
    let port = tls.rsplit(':').next().unwrap().split('/').next().unwrap();
    let with_psk = format!(
        "nbds://alice@127.0.0.1:{port}/drive1?tls-psk-file={}",
        keys.display()
    );
    assert_eq!(tool_ok("nbdinfo", &["--size", &with_psk]).trim(), size);
    let o = tool(
        "nbdinfo",
        &["--size", &format!("nbd://127.0.0.1:{port}/drive1")],
    );
    assert!(
        !o.status.success(),
        "a plain client was served by a TLS share"
    );

    // A restarted daemon shares again, on the same ports.
    let pid = env.daemon_pid().expect("daemon pid");
    // SAFETY: plain kill(2) of the daemon this test's CLI started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while spindle_daemon::client::ping(&env.socket()) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !tool("nbdinfo", &["--size", plain]).status.success(),
        "share up after SIGTERM"
    );
    env.ok(&["drives"]);
    assert_eq!(
        tool_ok("nbdinfo", &["--size", plain]).trim(),
        size,
        "drive 0 not shared again"
    );
    assert_eq!(
        tool_ok("nbdinfo", &["--size", &with_psk]).trim(),
        size,
        "drive 1 not shared again"
    );

    // --stop ends a share.
    env.ok(&["share", "0", "--stop"]);
    assert!(
        !tool("nbdinfo", &["--size", plain]).status.success(),
        "share still up after --stop"
    );
    assert!(
        !env.run(&["share", "0", "--stop"]).status.success(),
        "a second --stop must fail"
    );
}

/// The saved shares in the daemon's state file.
fn saved_shares(env: &Env) -> Vec<Value> {
    let text = std::fs::read_to_string(env.state().join("spindle/drives.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["shares"].as_array().cloned().unwrap_or_default()
}

#[test]
fn concurrent_shares_of_one_drive_start_one_and_save_what_runs() {
    let env = Env::new(180);
    let iso = sample("libcdio/joliet.iso");
    env.ok(&["load", "0", iso.to_str().unwrap()]);
    let socket = env.socket();
    for round in 0..6 {
        // Eight clients connected first, then all ask at once, each for its own port.
        let mut clients: Vec<_> = (0..8)
            .map(|_| spindle_daemon::client::Client::connect(&socket).unwrap())
            .collect();
        let barrier = std::sync::Barrier::new(clients.len());
        let started = std::thread::scope(|s| {
            let handles: Vec<_> = clients
                .iter_mut()
                .map(|c| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        c.share(spindle_daemon::protocol::ShareArgs {
                            drive: 0,
                            listen: "127.0.0.1:0".into(),
                            ..Default::default()
                        })
                        .is_ok()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|&ok| ok)
                .count()
        });
        assert_eq!(
            started, 1,
            "round {round}: {started} shares of drive 0 started"
        );
        let d = env.drives();
        let shared_on: Vec<&str> = d["drives"][0]["nbd"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .filter(|u| u.starts_with("nbd://"))
            .collect();
        assert_eq!(
            shared_on.len(),
            2,
            "round {round}: drive 0 shared more than once: {shared_on:?}"
        );
        assert_eq!(
            saved_shares(&env).len(),
            1,
            "round {round}: saved shares: {:?}",
            saved_shares(&env)
        );
        env.ok(&["share", "0", "--stop"]);
        assert!(
            saved_shares(&env).is_empty(),
            "round {round}: a stopped share is still saved"
        );
    }
}
