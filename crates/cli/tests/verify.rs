//! `spindle verify` end to end, with real tools as oracles: xorriso and isoinfo (ISO 9660
//! volume size), mkudffs and udfinfo (UDF partition space), md5sum/sha1sum/sha256sum (file
//! hashes), gzip (CRC-32 in its trailer).

mod common;

use common::spindle;
use serde_json::Value;
use spindle_disc::sector::build_raw;
use spindle_disc::{Lba, MainLayout, TrackMode};
use spindle_testkit::samples;
use spindle_testkit::tools::tool;
use std::path::Path;
use std::process::{Command, Output};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn sum(cmd: &str, p: &Path) -> String {
    tool(cmd, &[s(p)])
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// gzip's trailer holds the CRC-32 of its input.
fn gzip_crc(p: &Path) -> String {
    let o = Command::new("gzip")
        .args(["-c", "-1", s(p)])
        .output()
        .expect("gzip");
    let t = &o.stdout[o.stdout.len() - 8..];
    format!("{:08x}", u32::from_le_bytes([t[0], t[1], t[2], t[3]]))
}

fn cut(src: &Path, dst: &Path, len: usize) {
    std::fs::write(dst, &std::fs::read(src).unwrap()[..len]).unwrap();
}

/// Text verify: (exit code, stdout).
fn verify(p: &Path) -> (Option<i32>, String) {
    let o = spindle(&["verify", s(p)]);
    (o.status.code(), out(&o))
}

#[test]
fn a_truncated_iso_fails_and_says_how_much_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let data = spindle_testkit::pattern::bytes(3 << 20, 2);
    std::fs::write(tree.join("big.dat"), &data).unwrap();
    let iso = dir.path().join("good.iso");
    tool(
        "xorriso",
        &[
            "-as",
            "mkisofs",
            "-quiet",
            "-V",
            "CUTME",
            "-o",
            s(&iso),
            s(&tree),
        ],
    );
    let (code, text) = verify(&iso);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.ends_with("\nOK\n"), "{text}");

    // isoinfo's volume size (sectors) against what the first MiB holds.
    let info = tool("isoinfo", &["-d", "-i", s(&iso)]);
    let vss: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("Volume size is: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{info}"));
    let short = dir.path().join("short.iso");
    cut(&iso, &short, 1 << 20);
    let (code, text) = verify(&short);
    assert_eq!(code, Some(1), "{text}");
    let missing = (vss - 512) * 2048;
    assert!(
        text.contains(&format!(
            "ISO 9660 volume space size declares {vss} sectors but the image holds 512"
        )) && text.contains(&format!("{missing} bytes")),
        "{text}"
    );
    assert!(text.ends_with("\nFAILED: 1 problem\n"), "{text}");
    let o = spindle(&["verify", "--json", s(&short)]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["image"], s(&short));
    assert_eq!(v["result"], "FAILED");
    assert_eq!(v["missing"][0]["declared"], vss);
}

#[test]
fn a_truncated_udf_image_fails() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("udf.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(8 << 20)
        .unwrap();
    tool("mkudffs", &["--blocksize=2048", "--label=CUTUDF", s(&img)]);
    let (code, text) = verify(&img);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.ends_with("\nOK\n"), "{text}");
    // udfinfo: "start=257, blocks=3576, type=PSPACE".
    let info = tool("udfinfo", &[s(&img)]);
    let pspace = info
        .lines()
        .find(|l| l.ends_with("type=PSPACE"))
        .unwrap_or_else(|| panic!("{info}"));
    let num = |k: &str| -> u64 {
        let at = pspace.find(k).unwrap() + k.len();
        pspace[at..].split(',').next().unwrap().parse().unwrap()
    };
    let end = num("start=") + num("blocks=");
    let short = dir.path().join("short.img");
    cut(&img, &short, 1 << 20);
    let (code, text) = verify(&short);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "UDF partition 0 declares {end} sectors but the image holds 512: {} sectors",
            end - 512
        )),
        "{text}"
    );
    assert!(text.contains("FAILED: "), "{text}");
}

#[test]
fn usage_errors_exit_2_and_failures_exit_1() {
    assert_eq!(spindle(&["verify"]).status.code(), Some(2));
    assert_eq!(
        spindle(&["verify", "--no-such-flag", "x.iso"])
            .status
            .code(),
        Some(2)
    );
    // An image that is not there is a failure to verify, not a usage error.
    let o = spindle(&["verify", "/nonexistent/x.iso"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/x.iso"));
    // With --json the failure is an answer too, naming the image.
    let o = spindle(&["verify", "--json", "/nonexistent/x.iso"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["image"].as_str(), v["result"].as_str()),
        (Some("/nonexistent/x.iso"), Some("FAILED"))
    );
    assert!(
        v["error"].as_str().unwrap().contains("/nonexistent/x.iso"),
        "{v}"
    );
}

#[test]
fn file_hashes_are_those_of_the_files_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("game.iso");
    std::fs::copy(samples().join("libcdio/copying.iso"), &iso).unwrap();
    tool("xz", &["-k", "-0", s(&iso)]);
    let xz = dir.path().join("game.iso.xz");
    let cue = samples().join("libcdio/isofs-m1.cue");
    let bin = samples().join("libcdio/isofs-m1.bin");
    for (image, files) in [
        (&iso, vec![iso.clone()]),
        (&xz, vec![xz.clone()]),
        (&cue, vec![cue.clone(), bin.clone()]),
    ] {
        let o = spindle(&["verify", "--json", s(image)]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["result"], "OK");
        let got = v["files"].as_array().unwrap();
        assert_eq!(got.len(), files.len(), "{v}");
        for (g, f) in got.iter().zip(&files) {
            assert_eq!(
                std::fs::canonicalize(g["path"].as_str().unwrap()).unwrap(),
                std::fs::canonicalize(f).unwrap()
            );
            assert_eq!(g["size"], std::fs::metadata(f).unwrap().len());
            assert_eq!(g["md5"], sum("md5sum", f), "{}", f.display());
            assert_eq!(g["sha1"], sum("sha1sum", f), "{}", f.display());
            assert_eq!(g["sha256"], sum("sha256sum", f), "{}", f.display());
            assert_eq!(g["crc32"], gzip_crc(f), "{}", f.display());
        }
        // The text form prints the same SHA-256.
        let (_, text) = verify(image);
        assert!(
            text.contains(&format!("sha256 {}", sum("sha256sum", &files[0]))),
            "{text}"
        );
    }
    // A plain ISO stores no raw sectors: its one track file is the ISO itself, not a made-up
    // BIN.
    let o = spindle(&["verify", "--json", s(&iso)]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["raw"], false);
    assert_eq!(v["tracks"][0]["md5"], sum("md5sum", &iso));
    assert!(out(&spindle(&["verify", s(&iso)])).contains("<rom name=\"game.iso\""));
    // A CUE/BIN's track file is its BIN.
    let v: Value = serde_json::from_slice(&spindle(&["verify", "--json", s(&cue)]).stdout).unwrap();
    assert_eq!(v["raw"], true);
    assert_eq!(v["tracks"][0]["md5"], sum("md5sum", &bin));
}

/// A Mode 2 Form 1 image of 2336-byte sectors (subheader, data, EDC/ECC; no sync or
/// header), made from an ISO's user data.
fn mode2_2336(iso: &[u8]) -> Vec<u8> {
    let mut img = Vec::new();
    for (i, user) in iso.chunks_exact(2048).enumerate() {
        let mut raw = [0u8; 2352];
        build_raw(
            &mut raw,
            Lba(i as i32),
            TrackMode::Mode2Form1,
            &MainLayout::USER,
            Some(user),
        );
        img.extend_from_slice(&raw[16..]);
    }
    img
}

#[test]
fn edc_of_2336_byte_sectors_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let iso = std::fs::read(samples().join("libcdio/copying.iso")).unwrap();
    let good = dir.path().join("good.iso");
    let img = mode2_2336(&iso);
    std::fs::write(&good, &img).unwrap();
    let v: Value =
        serde_json::from_slice(&spindle(&["verify", "--json", s(&good)]).stdout).unwrap();
    assert_eq!(v["result"], "OK", "{v}");
    let sectors = (iso.len() / 2048) as u64;
    assert_eq!(v["tracks"][0]["good"], sectors, "{v}");
    assert_eq!(v["tracks"][0]["checked"], sectors, "{v}");

    // One byte of user data in sector 20 (subheader at 0, data from 8).
    let mut bad = img.clone();
    bad[20 * 2336 + 8 + 100] ^= 0x01;
    let path = dir.path().join("bad.iso");
    std::fs::write(&path, &bad).unwrap();
    let (code, text) = verify(&path);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("sector 20: EDC mismatch"), "{text}");
    assert!(text.ends_with("\nFAILED: 1 problem\n"), "{text}");

    // The CDI sample stores Form 1 sectors as 2336 bytes with zeros for their EDC/ECC:
    // checked now (not "no stored EDC/ECC"), and named for what they are.
    let (code, text) = verify(&samples().join("cditools/test.cdi"));
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("EDC/ECC not stored (zeros where they belong)"),
        "{text}"
    );
}
