//! The layout the ripper reads from a drive (the emulated one here) equals the disc model the
//! drive was loaded with: tracks, sessions, lead-outs, MCN, ISRCs, CD-TEXT, DVD structures;
//! and the fallbacks when a drive has no full TOC.

use spindle_disc::{CdText, Disc, Isrc, Lba, Medium};
use spindle_mmc::sense::Sense;
use spindle_mmc::transport::{DataBuffer, Outcome};
use spindle_mmc::{EmulatedDrive, Mmc, Transport, TransportError};
use spindle_rip::layout::{Family, read_layout};
use spindle_testkit::samples;
use std::sync::Arc;
use std::time::Duration;

fn open(rel: &str) -> Disc {
    spindle_image::open(&samples().join(rel)).unwrap()
}

/// Where track `t` ends in TOC terms.
fn toc_end(d: &Disc, number: u8) -> Lba {
    for s in &d.sessions {
        if let Some(i) = s.tracks.iter().position(|t| t.number == number) {
            return s.tracks.get(i + 1).map(|n| n.index1()).unwrap_or(s.leadout);
        }
    }
    unreachable!()
}

fn check_against_model(disc: Disc) {
    let disc = Arc::new(disc);
    let drive = EmulatedDrive::new(Some(disc.clone()));
    let mut m = Mmc::new(&drive);
    let l = read_layout(&mut m).unwrap();
    let name = disc.source.path.display().to_string();
    assert_eq!(l.capacity, disc.leadout().0 as u64, "{name}");
    assert_eq!(l.sessions.len(), disc.sessions.len(), "{name}");
    for (ls, ms) in l.sessions.iter().zip(&disc.sessions) {
        assert_eq!(ls.number, ms.number);
        assert_eq!(
            ls.leadout, ms.leadout.0 as i64,
            "{name} session {}",
            ms.number
        );
        assert_eq!(
            (ls.first_track, ls.last_track),
            (ms.tracks[0].number, ms.tracks.last().unwrap().number)
        );
    }
    let model: Vec<_> = disc
        .sessions
        .iter()
        .flat_map(|s| s.tracks.iter().map(move |t| (s.number, t)))
        .collect();
    assert_eq!(l.tracks.len(), model.len(), "{name}");
    for (lt, (sn, t)) in l.tracks.iter().zip(model) {
        assert_eq!(
            (lt.number, lt.session, lt.control),
            (t.number, sn, t.control()),
            "{name}"
        );
        assert_eq!(lt.start, t.index1().0 as i64, "{name} track {}", t.number);
        assert_eq!(
            lt.end(),
            toc_end(&disc, t.number).0 as i64,
            "{name} track {}",
            t.number
        );
        if t.mode.is_audio() {
            assert_eq!(lt.isrc.as_deref(), t.isrc.as_ref().map(|i| i.as_str()));
        }
    }
    assert_eq!(
        l.mcn.as_deref(),
        disc.mcn.as_ref().map(|m| m.as_str()),
        "{name}"
    );
    match &disc.cdtext {
        Some(t) => assert_eq!(&CdText::from_packs(&l.cd_text, true).unwrap(), t, "{name}"),
        None => assert!(l.cd_text.is_empty()),
    }
    assert_eq!(l.full_toc, disc.full_toc_entries());
}

#[test]
fn layout_equals_the_model() {
    for rel in [
        "libcdio/isofs-m1.cue",
        "libcdio/cdda.cue",
        "libcdio/videocd.nrg",
        "libcdio/p1.nrg",
        "cditools/test.cdi",
        "generated-chd/mixed-mode1-audio.chd",
    ] {
        check_against_model(open(rel));
    }
    let mut d = open("libcdio/cdda.cue");
    d.sessions[0].tracks[0].isrc = Isrc::parse("USXX19801234");
    check_against_model(d);
}

#[test]
fn dvd_layout() {
    let mut d = open("libcdio/copying.iso");
    d.medium = Medium::DvdRom;
    d.structures.bca = Some(vec![1, 2, 3, 4]);
    let drive = EmulatedDrive::new(Some(Arc::new(d)));
    let l = read_layout(&mut Mmc::new(&drive)).unwrap();
    assert_eq!((l.profile, l.family, l.capacity), (0x0010, Family::Dvd, 64));
    assert_eq!(l.tracks.len(), 1);
    assert_eq!(l.pfi.len(), 1);
    assert_eq!(
        spindle_mmc::structure::PhysicalFormat::parse(&l.pfi[0])
            .unwrap()
            .sectors(),
        64
    );
    assert_eq!(l.dmi.len(), 1);
    assert_eq!(l.bca, Some(vec![1, 2, 3, 4]));
    assert!(l.full_toc.is_empty() && l.cd_text.is_empty());
}

/// A drive that refuses READ TOC format 2 (some old drives, and USB bridges).
struct NoFullToc<'a>(&'a EmulatedDrive);

impl Transport for NoFullToc<'_> {
    fn name(&self) -> &str {
        "drive without a full TOC"
    }
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataBuffer<'_>,
        timeout: Duration,
    ) -> Result<Outcome, TransportError> {
        if cdb[0] == 0x43 && cdb[2] & 0xF == 2 {
            return Ok(Outcome::check(&Sense::invalid_cdb_field(2, None), 0));
        }
        self.0.execute_cdb(cdb, data, timeout)
    }
}

#[test]
fn layout_without_full_toc() {
    // Two sessions: the session information splits them; session 1's lead-out is guessed
    // from the usual 11400-sector gap.
    let disc = Arc::new(open("cditools/test.cdi"));
    let drive = EmulatedDrive::new(Some(disc.clone()));
    let l = read_layout(&mut Mmc::new(NoFullToc(&drive))).unwrap();
    assert!(l.full_toc.is_empty());
    assert_eq!(l.sessions.len(), 2);
    assert_eq!(
        (l.sessions[0].first_track, l.sessions[0].last_track),
        (1, 1)
    );
    assert_eq!(
        (l.sessions[1].first_track, l.sessions[1].last_track),
        (2, 2)
    );
    assert_eq!(l.sessions[0].leadout, disc.sessions[0].leadout.0 as i64);
    assert_eq!(l.tracks[1].end(), disc.leadout().0 as i64);
    assert_eq!(l.tracks[0].end(), disc.sessions[0].leadout.0 as i64);
    // One session.
    let disc = Arc::new(open("libcdio/isofs-m1.cue"));
    let drive = EmulatedDrive::new(Some(disc.clone()));
    let l = read_layout(&mut Mmc::new(NoFullToc(&drive))).unwrap();
    assert_eq!(l.sessions.len(), 1);
    assert_eq!(l.tracks[0].length, 302);
    // No disc: a clear error.
    let empty = EmulatedDrive::new(None);
    let e = read_layout(&mut Mmc::new(&empty)).unwrap_err();
    assert!(e.to_string().contains("no disc"), "{e}");
}
