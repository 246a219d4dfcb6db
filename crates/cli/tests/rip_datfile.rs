//! A rip's hash log (`x.ext.dat`) and `spindle verify --json` of the image it wrote list the
//! same track hashes: both use one definition of a track file (spindle_disc::track_files).
//! Rips go through the real command against the in-process emulated drive (`--emulate`).

mod common;

use common::spindle;
use serde_json::Value;
use spindle_testkit::samples;
use std::path::Path;

/// (name-free) `size crc md5 sha1` of each `<rom>` of the per-track game in a datfile.
fn datfile_tracks(dat: &str) -> Vec<String> {
    let game = dat.split("</game>").next().unwrap_or_default();
    game.lines()
        .filter_map(|l| l.trim().strip_prefix("<rom "))
        .map(|l| {
            let attr = |k: &str| {
                let at = l
                    .find(&format!(" {k}=\""))
                    .unwrap_or_else(|| panic!("{k} in {l}"))
                    + k.len()
                    + 3;
                l[at..at + l[at..].find('"').unwrap()].to_string()
            };
            format!(
                "{} {} {} {}",
                attr("size"),
                attr("crc"),
                attr("md5"),
                attr("sha1")
            )
        })
        .collect()
}

fn verify_tracks(img: &Path) -> (Vec<String>, Value) {
    let out = spindle(&["verify", "--json", img.to_str().unwrap()]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify {}: {e}: {}",
            img.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let tracks = v["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{} {} {} {}",
                t["size"],
                t["crc32"].as_str().unwrap(),
                t["md5"].as_str().unwrap(),
                t["sha1"].as_str().unwrap()
            )
        })
        .collect();
    (tracks, v)
}

#[test]
fn the_rip_hash_log_and_verify_agree() {
    let dir = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for (i, rel) in [
        "libcdio/isofs-m1.cue",
        "libcdio/cdda.cue",
        "debian-ipxe/ipxe.iso",
        "generated-chd/mixed-mode1-audio.chd",
        "cditools/test.cdi",
    ]
    .iter()
    .enumerate()
    {
        let src = samples().join(rel);
        for ext in ["cue", "iso", "mds"] {
            let out = dir
                .path()
                .join(format!("{i}-{ext}"))
                .join(format!("x.{ext}"));
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            let r = spindle(&[
                "rip",
                "--emulate",
                src.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ]);
            if !r.status.success() {
                // An ISO cannot hold an audio track: the rip refuses, as convert does.
                assert!(
                    ext == "iso",
                    "{rel} -> {ext}: {}",
                    String::from_utf8_lossy(&r.stderr)
                );
                continue;
            }
            let dat = std::fs::read_to_string(
                dir.path()
                    .join(format!("{i}-{ext}"))
                    .join(format!("x.{ext}.dat")),
            )
            .unwrap();
            let (verified, v) = verify_tracks(&out);
            assert_eq!(v["image"], out.to_str().unwrap());
            let logged = datfile_tracks(&dat);
            assert!(!logged.is_empty(), "{dat}");
            assert_eq!(
                logged, verified,
                "{rel} -> {ext}: the hash log and `verify` disagree\n{dat}\n{v}"
            );
            // Extension of the track files the log names: .bin for raw sectors, .iso for user data.
            let bin = dat.contains(".bin\" size=");
            assert_eq!(bin, v["raw"] == true, "{rel} -> {ext}: {dat}");
            compared += 1;
        }
    }
    assert!(compared >= 12, "only {compared} rips compared");
}
