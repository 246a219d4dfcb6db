//! Round trips through the emulated drive: every sample disc ripped (layout, rescue, disc
//! model of the rip) has the source's sessions, tracks, pregaps, modes, MCN, ISRCs and
//! CD-TEXT, and per-track hashes of its raw sectors equal the source's; written out by the
//! image writers it reads back with the same TOC, and an ISO equals its source byte for byte.

use spindle_disc::{Disc, SectorFormat, TrackMode};
use spindle_mmc::{EmulatedDrive, Mmc};
use spindle_rip::hash::Hasher;
use spindle_rip::image::disc_from_rip;
use spindle_rip::rip::{RipFiles, RipOptions, rip};
use spindle_testkit::samples;
use std::path::Path;
use std::sync::Arc;

fn kind(m: TrackMode) -> &'static str {
    match m {
        TrackMode::Audio => "audio",
        TrackMode::Mode0 => "mode0",
        TrackMode::Mode1 => "mode1",
        _ => "mode2",
    }
}

/// Per-track digests of the raw (CD) or user (DVD/BD) sectors of a disc.
fn track_hashes(d: &Disc) -> Vec<String> {
    let fmt = if d.medium.is_cd() {
        SectorFormat::RAW
    } else {
        SectorFormat::USER_2048
    };
    let size = if d.medium.is_cd() { 2352 } else { 2048 };
    d.tracks()
        .map(|t| {
            let mut h = Hasher::new();
            let mut buf = vec![0u8; 64 * size];
            let mut at = t.start;
            while at < t.end() {
                let n = (t.end().since(at) as u32).min(64);
                let got = d.read_sectors(at, n, fmt, &mut buf).unwrap();
                h.update(&buf[..got]);
                at = at.offset(n as i64);
            }
            h.finish().sha1
        })
        .collect()
}

fn toc(d: &Disc) -> Vec<(u8, u8, &'static str, i32, u32, u32, u8)> {
    d.sessions
        .iter()
        .flat_map(|s| {
            s.tracks.iter().map(move |t| {
                (
                    s.number,
                    t.number,
                    kind(t.mode),
                    t.start.0,
                    t.pregap,
                    t.length,
                    t.control(),
                )
            })
        })
        .collect()
}

fn rip_disc(source: Disc, dir: &Path) -> Disc {
    let drive = EmulatedDrive::new(Some(Arc::new(source)));
    let mut m = Mmc::new(&drive);
    let files = RipFiles::beside(&dir.join("out"));
    let r = rip(&mut m, &files, &RipOptions::default(), None, None).unwrap();
    assert!(r.bad.is_empty());
    disc_from_rip(&r).unwrap()
}

fn check(rel: &str, source: Disc) {
    let dir = tempfile::tempdir().unwrap();
    let src_toc = toc(&source);
    let src_hashes = track_hashes(&source);
    let (mcn, cdtext) = (source.mcn.clone(), source.cdtext.clone());
    let isrcs: Vec<_> = source.tracks().map(|t| t.isrc.clone()).collect();
    let leadouts: Vec<_> = source.sessions.iter().map(|s| s.leadout).collect();
    let indexes: Vec<_> = source.tracks().map(|t| t.extra_indexes.clone()).collect();
    let medium = source.medium;
    let ripped = rip_disc(source, dir.path());
    assert_eq!(toc(&ripped), src_toc, "{rel}: tracks");
    assert_eq!(track_hashes(&ripped), src_hashes, "{rel}: per-track hashes");
    assert_eq!(
        ripped
            .sessions
            .iter()
            .map(|s| s.leadout)
            .collect::<Vec<_>>(),
        leadouts,
        "{rel}"
    );
    assert_eq!(ripped.mcn, mcn, "{rel}: MCN");
    assert_eq!(ripped.cdtext, cdtext, "{rel}: CD-TEXT");
    assert_eq!(
        ripped.tracks().map(|t| t.isrc.clone()).collect::<Vec<_>>(),
        isrcs,
        "{rel}: ISRC"
    );
    assert_eq!(ripped.medium, medium);
    assert_eq!(
        ripped
            .tracks()
            .map(|t| t.extra_indexes.clone())
            .collect::<Vec<_>>(),
        indexes,
        "{rel}: indexes 2+"
    );
    // Written by an image writer, the rip reads back with the same TOC.
    let ext = if ripped.medium.is_cd() { "cue" } else { "iso" };
    let out = dir.path().join(format!("image.{ext}"));
    let opts = spindle_image::ConvertOptions {
        format: None,
        data_only: false,
        write: Default::default(),
    };
    spindle_image::convert(&ripped, &out, &opts, &mut |_, _| {})
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    let back = spindle_image::open(&out).unwrap();
    let index1 = |d: &Disc| {
        d.tracks()
            .map(|t| (t.number, t.index1().0, kind(t.mode)))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        index1(&back),
        index1(&ripped),
        "{rel}: written and read back"
    );
}

#[test]
fn samples_round_trip() {
    for rel in [
        "libcdio/isofs-m1.cue",
        "libcdio/cdda.cue",
        "libcdio/p1.nrg",
        "libcdio/videocd.nrg",
        "cditools/test.cdi",
        "generated-chd/mixed-mode1-audio.chd",
        "mdsx/test.mds",
        "debian-ipxe/ipxe.iso",
    ] {
        check(rel, spindle_image::open(&samples().join(rel)).unwrap());
    }
    // With an ISRC, and indexes 2 and 3.
    let mut d = spindle_image::open(&samples().join("libcdio/cdda.cue")).unwrap();
    d.sessions[0].tracks[0].isrc = spindle_disc::Isrc::parse("USXX19801234");
    d.sessions[0].tracks[0].extra_indexes = vec![spindle_disc::Lba(100), spindle_disc::Lba(250)];
    check("cdda.cue with an ISRC and indexes", d);
}

#[test]
fn iso_rip_equals_the_source() {
    for (rel, medium) in [
        ("libcdio/copying.iso", spindle_disc::Medium::DvdRom),
        ("kdomanski-iso9660/test.iso", spindle_disc::Medium::CdRom),
    ] {
        let mut d = spindle_image::open(&samples().join(rel)).unwrap();
        d.medium = medium;
        let dir = tempfile::tempdir().unwrap();
        let ripped = rip_disc(d, dir.path());
        let out = dir.path().join("x.iso");
        let opts = spindle_image::ConvertOptions {
            format: None,
            data_only: false,
            write: Default::default(),
        };
        spindle_image::convert(&ripped, &out, &opts, &mut |_, _| {}).unwrap();
        assert!(
            std::fs::read(&out).unwrap() == std::fs::read(samples().join(rel)).unwrap(),
            "{rel}"
        );
    }
}
