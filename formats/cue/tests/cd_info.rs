//! The track table of every valid libcdio sample, compared with what libcdio's `cd-info`
//! prints for the same sheet (run for real) and with libcdio's own expected outputs
//! (`expected-cd-info/*.right`). MCN and CD-TEXT of `cdda.cue` too.

mod common;

use common::open;
use spindle_disc::{CdTextField, Disc};
use spindle_testkit::{cd_info, sample};
use std::collections::BTreeMap;
use std::path::Path;

/// One row of cd-info's "CD-ROM Track List": number, audio/data, LSN of index 1.
type Row = (u8, String, i32);

/// The track rows and the lead-out LSN of a cd-info report.
fn parse_table(report: &str) -> (Vec<Row>, i32) {
    let (rows, leadout) = cd_info::table(report);
    let rows = rows.into_iter().map(|t| (t.number as u8, t.kind, t.lsn));
    (rows.collect(), leadout)
}

/// Runs cd-info on `cue` inside `dir`; fails the test when cd-info is missing.
fn cd_info(dir: &Path, cue: &str) -> String {
    cd_info::run_in(dir, cue).text()
}

fn our_table(disc: &Disc) -> (Vec<Row>, i32) {
    let rows = disc
        .tracks()
        .map(|t| {
            (
                t.number,
                if t.mode.is_audio() { "audio" } else { "data" }.to_string(),
                t.index1().0,
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

fn check(dir: &Path, cue: &str, right: Option<&str>) -> Disc {
    let disc = open(&dir.join(cue)).unwrap_or_else(|e| panic!("{cue}: {e}"));
    let ours = our_table(&disc);
    let report = cd_info(dir, cue);
    let theirs = parse_table(&report);
    assert_eq!(ours, theirs, "{cue}: our table vs cd-info\n{report}");
    assert_eq!(lengths(&ours), lengths(&theirs), "{cue}: lengths");
    if let Some(right) = right {
        let expected =
            std::fs::read_to_string(sample(&format!("libcdio/expected-cd-info/{right}"))).unwrap();
        assert_eq!(ours, parse_table(&expected), "{cue}: our table vs {right}");
    }
    let mcn = cd_info::mcn_line(&report).expect("an MCN line");
    assert_eq!(
        disc.mcn
            .as_ref()
            .map(|m| m.as_str())
            .unwrap_or("not available"),
        mcn,
        "{cue}: MCN"
    );
    disc
}

#[test]
fn cdda() {
    let disc = check(&sample("libcdio"), "cdda.cue", Some("cdda.right"));
    // CD-TEXT as cd-info lists it: "CD-TEXT for Disc:" / "CD-TEXT for Track  1:" then "\tFIELD: text".
    let report = cd_info(&sample("libcdio"), "cdda.cue");
    let theirs = cd_info::cdtext(&report);
    let block = disc
        .cdtext
        .as_ref()
        .and_then(|c| c.first())
        .expect("CD-TEXT");
    assert_eq!(block.language, 9);
    let ours: BTreeMap<(u8, String), String> = block
        .items
        .iter()
        .map(|((t, f), v)| ((*t, f.cue_keyword().to_string()), v.clone()))
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(block.get(1, CdTextField::Title), Some("Soft"));
    assert!(disc.track(1).unwrap().flags.copy_permitted);
}

#[test]
fn cdda_4_5() {
    let disc = check(&sample("libcdio"), "cdda_4_5.cue", Some("cdda_4_5.right"));
    assert_eq!(
        disc.tracks().map(|t| t.number).collect::<Vec<_>>(),
        vec![4, 5]
    );
}

#[test]
fn isofs_m1() {
    let disc = check(&sample("libcdio"), "isofs-m1.cue", Some("isofs-m1.right"));
    assert_eq!(disc.source.files.len(), 1);
    assert!(disc.source.files[0].ends_with("isofs-m1.bin"));
}

#[test]
fn p1_with_boing_bin() {
    // p1.cue names BOING.BIN; cd-info looks for the BIN by the sheet's own name too, so the
    // temporary folder holds it under both names.
    let dir = tempfile::tempdir().unwrap();
    spindle_testkit::fixtures::p1_cue(dir.path());
    let disc = check(dir.path(), "p1.cue", None);
    let t1 = disc.track(1).unwrap();
    assert_eq!((t1.start.0, t1.pregap, t1.index1().0), (-150, 225, 75));
    let t2 = disc.track(2).unwrap();
    assert_eq!(
        (t2.start.0, t2.pregap, t2.index1().0, t2.end().0),
        (150, 75, 225, 302)
    );
    assert!(t2.pregap_stored());
}
