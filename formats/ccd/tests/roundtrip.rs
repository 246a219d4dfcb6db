//! Every sample CUE/BIN disc written as CCD/IMG/SUB and read back gives the same disc: the
//! same TOC (tracks, modes, addresses, pregaps, session lead-outs), full TOC, MCN, CD-TEXT and
//! the same raw sectors of what a BIN stores of each track.

mod common;

use common::{open_cue, round_trip, toc, write};
use spindle_testkit::sample;
use spindle_testkit::toc::Toc;

#[test]
fn libcdio_samples() {
    for cue in ["cdda.cue", "cdda_4_5.cue", "isofs-m1.cue"] {
        let disc = open_cue(&sample(&format!("libcdio/{cue}")));
        let (back, out) = round_trip(&disc, cue.trim_end_matches(".cue"));
        // The .img holds LBA 0 to the lead-out.
        let img = std::fs::metadata(out.path().join(cue.replace(".cue", ".img")))
            .unwrap()
            .len();
        assert_eq!(img, back.leadout().0 as u64 * 2352, "{cue}");
    }
}

#[test]
fn isofs_m1_control_file() {
    let disc = open_cue(&sample("libcdio/isofs-m1.cue"));
    let (back, out) = round_trip(&disc, "isofs-m1");
    let text = std::fs::read_to_string(out.path().join("isofs-m1.ccd")).unwrap();
    for want in [
        "[CloneCD]\r\nVersion=3\r\n",
        "TocEntries=4\r\nSessions=1\r\nDataTracksScrambled=0\r\nCDTextLength=0\r\n",
        "[Entry 2]\r\nSession=1\r\nPoint=0xa2\r\nADR=0x01\r\nControl=0x04\r\n",
        "PLBA=302\r\n",
        "[TRACK 1]\r\nMODE=1\r\nINDEX 1=0\r\n",
    ] {
        assert!(text.contains(want), "{want:?} missing in\n{text}");
    }
    assert_eq!(back.track(1).unwrap().mode, spindle_disc::TrackMode::Mode1);
    assert_eq!(back.full_toc.len(), 4, "the stored entries are kept");
}

#[test]
fn p1_with_stored_pregaps_mcn_and_cdtext() {
    let dir = tempfile::tempdir().unwrap();
    let disc = open_cue(&spindle_testkit::fixtures::p1_cue(dir.path()));
    assert!(disc.mcn.is_some() && disc.cdtext.is_some());
    let (back, out) = round_trip(&disc, "p1");
    let text = std::fs::read_to_string(out.path().join("p1.ccd")).unwrap();
    assert!(text.contains("CATALOG=0000010271955\r\n"), "{text}");
    assert!(
        text.contains("[TRACK 1]\r\nMODE=0\r\nFLAGS=DCP\r\nINDEX 0=0\r\nINDEX 1=75\r\n"),
        "{text}"
    );
    assert!(
        text.contains("[TRACK 2]\r\nMODE=0\r\nFLAGS=DCP\r\nINDEX 0=150\r\nINDEX 1=225\r\n"),
        "{text}"
    );
    assert!(text.contains("[CDText]\r\nEntries="), "{text}");
    assert!(back.track(2).unwrap().pregap_stored());
}

#[test]
fn mixed_mode_multi_file_with_pregap() {
    let (disc, _dir) = common::mixed_disc();
    let (back, out) = round_trip(&disc, "mixed");
    // The unstored pregap of track 2 is written into the .img (as CloneCD does).
    assert_eq!(
        std::fs::metadata(out.path().join("mixed.img"))
            .unwrap()
            .len(),
        754 * 2352
    );
    let t2 = back.track(2).unwrap();
    assert_eq!(
        (t2.start.0, t2.pregap, t2.index1().0, back.leadout().0),
        (302, 150, 452, 754)
    );
    assert!(t2.pregap_stored());
}

#[test]
fn two_sessions_with_their_gap() {
    let dir = tempfile::tempdir().unwrap();
    for bin in ["isofs-m1.bin", "cdda.bin"] {
        std::os::unix::fs::symlink(sample(&format!("libcdio/{bin}")), dir.path().join(bin))
            .unwrap();
    }
    let cue = write(
        dir.path(),
        "ms.cue",
        "FILE cdda.bin BINARY\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\nREM SESSION 02\nFILE isofs-m1.bin BINARY\n TRACK 02 MODE1/2352\n  INDEX 01 00:00:00\n",
    );
    let disc = open_cue(&cue);
    assert_eq!(disc.sessions.len(), 2);
    let (back, out) = round_trip(&disc, "ms");
    let Toc { tracks, leadouts } = toc(&back);
    let gap = spindle_disc::cuesheet::session_gap(1) as i32;
    assert_eq!(tracks[1].start, leadouts[0] + gap);
    assert_eq!(tracks[1].index1, leadouts[0] + gap + 150);
    assert_eq!(tracks[1].mode, "mode1");
    // Session gaps are not in the .img: session 1, then session 2 with its pregap.
    let img = std::fs::metadata(out.path().join("ms.img")).unwrap().len() / 2352;
    assert_eq!(img as i32, leadouts[0] + (leadouts[1] - tracks[1].start));
    let text = std::fs::read_to_string(out.path().join("ms.ccd")).unwrap();
    assert!(
        text.contains("Sessions=2\r\n") && text.contains("Point=0xb0\r\n"),
        "{text}"
    );
    // A third session: the later gap is 6750.
    let cue3 = write(
        dir.path(),
        "ms3.cue",
        "FILE cdda.bin BINARY\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\nREM SESSION 02\nFILE cdda.bin BINARY\n TRACK 02 AUDIO\n  INDEX 01 00:00:00\nREM SESSION 03\nFILE isofs-m1.bin BINARY\n TRACK 03 MODE1/2352\n  INDEX 01 00:00:00\n",
    );
    let disc3 = open_cue(&cue3);
    let (back3, _out3) = round_trip(&disc3, "ms3");
    let Toc {
        tracks: t,
        leadouts: l,
    } = toc(&back3);
    assert_eq!(
        t[2].start,
        l[1] + spindle_disc::cuesheet::session_gap(2) as i32
    );
}
