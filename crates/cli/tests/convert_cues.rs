//! Real EAC cue sheets (whipper's test data: PREGAP on track 1, INDEX 00/02, CATALOG, ISRC)
//! and our own (a Mode 1 track with PREGAP, INDEX 02/03, CATALOG, ISRC) through every writer:
//! the result has the same TOC, indexes, MCN and ISRCs, read by spindle and, for BIN/CUE, by
//! libcdio's cd-info; where the format has no place for something, `convert` says so.

#[allow(dead_code)] // samples() is not used here
mod common;

use common::spindle;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Where Debian's whipper package keeps its test cue sheets (scripts/setup installs it).
const WHIPPER_TESTS: &str = "/usr/lib/python3/dist-packages/whipper/test";

/// `(minutes, seconds, frames)` of a cue sheet time, as frames.
fn frames(msf: &str) -> u64 {
    let p: Vec<u64> = msf.split(':').map(|x| x.parse().unwrap()).collect();
    (p[0] * 60 + p[1]) * 75 + p[2]
}

/// Copies `cue` into `dir` and writes a 44.1 kHz stereo WAVE for each FILE it names, long
/// enough for its last INDEX plus 300 sectors, filled with a pattern.
fn materialise(cue: &Path, dir: &Path) -> PathBuf {
    let text = String::from_utf8_lossy(&std::fs::read(cue).unwrap()).into_owned();
    let mut files: Vec<(String, u64)> = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("FILE ") {
            let name = rest.split('"').nth(1).unwrap();
            let base = name.rsplit(['\\', '/']).next().unwrap().to_string();
            files.push((base, 0));
        } else if let Some(rest) = l.strip_prefix("INDEX ") {
            let at = frames(rest.split_whitespace().nth(1).unwrap());
            let last = files.last_mut().unwrap();
            last.1 = last.1.max(at);
        }
    }
    for (i, (name, last)) in files.iter().enumerate() {
        let sectors = last + 300;
        let data_len = sectors as u32 * 2352;
        let mut wav = Vec::new();
        wav.extend_from_slice(b"RIFF");
        wav.extend_from_slice(&(36 + data_len).to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        wav.extend_from_slice(&16u32.to_le_bytes());
        wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
        wav.extend_from_slice(&2u16.to_le_bytes()); // stereo
        wav.extend_from_slice(&44100u32.to_le_bytes());
        wav.extend_from_slice(&176400u32.to_le_bytes());
        wav.extend_from_slice(&4u16.to_le_bytes());
        wav.extend_from_slice(&16u16.to_le_bytes());
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&data_len.to_le_bytes());
        // A pattern at the start, silence (a sparse tail) after: whole albums stay cheap.
        wav.extend((0..data_len.min(2000 * 2352)).map(|b| (b as usize * 7 + i * 31) as u8));
        let path = dir.join(name);
        std::fs::write(&path, wav).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(44 + data_len as u64)
            .unwrap();
    }
    let copy = dir.join(cue.file_name().unwrap());
    std::fs::copy(cue, &copy).unwrap();
    copy
}

/// `spindle info --json`.
fn info(image: &Path) -> Value {
    let o = spindle(&["info", "--json", s(image)]);
    assert!(
        o.status.success(),
        "{}: {}",
        image.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A track as compared: number, index 0, index 1, length, CONTROL.
type TrackRow = (i64, i64, i64, i64, i64);

/// What every writer must keep: per session the lead-out and per track number, index 0 and
/// index 1 addresses, length and CONTROL.
fn toc(v: &Value) -> Vec<(i64, Vec<TrackRow>)> {
    v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let tracks = s["tracks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    let n = |k: &str| t[k].as_i64().unwrap();
                    (
                        n("number"),
                        n("start") - n("pregap"),
                        n("start"),
                        n("length"),
                        n("control"),
                    )
                })
                .collect();
            (s["leadout"].as_i64().unwrap(), tracks)
        })
        .collect()
}

/// Index 2+, per track.
fn indexes(v: &Value) -> Vec<Value> {
    tracks(v).map(|t| t["indexes"].clone()).collect()
}

fn isrcs(v: &Value) -> Vec<Value> {
    tracks(v).map(|t| t["isrc"].clone()).collect()
}

fn tracks(v: &Value) -> impl Iterator<Item = &Value> {
    v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["tracks"].as_array().unwrap())
}

/// cd-info's track list of a cue sheet: (track, LSN) rows and the lead-out LSN, and the MCN.
fn cd_info(cue: &Path) -> (Vec<(i64, i64)>, Option<String>) {
    let report = spindle_testkit::cd_info::run(cue);
    let rows = report.tracks().into_iter();
    let rows = rows.map(|t| (i64::from(t.number), i64::from(t.lsn)));
    (rows.collect(), report.mcn())
}

/// Converts `src` to every multi-track format and checks what comes back.
fn through_every_writer(src: &Path, work: &Path) {
    let want = info(src);
    let has_codes = !want["mcn"].is_null() || isrcs(&want).iter().any(|i| !i.is_null());
    let indexed: Vec<String> = tracks(&want)
        .filter(|t| !t["indexes"].as_array().unwrap().is_empty())
        .map(|t| t["number"].to_string())
        .collect();
    let name = src.file_name().unwrap().to_string_lossy().into_owned();
    for fmt in ["cue", "mds", "mdx", "ccd"] {
        let out = work.join(format!("out-{fmt}")).join(format!("x.{fmt}"));
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let o = spindle(&["convert", s(src), s(&out)]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{name} -> {fmt}: {err}");
        let got = info(&out);
        assert_eq!(toc(&got), toc(&want), "{name} -> {fmt}: TOC");
        // Every multi-track format keeps CD-TEXT.
        assert_eq!(got["cdtext"], want["cdtext"], "{name} -> {fmt}: CD-TEXT");
        let texts = |v: &Value| tracks(v).map(|t| t["cdtext"].clone()).collect::<Vec<_>>();
        assert_eq!(
            texts(&got),
            texts(&want),
            "{name} -> {fmt}: tracks' CD-TEXT"
        );
        let keeps_all = matches!(fmt, "cue" | "ccd");
        if keeps_all {
            assert_eq!(indexes(&got), indexes(&want), "{name} -> {fmt}: indexes");
            assert_eq!(isrcs(&got), isrcs(&want), "{name} -> {fmt}: ISRCs");
            assert_eq!(got["mcn"], want["mcn"], "{name} -> {fmt}: MCN");
            assert!(!err.contains("warning"), "{name} -> {fmt}: {err}");
        } else {
            // MDS and MDX have no field for them: said, not dropped silently.
            assert_eq!(
                err.contains("warning: MCN/ISRC codes are not kept"),
                has_codes,
                "{name} -> {fmt}: {err}"
            );
            let said = format!(
                "warning: index 2 and later (of track {}) are not kept",
                indexed.join(", ")
            );
            assert_eq!(
                err.contains(&said),
                !indexed.is_empty(),
                "{name} -> {fmt}: {err}"
            );
        }
        if fmt == "cue" {
            // libcdio places a track by its INDEX 01 in the BIN and does not count the
            // silence a PREGAP line adds: its addresses are ours minus the PREGAPs so far.
            let sheet = std::fs::read_to_string(&out).unwrap();
            let mut gaps = Vec::new();
            for l in sheet.lines().map(str::trim) {
                if l.starts_with("TRACK ") {
                    gaps.push(0);
                } else if let Some(t) = l.strip_prefix("PREGAP ") {
                    *gaps.last_mut().unwrap() += frames(t) as i64;
                }
            }
            let mut before = 0;
            let mut expect: Vec<(i64, i64)> = tracks(&want)
                .zip(&gaps)
                .map(|(t, g)| {
                    before += g;
                    (
                        t["number"].as_i64().unwrap(),
                        t["start"].as_i64().unwrap() - before,
                    )
                })
                .collect();
            let leadout = want["sessions"].as_array().unwrap().last().unwrap()["leadout"]
                .as_i64()
                .unwrap();
            expect.push((170, leadout - before));
            let (mut rows, mcn) = cd_info(&out);
            let sessions = want["sessions"].as_array().unwrap();
            if sessions.len() > 1 {
                // REM SESSION is a comment to libcdio: it reads one session, so only the
                // first session's tracks are where it says.
                let first = sessions[0]["tracks"].as_array().unwrap().len();
                rows.truncate(first);
                expect.truncate(first);
            }
            assert_eq!(rows, expect, "{name} -> cue: cd-info's TOC");
            assert_eq!(
                mcn.as_deref(),
                want["mcn"].as_str(),
                "{name} -> cue: cd-info's MCN"
            );
        }
    }
}

/// A temporary folder, on tmpfs when there is one (whole albums are written four times).
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    }
}

#[test]
fn whippers_eac_cue_sheets_round_trip_through_every_writer() {
    let dir = Path::new(WHIPPER_TESTS);
    assert!(
        dir.is_dir(),
        "{WHIPPER_TESTS} is missing: scripts/setup installs whipper"
    );
    let mut tried = Vec::new();
    let mut seen = [false; 4]; // PREGAP, INDEX 02, CATALOG, ISRC
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "cue") {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let has = ["PREGAP", "INDEX 02", "CATALOG", "ISRC"].map(|k| text.contains(k));
        // kanye.cue names a track mode that does not exist (whipper's own error test).
        if !has.iter().any(|&h| h) || text.contains("MODEx/") {
            continue;
        }
        for (s, h) in seen.iter_mut().zip(has) {
            *s |= h;
        }
        let work = scratch();
        let cue = materialise(&path, work.path());
        through_every_writer(&cue, work.path());
        tried.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    assert!(tried.len() >= 8, "only {tried:?}");
    assert_eq!(
        seen, [true; 4],
        "the sheets tried lack a feature: {tried:?}"
    );
}

#[test]
fn a_mode1_pregap_and_index_2_catalog_isrc_sheet_round_trips_through_every_writer() {
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    std::fs::write(
        d.join("data.iso"),
        (0..1500 * 2048)
            .map(|i| (i * 13) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    std::fs::write(
        d.join("audio.bin"),
        (0..3000 * 2352)
            .map(|i| (i * 7 + 3) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let cue = d.join("own.cue");
    std::fs::write(
        &cue,
        "CATALOG 1234567890123\n\
         FILE \"data.iso\" BINARY\n  TRACK 01 MODE1/2048\n    PREGAP 00:00:30\n    INDEX 01 00:00:00\n\
         FILE \"audio.bin\" BINARY\n  TRACK 02 AUDIO\n    ISRC USABC0912345\n    INDEX 00 00:00:00\n    INDEX 01 00:02:00\n    INDEX 02 00:10:00\n    INDEX 03 00:15:00\n\
         \x20 TRACK 03 AUDIO\n    ISRC USABC0912346\n    PREGAP 00:01:00\n    INDEX 01 00:30:00\n",
    )
    .unwrap();
    // What the sheet says, worked out by hand: track 1's index 1 after its 30-sector PREGAP,
    // track 2 after track 1's 1500 sectors with 150 of index 0, index 2/3 at 10 and 15 s.
    let want = info(&cue);
    assert_eq!(
        toc(&want),
        [(
            4605,
            vec![
                (1, -150, 30, 1500, 4),
                (2, 1530, 1680, 2100, 0),
                (3, 3780, 3855, 750, 0)
            ]
        )]
    );
    assert_eq!(indexes(&want)[1], serde_json::json!([2280, 2655]));
    through_every_writer(&cue, d);
}

#[test]
fn a_two_session_sheet_with_index_2_catalog_isrc_round_trips_through_every_writer() {
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    std::fs::write(
        d.join("a.bin"),
        (0..2000 * 2352).map(|i| (i * 5) as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    std::fs::write(d.join("d.bin"), vec![0u8; 1000 * 2352]).unwrap();
    let cue = d.join("ms.cue");
    std::fs::write(
        &cue,
        "CATALOG 1234567890123\n\
         FILE \"a.bin\" BINARY\n  TRACK 01 AUDIO\n    ISRC USABC0912345\n    INDEX 01 00:00:00\n    INDEX 02 00:05:00\n\
         \x20 TRACK 02 AUDIO\n    INDEX 00 00:15:00\n    INDEX 01 00:17:00\n\
         REM SESSION 02\n\
         FILE \"d.bin\" BINARY\n  TRACK 03 MODE1/2352\n    INDEX 01 00:00:00\n",
    )
    .unwrap();
    let want = info(&cue);
    assert_eq!(want["sessions"].as_array().unwrap().len(), 2);
    through_every_writer(&cue, d);
}
