//! `spindle rip` through the real command against the in-process emulated drive (the hidden
//! `--emulate IMAGE` option): every sample the registry reads, ripped to each output format
//! (ISO where the disc allows it, MDS, CUE, CCD), reads back with the source's TOC (`spindle
//! info --json`) and per-track hashes (`spindle verify --json`); the hash log lists the
//! source's track hashes.

mod common;

use serde_json::Value;
use spindle_testkit::samples;
use std::path::{Path, PathBuf};
use std::process::Command;

fn spindle(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(args)
        .output()
        .expect("run spindle")
}

fn json(args: &[&str]) -> Value {
    let out = spindle(args);
    assert!(
        out.status.success(),
        "spindle {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The TOC of an image: per session its lead-out, per track number, mode, start, length,
/// pregap, CONTROL, ISRC and indexes.
fn toc(img: &Path) -> Vec<String> {
    let v = json(&["info", "--json", img.to_str().unwrap()]);
    let mut out = vec![format!("medium {} mcn {}", v["medium"], v["mcn"])];
    for s in v["sessions"].as_array().unwrap() {
        out.push(format!("session {} leadout {}", s["number"], s["leadout"]));
        for t in s["tracks"].as_array().unwrap() {
            out.push(format!(
                "track {} {} start {} length {} pregap {} control {} isrc {} indexes {}",
                t["number"],
                t["mode"],
                t["start"],
                t["length"],
                t["pregap"],
                t["control"],
                t["isrc"],
                t["indexes"]
            ));
        }
    }
    out
}

/// Per-track (number, sectors, raw or user-data form; mode, CRC32, MD5, SHA-1) from `spindle
/// verify --json`: the track files (raw sectors where the image stores them, else user data).
fn verify_hashes(img: &Path) -> Vec<(String, String)> {
    // Exit status 1 is sectors failing their EDC: the CDI sample stores Form 1 sectors
    // without their EDC/ECC (zeros), and a rip of it carries what it has.
    let out = spindle(&["verify", "--json", img.to_str().unwrap()]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "verify {}: {}",
        img.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let form = if v["raw"] == true { "raw" } else { "user" };
    v["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                format!("{} {} {form}", t["number"], t["sectors"]),
                format!("{} {} {} {}", t["mode"], t["crc32"], t["md5"], t["sha1"]),
            )
        })
        .collect()
}

/// Per-track SHA-1 of the sectors from index 1 to the track's end (raw for CDs, user data
/// for DVDs): the same whether the image stores the pregaps (a rip does) or not.
fn hashes(img: &Path) -> Vec<String> {
    let d = spindle_image::open(img).unwrap();
    let (fmt, size) = if d.medium.is_cd() {
        (spindle_disc::SectorFormat::RAW, 2352)
    } else {
        (spindle_disc::SectorFormat::USER_2048, 2048)
    };
    let mut buf = vec![0u8; 64 * size];
    d.tracks()
        .map(|t| {
            let mut h = spindle_rip::hash::Hasher::new();
            let mut at = t.index1();
            while at < t.end() {
                let n = (t.end().since(at) as u32).min(64);
                let got = d.read_sectors(at, n, fmt, &mut buf).unwrap();
                h.update(&buf[..got]);
                at = at.offset(n as i64);
            }
            format!("track {} {}", t.number, h.finish().sha1)
        })
        .collect()
}

/// `verify --json` agrees with the source on every track both store alike.
fn same_verify(src: &[(String, String)], out: &[(String, String)]) -> usize {
    assert_eq!(src.len(), out.len());
    let mut same = 0;
    for (a, b) in src.iter().zip(out) {
        if a.0 == b.0 {
            assert_eq!(a.1, b.1, "verify hashes of track {}", a.0);
            same += 1;
        }
    }
    same
}

#[test]
fn samples_ripped_to_every_format_read_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    // A CCD source: the mixed data + audio CHD converted (no CCD sample is stored).
    let ccd_src = dir.path().join("src-ccd").join("mixed.ccd");
    std::fs::create_dir_all(ccd_src.parent().unwrap()).unwrap();
    let chd = samples().join("generated-chd/mixed-mode1-audio.chd");
    let out = spindle(&["convert", chd.to_str().unwrap(), ccd_src.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut sources: Vec<PathBuf> = [
        "debian-ipxe/ipxe.iso",
        "libcdio/copying.iso",
        "libcdio/isofs-m1.cue",
        "libcdio/cdda.cue",
        "libcdio/p1.nrg",
        "libcdio/videocd.nrg",
        "cditools/test.cdi",
        "generated-chd/mixed-mode1-audio.chd",
        "generated-chd/cdda.chd",
        "mdsx/test.mds",
        "mdsx/test.mdx",
    ]
    .iter()
    .map(|r| samples().join(r))
    .collect();
    sources.push(ccd_src);
    let mut ripped = 0;
    let mut isos = 0;
    let mut full = 0;
    let mut verified = 0;
    for (i, src) in sources.iter().enumerate() {
        let s = src.to_str().unwrap();
        let src_toc = toc(src);
        let src_hashes = hashes(src);
        let src_verify = verify_hashes(src);
        for ext in ["iso", "mds", "cue", "ccd"] {
            let d = dir.path().join(format!("{i}-{ext}"));
            std::fs::create_dir_all(&d).unwrap();
            let outp = d.join(format!("x.{ext}"));
            let o = outp.to_str().unwrap();
            // Whether the format can hold this disc: the same writer converting the source.
            let conv = spindle(&["convert", s, d.join(format!("ref.{ext}")).to_str().unwrap()]);
            let r = spindle(&["rip", "--emulate", s, "-o", o]);
            let err = String::from_utf8_lossy(&r.stderr).to_string();
            if !conv.status.success() {
                assert!(
                    !r.status.success(),
                    "{s} -> {ext}: convert refused but rip wrote it"
                );
                continue;
            }
            assert!(r.status.success(), "{s} -> {ext}: {err}");
            let stdout = String::from_utf8_lossy(&r.stdout).to_string();
            assert!(stdout.contains("no errors"), "{s} -> {ext}: {stdout}");
            // The TOC is the source's as far as the format keeps it (ISO drops the MCN...):
            // that of the source converted by the same writer.
            let ref_toc = toc(&d.join(format!("ref.{ext}")));
            assert_eq!(toc(&outp), ref_toc, "{s} -> {ext}: TOC");
            if ref_toc == src_toc {
                full += 1;
            } else {
                eprintln!(
                    "{s} -> {ext}: the format keeps less than the source: {ref_toc:?} vs {src_toc:?}"
                );
            }
            assert_eq!(hashes(&outp), src_hashes, "{s} -> {ext}: track hashes");
            verified += same_verify(&src_verify, &verify_hashes(&outp));
            // The work file and map are gone after a complete rip; the hash log is there.
            assert!(!d.join(format!("x.{ext}.rip")).exists());
            assert!(!d.join(format!("x.{ext}.rip.map")).exists());
            let log = std::fs::read_to_string(d.join(format!("x.{ext}.dat"))).unwrap();
            assert!(
                log.contains("<datafile>") && log.contains("no errors"),
                "{log}"
            );
            let roms = log.matches("<rom ").count();
            let want = if src_hashes.len() > 1 {
                src_hashes.len() + 1
            } else {
                1
            };
            assert_eq!(roms, want, "{s} -> {ext}: hash log {log}");
            if ext == "iso" {
                isos += 1;
                let a = std::fs::read(&outp).unwrap();
                let b = std::fs::read(d.join("ref.iso")).unwrap();
                assert!(a == b, "{s} -> iso: differs from `spindle convert`'s ISO");
            }
            ripped += 1;
        }
    }
    assert!(ripped >= 35, "only {ripped} rips were possible");
    assert!(isos >= 5, "only {isos} ISO rips");
    assert!(
        verified >= ripped,
        "only {verified} tracks compared by `spindle verify`"
    );
    assert!(
        full * 4 >= ripped * 3,
        "only {full} of {ripped} rips kept the source's whole TOC"
    );
}

/// A DVD ripped to MDS keeps the drive's PFI, DMI and BCA (the MDS writer stores them): the
/// structures read back from the MDS equal those the emulated drive answers through the
/// library's layout; the ISO of the same rip equals the source.
#[test]
fn dvd_structures_are_kept_in_mds() {
    let src = samples().join("libcdio/copying.iso");
    let s = src.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mds = dir.path().join("x.mds");
    let r = spindle(&[
        "rip",
        "--emulate",
        s,
        "--emulate-dvd",
        "--emulate-bca",
        "53504e44",
        "-o",
        mds.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let back = spindle_image::open(&mds).unwrap();
    assert_eq!(back.medium, spindle_disc::Medium::DvdRom);
    let mut disc = spindle_image::open(&src).unwrap();
    disc.medium = spindle_disc::Medium::DvdRom;
    disc.structures.bca = Some(b"SPND".to_vec());
    let drive = spindle_mmc::EmulatedDrive::new(Some(std::sync::Arc::new(disc)));
    let layout = spindle_rip::layout::read_layout(&mut spindle_mmc::Mmc::new(&drive)).unwrap();
    assert_eq!(layout.pfi.len(), 1);
    assert_eq!(back.structures.pfi, layout.pfi, "PFI");
    assert_eq!(back.structures.dmi, layout.dmi, "DMI");
    assert_eq!(back.structures.bca, Some(b"SPND".to_vec()), "BCA");
    let iso = dir.path().join("x.iso");
    let r = spindle(&[
        "rip",
        "--emulate",
        s,
        "--emulate-dvd",
        "-o",
        iso.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(std::fs::read(&iso).unwrap() == std::fs::read(&src).unwrap());
    let log = std::fs::read_to_string(dir.path().join("x.iso.dat")).unwrap();
    assert!(log.contains("<rom name=\"x.iso\" size=\"131072\""), "{log}");
}
