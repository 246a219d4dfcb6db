//! Each feature of the format on small synthetic BINs made in temporary folders: gaps and
//! indexes, sessions, MOTOROLA, WAVE, CDG, every track mode, text quirks, CD-TEXT files,
//! multi-FILE sets. Most cases also go through the writer and back.

mod common;

use common::{open, round_trip, write};
use spindle_disc::{
    CdText, CdTextField, Companions, DirCompanions, ExtentData, ImageFormat, Lba, MainLayout,
    OpenContext, SectorFormat, SubLayout, TrackMode,
};
use spindle_format_cue::CueFormat;
use spindle_testkit::pattern::bytes as pattern;
use spindle_testkit::sample;
use spindle_testkit::sectors::raw;
use spindle_testkit::toc::{Toc, toc};
use std::path::Path;

fn bytes_of(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn pregap_postgap_index0_index2() {
    let dir = tempfile::tempdir().unwrap();
    let bin = pattern(100 * 2352, 7);
    write(dir.path(), "gaps.bin", &bin);
    let cue = write(
        dir.path(),
        "gaps.cue",
        "FILE \"gaps.bin\" BINARY\n  TRACK 01 MODE1/2352\n    ISRC USABC0100001\n    INDEX 01 00:00:00\n    POSTGAP 00:00:10\n  TRACK 02 AUDIO\n    FLAGS DCP PRE 4CH SCMS\n    PREGAP 00:00:20\n    INDEX 00 00:00:30\n    INDEX 01 00:00:40\n    INDEX 02 00:00:50\n    INDEX 03 00:00:60\n  TRACK 03 AUDIO\n    INDEX 01 00:01:00\n",
    );
    let disc = open(&cue).unwrap();
    let (t1, t2, t3) = (
        disc.track(1).unwrap(),
        disc.track(2).unwrap(),
        disc.track(3).unwrap(),
    );
    assert_eq!(
        (t1.start.0, t1.pregap, t1.length, t1.postgap, t1.end().0),
        (-150, 150, 190, 10, 40)
    );
    assert_eq!(t1.isrc.as_ref().unwrap().as_str(), "USABC0100001");
    assert_eq!(
        (t2.start.0, t2.pregap, t2.index1().0, t2.length, t2.end().0),
        (40, 30, 70, 65, 105)
    );
    assert_eq!(t2.extra_indexes, vec![Lba(80), Lba(90)]);
    assert_eq!(
        (
            t2.index_at(Lba(60)),
            t2.index_at(Lba(79)),
            t2.index_at(Lba(80)),
            t2.index_at(Lba(104))
        ),
        (0, 1, 2, 3)
    );
    assert!(
        t2.flags.copy_permitted && t2.flags.pre_emphasis && t2.flags.four_channel && t2.flags.scms
    );
    assert_eq!(t2.control(), 0xB);
    assert!(!t2.pregap_stored());
    assert_eq!(
        (t3.start.0, t3.index1().0, t3.end().0, disc.leadout().0),
        (105, 105, 130, 130)
    );
    assert_eq!(
        format!(
            "{:?}",
            t2.extents
                .iter()
                .map(|e| (e.sectors, e.is_zero()))
                .collect::<Vec<_>>()
        ),
        "[(20, true), (45, false)]"
    );
    // File sector 0 is LBA 0; sector 30 (track 2's INDEX 00) is LBA 60 after the PREGAP.
    assert_eq!(raw(&disc, Lba(0), 30), bin[..30 * 2352]);
    assert_eq!(raw(&disc, Lba(60), 45), bin[30 * 2352..75 * 2352]);
    assert_eq!(raw(&disc, Lba(105), 25), bin[75 * 2352..]);
    // Unstored gaps: silence in audio, synthesised Mode 1 sectors in data.
    assert!(raw(&disc, Lba(40), 20).iter().all(|&b| b == 0));
    let post = raw(&disc, Lba(30), 1);
    assert_eq!(
        &post[..12],
        &[
            0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0
        ]
    );
    assert_eq!(post[15], 1);
    let (_back, out) = round_trip(&disc, "gaps");
    let text = std::fs::read_to_string(out.path().join("gaps.cue")).unwrap();
    for line in [
        "POSTGAP 00:00:10",
        "PREGAP 00:00:20",
        "INDEX 00 00:00:30",
        "INDEX 02 00:00:50",
        "INDEX 03 00:00:60",
        "FLAGS DCP 4CH PRE SCMS",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
}

#[test]
fn sessions() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s1.bin", pattern(300 * 2352, 1));
    write(dir.path(), "s2.bin", pattern(10 * 2352, 2));
    write(dir.path(), "s3.bin", pattern(20 * 2352, 3));
    let cue = write(
        dir.path(),
        "ms.cue",
        "REM SESSION 01\nFILE s1.bin BINARY\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\nREM SESSION 02\nFILE s2.bin BINARY\n  TRACK 02 MODE1/2352\n    INDEX 01 00:00:00\nREM SESSION 03\nFILE s3.bin BINARY\n  TRACK 03 MODE2/2352\n    INDEX 00 00:00:00\n    INDEX 01 00:00:05\n  TRACK 04 MODE2/2352\n    INDEX 01 00:00:10\n",
    );
    let disc = open(&cue).unwrap();
    let Toc { tracks, leadouts } = toc(&disc);
    assert_eq!(leadouts, vec![300, 11_710, 18_480]);
    assert_eq!(
        tracks.iter().map(|t| t.session).collect::<Vec<_>>(),
        vec![1, 2, 3, 3]
    );
    // Session 2 starts 11250 sectors (lead-out + lead-in) after lead-out 1; index 1 150 later.
    let t2 = disc.track(2).unwrap();
    assert_eq!(
        (t2.start.0, t2.pregap, t2.index1().0),
        (300 + 11_250, 150, 11_700)
    );
    assert!(!t2.pregap_stored());
    assert_eq!(
        raw(&disc, Lba(11_700), 10),
        bytes_of(&dir.path().join("s2.bin"))
    );
    // Later sessions: 6750 sectors; a stored pregap (INDEX 00) replaces the implicit one.
    let t3 = disc.track(3).unwrap();
    assert_eq!(
        (t3.start.0, t3.pregap, t3.index1().0),
        (11_710 + 6_750, 5, 18_465)
    );
    assert!(
        disc.read_sectors(Lba(400), 1, SectorFormat::RAW, &mut [0; 2352])
            .is_err()
    );
    round_trip(&disc, "ms");

    // Without REM SESSION 01, and with an explicit PREGAP on the second session's track.
    let cue = write(
        dir.path(),
        "ms2.cue",
        "FILE s1.bin BINARY\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\nREM SESSION 02\nFILE s2.bin BINARY\n  TRACK 02 MODE1/2352\n    PREGAP 00:01:00\n    INDEX 01 00:00:00\n",
    );
    let disc = open(&cue).unwrap();
    let t2 = disc.track(2).unwrap();
    assert_eq!((t2.start.0, t2.pregap, t2.index1().0), (11_550, 75, 11_625));
    round_trip(&disc, "ms2");
}

#[test]
fn motorola_audio_is_byte_swapped() {
    let dir = tempfile::tempdir().unwrap();
    let bin = pattern(4 * 2352, 9);
    write(dir.path(), "be.bin", &bin);
    let cue = write(
        dir.path(),
        "be.cue",
        "FILE \"be.bin\" MOTOROLA\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\n",
    );
    let disc = open(&cue).unwrap();
    let swapped: Vec<u8> = bin.chunks_exact(2).flat_map(|p| [p[1], p[0]]).collect();
    assert_eq!(raw(&disc, Lba(0), 4), swapped);
    let (back, out) = round_trip(&disc, "be");
    assert_eq!(bytes_of(&out.path().join("be.bin")), swapped);
    assert_eq!(raw(&back, Lba(0), 4), swapped);
}

/// A WAVE file with a LIST chunk before `fmt ` and the given samples.
fn wav(samples: &[u8]) -> Vec<u8> {
    let mut v = b"RIFF\0\0\0\0WAVELIST\x05\0\0\0hello\0".to_vec();
    v.extend_from_slice(b"fmt \x10\0\0\0\x01\0\x02\0\x44\xac\0\0\x10\xb1\x02\0\x04\0\x10\0data");
    v.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    v.extend_from_slice(samples);
    v
}

#[test]
fn wave_files() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (pattern(3 * 2352, 4), pattern(5 * 2352, 5));
    write(dir.path(), "Track 01.wav", wav(&a));
    write(dir.path(), "track02.wav", wav(&b));
    let cue = write(
        dir.path(),
        "w.cue",
        "FILE \"Track 01.wav\" WAVE\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\nFILE \"track02.wav\" WAVE\n  TRACK 02 AUDIO\n    INDEX 00 00:00:00\n    INDEX 01 00:00:02\n",
    );
    let disc = open(&cue).unwrap();
    assert_eq!(raw(&disc, Lba(0), 8), [a.clone(), b.clone()].concat());
    let t2 = disc.track(2).unwrap();
    assert_eq!(
        (t2.start.0, t2.pregap, t2.index1().0, disc.leadout().0),
        (3, 2, 5, 8)
    );
    assert_eq!(disc.source.files.len(), 2);
    round_trip(&disc, "w");
    // Data in a WAVE file, and a WAVE whose samples are not whole sectors.
    write(dir.path(), "odd.wav", wav(&a[..2352 + 4]));
    let msg = open(&write(
        dir.path(),
        "odd.cue",
        "FILE odd.wav WAVE\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(msg.contains("partial sector of 4 bytes"), "{msg}");
    let msg = open(&write(
        dir.path(),
        "d.cue",
        "FILE track02.wav WAVE\n TRACK 01 MODE1/2352\n  INDEX 01 00:00:00\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        msg.starts_with("d.cue line 2: ") && msg.contains("WAVE"),
        "{msg}"
    );
    write(dir.path(), "fake.wav", &a);
    let msg = open(&write(
        dir.path(),
        "f.cue",
        "FILE fake.wav WAVE\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        msg.starts_with("f.cue line 1: ") && msg.contains("not a RIFF WAVE file"),
        "{msg}"
    );
}

#[test]
fn cdg_keeps_its_subchannel() {
    let dir = tempfile::tempdir().unwrap();
    let bin = pattern(5 * 2448, 11);
    write(dir.path(), "karaoke.bin", &bin);
    let cue = write(
        dir.path(),
        "k.cue",
        "FILE karaoke.bin BINARY\n  TRACK 01 CDG\n    INDEX 01 00:00:00\n",
    );
    let disc = open(&cue).unwrap();
    let t = disc.track(1).unwrap();
    assert_eq!((t.mode, t.program_length()), (TrackMode::Audio, 5));
    let ExtentData::Stored(s) = &t.extents[1].data else {
        panic!("stored")
    };
    assert_eq!(
        (s.sub, s.stride(t.mode)),
        (SubLayout::Pw96Interleaved, 2448)
    );
    let mut buf = vec![0u8; 5 * 2448];
    disc.read_sectors(Lba(0), 5, SectorFormat::RAW_PW96, &mut buf)
        .unwrap();
    assert_eq!(buf, bin);
    let main: Vec<u8> = bin
        .chunks_exact(2448)
        .flat_map(|s| s[..2352].to_vec())
        .collect();
    assert_eq!(raw(&disc, Lba(0), 5), main);
    // The writer keeps the main channel (BIN/CUE has no subchannel: caps say so).
    round_trip(&disc, "k");
}

#[test]
fn every_track_mode() {
    use spindle_format_cue::CueMode;
    let cases = [
        ("AUDIO", TrackMode::Audio, MainLayout::RAW, 2352),
        ("CDG", TrackMode::Audio, MainLayout::RAW, 2448),
        ("MODE1/2048", TrackMode::Mode1, MainLayout::USER, 2048),
        ("MODE1/2352", TrackMode::Mode1, MainLayout::RAW, 2352),
        ("MODE2/2048", TrackMode::Mode2Form1, MainLayout::USER, 2048),
        ("MODE2/2324", TrackMode::Mode2Form2, MainLayout::USER, 2324),
        (
            "MODE2/2336",
            TrackMode::Mode2Mixed,
            MainLayout::MODE2_2336,
            2336,
        ),
        ("MODE2/2352", TrackMode::Mode2Mixed, MainLayout::RAW, 2352),
        (
            "CDI/2336",
            TrackMode::Mode2Mixed,
            MainLayout::MODE2_2336,
            2336,
        ),
        ("CDI/2352", TrackMode::Mode2Mixed, MainLayout::RAW, 2352),
    ];
    assert_eq!(cases.len(), CueMode::ALL.len());
    let dir = tempfile::tempdir().unwrap();
    for (keyword, mode, layout, stride) in cases {
        let bin = pattern(3 * stride, stride as u64);
        write(dir.path(), "m.bin", &bin);
        let cue = write(
            dir.path(),
            "m.cue",
            format!(
                "FILE m.bin BINARY\n TRACK 01 {}\n  INDEX 01 00:00:00\n",
                keyword.to_lowercase()
            ),
        );
        let disc = open(&cue).unwrap_or_else(|e| panic!("{keyword}: {e}"));
        let t = disc.track(1).unwrap();
        assert_eq!((t.mode, t.program_length()), (mode, 3), "{keyword}");
        let ExtentData::Stored(s) = &t.extents[1].data else {
            panic!("stored")
        };
        assert_eq!((s.main, s.stride(mode)), (layout, stride), "{keyword}");
        // User data comes from the file where the file holds exactly that.
        if matches!(keyword, "MODE1/2048" | "MODE2/2048" | "MODE2/2324") {
            let mut buf = vec![0u8; 3 * stride];
            disc.read_sectors(Lba(0), 3, SectorFormat::USER, &mut buf)
                .unwrap();
            assert_eq!(buf, bin, "{keyword}");
        }
        raw(&disc, Lba(0), 3);
    }
}

#[test]
fn crlf_bom_unquoted_names_and_case() {
    let dir = tempfile::tempdir().unwrap();
    let bin = pattern(2 * 2048 + 3 * 2352, 13);
    write(dir.path(), "Data_Disc.BIN", &bin);
    let mut text = b"\xEF\xBB\xBFrem made by hand\r\n\r\ntitle Caf\xC3\xA9 del Mar\r\nperformer \"The  Band\"\r\nFile data_disc.bin Binary\r\n\tTrack 1 mode1/2048\r\n\t\tIndex 1 0:0:0\r\n\tTRACK 02 Audio\r\n\t\tsongwriter \"Me\"\r\n\t\tiNDEX 01 00:00:02\r\n".to_vec();
    text.extend_from_slice(b"REM COMMENT \"anything\" goes here\r\n");
    let cue = write(dir.path(), "crlf.cue", &text);
    let disc = open(&cue).unwrap();
    let t2 = disc.track(2).unwrap();
    assert_eq!((t2.start.0, t2.length, disc.leadout().0), (2, 3, 5));
    // Mixed sector sizes in one file: track 2 starts after 2 sectors of 2048 bytes.
    assert_eq!(raw(&disc, Lba(2), 3), bin[2 * 2048..]);
    let text = disc.cdtext.as_ref().unwrap().first().unwrap();
    assert_eq!(text.get(0, CdTextField::Title), Some("Caf\u{e9} del Mar"));
    assert_eq!(text.get(0, CdTextField::Performer), Some("The  Band"));
    assert_eq!(text.get(2, CdTextField::Songwriter), Some("Me"));
    // Latin-1 sheets (EAC) decode too.
    let cue = write(
        dir.path(),
        "latin.cue",
        b"TITLE \"Caf\xE9\"\nFILE data_disc.bin BINARY\n TRACK 01 MODE1/2048\n  INDEX 01 00:00:00\n TRACK 02 AUDIO\n  INDEX 01 00:00:02\n",
    );
    assert_eq!(
        open(&cue)
            .unwrap()
            .cdtext
            .unwrap()
            .first()
            .unwrap()
            .get(0, CdTextField::Title),
        Some("Caf\u{e9}")
    );
}

#[test]
fn cdtextfile() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(sample("libcdio/cdtext.cdt"), dir.path().join("cdtext.cdt"))
        .unwrap();
    write(dir.path(), "t.bin", pattern(3 * 2352, 3));
    let cue = write(
        dir.path(),
        "t.cue",
        "CDTEXTFILE \"CDTEXT.CDT\"\nFILE t.bin BINARY\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n TRACK 02 AUDIO\n  TITLE \"Overridden\"\n  INDEX 01 00:00:01\n TRACK 03 AUDIO\n  INDEX 01 00:00:02\n",
    );
    let disc = open(&cue).unwrap();
    let text = disc.cdtext.as_ref().unwrap();
    let expected =
        CdText::from_packs(&std::fs::read(sample("libcdio/cdtext.cdt")).unwrap(), true).unwrap();
    assert_eq!(text.blocks.len(), expected.blocks.len());
    assert_eq!(text.blocks[1], expected.blocks[1]);
    let b = &text.blocks[0];
    assert_eq!(b.get(0, CdTextField::Title), Some("Joyful Nights"));
    assert_eq!(b.get(1, CdTextField::Title), Some("Song of Joy"));
    assert_eq!(b.get(2, CdTextField::Title), Some("Overridden"));
    assert_eq!(b.get(3, CdTextField::Performer), Some("Mia Kitten"));
    // A file that is not CD-TEXT.
    write(dir.path(), "junk.cdt", b"not packs");
    let msg = open(&write(
        dir.path(),
        "j.cue",
        "CDTEXTFILE junk.cdt\nFILE t.bin BINARY\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        msg.starts_with("j.cue line 1: CDTEXTFILE \"junk.cdt\": "),
        "{msg}"
    );
}

#[test]
fn multi_file_sets() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (pattern(30 * 2352, 21), pattern(40 * 2352, 22));
    write(dir.path(), "01.bin", &a);
    write(dir.path(), "02.bin", &b);
    // EAC "gaps appended to the previous track": track 2's INDEX 00 is in the first file.
    let cue = write(
        dir.path(),
        "eac.cue",
        "FILE \"01.bin\" BINARY\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\n  TRACK 02 AUDIO\n    INDEX 00 00:00:20\nFILE \"02.bin\" BINARY\n    INDEX 01 00:00:00\n  TRACK 03 AUDIO\n    INDEX 01 00:00:30\n",
    );
    let disc = open(&cue).unwrap();
    let t2 = disc.track(2).unwrap();
    assert_eq!(
        (
            t2.start.0,
            t2.pregap,
            t2.index1().0,
            t2.end().0,
            disc.leadout().0
        ),
        (20, 10, 30, 60, 70)
    );
    assert_eq!(raw(&disc, Lba(0), 70), [a.clone(), b.clone()].concat());
    round_trip(&disc, "eac");
    // Redump style: one file per track, a file's sectors before its first INDEX are the
    // track's stored pregap (as if INDEX 00 00:00:00 were there).
    let cue = write(
        dir.path(),
        "redump.cue",
        "FILE \"01.bin\" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\nFILE \"02.bin\" BINARY\n  TRACK 02 AUDIO\n    INDEX 01 00:00:02\n",
    );
    let disc = open(&cue).unwrap();
    let t2 = disc.track(2).unwrap();
    assert_eq!(
        (t2.start.0, t2.pregap, t2.index1().0, disc.leadout().0),
        (30, 2, 32, 70)
    );
    assert!(t2.pregap_stored());
    round_trip(&disc, "redump");
}

#[test]
fn registry_entry_points() {
    let cue = sample("libcdio/cdda.cue");
    let head = std::fs::read(&cue).unwrap();
    assert!(CueFormat.probe(&cue, &head, head.len() as u64));
    assert!(CueFormat.probe(Path::new("noext"), &head, head.len() as u64));
    assert!(!CueFormat.probe(&sample("libcdio/cdda.bin"), &[0; 2352], 2352));
    let companions = DirCompanions::beside(&cue);
    let ctx = OpenContext {
        companions: &companions as &dyn Companions,
        password: None,
    };
    let disc = CueFormat.open(&cue, &ctx).unwrap();
    assert_eq!(
        (disc.source.format.as_str(), disc.source.variant.as_str()),
        ("cue", "CUE/BIN")
    );
    assert_eq!(disc.source.path, cue);
    assert_eq!(disc.medium, spindle_disc::Medium::CdRom);
    let writer: &dyn spindle_disc::ImageWriter = &spindle_format_cue::BinCueWriter;
    assert_eq!((writer.id(), writer.extensions()), ("cue", &["cue"][..]));
    let caps = writer.caps();
    assert!(caps.audio && caps.multisession && caps.raw_sectors && caps.cdtext && !caps.subchannel);
}
