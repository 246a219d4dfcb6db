//! The read engine and views on synthetic discs whose every byte is known.

use spindle_disc::cuesheet::{bin_plan, cue_sheet};
use spindle_disc::subchannel::{q_crc_ok, q_of_interleaved};
mod common;
use common::{pattern, temp_file};
use spindle_disc::*;
use std::sync::Arc;

/// Track 1: Mode 1 stored as 2048 (100 sectors); track 2: audio, 75 unstored pregap + 200
/// stored sectors with an index 2; MCN and ISRC set.
fn mixed_disc(user: Arc<dyn ByteSource>, audio: Arc<dyn ByteSource>) -> Disc {
    let mut disc = Disc::new(Medium::CdRom, SourceInfo::default());
    disc.mcn = Mcn::parse("0123456789012");
    let t1 = Track {
        number: 1,
        mode: TrackMode::Mode1,
        flags: TrackFlags::default(),
        isrc: None,
        start: Lba(-150),
        pregap: 150,
        extra_indexes: vec![],
        length: 250,
        postgap: 0,
        extents: vec![
            Extent::zero(150),
            Extent::stored(100, Stored::new(user, 0, MainLayout::USER)),
        ],
    };
    let t2 = Track {
        number: 2,
        mode: TrackMode::Audio,
        flags: TrackFlags {
            copy_permitted: true,
            ..Default::default()
        },
        isrc: Isrc::parse("USABC9912345"),
        start: Lba(100),
        pregap: 75,
        extra_indexes: vec![Lba(275)],
        length: 275,
        postgap: 0,
        extents: vec![
            Extent::zero(75),
            Extent::stored(200, Stored::new(audio, 0, MainLayout::RAW)),
        ],
    };
    disc.sessions.push(Session {
        number: 1,
        tracks: vec![t1, t2],
        leadout: Lba(375),
    });
    disc.validate().unwrap();
    disc
}

#[test]
fn user_raw_and_subchannel_reads() {
    let user = pattern(100 * 2048, 1);
    let audio = pattern(200 * 2352, 2);
    let (_f1, s1) = temp_file(&user);
    let (_f2, s2) = temp_file(&audio);
    let disc = mixed_disc(s1, s2);

    // User data comes back as stored, across chunk boundaries.
    let mut buf = vec![0u8; 100 * 2048];
    assert_eq!(
        disc.read_sectors(Lba(0), 100, SectorFormat::USER_2048, &mut buf)
            .unwrap(),
        100 * 2048
    );
    assert_eq!(buf, user);

    // Raw sectors are synthesised with a valid header and EDC/ECC.
    let mut raw = vec![0u8; 2352 + 96];
    disc.read_sector(Lba(42), SectorFormat::RAW_PW96, &mut raw)
        .unwrap();
    let sector: &[u8; 2352] = raw[..2352].try_into().unwrap();
    assert_eq!(sector::check_raw(sector), sector::SectorCheck::Good);
    assert_eq!(&sector[16..2064], &user[42 * 2048..43 * 2048]);
    let q = q_of_interleaved(&raw[2352..]);
    assert!(q_crc_ok(&q));
    assert_eq!(
        &q[..10],
        &[0x41, 0x01, 0x01, 0x00, 0x00, 0x42, 0x00, 0x00, 0x02, 0x42]
    );

    // The pregap of track 2: index 0, relative time counting down, P set.
    let mut pw = vec![0u8; 2352 + 96];
    disc.read_sector(Lba(101), SectorFormat::RAW_PW96, &mut pw)
        .unwrap();
    assert!(
        pw[..2352].iter().all(|&b| b == 0),
        "unstored audio pregap is silence"
    );
    let q = q_of_interleaved(&pw[2352..]);
    assert_eq!(&q[..6], &[0x21, 0x02, 0x00, 0x00, 0x00, 0x74]);
    assert_eq!(pw[2352] & 0x80, 0x80, "P channel set in the pause");

    // Index 2 and the audio samples.
    let mut qbuf = vec![0u8; 2352 + 16];
    disc.read_sector(Lba(280), SectorFormat::RAW_Q16, &mut qbuf)
        .unwrap();
    assert_eq!(
        &qbuf[..2352],
        &audio[(280 - 175) * 2352..(281 - 175) * 2352]
    );
    assert_eq!(qbuf[2352 + 2], 0x02, "index 2");

    // MCN and ISRC frames appear once per 100 sectors.
    let mut q16 = [0u8; 16];
    let fmt = SectorFormat {
        main: MainFormat::None,
        sub: SubFormat::Q16,
    };
    disc.read_sector(Lba(210), fmt, &mut q16).unwrap();
    assert_eq!(q16[0] & 0x0F, 2, "ADR 2 (MCN) at LBA 210");
    assert_eq!(&q16[1..8], &[0x01, 0x23, 0x45, 0x67, 0x89, 0x01, 0x20]);
    disc.read_sector(Lba(260), fmt, &mut q16).unwrap();
    assert_eq!(q16[0] & 0x0F, 3, "ADR 3 (ISRC) at LBA 260");
    assert!(q_crc_ok(q16[..12].try_into().unwrap()));

    // Outside the disc.
    assert!(matches!(
        disc.read_sector(Lba(375), SectorFormat::RAW, &mut raw),
        Err(DiscError::OutOfRange { .. })
    ));
    assert!(matches!(
        disc.read_sector(Lba(200), SectorFormat::USER_2048, &mut raw),
        Err(DiscError::NotData { track: 2 })
    ));
}

#[test]
fn views_read_unaligned_ranges() {
    let user = pattern(100 * 2048, 3);
    let audio = pattern(200 * 2352, 4);
    let (_f1, s1) = temp_file(&user);
    let (_f2, s2) = temp_file(&audio);
    let disc = Arc::new(mixed_disc(s1, s2));
    let view = SectorView::first_data_track(disc.clone()).unwrap();
    assert_eq!(view.len(), user.len() as u64);
    for (off, len) in [
        (0u64, 1usize),
        (1000, 5000),
        (2047, 2),
        (2048 * 99 + 7, 5000),
        (0, 300_000),
    ] {
        let mut buf = vec![0u8; len];
        let n = view.read_at(&mut buf, off).unwrap();
        let end = (off as usize + len).min(user.len());
        assert_eq!(n, end - off as usize);
        assert_eq!(&buf[..n], &user[off as usize..end]);
    }
    let a = SectorView::audio(disc.clone(), 2).unwrap();
    assert_eq!(a.len(), audio.len() as u64);
    let mut buf = vec![0u8; 10_000];
    a.read_at(&mut buf, 12_345).unwrap();
    assert_eq!(&buf[..], &audio[12_345..22_345]);
    assert!(SectorView::user_data(disc, 2).is_err());
}

#[test]
fn raw_stored_big_endian_and_mixed_mode2() {
    // Audio stored big-endian comes back little-endian.
    let audio = pattern(10 * 2352, 5);
    let (_f, src) = temp_file(&audio);
    let mut disc = Disc::new(Medium::CdRom, SourceInfo::default());
    let mut t = Track {
        number: 1,
        mode: TrackMode::Audio,
        flags: TrackFlags::default(),
        isrc: None,
        start: Lba(-150),
        pregap: 150,
        extra_indexes: vec![],
        length: 160,
        postgap: 0,
        extents: vec![
            Extent::zero(150),
            Extent::stored(10, Stored::new(src.clone(), 0, MainLayout::RAW_BIG_ENDIAN)),
        ],
    };
    disc.sessions.push(Session {
        number: 1,
        tracks: vec![t.clone()],
        leadout: Lba(10),
    });
    let mut buf = vec![0u8; 2352];
    disc.read_sector(Lba(3), SectorFormat::RAW, &mut buf)
        .unwrap();
    let mut swapped = audio[3 * 2352..4 * 2352].to_vec();
    swapped.chunks_exact_mut(2).for_each(|p| p.swap(0, 1));
    assert_eq!(buf, swapped);

    // Mixed XA: a Form 1 and a Form 2 sector stored as 2336 bytes.
    let mut bytes = Vec::new();
    for (i, form2) in [false, true].into_iter().enumerate() {
        let mut raw = [0u8; 2352];
        let mut stored = vec![0u8; 8];
        let sm = if form2 { 0x20 } else { 0x08 };
        stored[..8].copy_from_slice(&[1, 0, sm, 0, 1, 0, sm, 0]);
        stored.extend(pattern(if form2 { 2324 } else { 2048 }, 10 + i as u32));
        let layout = MainLayout {
            sync: false,
            header: false,
            subheader: true,
            user: true,
            edc_ecc: false,
            audio_big_endian: false,
        };
        sector::build_raw(
            &mut raw,
            Lba(i as i32),
            TrackMode::Mode2Mixed,
            &layout,
            Some(&stored),
        );
        bytes.extend_from_slice(&raw[16..]);
    }
    let (_f2, src2) = temp_file(&bytes);
    t.mode = TrackMode::Mode2Mixed;
    t.length = 152;
    t.extents = vec![
        Extent::zero(150),
        Extent::stored(2, Stored::new(src2, 0, MainLayout::MODE2_2336)),
    ];
    disc.sessions[0] = Session {
        number: 1,
        tracks: vec![t],
        leadout: Lba(2),
    };
    disc.validate().unwrap();
    let mut out = vec![0u8; 2 * 2324];
    let n = disc
        .read_sectors(Lba(0), 2, SectorFormat::USER, &mut out)
        .unwrap();
    assert_eq!(n, 2048 + 2324, "Form 1 then Form 2 user data");
    assert_eq!(&out[2048..n], &bytes[2336 + 8..2336 + 8 + 2324]);
    let mut raw = vec![0u8; 2352];
    for lba in 0..2 {
        disc.read_sector(Lba(lba), SectorFormat::RAW, &mut raw)
            .unwrap();
        assert_eq!(
            sector::check_raw(raw[..].try_into().unwrap()),
            sector::SectorCheck::Good
        );
    }
}

#[test]
fn generated_cue_sheet_describes_stored_sectors() {
    let (_f1, s1) = temp_file(&pattern(100 * 2048, 1));
    let (_f2, s2) = temp_file(&pattern(200 * 2352, 2));
    let disc = mixed_disc(s1, s2);
    let plans = bin_plan(&disc);
    assert_eq!((plans[0].first, plans[0].end), (Lba(0), Lba(100)));
    assert_eq!(
        (plans[1].first, plans[1].end, plans[1].pregap_unstored),
        (Lba(175), Lba(375), 75)
    );
    let cue = cue_sheet(&disc, &|_| "disc.bin".to_string());
    let expected = "CATALOG 0123456789012\nFILE \"disc.bin\" BINARY\n  TRACK 01 MODE1/2352\n    INDEX 01 00:00:00\n  TRACK 02 AUDIO\n    FLAGS DCP\n    ISRC USABC9912345\n    PREGAP 00:01:00\n    INDEX 01 00:01:25\n    INDEX 02 00:02:50\n";
    assert_eq!(cue, expected);
}

#[test]
fn generated_full_toc_and_thread_safety() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Disc>();
    assert_send_sync::<SectorView>();

    let (_f1, s1) = temp_file(&pattern(100 * 2048, 1));
    let (_f2, s2) = temp_file(&pattern(200 * 2352, 2));
    let disc = mixed_disc(s1, s2);
    let toc = disc.full_toc_entries();
    let points: Vec<(u8, u8, u8, u8, u8)> = toc
        .iter()
        .map(|e| (e.adr_ctl, e.point, e.pmin, e.psec, e.pframe))
        .collect();
    assert_eq!(
        points,
        vec![
            (0x41, 0xA0, 1, 0, 0),
            (0x21, 0xA1, 2, 0, 0),
            (0x21, 0xA2, 0, 7, 0),
            (0x41, 1, 0, 2, 0),
            (0x21, 2, 0, 4, 25)
        ]
    );
}

#[test]
fn hostile_geometry_is_rejected_by_validate() {
    let (_f, src) = temp_file(&pattern(2048, 1));
    let mut disc = Disc::new(Medium::CdRom, SourceInfo::default());
    let t = Track {
        number: 1,
        mode: TrackMode::Mode1,
        flags: TrackFlags::default(),
        isrc: None,
        start: Lba(0),
        pregap: 0,
        extra_indexes: vec![],
        length: u32::MAX,
        postgap: 0,
        extents: vec![Extent::stored(
            u32::MAX,
            Stored::new(src.clone(), u64::MAX - 10, MainLayout::USER),
        )],
    };
    disc.sessions.push(Session {
        number: 1,
        tracks: vec![t.clone()],
        leadout: Lba(i32::MAX),
    });
    assert!(disc.validate().is_err());
    let mut t2 = t;
    t2.length = 10;
    t2.extents = vec![Extent::stored(
        10,
        Stored::new(src, u64::MAX - 10, MainLayout::USER),
    )];
    disc.sessions[0] = Session {
        number: 1,
        tracks: vec![t2],
        leadout: Lba(10),
    };
    let err = disc.validate().unwrap_err().to_string();
    assert!(err.contains("overflow"), "{err}");
}

/// A one-track Mode 1 disc of `n` stored 2048-byte sectors.
fn data_disc(src: Arc<dyn ByteSource>, n: u32) -> Disc {
    let mut disc = Disc::new(Medium::CdRom, SourceInfo::default());
    let t = Track {
        number: 1,
        mode: TrackMode::Mode1,
        flags: TrackFlags::default(),
        isrc: None,
        start: Lba(-150),
        pregap: 150,
        extra_indexes: vec![],
        length: 150 + n,
        postgap: 0,
        extents: vec![
            Extent::zero(150),
            Extent::stored(n, Stored::new(src, 0, MainLayout::USER)),
        ],
    };
    disc.sessions.push(Session {
        number: 1,
        tracks: vec![t],
        leadout: Lba(n as i32),
    });
    disc.validate().unwrap();
    disc
}

#[test]
fn short_buffers_are_errors_not_panics() {
    let (_f, src) = temp_file(&pattern(4 * 2048, 9));
    let disc = data_disc(src, 4);
    let q_only = SectorFormat {
        main: MainFormat::None,
        sub: SubFormat::Q16,
    };
    for (fmt, len) in [
        (q_only, 8),
        (SectorFormat::RAW_PW96, 2352),
        (SectorFormat::USER_2048, 100),
        (SectorFormat::RAW, 2351),
    ] {
        let mut buf = vec![0u8; len];
        assert!(
            matches!(
                disc.read_sector(Lba(1), fmt, &mut buf),
                Err(DiscError::BufferTooSmall { .. })
            ),
            "{fmt:?} into {len}"
        );
    }
    // Count 0 reads nothing; a count past the end is out of range.
    assert_eq!(
        disc.read_sectors(Lba(0), 0, SectorFormat::RAW, &mut [])
            .unwrap(),
        0
    );
    let mut buf = vec![0u8; 10 * 2048];
    assert!(matches!(
        disc.read_sectors(Lba(0), 10, SectorFormat::USER_2048, &mut buf),
        Err(DiscError::OutOfRange { .. })
    ));
}

#[test]
fn dvds_have_no_raw_sectors() {
    let (_f, src) = temp_file(&pattern(4 * 2048, 9));
    let mut disc = data_disc(src, 4);
    disc.medium = Medium::DvdRom;
    let mut buf = vec![0u8; 2448];
    assert!(matches!(
        disc.read_sector(Lba(0), SectorFormat::RAW, &mut buf),
        Err(DiscError::NotCd { .. })
    ));
    assert_eq!(
        disc.read_sector(Lba(0), SectorFormat::USER_2048, &mut buf)
            .unwrap(),
        2048
    );
}

#[test]
fn validate_rejects_layouts_that_cannot_be_read() {
    let (_f, src) = temp_file(&pattern(8 * 2336, 9));
    let base = data_disc(src.clone(), 4);
    let with = |f: &dyn Fn(&mut Track)| {
        let mut d = base.clone();
        f(&mut d.sessions[0].tracks[0]);
        d.sessions[0].leadout = d.sessions[0].tracks[0].end();
        d.validate()
    };
    // Mixed XA with user data but no EDC/ECC: Form 1 and Form 2 records would differ in size.
    let partial = MainLayout {
        sync: false,
        header: false,
        subheader: true,
        user: true,
        edc_ecc: false,
        audio_big_endian: false,
    };
    let err = with(&|t| {
        t.mode = TrackMode::Mode2Mixed;
        t.extents[1] = Extent::stored(4, Stored::new(src.clone(), 0, partial));
    });
    assert!(err.unwrap_err().to_string().contains("together"));
    // Pregap + postgap overflowing u32.
    assert!(
        with(&|t| {
            t.pregap = 1 << 31;
            t.postgap = 1 << 31;
        })
        .is_err()
    );
    // More than 99 indexes.
    let err = with(&|t| t.extra_indexes = (1..=99).map(Lba).collect()).unwrap_err();
    assert!(err.to_string().contains("at most 99"), "{err}");
    // Sniffing a raw Mode 2 sector with a zero subheader gives XA (Form 1 data).
    let mut raw = [0u8; 2352];
    raw[..12].copy_from_slice(&sector::SYNC);
    raw[15] = 2;
    assert_eq!(sector::sniff_mode(&raw), Some(TrackMode::Mode2Mixed));
}
