//! Images written here byte by byte after the layout the reader implements (`docs/cdi.md`),
//! for what test.cdi does not have: several tracks in a session (offsets accumulating inside
//! a session), a third session, Mode 1, read modes 0, 2, 3 and 4 (2048, 2352, 2352 + Q,
//! 2352 + P-W), extra indexes, ISRC, CONTROL flags, the DiscJuggler 4 lead-in, short tails,
//! per-track CD-TEXT blocks, the disc block's MCN and CD-TEXT, and versions 2.0 and 3.0.

mod common;

use common::{T, descriptor, image, open_mem, track_data};
use spindle_disc::{
    CdText, CdTextBlock, CdTextField, ExtentData, Lba, MainFormat, SectorFormat, TrackMode,
};

const V2: u32 = 0x8000_0004;
const V3: u32 = 0x8000_0005;
const V35: u32 = 0x8000_0006;

fn stored_offset(t: &spindle_disc::Track) -> u64 {
    match &t.extents[..] {
        [e] => match &e.data {
            ExtentData::Stored(s) => s.offset,
            _ => panic!("track {} is not stored", t.number),
        },
        _ => panic!("track {} has {} extents", t.number, t.extents.len()),
    }
}

fn read(disc: &spindle_disc::Disc, lba: Lba, f: SectorFormat) -> Vec<u8> {
    let mut buf = vec![0u8; f.main.size_hint() + f.sub.size()];
    disc.read_sectors(lba, 1, f, &mut buf).unwrap();
    buf
}

trait SizeHint {
    fn size_hint(self) -> usize;
}
impl SizeHint for MainFormat {
    fn size_hint(self) -> usize {
        match self {
            MainFormat::Raw => 2352,
            MainFormat::None => 0,
            _ => 2048,
        }
    }
}

#[test]
fn three_sessions_every_read_mode() {
    // Session 1: two audio tracks (P-W, then Q); session 2: Mode 1/2048 and Mode 2/2352;
    // session 3: Mode 2/2336 written the DiscJuggler 4 way with a short tail.
    let t1 = T::new(0, 4, 0, &[150, 100]); // LBA -150..100
    let mut t2 = T::new(0, 3, 250, &[2, 50, 30]); // 100..182, index 2 at 152
    t2.isrc = Some(b"USRC17607839");
    t2.control = 0x2;
    let t3 = T::new(1, 0, 182 + 11250 + 150, &[150, 200]); // 11432..11782
    let t4 = T::new(2, 2, 11782 + 150, &[0, 40]); // 11782..11822
    let mut t5 = T::new(2, 1, 11822 + 6750 + 150, &[150, 20]); // 18572..18742
    t5.dj4_lead = true;
    t5.short_tail = true;
    let sessions = vec![
        vec![t1.clone(), t2.clone()],
        vec![t3.clone(), t4.clone()],
        vec![t5.clone()],
    ];
    let mut text = CdText::default();
    let mut block = CdTextBlock::default();
    block.set(0, CdTextField::Title, "Synthetic".into());
    block.set(1, CdTextField::Title, "One".into());
    block.set(2, CdTextField::Title, "Two".into());
    text.blocks.push(block);
    let packs = text.to_packs(1, 5).unwrap();
    let desc = descriptor(V35, &sessions, Some(b"0123456789012"), &packs);
    let data = track_data(&[&t1, &t2, &t3, &t4, &t5]);
    let img = image(V35, &data, &desc);
    let disc = open_mem(img, "/synthetic/three.cdi").unwrap();

    assert_eq!(disc.sessions.len(), 3);
    let tracks: Vec<_> = disc.tracks().collect();
    let numbers: Vec<u8> = tracks.iter().map(|t| t.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
    let modes: Vec<TrackMode> = tracks.iter().map(|t| t.mode).collect();
    assert_eq!(
        modes,
        [
            TrackMode::Audio,
            TrackMode::Audio,
            TrackMode::Mode1,
            TrackMode::Mode2Mixed,
            TrackMode::Mode2Mixed
        ]
    );
    let starts: Vec<i32> = tracks.iter().map(|t| t.start.0).collect();
    assert_eq!(starts, [-150, 100, 11432, 11782, 18572]);
    let index1: Vec<i32> = tracks.iter().map(|t| t.index1().0).collect();
    assert_eq!(index1, [0, 102, 11582, 11782, 18722]);
    let lengths: Vec<u32> = tracks.iter().map(|t| t.length).collect();
    assert_eq!(lengths, [250, 82, 350, 40, 170]);
    assert_eq!(tracks[1].extra_indexes, [Lba(152)]);
    assert_eq!(
        tracks[1].isrc.as_ref().map(|i| i.as_str()),
        Some("USRC17607839")
    );
    assert!(tracks[1].flags.copy_permitted);
    let leadouts: Vec<i32> = disc.sessions.iter().map(|s| s.leadout.0).collect();
    assert_eq!(leadouts, [182, 11822, 18742]);

    // Offsets accumulate over every previous track, inside sessions and across them.
    let mut expect = 0u64;
    for (t, w) in tracks.iter().zip([&t1, &t2, &t3, &t4, &t5]) {
        assert_eq!(stored_offset(t), expect, "track {}", t.number);
        expect += w.total() as u64 * w.stride() as u64;
    }
    assert_eq!(expect, data.len() as u64);

    // Bytes come back as stored.
    let at = |n: usize, i: u32| {
        let off =
            stored_offset(tracks[n]) as usize + i as usize * [&t1, &t2, &t3, &t4, &t5][n].stride();
        &data[off..]
    };
    let pw = read(&disc, Lba(-150), SectorFormat::RAW_PW96);
    assert_eq!(
        &pw[..],
        &at(0, 0)[..2448],
        "track 1: main and interleaved P-W as stored"
    );
    let q = read(&disc, Lba(101), SectorFormat::RAW_Q16);
    assert_eq!(&q[..2352], &at(1, 1)[..2352], "track 2: main");
    assert_eq!(
        &q[2352..2352 + 12],
        &at(1, 1)[2352..2352 + 12],
        "track 2: stored Q"
    );
    let u = read(&disc, Lba(11582 + 5), SectorFormat::USER_2048);
    assert_eq!(&u[..], &at(2, 155)[..2048], "track 3: Mode 1 user data");
    let r = read(&disc, Lba(11432), SectorFormat::RAW);
    assert_eq!(
        &r[..12],
        &[
            0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0
        ],
        "track 3: sync synthesised"
    );
    assert_eq!(&r[16..2064], &at(2, 0)[..2048]);
    let r = read(&disc, Lba(11790), SectorFormat::RAW);
    assert_eq!(&r[..], &at(3, 8)[..2352], "track 4: raw Mode 2");
    let r = read(&disc, Lba(18572 + 3), SectorFormat::RAW);
    assert_eq!(
        &r[16..],
        &at(4, 3)[..2336],
        "track 5: Mode 2 without sync and header"
    );

    assert_eq!(disc.mcn.as_ref().map(|m| m.as_str()), Some("0123456789012"));
    let text = disc.cdtext.as_ref().expect("CD-TEXT from the disc block");
    assert_eq!(
        text.first().unwrap().get(0, CdTextField::Title),
        Some("Synthetic")
    );
    assert_eq!(
        text.first().unwrap().get(2, CdTextField::Title),
        Some("Two")
    );
    assert!(disc.source.variant.contains("3.5"));
}

#[test]
fn version_2_0_absolute_offset_no_tails() {
    let t1 = T::new(1, 2, 0, &[150, 300]);
    let t2 = T::new(0, 2, 450 + 150, &[150, 75]);
    let sessions = vec![vec![t1.clone(), t2.clone()]];
    let desc = descriptor(V2, &sessions, None, &[]);
    let data = track_data(&[&t1, &t2]);
    let disc = open_mem(image(V2, &data, &desc), "/synthetic/v2.cdi").unwrap();
    assert!(
        disc.source.variant.contains("2.0"),
        "{}",
        disc.source.variant
    );
    assert_eq!(disc.sessions.len(), 1);
    let t: Vec<_> = disc.tracks().collect();
    assert_eq!(
        (t[0].mode, t[0].start, t[0].length),
        (TrackMode::Mode1, Lba(-150), 450)
    );
    assert_eq!(
        (t[1].mode, t[1].start, t[1].index1(), t[1].length),
        (TrackMode::Audio, Lba(450), Lba(600), 225)
    );
    assert_eq!(stored_offset(t[1]), 450 * 2352);
    let a = read(&disc, Lba(600), SectorFormat::RAW);
    let off = (450 + 150) * 2352;
    assert_eq!(&a[..], &data[off..off + 2352]);
    assert!(disc.mcn.is_none() && disc.cdtext.is_none());
}

#[test]
fn version_3_0_with_track_cdtext_blocks() {
    let mut t1 = T::new(2, 1, 0, &[150, 500]);
    t1.short_tail = true;
    t1.cdtext = vec![vec![b"Title", b"", b"Artist"], vec![b"Titel"]];
    let t2 = T::new(2, 1, 650 + 11250 + 150, &[150, 100]);
    let sessions = vec![vec![t1.clone()], vec![t2.clone()]];
    let desc = descriptor(V3, &sessions, None, &[]);
    let data = track_data(&[&t1, &t2]);
    let disc = open_mem(image(V3, &data, &desc), "/synthetic/v3.cdi").unwrap();
    assert!(disc.source.variant.contains("3.0"));
    assert_eq!(disc.sessions.len(), 2);
    let t2d = disc.track(2).unwrap();
    assert_eq!(
        (t2d.start, t2d.index1(), t2d.length),
        (Lba(11900), Lba(12050), 250)
    );
    assert_eq!(stored_offset(t2d), 650 * 2336);
}

#[test]
fn bad_combinations_are_named() {
    let cases: [(T, &str); 5] = [
        (
            T::new(0, 0, 0, &[150, 10]),
            "audio track stored with read mode 0",
        ),
        (
            T::new(1, 1, 0, &[150, 10]),
            "Mode 1 track stored with read mode 1",
        ),
        (T::new(3, 2, 0, &[150, 10]), "track mode 3 is not known"),
        (T::new(1, 2, 0, &[]), "index count 0"),
        (T::new(1, 2, 0, &[150, 0, 10]), "out of order"),
    ];
    for (t, want) in cases {
        let desc = descriptor(V35, &[vec![t.clone()]], None, &[]);
        let img = image(V35, &track_data(&[&t]), &desc);
        let e = open_mem(img, "/synthetic/bad.cdi").unwrap_err().to_string();
        assert!(
            e.contains("/synthetic/bad.cdi") && e.contains(want),
            "{want}: {e}"
        );
    }
    // A second session that starts inside the first.
    let t1 = T::new(1, 0, 0, &[150, 100]);
    let t2 = T::new(1, 0, 200, &[150, 100]);
    let desc = descriptor(V35, &[vec![t1.clone()], vec![t2.clone()]], None, &[]);
    let e = open_mem(
        image(V35, &track_data(&[&t1, &t2]), &desc),
        "/synthetic/overlap.cdi",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("/synthetic/overlap.cdi") && e.contains("inside the previous track"),
        "{e}"
    );
}
