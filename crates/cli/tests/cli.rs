//! The `spindle` binary end to end: real sample images, real peer tools (bchunk) as oracles.

mod common;

use common::spindle;
use spindle_testkit::digest::md5_file;
use spindle_testkit::samples;
use std::path::Path;
use std::process::{Command, Output};

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn convert_isofs_m1_cue_to_iso_matches_bchunk() {
    let dir = tempfile::tempdir().unwrap();
    let cue = samples().join("libcdio/isofs-m1.cue");
    let ours = dir.path().join("ours.iso");
    let o = spindle(&["convert", s(&cue), s(&ours)]);
    assert!(o.status.success(), "{:?}", text(&o));
    // bchunk wants the BIN by its real name; the cue names ISOFS-M1.BIN.
    let bchunk = Command::new("bchunk")
        .args([
            s(&samples().join("libcdio/isofs-m1.bin")),
            s(&cue),
            s(&dir.path().join("bchunk")),
        ])
        .output()
        .expect("bchunk must be installed (scripts/setup installs it)");
    assert!(
        bchunk.status.success(),
        "{}",
        String::from_utf8_lossy(&bchunk.stderr)
    );
    let theirs = dir.path().join("bchunk01.iso");
    assert_eq!(std::fs::metadata(&ours).unwrap().len(), 302 * 2048);
    assert_eq!(
        md5_file(&ours),
        md5_file(&theirs),
        "spindle and bchunk disagree"
    );
}

#[test]
fn info_json_describes_cue_and_iso() {
    let o = spindle(&["info", "--json", s(&samples().join("libcdio/cdda.cue"))]);
    assert!(o.status.success(), "{:?}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["format"], "cue");
    assert_eq!(v["medium"], "CD-ROM");
    assert_eq!(v["mcn"], "0000010271955");
    assert_eq!(v["cdtext"]["title"], "Join us now we have the software");
    let t = &v["sessions"][0]["tracks"][0];
    assert_eq!(
        (
            t["number"].as_u64(),
            t["mode"].as_str(),
            t["start"].as_i64(),
            t["length"].as_u64()
        ),
        (Some(1), Some("audio"), Some(0), Some(302))
    );
    assert_eq!(t["flags"][0], "DCP");
    assert_eq!(t["cdtext"]["performer"], "Richard S");

    let o = spindle(&["info", s(&samples().join("libcdio/isofs-m1.cue"))]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("Label:    CDROM"), "{out}");
    assert!(out.contains("MCN:      0000012101954"), "{out}");
}

#[test]
fn converting_audio_to_iso_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.iso");
    let o = spindle(&["convert", s(&samples().join("libcdio/cdda.cue")), s(&out)]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("audio track"), "{err}");
    assert!(!out.exists(), "nothing written on refusal");

    // A data + audio disc converts to ISO with --data-only, keeping the data track.
    let mixed = dir.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    std::fs::copy(
        samples().join("libcdio/isofs-m1.bin"),
        mixed.join("ISOFS-M1.BIN"),
    )
    .unwrap();
    std::fs::copy(
        samples().join("libcdio/cdda_4_5.bin"),
        mixed.join("cdda_4_5.bin"),
    )
    .unwrap();
    let cue = mixed.join("m.cue");
    std::fs::copy(
        samples().join("generated-chd/mixed-mode1-audio.source.cue"),
        &cue,
    )
    .unwrap();
    let o = spindle(&["convert", s(&cue), s(&out)]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("--data-only"), "{:?}", text(&o));
    let o = spindle(&["convert", "--data-only", s(&cue), s(&out)]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("dropped"),
        "a warning says what was dropped"
    );
    let iso = std::fs::read(&out).unwrap();
    let bin = std::fs::read(samples().join("libcdio/isofs-m1.bin")).unwrap();
    assert_eq!(iso.len(), 302 * 2048);
    for (i, (a, b)) in iso.chunks(2048).zip(bin.chunks(2352)).enumerate() {
        assert_eq!(a, &b[16..2064], "sector {i}");
    }
}

#[test]
fn verify_prints_hashes_and_finds_a_corrupt_sector() {
    let o = spindle(&["verify", s(&samples().join("libcdio/isofs-m1.cue"))]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("302 good, 0 bad"), "{out}");
    assert!(
        out.contains("md5=\"23b37aec2ccfbd8ac5a3917f37ae21ab\""),
        "the BIN's own md5: {out}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut bin = std::fs::read(samples().join("libcdio/isofs-m1.bin")).unwrap();
    bin[100 * 2352 + 500] ^= 0x40;
    std::fs::write(dir.path().join("isofs-m1.bin"), &bin).unwrap();
    std::fs::copy(
        samples().join("libcdio/isofs-m1.cue"),
        dir.path().join("isofs-m1.cue"),
    )
    .unwrap();
    let o = spindle(&["verify", s(&dir.path().join("isofs-m1.cue"))]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(out.contains("301 good, 1 bad"), "{out}");
    assert!(out.ends_with("FAILED: 1 problem\n"), "{out}");
    assert!(out.contains("sector 100: EDC mismatch"), "{out}");
}

#[test]
fn bad_input_gets_a_clear_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.iso");
    let o = spindle(&["info", s(&missing)]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("nope.iso"), "{:?}", text(&o));

    let odd = dir.path().join("odd.img");
    std::fs::write(&odd, vec![7u8; 1000]).unwrap();
    let o = spindle(&["info", s(&odd)]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("odd.img") && err.contains("not a disc image"),
        "{err}"
    );

    let o = spindle(&["info", s(dir.path())]);
    assert!(text(&o).1.contains("directory"), "{:?}", text(&o));

    // p1.cue names a BIN that does not exist.
    let o = spindle(&["info", s(&samples().join("libcdio/p1.cue"))]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("BOING.BIN"), "{err}");

    // A raw image cut mid-sector.
    let cut = dir.path().join("cut.bin");
    std::fs::write(
        &cut,
        &std::fs::read(samples().join("libcdio/isofs-m1.bin")).unwrap()[..2352 * 3 + 100],
    )
    .unwrap();
    let o = spindle(&["info", s(&cut)]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("cut.bin"), "{:?}", text(&o));
}

#[test]
fn convert_refuses_to_overwrite_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("a.iso");
    std::fs::copy(samples().join("libcdio/copying.iso"), &iso).unwrap();
    let before = md5_file(&iso);
    let o = spindle(&["convert", s(&iso), s(&iso)]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("overwrite"), "{:?}", text(&o));
    assert_eq!(md5_file(&iso), before);
}

/// The `<rom .../>` lines of `spindle verify`, without the file names.
fn rom_lines(image: &Path) -> Vec<String> {
    let o = spindle(&["verify", s(image)]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{}: {err}", image.display());
    out.lines()
        .filter(|l| l.starts_with("<rom"))
        .map(|l| l[l.find(" size=").unwrap()..].to_string())
        .collect()
}

fn toc_of(image: &Path) -> serde_json::Value {
    let o = spindle(&["info", "--json", s(image)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    serde_json::json!({ "sessions": v["sessions"], "mcn": v["mcn"], "cdtext": v["cdtext"], "medium": v["medium"] })
}

#[test]
fn every_sample_cue_round_trips_through_bin_cue_with_the_same_toc_and_hashes() {
    let dir = tempfile::tempdir().unwrap();
    // p1.cue names BOING.BIN: give it one; the mixed sheet names libcdio BINs.
    let p1 = dir.path().join("p1");
    std::fs::create_dir(&p1).unwrap();
    std::fs::copy(samples().join("libcdio/p1.cue"), p1.join("p1.cue")).unwrap();
    std::fs::copy(samples().join("libcdio/p1.bin"), p1.join("BOING.BIN")).unwrap();
    let mixed = dir.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    std::fs::copy(
        samples().join("generated-chd/mixed-mode1-audio.source.cue"),
        mixed.join("mixed.cue"),
    )
    .unwrap();
    std::fs::copy(
        samples().join("libcdio/isofs-m1.bin"),
        mixed.join("ISOFS-M1.BIN"),
    )
    .unwrap();
    std::fs::copy(
        samples().join("libcdio/cdda_4_5.bin"),
        mixed.join("cdda_4_5.bin"),
    )
    .unwrap();
    let sources = [
        samples().join("libcdio/cdda.cue"),
        samples().join("libcdio/cdda_4_5.cue"),
        samples().join("libcdio/isofs-m1.cue"),
        p1.join("p1.cue"),
        mixed.join("mixed.cue"),
    ];
    for (i, src) in sources.iter().enumerate() {
        let out = dir.path().join(format!("rt{i}.cue"));
        let o = spindle(&["convert", s(src), s(&out)]);
        assert!(o.status.success(), "{}: {:?}", src.display(), text(&o));
        assert_eq!(toc_of(src), toc_of(&out), "{}: TOC changed", src.display());
        let (a, b) = (rom_lines(src), rom_lines(&out));
        assert!(!a.is_empty());
        assert_eq!(a, b, "{}: per-track hashes changed", src.display());
    }
}
