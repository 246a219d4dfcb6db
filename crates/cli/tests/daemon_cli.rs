//! `spindle mount`, `drives`, `load`, `eject` through the CLI binary against a real daemon
//! (started on demand by the first command) and real FUSE mounts.

mod daemon_common;

use daemon_common::{Env, files, sample};
use std::path::{Path, PathBuf};

fn extract(env: &Env, image: &Path, out: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    env.ok(&[
        "extract",
        image.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    files(out)
}

#[test]
fn mount_list_load_eject() {
    let env = Env::new(120);
    let joliet = sample("libcdio/joliet.iso");
    let copying = sample("libcdio/copying.iso");
    // The first command starts the daemon.
    let at = PathBuf::from(env.ok(&["mount", joliet.to_str().unwrap()]).trim());
    assert!(at.starts_with(env.media()), "{}", at.display());
    assert_eq!(at.file_name().unwrap(), "K3b data project");
    let want = extract(&env, &joliet, &env.root().join("x1"));
    assert_eq!(files(&at), want);
    let d = env.drives();
    assert_eq!(d["count"], 4);
    assert_eq!(d["drives"][0]["image"], joliet.to_str().unwrap());
    assert_eq!(d["drives"][0]["format"], "iso");
    assert_eq!(d["drives"][0]["medium"], "CD-ROM");
    assert_eq!(d["drives"][0]["label"], "K3b data project");
    assert_eq!(d["drives"][0]["mountpoints"][0], at.to_str().unwrap());
    let table = env.ok(&["drives"]);
    assert!(
        table.contains("K3b data project") && table.contains("(empty)"),
        "{table}"
    );
    // The raw views of drive 0.
    let raw = PathBuf::from(d["raw"].as_str().unwrap()).join("drives/0/disc.iso");
    assert_eq!(
        std::fs::read(&raw).unwrap(),
        std::fs::read(&joliet).unwrap()
    );

    // Swap the disc: the same mount point shows the other disc's files.
    let out = env.ok(&["load", "0", copying.to_str().unwrap()]);
    assert_eq!(out.trim(), at.to_str().unwrap());
    assert_eq!(files(&at), extract(&env, &copying, &env.root().join("x2")));
    assert_eq!(
        env.drives()["drives"][0]["image"],
        copying.to_str().unwrap()
    );

    // Eject by mount point: the directory the daemon made goes too.
    env.ok(&["eject", at.to_str().unwrap()]);
    assert!(env.tree_mounts().is_empty());
    assert!(!at.exists());

    // --at a directory, --drive, eject by image and by drive number.
    let mine = env.root().join("mine");
    std::fs::create_dir(&mine).unwrap();
    let out = env.ok(&[
        "mount",
        joliet.to_str().unwrap(),
        "--at",
        mine.to_str().unwrap(),
        "--drive",
        "2",
    ]);
    assert_eq!(out.trim(), mine.to_str().unwrap());
    assert_eq!(
        env.drives()["drives"][2]["mountpoints"][0],
        mine.to_str().unwrap()
    );
    assert_eq!(files(&mine), want);
    let busy = env.run(&["mount", copying.to_str().unwrap(), "--drive", "2"]);
    assert!(!busy.status.success());
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("drive 2 holds"),
        "{busy:?}"
    );
    env.ok(&["eject", joliet.to_str().unwrap()]);
    assert!(mine.exists(), "a directory the user named stays");
    env.ok(&["mount", copying.to_str().unwrap(), "--drive", "1"]);
    env.ok(&["eject", "1"]);
    let empty = env.run(&["eject", "1"]);
    assert!(
        String::from_utf8_lossy(&empty.stderr).contains("drive 1 is empty"),
        "{empty:?}"
    );
    assert!(env.tree_mounts().is_empty());

    // Counts: 64 drives, then back to 4.
    let d: serde_json::Value =
        serde_json::from_str(&env.ok(&["drives", "--json", "--count", "64"])).unwrap();
    assert_eq!(d["drives"].as_array().unwrap().len(), 64);
    env.ok(&["mount", joliet.to_str().unwrap(), "--drive", "63"]);
    let refused = env.run(&["drives", "--count", "4"]);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("drive 63 is loaded"),
        "{refused:?}"
    );
    env.ok(&["eject", "--all"]);
    env.ok(&["drives", "--count", "4"]);
    assert_eq!(env.drives()["count"], 4);
    assert!(env.tree_mounts().is_empty());
}

const EIGHT: [&str; 8] = [
    "libcdio/joliet.iso",
    "libcdio/copying.iso",
    "libcdio/copying-rr.iso",
    "libcdio/isofs-m1.cue",
    "mdsx/test.mds",
    "mdsx/test_compress.mdx",
    "cditools/test.cdi",
    "generated-chd/isofs-m1.chd",
];

#[test]
fn eight_drives_at_once() {
    let env = Env::new(180);
    env.ok(&["drives", "--count", "8"]);
    let mut mounts = Vec::new();
    for (i, rel) in EIGHT.iter().enumerate() {
        let img = sample(rel);
        let at = PathBuf::from(env.ok(&["mount", img.to_str().unwrap()]).trim());
        let want = extract(&env, &img, &env.root().join(format!("x{i}")));
        mounts.push((rel, at, want));
    }
    // Every mount point is distinct even where labels repeat.
    let mut paths: Vec<_> = mounts.iter().map(|m| m.1.clone()).collect();
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 8);
    std::thread::scope(|s| {
        for (rel, at, want) in &mounts {
            s.spawn(move || {
                for _ in 0..3 {
                    assert_eq!(&files(at), want, "{rel}");
                }
            });
        }
    });
    let d = env.drives();
    let drives = d["drives"].as_array().unwrap();
    for (i, (rel, at, _)) in mounts.iter().enumerate() {
        assert_eq!(drives[i]["image"], sample(rel).to_str().unwrap());
        assert_eq!(drives[i]["mountpoints"][0], at.to_str().unwrap());
    }
    assert_eq!(env.tree_mounts().len(), 8);
    env.ok(&["eject", "--all"]);
    let left = env.tree_mounts();
    assert!(left.is_empty(), "left behind: {left:?}");
    // Only the daemon's raw-views mount remains, and it goes with the daemon.
    assert_eq!(env.all_mounts(), [env.runtime().join("spindle/raw")]);
    assert!(
        env.drives()["drives"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["image"].is_null())
    );
}
