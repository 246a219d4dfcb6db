//! Round trips through the MDS v1 and MDX writers: every sample disc the registry reads,
//! written as MDS v1 + MDF and as MDX (uncompressed, compressed, compressed and encrypted),
//! reads back with the same table of contents and the same per-track hashes. Discs built in
//! the test add what the samples lack: several sessions, CD-TEXT, subchannel, a DVD with its
//! structures, BCA and DPM.

use spindle_disc::{
    Disc, DiscStructures, Dpm, Extent, ExtentData, MainLayout, Medium, SectorFormat, Stored,
    SubLayout, TrackMode,
};
use spindle_image::{ConvertOptions, WriteOptions, convert, open, open_with, verify};
use spindle_testkit::fixtures;
use spindle_testkit::samples;
use std::path::Path;
use std::sync::Arc;

/// What a table of contents shows of a track. MDS has one mode code for XA Form 1 and
/// mixed XA, and no postgap (it becomes part of the track).
#[derive(Debug, PartialEq, Eq)]
struct Toc {
    session: u8,
    number: u8,
    mode: &'static str,
    start: i32,
    index1: i32,
    length: u32,
    control: u8,
}

fn toc(d: &Disc) -> (Vec<Toc>, Vec<i32>, Medium) {
    let mut out = Vec::new();
    for s in &d.sessions {
        for t in &s.tracks {
            let mode = match t.mode {
                TrackMode::Mode2Form1 | TrackMode::Mode2Mixed => "mode2-xa",
                m => m.name(),
            };
            out.push(Toc {
                session: s.number,
                number: t.number,
                mode,
                start: t.start.0,
                index1: t.index1().0,
                length: t.length,
                control: t.control(),
            });
        }
    }
    (
        out,
        d.sessions.iter().map(|s| s.leadout.0).collect(),
        d.medium,
    )
}

fn hashes(d: &Disc) -> Vec<(u8, u32, String, String)> {
    let r = verify(d, &mut |_, _| {}).unwrap();
    r.tracks
        .iter()
        .map(|t| (t.number, t.sectors, t.md5.clone(), t.sha1.clone()))
        .collect()
}

/// The four targets: (file name, options).
fn targets() -> Vec<(&'static str, WriteOptions)> {
    vec![
        ("v1.mds", WriteOptions::default()),
        (
            "plain.mdx",
            WriteOptions {
                uncompressed: true,
                ..Default::default()
            },
        ),
        ("packed.mdx", WriteOptions::default()),
        (
            "secret.mdx",
            WriteOptions {
                password: Some("hunter2".into()),
                ..Default::default()
            },
        ),
    ]
}

/// Writes `disc` to every target and checks what comes back; returns the discs read back.
fn round_trip(disc: &Disc, what: &str) -> Vec<Disc> {
    let dir = tempfile::tempdir().unwrap();
    let want = (toc(disc), hashes(disc));
    let mut back = Vec::new();
    for (name, write) in targets() {
        let out = dir.path().join(name);
        let opts = ConvertOptions {
            write: write.clone(),
            ..Default::default()
        };
        convert(disc, &out, &opts, &mut |_, _| {})
            .unwrap_or_else(|e| panic!("{what} -> {name}: {e:?}"));
        let d = open_with(&out, write.password.clone())
            .unwrap_or_else(|e| panic!("{what} -> {name}: reading back: {e:?}"));
        assert_eq!(d.source.format, "mds");
        assert_eq!((toc(&d), hashes(&d)), want, "{what} -> {name}");
        assert_eq!(
            d.cdtext.is_some(),
            disc.cdtext.is_some(),
            "{what} -> {name}: CD-TEXT"
        );
        if let Some(t) = &disc.cdtext {
            assert_eq!(
                d.cdtext.as_ref().unwrap().blocks,
                t.blocks,
                "{what} -> {name}: CD-TEXT"
            );
        }
        assert_eq!(
            d.structures, disc.structures,
            "{what} -> {name}: structures"
        );
        assert_eq!(d.dpm, disc.dpm, "{what} -> {name}: DPM");
        back.push(d);
    }
    back
}

fn link(dir: &Path, rel: &str, name: &str) {
    std::os::unix::fs::symlink(samples().join(rel), dir.join(name)).unwrap();
}

#[test]
fn sample_cue_bin_discs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for c in ["cdda.cue", "cdda_4_5.cue", "isofs-m1.cue"] {
        let disc = open(&samples().join("libcdio").join(c)).unwrap();
        round_trip(&disc, c);
    }
    // p1: stored pregaps (INDEX 00) between tracks.
    let disc = open(&fixtures::p1_cue(d)).unwrap();
    assert!(disc.track(2).unwrap().pregap_stored());
    for back in round_trip(&disc, "p1.cue") {
        assert!(back.track(2).unwrap().pregap_stored());
    }
    // Mode 1 + audio with an unstored pregap, two BIN files.
    let disc = open(&fixtures::mixed_cue(d)).unwrap();
    for back in round_trip(&disc, "mixed.cue") {
        assert!(!back.track(2).unwrap().pregap_stored());
    }
}

/// NRG, CDI and CHD samples (other formats' discs: stored pregaps, XA, two sessions).
#[test]
fn sample_nrg_cdi_chd_discs() {
    for rel in [
        "libcdio/p1.nrg",
        "libcdio/videocd.nrg",
        "cditools/test.cdi",
        "generated-chd/mixed-mode1-audio.chd",
        "generated-chd/cdda.chd",
    ] {
        let disc = open(&samples().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e:?}"));
        round_trip(&disc, rel);
    }
}

#[test]
fn sample_iso_images() {
    let mut n = 0;
    for sub in [
        "libarchive",
        "libcdio",
        "kdomanski-iso9660",
        "iso9660-rs",
        "debian-ipxe",
        "mdsx",
        "ecmlib",
    ] {
        let mut entries: Vec<_> = std::fs::read_dir(samples().join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let ext = p
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if !matches!(ext.as_str(), "iso" | "bin") || sub == "libcdio" && ext == "bin" {
                continue;
            }
            let Ok(disc) = open(&p) else { continue };
            if disc.source.format != "iso" {
                continue;
            }
            round_trip(&disc, &p.display().to_string());
            n += 1;
        }
    }
    assert!(n >= 25, "only {n} ISO samples read");
}

#[test]
fn multisession_with_cd_text() {
    let dir = tempfile::tempdir().unwrap();
    link(dir.path(), "libcdio/cdda.bin", "cdda.bin");
    link(dir.path(), "libcdio/isofs-m1.bin", "isofs-m1.bin");
    let cue = dir.path().join("ms.cue");
    std::fs::write(
        &cue,
        "PERFORMER \"Spindle\"\nTITLE \"Two sessions\"\nFILE cdda.bin BINARY\n TRACK 01 AUDIO\n  TITLE \"Song\"\n  PERFORMER \"Band\"\n  INDEX 01 00:00:00\nREM SESSION 02\nFILE isofs-m1.bin BINARY\n TRACK 02 MODE1/2352\n  INDEX 01 00:00:00\n",
    )
    .unwrap();
    let disc = open(&cue).unwrap();
    assert_eq!(disc.sessions.len(), 2);
    assert!(disc.cdtext.is_some());
    for back in round_trip(&disc, "ms.cue") {
        assert_eq!(back.sessions.len(), 2);
        // The stored full TOC has the B0 entry pointing at session 2.
        assert!(
            back.full_toc
                .iter()
                .any(|e| e.point == 0xB0 && e.session == 1)
        );
    }
}

/// isofs-m1 with 96 bytes of PW subchannel after every sector (what a raw rip stores).
#[test]
fn subchannel_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let disc = open(&samples().join("libcdio/isofs-m1.cue")).unwrap();
    let t = disc.track(1).unwrap();
    let n = t.program_length();
    let mut raw = vec![0u8; n as usize * 2448];
    disc.read_sectors(t.index1(), n, SectorFormat::RAW_PW96, &mut raw)
        .unwrap();
    // Mark the R-W channels so that a synthesised subchannel could not pass.
    for s in raw.chunks_exact_mut(2448) {
        for b in &mut s[2352..] {
            *b |= 0x15;
        }
    }
    let bin = dir.path().join("sub.img");
    std::fs::write(&bin, &raw).unwrap();
    let mut with_sub = disc.clone();
    let src: Arc<dyn spindle_disc::ByteSource> =
        Arc::new(spindle_disc::FileSource::open(&bin).unwrap());
    let mut st = Stored::new(src, 0, MainLayout::RAW);
    st.sub = SubLayout::Pw96Interleaved;
    let tr = &mut with_sub.sessions[0].tracks[0];
    tr.extents = vec![Extent::zero(tr.pregap), Extent::stored(n, st)];
    for back in round_trip(&with_sub, "isofs-m1 + PW96") {
        let mut got = vec![0u8; raw.len()];
        back.read_sectors(t.index1(), n, SectorFormat::RAW_PW96, &mut got)
            .unwrap();
        assert!(got == raw, "subchannel differs after the round trip");
        assert!(
            back.tracks()
                .flat_map(|t| &t.extents)
                .any(|e| match &e.data {
                    ExtentData::Stored(s) => s.sub == SubLayout::Pw96Interleaved,
                    ExtentData::Custom(c) => c.sub_layout() == SubLayout::Pw96Interleaved,
                    ExtentData::Zero => false,
                })
        );
    }
}

#[test]
fn dvd_with_structures_bca_and_dpm() {
    let mut disc = open(&samples().join("mdsx/mdxtest.iso")).unwrap();
    disc.medium = Medium::DvdRom;
    // As the ISO reader lays out a DVD: no pregap.
    let t = &mut disc.sessions[0].tracks[0];
    t.extents.retain(|e| !e.is_zero());
    (t.start, t.length, t.pregap) = (spindle_disc::Lba(0), t.length - t.pregap, 0);
    let mut pfi = vec![0u8; 2048];
    pfi[0] = 0x01; // DVD-ROM, version 1
    pfi[2] = 0x20; // two layers
    let mut pfi1 = pfi.clone();
    pfi1[5] = 0x55;
    disc.structures = DiscStructures {
        pfi: vec![pfi, pfi1],
        dmi: vec![vec![0xD0; 2048], vec![0xD1; 2048]],
        copyright: vec![vec![0, 0, 0, 0], vec![1, 2, 0, 0]],
        bca: Some((0..64).collect()),
        bd_disc_info: None,
    };
    disc.dpm = vec![Dpm {
        start_sector: 0,
        resolution: 50,
        entries: (1..=40).map(|i| i * 300).collect(),
    }];
    for back in round_trip(&disc, "DVD") {
        assert_eq!(back.medium, Medium::DvdRom);
    }
}

#[test]
fn writers_refuse_blu_ray_and_bad_names() {
    let mut disc = open(&samples().join("mdsx/mdxtest.iso")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = convert(
        &disc,
        &dir.path().join("x.mdf"),
        &ConvertOptions {
            format: Some("mds".into()),
            ..Default::default()
        },
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(
        format!("{err:?}").contains("name the output .mds"),
        "{err:?}"
    );
    disc.medium = Medium::BdRom;
    for name in ["x.mds", "x.mdx"] {
        let err = convert(
            &disc,
            &dir.path().join(name),
            &ConvertOptions::default(),
            &mut |_, _| {},
        )
        .unwrap_err();
        assert!(format!("{err:?}").contains("Blu-ray"), "{err:?}");
    }
}
