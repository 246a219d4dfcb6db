//! The two NRG samples libcdio ships, checked against real tools and matching images:
//! - the track table equals what libcdio's `cd-info --nrg-file` prints (run for real) and
//!   libcdio's own `expected-cd-info/videocd.right`;
//! - `p1.nrg` (v2, DAO audio, CD-TEXT) reads the same raw sectors as `p1.bin`, directly and
//!   through `p1.cue` opened by the CUE reader;
//! - `videocd.nrg` (v1, TAO, Mode 2 in 2336-byte sectors) agrees with `nrg2iso`'s output,
//!   which is the file minus its first 150 × 2048 bytes.

mod common;

use common::open;
use spindle_disc::{ByteSource, CdTextField, DirCompanions, Disc, Lba, SectorFormat, SectorView};
use spindle_testkit::{cd_info, sample};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// One row of cd-info's "CD-ROM Track List": number, audio/data, LSN of index 1, Green?
/// (Mode 2 XA), Copy? (DCP).
type Row = (u8, &'static str, i32, bool, bool);

/// The track rows and the lead-out LSN of a cd-info report.
fn parse_table(report: &str) -> (Vec<Row>, i32) {
    let (rows, leadout) = cd_info::table(report);
    let rows = rows.into_iter().map(|t| {
        let kind = if t.kind == "audio" { "audio" } else { "data" };
        (
            t.number as u8,
            kind,
            t.lsn,
            t.green.unwrap(),
            t.copy.unwrap(),
        )
    });
    (rows.collect(), leadout)
}

/// Runs cd-info on an NRG image; fails the test when cd-info is missing.
fn cd_info(nrg: &Path) -> String {
    cd_info::run(nrg).text()
}

fn our_table(disc: &Disc) -> (Vec<Row>, i32) {
    let rows = disc
        .tracks()
        .map(|t| {
            let kind = if t.mode.is_audio() { "audio" } else { "data" };
            (
                t.number,
                kind,
                t.index1().0,
                t.mode.has_subheader(),
                t.flags.copy_permitted,
            )
        })
        .collect();
    (rows, disc.leadout().0)
}

/// Track lengths as a TOC gives them: from one index 1 to the next (or the lead-out).
fn lengths((rows, leadout): &(Vec<Row>, i32)) -> Vec<i32> {
    let starts: Vec<i32> = rows.iter().map(|r| r.2).collect();
    cd_info::lengths(&starts, *leadout)
}

/// Opens `name`, compares its table with cd-info's, and returns the disc and the report.
fn check(name: &str) -> (Disc, String) {
    let path = sample(&format!("libcdio/{name}"));
    let disc = open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let report = cd_info(&path);
    let ours = our_table(&disc);
    let theirs = parse_table(&report);
    assert_eq!(ours, theirs, "{name}: our table vs cd-info\n{report}");
    assert_eq!(lengths(&ours), lengths(&theirs), "{name}: lengths");
    let mcn = cd_info::mcn_line(&report).expect("an MCN line");
    match &disc.mcn {
        Some(m) => assert_eq!(m.as_str(), mcn, "{name}: MCN"),
        None => assert!(
            mcn.is_empty() || mcn == "not available",
            "{name}: cd-info has MCN {mcn:?}"
        ),
    }
    disc.validate().unwrap();
    (disc, report)
}

fn read(disc: &Disc, lba: Lba, count: u32, format: SectorFormat) -> Vec<u8> {
    let mut buf = vec![0u8; count as usize * 2448];
    let n = disc.read_sectors(lba, count, format, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn p1_table_and_cdtext_match_cd_info() {
    let (disc, report) = check("p1.nrg");
    assert_eq!(disc.source.variant, "NRG v2 (NER5)");
    assert_eq!(disc.sessions.len(), 1);
    let t1 = disc.track(1).unwrap();
    // DAO: the whole pregap is stored, LBA -150 included.
    assert_eq!((t1.start.0, t1.pregap, t1.length), (-150, 300, 375));
    assert!(t1.pregap_stored());
    let t2 = disc.track(2).unwrap();
    assert_eq!((t2.start.0, t2.pregap, t2.end().0), (225, 75, 302));
    assert!(t2.pregap_stored());

    // CD-TEXT as cd-info lists it: "CD-TEXT for Disc:" / "CD-TEXT for Track  1:" then "\tFIELD: text".
    let theirs = cd_info::cdtext(&report);
    let block = disc
        .cdtext
        .as_ref()
        .and_then(|c| c.first())
        .expect("CD-TEXT");
    assert_eq!(block.language, 9, "cd-info: Language 0 'English'");
    let ours: BTreeMap<(u8, String), String> = block
        .items
        .iter()
        .map(|((t, f), v)| ((*t, f.cue_keyword().to_string()), v.clone()))
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(
        block.get(0, CdTextField::Title),
        Some("Join us now we have the software")
    );
}

#[test]
fn videocd_table_matches_cd_info_and_libcdio_expected() {
    let (disc, _) = check("videocd.nrg");
    let expected =
        std::fs::read_to_string(sample("libcdio/expected-cd-info/videocd.right")).unwrap();
    assert_eq!(
        our_table(&disc),
        parse_table(&expected),
        "our table vs videocd.right"
    );
    assert_eq!(disc.source.variant, "NRG v1 (NERO)");
    // TAO: every track has the synthetic, unstored 150-sector pregap.
    for t in disc.tracks() {
        assert_eq!(t.pregap, 150, "track {}", t.number);
        assert!(!t.pregap_stored(), "track {}", t.number);
    }
    // The first data track is an ISO 9660 volume: its primary volume descriptor at sector 16.
    let view = SectorView::first_data_track(Arc::new(disc)).unwrap();
    let mut pvd = [0u8; 2048];
    view.read_at(&mut pvd, 16 * 2048).unwrap();
    assert_eq!(&pvd[..6], b"\x01CD001");
    assert_eq!(&pvd[40..48], b"SVIDEOCD");
}

#[test]
fn p1_raw_sectors_equal_p1_bin_and_p1_cue() {
    let disc = open(&sample("libcdio/p1.nrg")).unwrap();
    let nrg = std::fs::read(sample("libcdio/p1.nrg")).unwrap();
    let bin = std::fs::read(sample("libcdio/p1.bin")).unwrap();
    // The CUE sheet names BOING.BIN: give the CUE reader the BIN under that name.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(sample("libcdio/p1.cue"), dir.path().join("p1.cue")).unwrap();
    std::fs::copy(sample("libcdio/p1.bin"), dir.path().join("BOING.BIN")).unwrap();
    let cue_path = dir.path().join("p1.cue");
    let companions = DirCompanions::beside(&cue_path);
    let ctx = spindle_disc::OpenContext {
        companions: &companions,
        password: None,
    };
    let cue = spindle_format_cue::open(&cue_path, &ctx).unwrap();
    assert_eq!(cue.leadout(), disc.leadout());
    let mut compared = 0;
    for t in disc.tracks() {
        let ours = read(&disc, t.start, t.length, SectorFormat::RAW);
        assert_eq!(ours.len(), t.length as usize * 2352);
        for (i, sector) in ours.chunks(2352).enumerate() {
            let lba = t.start.0 + i as i32;
            // LBA -150..0 is stored in the NRG (its first 150 sectors); p1.bin starts at LBA 0.
            let want = if lba < 0 {
                &nrg[(lba + 150) as usize * 2352..][..2352]
            } else {
                &bin[lba as usize * 2352..][..2352]
            };
            assert_eq!(sector, want, "track {} sector {lba}", t.number);
            // The CUE disc has other track boundaries (index 1 at 75 and 225) but the same sectors.
            let theirs = read(&cue, Lba(lba), 1, SectorFormat::RAW);
            assert_eq!(
                sector,
                &theirs[..],
                "track {} sector {lba} vs p1.cue",
                t.number
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 452);
    // The NRG's track data is exactly 150 stored pregap sectors followed by p1.bin.
    assert_eq!(&nrg[150 * 2352..452 * 2352], &bin[..]);
}

#[test]
fn videocd_agrees_with_nrg2iso() {
    let path = sample("libcdio/videocd.nrg");
    let disc = open(&path).unwrap();
    let nrg = std::fs::read(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("videocd.iso");
    let status = Command::new("nrg2iso")
        .arg(&path)
        .arg(&out)
        .output()
        .expect("nrg2iso (Debian package nrg2iso) must be installed for this test");
    assert!(status.status.success(), "nrg2iso failed: {status:?}");
    let iso = std::fs::read(&out).unwrap();

    // What every track stores, as our raw view gives it: 2336 bytes after sync and header.
    let mut stored = Vec::new();
    for t in disc.tracks() {
        let raw = read(&disc, t.index1(), t.program_length(), SectorFormat::RAW);
        for s in raw.chunks(2352) {
            stored.extend_from_slice(&s[16..]);
        }
    }
    let chunk_list = u32::from_be_bytes(nrg[nrg.len() - 4..].try_into().unwrap()) as usize;
    assert_eq!(
        stored.len(),
        chunk_list,
        "the tracks cover the file up to the chunk list"
    );
    assert_eq!(&stored[..], &nrg[..chunk_list]);

    // nrg2iso assumes a Mode 1 DAO image with its 150-sector pregap stored as 2048-byte
    // sectors: it drops the first 307200 bytes and copies the rest, chunk list and trailer
    // included. On this 2336-byte TAO image that output is therefore our stored track data
    // from byte 307200 on (not an ISO: the user data is not extracted), then the chunk list.
    const SKIP: usize = 150 * 2048;
    assert_eq!(iso.len(), nrg.len() - SKIP);
    assert_eq!(
        &iso[..chunk_list - SKIP],
        &stored[SKIP..],
        "nrg2iso output vs our stored data"
    );
    assert_eq!(&iso[chunk_list - SKIP..], &nrg[chunk_list..]);

    // Track 1 in detail: nrg2iso's bytes are our 2336-byte sectors of track 1, shifted.
    let t1 = disc.track(1).unwrap();
    let t1_bytes = t1.program_length() as usize * 2336;
    assert_eq!(&iso[..t1_bytes - SKIP], &stored[SKIP..t1_bytes]);
}
