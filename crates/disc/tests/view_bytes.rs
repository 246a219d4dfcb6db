//! A `SectorView` as a byte source: its one zero-copy check (`backing`) names file bytes that
//! read the same as the view, only where the image stores user data as is; its `runs` cover
//! what was asked, and the runs it calls zero read as zeros.

mod common;
use common::{pattern_nonzero as pattern, temp_file, track};
use spindle_disc::*;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

fn disc(tracks: Vec<Track>) -> Arc<Disc> {
    let mut d = Disc::new(Medium::CdRom, SourceInfo::default());
    let leadout = tracks.last().unwrap().end();
    d.sessions.push(Session {
        number: 1,
        tracks,
        leadout,
    });
    d.validate().unwrap();
    Arc::new(d)
}

/// Offsets and lengths that start and end on, inside and across sectors and extents.
fn windows(len: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for off in [
        0,
        1,
        2047,
        2048,
        30 * 2048 - 5,
        30 * 2048,
        49 * 2048 + 100,
        len - 1,
    ] {
        for n in [1, 2048, 5000, 30 * 2048, len] {
            if off < len {
                out.push((off, n));
            }
        }
    }
    out
}

/// Every backing the view gives reads the same from its file as through the view; returns
/// how many windows had one.
fn check_backing(view: &SectorView) -> usize {
    let mut backed = 0;
    for (off, n) in windows(view.len()) {
        let Some(b) = view.backing(off, n) else {
            continue;
        };
        assert!(
            b.len >= 1 && b.len <= n && off + b.len <= view.len(),
            "{off}+{n}: {b:?}"
        );
        let mut via_view = vec![0u8; b.len as usize];
        view.read_exact_at(&mut via_view, off).unwrap();
        let mut via_file = vec![0u8; b.len as usize];
        b.file.read_exact_at(&mut via_file, b.offset).unwrap();
        assert!(
            via_view == via_file,
            "{off}+{n}: the backing reads other bytes"
        );
        backed += 1;
    }
    backed
}

/// The runs cover the window (clipped to the view), neighbours differ, and zero runs read as
/// zeros.
fn check_runs(view: &SectorView) {
    for (off, n) in windows(view.len()) {
        let runs = view.runs(off, n);
        let want = n.min(view.len() - off);
        assert_eq!(runs.iter().map(|r| r.len).sum::<u64>(), want, "{off}+{n}");
        assert!(
            runs.windows(2)
                .all(|w| (w[0].stored, w[0].zero) != (w[1].stored, w[1].zero))
        );
        let mut at = off;
        for r in &runs {
            let mut b = vec![0xAAu8; r.len as usize];
            view.read_exact_at(&mut b, at).unwrap();
            if r.zero {
                assert!(
                    b.iter().all(|&x| x == 0),
                    "{off}+{n}: zero run at {at} is not"
                );
            }
            at += r.len;
        }
    }
}

/// A one-track Mode 1 disc as an ISO makes it: 150 unstored pregap sectors, then `sectors`
/// 2048-byte sectors stored from byte 0 of `src`.
fn iso_disc(src: Arc<dyn ByteSource>, sectors: u32) -> Arc<Disc> {
    disc(vec![track(
        1,
        TrackMode::Mode1,
        -150,
        150,
        vec![
            Extent::zero(150),
            Extent::stored(sectors, Stored::new(src, 0, MainLayout::USER)),
        ],
    )])
}

#[test]
fn a_plain_iso_is_backed_by_its_file_whole() {
    let user = pattern(100 * 2048, 1);
    let (_f, src) = temp_file(&user);
    let d = iso_disc(src, 100);
    let view = SectorView::first_data_track(d.clone()).unwrap();
    let b = view.backing(0, view.len()).expect("a plain ISO is backed");
    assert_eq!((b.offset, b.len), (0, user.len() as u64));
    assert!(view.plain_file().is_some());
    assert_eq!(check_backing(&view), windows(view.len()).len());
    // A window is backed from its own offset, clipped to what was asked and to the view.
    let b = view.backing(3000, 10).unwrap();
    assert_eq!((b.offset, b.len), (3000, 10));
    let b = view.backing(view.len() - 5, 100).unwrap();
    assert_eq!(b.len, 5);
    assert!(view.backing(view.len(), 1).is_none());
    assert!(view.backing(0, 0).is_none());
    assert_eq!(
        view.runs(0, view.len()),
        [Run {
            len: view.len(),
            stored: true,
            zero: false
        }]
    );
    check_runs(&view);
    // Through a concatenation, the backing is the same file's; a concatenation of the view
    // alone is the plain file too.
    let alone = Concat::new([Piece::Source(Arc::new(view.clone()))], "alone");
    assert!(alone.plain_file().is_some());
    let c = Concat::new([Piece::Zeros(4096), Piece::Source(Arc::new(view))], "c");
    assert!(c.backing(0, 10).is_none());
    assert_eq!(c.backing(4096 + 7, 10).unwrap().offset, 7);
    assert!(c.plain_file().is_none());
}

#[test]
fn an_image_longer_than_its_view_is_backed_but_not_its_plain_file() {
    // A partial sector after the last whole one: the view stops before it.
    let mut user = pattern(100 * 2048, 5);
    user.extend_from_slice(&[7; 100]);
    let (_f, src) = temp_file(&user);
    let d = iso_disc(src, 100);
    let view = SectorView::first_data_track(d).unwrap();
    let b = view.backing(0, view.len()).unwrap();
    assert_eq!((b.offset, b.len), (0, 100 * 2048));
    assert!(
        view.plain_file().is_none(),
        "passthrough would show the partial sector"
    );
}

#[test]
fn a_truncated_image_is_not_backed_past_its_end() {
    // The descriptor claims 100 sectors; the file holds 60.
    let user = pattern(60 * 2048, 6);
    let (_f, src) = temp_file(&user);
    let d = iso_disc(src, 100);
    let view = SectorView::first_data_track(d).unwrap();
    assert_eq!(
        view.backing(0, 2048).unwrap().len,
        2048,
        "stored bytes are backed"
    );
    assert!(
        view.backing(0, view.len()).is_none(),
        "a copy would come out short"
    );
    assert!(view.backing(70 * 2048, 10).is_none());
    assert!(view.plain_file().is_none());
    assert!(view.read_exact_at(&mut [0u8; 2048], 70 * 2048).is_err());
}

#[test]
fn a_cue_bin_mode1_2048_track_is_backed_extent_by_extent() {
    // One BIN holding two MODE1/2048 tracks; track 2 has an unstored pregap and its data
    // in two extents (as a cue sheet with two FILE lines in one track gives them), the
    // second one later in the file.
    let bin = pattern(140 * 2048, 2);
    let (_f, src) = temp_file(&bin);
    let t1 = track(
        1,
        TrackMode::Mode1,
        -150,
        150,
        vec![
            Extent::zero(150),
            Extent::stored(40, Stored::new(src.clone(), 0, MainLayout::USER)),
        ],
    );
    let t2 = track(
        2,
        TrackMode::Mode1,
        40,
        150,
        vec![
            Extent::zero(150),
            Extent::stored(30, Stored::new(src.clone(), 40 * 2048, MainLayout::USER)),
            Extent::stored(50, Stored::new(src.clone(), 90 * 2048, MainLayout::USER)),
        ],
    );
    let d = disc(vec![t1, t2]);
    let v2 = SectorView::user_data(d.clone(), 2).unwrap();
    let b = v2
        .backing(0, v2.len())
        .expect("track 2 is stored as 2048-byte sectors");
    assert_eq!(
        (b.offset, b.len),
        (40 * 2048, 30 * 2048),
        "the first extent only"
    );
    let b = v2.backing(30 * 2048 + 10, 100).unwrap();
    assert_eq!((b.offset, b.len), (90 * 2048 + 10, 100));
    assert!(
        v2.plain_file().is_none(),
        "two runs of the file are not one plain file"
    );
    assert!(check_backing(&v2) > 0);
    check_runs(&v2);
    // The whole disc's user data: the pregap of track 2 is synthesised, never backed.
    let all = SectorView::disc_user_data(d.clone()).unwrap();
    assert!(all.backing(40 * 2048, 2048).is_none(), "unstored pregap");
    let b = all.backing(39 * 2048, 10 * 2048).unwrap();
    assert_eq!((b.offset, b.len), (39 * 2048, 2048), "ends with the extent");
    assert!(check_backing(&all) > 0);
    check_runs(&all);
    let runs = all.runs(0, all.len());
    assert_eq!(
        runs.iter()
            .map(|r| (r.len / 2048, r.stored))
            .collect::<Vec<_>>(),
        [(40, true), (150, false), (80, true)]
    );
    // The same bytes from memory have no file behind them.
    let mem: Arc<dyn ByteSource> = Arc::new(MemSource::new(bin.clone(), "mem.bin"));
    let m = iso_disc(mem, 40);
    let mv = SectorView::first_data_track(m).unwrap();
    assert!(mv.backing(0, 2048).is_none());
    check_runs(&mv);
}

#[test]
fn raw_2352_tracks_and_audio_are_never_backed() {
    // CD-Extra style: an audio track, then a Mode 1 track stored as raw 2352-byte sectors.
    let audio = pattern(75 * 2352, 4);
    let (_g, asrc) = temp_file(&audio);
    let raw = pattern(60 * 2352, 3);
    let (_f, src) = temp_file(&raw);
    let d = disc(vec![
        track(
            1,
            TrackMode::Audio,
            -150,
            150,
            vec![
                Extent::zero(150),
                Extent::stored(75, Stored::new(asrc, 0, MainLayout::RAW)),
            ],
        ),
        track(
            2,
            TrackMode::Mode1,
            75,
            150,
            vec![
                Extent::zero(150),
                Extent::stored(60, Stored::new(src, 0, MainLayout::RAW)),
            ],
        ),
    ]);
    // User data out of 2352-byte sectors is cut out of each one: no file range is it.
    let user = SectorView::user_data(d.clone(), 2).unwrap();
    assert_eq!(check_backing(&user), 0);
    check_runs(&user);
    // Raw views are synthesised around what is stored; audio is samples, never user data.
    for n in [1, 2] {
        let v = SectorView::raw_track(d.clone(), n, SubFormat::None).unwrap();
        assert_eq!(check_backing(&v), 0, "raw track {n}");
        check_runs(&v);
    }
    let a = SectorView::audio(d.clone(), 1).unwrap();
    assert_eq!(check_backing(&a), 0);
    check_runs(&a);
    // The whole disc's user data: audio and the data track's pregap read as zeros and say so.
    let all = SectorView::disc_user_data(d.clone()).unwrap();
    assert_eq!(check_backing(&all), 0);
    check_runs(&all);
    let runs = all.runs(0, all.len());
    assert_eq!(
        runs.iter()
            .map(|r| (r.len / 2048, r.stored, r.zero))
            .collect::<Vec<_>>(),
        [(225, false, true), (60, true, false)]
    );
    // The raw views' runs: the data track's pregap is synthesised, not zeros (headers);
    // the audio pregap is unstored silence.
    let r2 = SectorView::raw_track(d.clone(), 2, SubFormat::None).unwrap();
    assert_eq!(
        r2.runs(0, r2.len()),
        [
            Run {
                len: 150 * 2352,
                stored: false,
                zero: false
            },
            Run {
                len: 60 * 2352,
                stored: true,
                zero: false
            }
        ]
    );
    let r1 = SectorView::raw_track(d, 1, SubFormat::None).unwrap();
    assert_eq!(
        r1.runs(0, r1.len()),
        [
            Run {
                len: 150 * 2352,
                stored: false,
                zero: true
            },
            Run {
                len: 75 * 2352,
                stored: true,
                zero: false
            }
        ]
    );
}
