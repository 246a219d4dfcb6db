//! Bad sheets give errors that name the sheet and the line; hostile input never panics.

mod common;

use common::{open, write};
use spindle_format_cue::{CueError, parse_sheet};
use spindle_testkit::sample;
use std::path::Path;

/// The 1-based line of the first line of `path` that starts with `keyword` (after spaces).
fn line_of(path: &Path, keyword: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .position(|l| l.trim_start().starts_with(keyword))
        .expect("keyword in sheet")
        + 1
}

#[test]
fn libcdio_bad_sheets_name_file_and_line() {
    let cases = [
        ("bad-cat1.cue", "CATALOG", "CATALOG needs"),
        ("bad-cat2.cue", "CATALOG", "\"167890123\""),
        ("bad-cat3.cue", "CATALOG", "\"123456789b123\""),
        ("bad-mode1.cue", "TRACK", "\"MODE3_FORM1\""),
        (
            "bad-msf-1.cue",
            "INDEX",
            "bad time \"00:00:100\" in INDEX (frames must be below 75)",
        ),
        ("bad-msf-2.cue", "INDEX", "(seconds must be below 60)"),
        ("bad-msf-3.cue", "INDEX", "\"xx:yy:0\""),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(sample("libcdio")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with("bad-") && name.ends_with(".cue") {
            assert!(
                cases.iter().any(|c| c.0 == name),
                "{name} has no expectation here"
            );
            seen += 1;
        }
    }
    assert_eq!(seen, cases.len());
    for (name, keyword, detail) in cases {
        let path = sample(&format!("libcdio/{name}"));
        let line = line_of(&path, keyword);
        let err = open(&path).unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.line(), Some(line), "{msg}");
        assert!(msg.starts_with(&format!("{name} line {line}: ")), "{msg}");
        assert!(msg.contains(detail), "{msg}");
        // The pure parser already finds it.
        assert!(matches!(
            parse_sheet(&std::fs::read(&path).unwrap(), &path),
            Err(CueError::Syntax { .. })
        ));
    }
    let msg = open(&sample("libcdio/bad-msf-1.cue"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "bad-msf-1.cue line 7: bad time \"00:00:100\" in INDEX (frames must be below 75)"
    );
}

#[test]
fn p1_in_place_names_the_missing_bin() {
    let err = open(&sample("libcdio/p1.cue")).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, CueError::MissingFile { line: 4, .. }),
        "{msg}"
    );
    assert!(
        msg.starts_with("p1.cue line 4: missing file \"BOING.BIN\""),
        "{msg}"
    );
    // ... and where it looked.
    assert!(msg.contains("libcdio"), "{msg}");
}

fn parse_err(text: &str) -> CueError {
    match parse_sheet(text.as_bytes(), Path::new("t.cue")) {
        Ok(s) => panic!("parsed: {s:?}\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn structural_errors() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "FILE a.bin BINARY\nINDEX 01 00:00:00\n",
            2,
            "INDEX before any TRACK",
        ),
        ("TRACK 01 AUDIO\n", 1, "TRACK before any FILE"),
        (
            "FILE a.bin BINARY\n  TRACK 01 AUDIO\n  TRACK 02 AUDIO\n    INDEX 01 00:00:00\n",
            2,
            "TRACK 01 has no INDEX 01",
        ),
        (
            "FILE a.bin BINARY\n  TRACK 01 AUDIO\n    INDEX 00 00:00:00\n",
            2,
            "TRACK 01 has no INDEX 01",
        ),
        (
            "FILE a.bin BINARY\n TRACK 01 AUDIO\n INDEX 01 00:10:00\n TRACK 02 AUDIO\n INDEX 01 00:05:00\n",
            5,
            "is not after the previous INDEX",
        ),
        (
            "FILE a.bin BINARY\n TRACK 01 AUDIO\n INDEX 01 00:10:00\n INDEX 02 00:10:00\n",
            4,
            "is not after the previous INDEX",
        ),
        (
            "FILE a.bin BINARY\n TRACK 01 AUDIO\n INDEX 01 00:00:00\n INDEX 03 00:10:00\n",
            4,
            "count up by one",
        ),
        (
            "FILE a.bin BINARY\n TRACK 01 AUDIO\n INDEX 02 00:00:00\n",
            3,
            "before INDEX 01",
        ),
        (
            "FILE a.bin BINARY\n TRACK 02 AUDIO\n INDEX 01 00:00:00\n TRACK 01 AUDIO\n",
            4,
            "must increase",
        ),
        ("FILE a.bin BINARY\n TRACK 100 AUDIO\n", 2, "\"100\""),
        ("FILE a.bin BINARY\n TRACK 00 AUDIO\n", 2, "\"00\""),
        (
            "FILE a.bin BINARY\n TRACK 99999999999999999999 AUDIO\n",
            2,
            "bad track number",
        ),
        (
            "FILE a.bin BINARY\n TRACK 01 AUDIO\n INDEX 01 99999999999:00:00\n",
            3,
            "bad time",
        ),
        (
            "FILE a.bin BINARY\n TRACK 01 AUDIO\n INDEX 01 00:00:00\n PREGAP 00:02:00\n",
            4,
            "PREGAP after INDEX",
        ),
        (
            "FILE a.bin BINARY\n TRACK 01 AUDIO\n POSTGAP 00:02:00\n",
            3,
            "POSTGAP before INDEX 01",
        ),
        (
            "FILE a.bin BINARY\n TRACK 01 AUDIO\n INDEX 01 00:00:00\n POSTGAP 00:02:00\n INDEX 02 00:05:00\n",
            5,
            "after POSTGAP",
        ),
        (
            "FILE a.bin BINARY\n TRACK 01 AUDIO\n FLAGS DCP LOUD\n",
            3,
            "\"LOUD\"",
        ),
        (
            "FILE a.bin BINARY\n TRACK 01 AUDIO\n ISRC 12345\n",
            3,
            "bad ISRC",
        ),
        (
            "FILE a.bin BINARY\n TRACK 01 AUDIO\n INDEX 01 00:00:00\n FROBNICATE 1\n",
            4,
            "unknown command \"FROBNICATE\"",
        ),
        ("FILE a.mp3 MP3\n", 1, "not supported"),
        ("FILE a.aiff AIFF\n", 1, "not supported"),
        ("FILE a.bin\n", 1, "needs a type"),
        ("FILE a b.bin BINARY\n", 1, "put the name in quotes"),
        ("FILE \"a.bin BINARY\n", 1, "unterminated"),
        (
            "FILE a.bin BINARY\nFILE b.bin BINARY\n TRACK 01 AUDIO\n INDEX 01 00:00:00\n",
            1,
            "holds no INDEX",
        ),
        (
            "FILE a.bin BINARY\n TRACK 01 AUDIO\n INDEX 01 00:00:00\nFILE b.bin BINARY\n",
            4,
            "holds no INDEX",
        ),
        (
            "REM SESSION 02\nFILE a.bin BINARY\n TRACK 01 AUDIO\n INDEX 01 00:00:00\n",
            1,
            "REM SESSION 02",
        ),
        (
            "FILE a.bin BINARY\n TRACK 01 AUDIO\n INDEX 01 00:00:00\nREM SESSION 03\n",
            4,
            "count up by one",
        ),
        ("CATALOG 123\n", 1, "13 decimal digits"),
        (
            "CATALOG 0000000000000\nCATALOG 0000000000000\n",
            2,
            "second CATALOG",
        ),
        ("TITLE \"a\" b\n", 1, "unexpected \"b\""),
        ("\"FILE\" a.bin BINARY\n", 1, "quoted text"),
    ];
    for (text, line, detail) in cases {
        let err = parse_err(text);
        let msg = err.to_string();
        assert_eq!(err.line(), Some(*line), "{text:?}: {msg}");
        assert!(
            msg.starts_with(&format!("t.cue line {line}: ")) && msg.contains(detail),
            "{text:?}: {msg}"
        );
    }
    for text in [
        "",
        "REM nothing\n\n",
        "FILE a.bin BINARY\nREM SESSION 01\n TRACK 01 AUDIO\n INDEX 01 00:00:00\nREM SESSION 02\n",
    ] {
        let msg = parse_err(text).to_string();
        assert!(msg.starts_with("t.cue: "), "{msg}");
    }
}

#[test]
fn layout_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // A trailing partial sector.
    write(dir.path(), "odd.bin", vec![0u8; 2352 * 3 + 100]);
    let cue = write(
        dir.path(),
        "odd.cue",
        "FILE odd.bin BINARY\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n",
    );
    let msg = open(&cue).unwrap_err().to_string();
    assert!(
        msg.starts_with("odd.cue line 1: ")
            && msg.contains("odd.bin is 7156 bytes")
            && msg.contains("partial sector of 100 bytes"),
        "{msg}"
    );
    // An INDEX past the end of its file.
    write(dir.path(), "short.bin", vec![0u8; 2352 * 10]);
    let cue = write(
        dir.path(),
        "far.cue",
        "FILE short.bin BINARY\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n TRACK 02 AUDIO\n  INDEX 01 00:01:00\n",
    );
    let msg = open(&cue).unwrap_err().to_string();
    assert!(
        msg.starts_with("far.cue line 5: INDEX 01 00:01:00 lies beyond the end of \"short.bin\""),
        "{msg}"
    );
    let cue = write(
        dir.path(),
        "far2.cue",
        "FILE short.bin BINARY\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n  INDEX 02 00:00:50\n",
    );
    let msg = open(&cue).unwrap_err().to_string();
    assert!(msg.starts_with("far2.cue line 4: INDEX 02"), "{msg}");
    // A track with nothing after INDEX 01.
    let cue = write(
        dir.path(),
        "empty.cue",
        "FILE short.bin BINARY\n TRACK 01 AUDIO\n  INDEX 01 00:00:10\n",
    );
    let msg = open(&cue).unwrap_err().to_string();
    assert!(
        msg.starts_with("empty.cue line 2: TRACK 01 has no sectors"),
        "{msg}"
    );
    // Data in a WAVE file; a missing CDTEXTFILE.
    let cue = write(
        dir.path(),
        "mot.cue",
        "FILE short.bin MOTOROLA\n TRACK 01 MODE1/2352\n  INDEX 01 00:00:00\n",
    );
    let msg = open(&cue).unwrap_err().to_string();
    assert!(
        msg.starts_with("mot.cue line 2: ") && msg.contains("only AUDIO"),
        "{msg}"
    );
    let cue = write(
        dir.path(),
        "cdt.cue",
        "CDTEXTFILE nothere.cdt\nFILE short.bin BINARY\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n",
    );
    let msg = open(&cue).unwrap_err().to_string();
    assert!(
        msg.starts_with("cdt.cue line 1: missing file \"nothere.cdt\""),
        "{msg}"
    );
    // A WAVE file that is not CD audio.
    let mut wav = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x22\x56\0\0\x44\xac\0\0\x02\0\x10\0data\x08\0\0\0".to_vec();
    wav.extend_from_slice(&[0; 8]);
    write(dir.path(), "mono.wav", wav);
    let cue = write(
        dir.path(),
        "mono.cue",
        "FILE mono.wav WAVE\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n",
    );
    let msg = open(&cue).unwrap_err().to_string();
    assert!(
        msg.starts_with("mono.cue line 1: ")
            && msg.contains("PCM 16-bit stereo 44100 Hz")
            && msg.contains("1 channel(s), 22050 Hz"),
        "{msg}"
    );
}

/// A tiny deterministic generator, so that the test needs no crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn hostile_input_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.bin", vec![0u8; 2352 * 2048]);
    write(dir.path(), "b.bin", vec![0u8; 2048 * 7 + 5]);
    // A multiple of 2352 * 2048 bytes suits most sector sizes.
    write(
        dir.path(),
        "c.bin",
        spindle_testkit::pattern::bytes(2352 * 2048, 1),
    );
    let words = [
        "FILE",
        "a.bin",
        "\"b.bin\"",
        "BINARY",
        "MOTOROLA",
        "WAVE",
        "TRACK",
        "01",
        "02",
        "03",
        "99",
        "100",
        "AUDIO",
        "CDG",
        "MODE1/2048",
        "MODE2/2352",
        "CDI/2336",
        "INDEX",
        "00",
        "00:00:00",
        "00:00:05",
        "00:00:19",
        "00:00:20",
        "99:59:74",
        "00:00:75",
        "4294967296:00:00",
        "PREGAP",
        "POSTGAP",
        "REM",
        "SESSION",
        "FLAGS",
        "DCP",
        "ISRC",
        "CATALOG",
        "TITLE",
        "\"x y\"",
        "\"",
        "CDTEXTFILE",
        "\r\n",
        "\n",
        "\n",
        "\n",
        "\u{feff}",
        "\0",
        "é",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..3000 {
        let mut text = String::new();
        for _ in 0..(rng.next() % 40) {
            text.push_str(rng.pick(&words));
            text.push(if rng.one_in(4) { '\n' } else { ' ' });
        }
        let path = dir.path().join("h.cue");
        std::fs::write(&path, &text).unwrap();
        match open(&path) {
            Ok(disc) => assert!(disc.validate().is_ok()),
            Err(e) => assert!(e.to_string().starts_with("h.cue"), "case {case}: {e}"),
        }
    }
    // Sheets shaped like real ones (FILE, TRACK, gaps, indexes, sessions) with random values,
    // and now and then a line dropped or swapped: this reaches the layout step.
    let mut opened = 0;
    for case in 0..2000 {
        let mut lines: Vec<String> = vec!["FILE a.bin BINARY".into()];
        let mut pos = 0u64;
        for track in 1..=(1 + rng.next() % 5) {
            match rng.next() % 8 {
                0 => {
                    lines.push(format!(
                        "FILE {} {}",
                        rng.pick(&["b.bin", "c.bin", "a.bin"]),
                        rng.pick(&["BINARY", "MOTOROLA", "WAVE"])
                    ));
                    pos = 0;
                }
                1 => lines.push(format!("REM SESSION {:02}", 1 + rng.next() % 3)),
                _ => {}
            }
            let mode = rng.pick(&[
                "AUDIO",
                "AUDIO",
                "MODE1/2352",
                "MODE1/2048",
                "MODE2/2336",
                "CDG",
                "MODE2/2324",
                "MODE2/2048",
            ]);
            lines.push(format!("TRACK {track:02} {mode}"));
            if rng.one_in(3) {
                lines.push(format!("PREGAP 00:00:{:02}", rng.next() % 5));
            }
            if rng.one_in(3) {
                lines.push(format!(
                    "INDEX 00 {}",
                    spindle_disc::Msf::from_frames(pos as u32)
                ));
                pos += rng.next() % 3;
            }
            lines.push(format!(
                "INDEX 01 {}",
                spindle_disc::Msf::from_frames(pos as u32)
            ));
            pos += 1 + rng.next() % 3;
            if rng.one_in(4) {
                lines.push(format!(
                    "INDEX 02 {}",
                    spindle_disc::Msf::from_frames(pos as u32)
                ));
                pos += 1 + rng.next() % 2;
            }
            if rng.one_in(4) {
                lines.push(format!("POSTGAP 00:00:{:02}", rng.next() % 5));
            }
        }
        if rng.one_in(3) {
            let i = (rng.next() % lines.len() as u64) as usize;
            let j = (rng.next() % lines.len() as u64) as usize;
            if rng.one_in(2) {
                lines.swap(i, j)
            } else {
                drop(lines.remove(i))
            }
        }
        let path = dir.path().join("s.cue");
        std::fs::write(&path, lines.join("\n")).unwrap();
        match open(&path) {
            Ok(disc) => {
                opened += 1;
                assert!(disc.validate().is_ok());
                // Every track's first and last sectors read back.
                for t in disc.tracks() {
                    spindle_testkit::sectors::raw(&disc, t.start, 1);
                    spindle_testkit::sectors::raw(&disc, t.end().offset(-1), 1);
                }
            }
            Err(e) => assert!(e.to_string().starts_with("s.cue"), "case {case}: {e}"),
        }
    }
    eprintln!("{opened} of 2000 shaped sheets opened");
    assert!(opened > 100, "only {opened} random sheets opened");
    // Raw garbage bytes.
    for case in 0..500 {
        let bytes: Vec<u8> = (0..(rng.next() % 300)).map(|_| rng.next() as u8).collect();
        let _ = parse_sheet(&bytes, Path::new("g.cue"));
        let _ = case;
    }
    // Truncations of a valid multi-session sheet at every byte.
    let good = "CATALOG 0000010271955\r\nTITLE \"t\"\r\nREM SESSION 01\r\nFILE \"a.bin\" BINARY\r\n  TRACK 01 AUDIO\r\n    FLAGS DCP PRE\r\n    PREGAP 00:00:03\r\n    INDEX 00 00:00:00\r\n    INDEX 01 00:00:02\r\n    INDEX 02 00:00:04\r\n    POSTGAP 00:00:01\r\nREM SESSION 02\r\n  TRACK 02 MODE2/2352\r\n    INDEX 01 00:00:10\r\n";
    assert!(open(&write(dir.path(), "good.cue", good)).is_ok());
    for cut in 0..good.len() {
        let path = write(dir.path(), "cut.cue", &good.as_bytes()[..cut]);
        if let Err(e) = open(&path) {
            assert!(e.to_string().starts_with("cut.cue"), "{e}");
        }
    }
}

#[test]
fn hand_built_sheets_never_panic() {
    // `open_sheet` takes a sheet with public fields: whatever is in them, it returns an error.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.bin", vec![0u8; 2352 * 10]);
    let cue = write(
        dir.path(),
        "h.cue",
        "FILE a.bin BINARY\n TRACK 01 AUDIO\n  INDEX 00 00:00:00\n  INDEX 01 00:00:02\n TRACK 02 AUDIO\n  INDEX 01 00:00:05\n",
    );
    let good = parse_sheet(&std::fs::read(&cue).unwrap(), &cue).unwrap();
    let companions = spindle_disc::DirCompanions::beside(&cue);
    type Mutation = Box<dyn Fn(&mut spindle_format_cue::CueSheet)>;
    let mutations: Vec<Mutation> = vec![
        Box::new(|s| s.tracks[0].indexes[0].file = 7),
        Box::new(|s| s.tracks[1].indexes[0].file = usize::MAX),
        Box::new(|s| s.tracks[0].indexes.clear()),
        Box::new(|s| s.tracks[1].indexes.clear()),
        Box::new(|s| s.tracks[1].indexes[0].frames = u32::MAX),
        Box::new(|s| s.tracks[0].indexes[1].frames = 0),
        Box::new(|s| s.tracks[1].indexes[0].frames = 1),
        Box::new(|s| s.tracks[0].pregap = Some(u32::MAX)),
        Box::new(|s| s.tracks[0].postgap = u32::MAX),
        Box::new(|s| s.tracks[1].session = 9),
        Box::new(|s| s.tracks[0].session = 0),
        Box::new(|s| s.tracks[1].number = 1),
        Box::new(|s| s.tracks[1].number = 0),
        Box::new(|s| s.files.clear()),
        Box::new(|s| s.tracks.clear()),
        Box::new(|s| s.tracks.swap(0, 1)),
        Box::new(|s| {
            s.tracks[1].indexes.push(spindle_format_cue::CueIndex {
                number: 2,
                file: 0,
                frames: 3,
                line: 9,
            })
        }),
    ];
    for (i, m) in mutations.iter().enumerate() {
        let mut sheet = good.clone();
        m(&mut sheet);
        if let Err(e) = spindle_format_cue::open_sheet(&sheet, &cue, &companions) {
            assert!(e.to_string().starts_with("h.cue"), "mutation {i}: {e}");
        }
    }
}
