//! The catalogue of a synthetic disc whose every byte is known: names, order, lengths,
//! bytes, the zero-copy file behind `disc.iso`, and what a DVD leaves out.

mod common;
use common::{pattern, temp_file, track};
use spindle_disc::*;
use std::sync::Arc;

/// Track 1: Mode 1 stored as 2048 (100 sectors); track 2: audio behind 75 unstored pregap
/// sectors (200 stored).
fn disc(medium: Medium, user: Arc<dyn ByteSource>, audio: Arc<dyn ByteSource>) -> Arc<Disc> {
    let mut d = Disc::new(medium, SourceInfo::default());
    let t1 = vec![
        Extent::zero(150),
        Extent::stored(100, Stored::new(user, 0, MainLayout::USER)),
    ];
    let t2 = vec![
        Extent::zero(75),
        Extent::stored(200, Stored::new(audio, 0, MainLayout::RAW)),
    ];
    d.sessions.push(Session {
        number: 1,
        tracks: vec![
            track(1, TrackMode::Mode1, -150, 150, t1),
            track(2, TrackMode::Audio, 100, 75, t2),
        ],
        leadout: Lba(375),
    });
    d.validate().unwrap();
    Arc::new(d)
}

fn read(e: &Entry) -> Vec<u8> {
    let mut b = vec![0u8; e.len() as usize];
    e.bytes().read_exact_at(&mut b, 0).unwrap();
    b
}

#[test]
fn a_cd_offers_every_view_in_order() {
    let (user, audio) = (pattern(100 * 2048, 1), pattern(200 * 2352, 2));
    let (_uf, u) = temp_file(&user);
    let (_af, a) = temp_file(&audio);
    let d = disc(Medium::CdRom, u, a);
    let c = Catalogue::of(d.clone());
    assert!(c.skipped().is_empty(), "{:?}", c.skipped());
    let names: Vec<&str> = c.entries().iter().map(|e| e.name()).collect();
    assert_eq!(
        names,
        [
            "disc.iso",
            "disc.cue",
            "disc.bin",
            "disc.raw",
            "toc.json",
            "tracks/01.iso",
            "tracks/01.bin",
            "tracks/02.wav",
            "tracks/02.bin"
        ]
    );
    let get = |n: &str| c.get(n).unwrap();
    assert_eq!(read(get("disc.iso")), user);
    assert_eq!(read(get("tracks/01.iso")), user);
    // A plain 2048-byte file is disc.iso byte for byte: zero-copy reads can use it.
    assert!(get("disc.iso").bytes().plain_file().is_some());
    let wav = read(get("tracks/02.wav"));
    assert_eq!(&wav[..44], &wav_header(audio.len() as u32)[..]);
    assert_eq!(&wav[44..], &audio[..]);
    // disc.raw: LBA -150 to the lead-out, 2352 bytes a sector.
    let raw = get("disc.raw");
    assert_eq!(raw.len(), 525 * 2352);
    let mut s = vec![0u8; 2352];
    d.read_sectors(Lba(7), 1, SectorFormat::RAW, &mut s)
        .unwrap();
    let mut got = vec![0u8; 2352];
    raw.bytes()
        .read_exact_at(&mut got, (7 + 150) * 2352)
        .unwrap();
    assert_eq!(got, s);
    assert_eq!(read(get("tracks/02.bin")), {
        let v = SectorView::raw_track(d.clone(), 2, SubFormat::None).unwrap();
        let mut b = vec![0u8; v.len() as usize];
        spindle_bytes::ByteSource::read_exact_at(&v, &mut b, 0).unwrap();
        b
    });
    let cue = String::from_utf8(read(get("disc.cue"))).unwrap();
    assert!(cue.contains("FILE \"disc.bin\" BINARY"), "{cue}");
    let toc: serde_json::Value = serde_json::from_slice(&read(get("toc.json"))).unwrap();
    assert_eq!(
        toc,
        serde_json::to_value(DiscInfo::of(&d)).unwrap(),
        "toc.json is the summary"
    );
    assert_eq!(toc["sessions"][0]["tracks"][1]["pregap"], 75);
    assert_eq!(get("tracks/02.bin").kind(), EntryKind::TrackBin(2));
    assert_eq!(get("tracks/02.bin").file_name(), "02.bin");
    assert!(get("tracks/02.bin").in_tracks() && !get("disc.raw").in_tracks());
}

#[test]
fn a_dvd_has_no_raw_views() {
    let (_uf, u) = temp_file(&pattern(100 * 2048, 3));
    let (_af, a) = temp_file(&pattern(200 * 2352, 4));
    let c = Catalogue::of(disc(Medium::DvdRom, u, a));
    let names: Vec<&str> = c.entries().iter().map(|e| e.name()).collect();
    assert_eq!(
        names,
        ["disc.iso", "toc.json", "tracks/01.iso", "tracks/02.wav"]
    );
}
