//! READ TOC (formats 0, 1, 2, 5), READ DISC/TRACK INFORMATION and READ SUB-CHANNEL through
//! the emulated drive, against the disc model and against libcdio's cd-info reading the same
//! images.

mod common;

use common::*;
use spindle_disc::{CdText, CdTextField, subchannel};
use spindle_mmc::cdb::{SubChannelFormat, TrackAddress};
use spindle_mmc::subq::SubChannelData;
use spindle_mmc::toc::{Address, LEADOUT};
use spindle_mmc::{Mmc, SenseKey};

/// READ TOC format 0 in LBA and MSF equals the model's tracks and what cd-info lists.
#[test]
fn toc_equals_model_and_cd_info() {
    let dir = tempfile::tempdir().unwrap();
    let images = [
        samples().join("libcdio/cdda.cue"),
        samples().join("libcdio/isofs-m1.cue"),
        samples().join("libcdio/videocd.nrg"),
        samples().join("libcdio/p1.nrg"),
        p1_cue(dir.path()),
    ];
    for image in images {
        let disc = open(&image);
        let drive = ready(disc.clone());
        let mut m = Mmc::new(&drive);
        let lba = m.read_toc(false, 0).unwrap();
        let msf = m.read_toc(true, 0).unwrap();
        let model: Vec<_> = disc.tracks().collect();
        assert_eq!(lba.first_track, model[0].number);
        assert_eq!(lba.last_track, model.last().unwrap().number);
        assert_eq!(lba.tracks.len(), model.len() + 1, "{}", image.display());
        for (i, t) in model.iter().enumerate() {
            assert_eq!(lba.tracks[i].track, t.number);
            assert_eq!(lba.tracks[i].address, Address::Lba(t.index1().0));
            assert_eq!(lba.tracks[i].control, t.control());
            assert_eq!(lba.tracks[i].adr, 1);
            assert_eq!(msf.tracks[i].address, Address::Msf(t.index1().to_msf()));
        }
        let lo = lba.leadout().unwrap();
        assert_eq!(lo.address, Address::Lba(disc.leadout().0));

        // The oracle: libcdio reading the image itself.
        let info = cd_info(&image);
        assert_eq!(
            info.tracks.len(),
            lba.tracks.len(),
            "{}:\n{}",
            image.display(),
            info.text
        );
        for (ours, theirs) in lba.tracks.iter().zip(&info.tracks) {
            assert_eq!(u32::from(ours.track), theirs.number, "{}", image.display());
            assert_eq!(
                ours.address.lba().0,
                theirs.lsn,
                "{} track {}",
                image.display(),
                ours.track
            );
            let data = ours.control & 4 != 0;
            if ours.track != LEADOUT {
                assert_eq!(
                    data,
                    theirs.kind != "audio",
                    "{} track {}",
                    image.display(),
                    ours.track
                );
            }
        }
        for (ours, theirs) in msf.tracks.iter().zip(&info.tracks) {
            let Address::Msf(m) = ours.address else {
                panic!()
            };
            assert_eq!(m.to_string(), theirs.msf);
        }
        // MCN: READ SUB-CHANNEL format 2 against cd-info.
        let mcn = m.read_subchannel(SubChannelFormat::Mcn, 0, false).unwrap();
        assert_eq!(
            mcn.data,
            SubChannelData::Mcn(info.mcn.clone()),
            "{}",
            image.display()
        );
        assert_eq!(info.mcn.as_deref(), disc.mcn.as_ref().map(|m| m.as_str()));
    }
}

/// Tracks from a given number, the lead-out alone, and a track past the last.
#[test]
fn toc_starting_track() {
    let dir = tempfile::tempdir().unwrap();
    let drive = ready(open(&mixed_cue(dir.path())));
    let mut m = Mmc::new(&drive);
    let t = m.read_toc(false, 2).unwrap();
    assert_eq!(
        t.tracks.iter().map(|t| t.track).collect::<Vec<_>>(),
        vec![2, LEADOUT]
    );
    let t = m.read_toc(false, LEADOUT).unwrap();
    assert_eq!(t.tracks.len(), 1);
    assert_eq!(t.tracks[0].address, Address::Lba(754));
    let e = m.read_toc(false, 3).unwrap_err();
    let s = e.sense().unwrap();
    assert_eq!((s.key, s.asc.0), (SenseKey::IllegalRequest, 0x24));
    assert_eq!(s.field.unwrap().byte, 6);
}

/// Full TOC of the data + audio disc, with the values worked out by hand: track 1 Mode 1 at
/// 00:02:00, track 2 audio at LBA 452 = 00:08:02, lead-out at LBA 754 = 00:12:04.
#[test]
fn full_toc_points() {
    let dir = tempfile::tempdir().unwrap();
    let drive = ready(open(&mixed_cue(dir.path())));
    let mut m = Mmc::new(&drive);
    let f = m.full_toc(0).unwrap();
    assert_eq!((f.first_session, f.last_session), (1, 1));
    let p = |point: u8| {
        *f.point(1, point)
            .unwrap_or_else(|| panic!("no point {point:#x}"))
    };
    let a0 = p(0xA0);
    assert_eq!(
        (a0.adr_ctl, a0.pmin, a0.psec, a0.pframe),
        (0x41, 1, 0x00, 0)
    );
    let a1 = p(0xA1);
    assert_eq!((a1.adr_ctl, a1.pmin), (0x01, 2));
    let a2 = p(0xA2);
    assert_eq!((a2.pmin, a2.psec, a2.pframe), (0, 12, 4));
    let t1 = p(1);
    assert_eq!((t1.adr_ctl, t1.pmin, t1.psec, t1.pframe), (0x41, 0, 2, 0));
    let t2 = p(2);
    assert_eq!((t2.adr_ctl, t2.pmin, t2.psec, t2.pframe), (0x01, 0, 8, 2));
    assert_eq!(f.entries.len(), 5);
    // Session information: one session, first track 1 at LBA 0.
    let si = m.session_info(false).unwrap();
    assert_eq!((si.first_session, si.last_session), (1, 1));
    assert_eq!(si.first_track_last_session.track, 1);
    assert_eq!(si.first_track_last_session.address, Address::Lba(0));
}

/// Two sessions (the CDI sample: audio in session 1, XA in session 2 after the 11400-sector
/// gap): format 1 names the last session's first track, format 2 has B0 pointing at it, and
/// READ DISC/TRACK INFORMATION agree.
#[test]
fn multisession() {
    let disc = sample("cditools/test.cdi");
    let drive = ready(disc.clone());
    let mut m = Mmc::new(&drive);
    let si = m.session_info(false).unwrap();
    assert_eq!((si.first_session, si.last_session), (1, 2));
    assert_eq!(si.first_track_last_session.track, 2);
    assert_eq!(si.first_track_last_session.address, Address::Lba(11702));
    let f = m.full_toc(0).unwrap();
    // B0 (ADR 5) in session 1 announces another session.
    let b0 = f.point(1, 0xB0).unwrap();
    assert_eq!(b0.adr_ctl & 0x0F, 5);
    assert!(f.point(2, 0xB0).is_none());
    assert_eq!(f.point(2, 0xA0).unwrap().pmin, 2);
    assert_eq!(
        f.point(2, 0xA0).unwrap().psec,
        0x20,
        "session 2 is CD-ROM XA"
    );
    assert_eq!(
        (
            f.point(2, 0xA2).unwrap().pmin,
            f.point(2, 0xA2).unwrap().psec,
            f.point(2, 0xA2).unwrap().pframe
        ),
        (2, 42, 37)
    );
    // Starting at session 2 leaves session 1 out.
    assert!(
        m.full_toc(2)
            .unwrap()
            .entries
            .iter()
            .all(|e| e.session == 2)
    );
    let di = m.disc_information().unwrap();
    assert_eq!(
        (
            di.sessions,
            di.first_track,
            di.first_track_last_session,
            di.last_track_last_session
        ),
        (2, 1, 2, 2)
    );
    let t2 = m.track_information(TrackAddress::Session(2)).unwrap();
    assert_eq!(
        (t2.track, t2.session, t2.start, t2.size, t2.data_mode),
        (2, 2, 11702, 335, 2)
    );
    let t1 = m.track_information(TrackAddress::Lba(100)).unwrap();
    assert_eq!(
        (
            t1.track,
            t1.session,
            t1.start,
            t1.size,
            t1.data_mode,
            t1.track_mode
        ),
        (1, 1, 0, 302, 0xF, 0)
    );
    let cap = m.read_capacity().unwrap();
    assert_eq!(cap.last_lba, 12036);
}

/// CD-TEXT (format 5) of the CUE sample: packs with good CRCs that decode to the text
/// cd-info prints.
#[test]
fn cd_text_packs() {
    let image = samples().join("libcdio/cdda.cue");
    let drive = ready(open(&image));
    let mut m = Mmc::new(&drive);
    let packs = m.cd_text().unwrap();
    assert!(!packs.packs.is_empty());
    assert_eq!(packs.packs.len() % 18, 0);
    for p in packs.packs.chunks_exact(18) {
        assert_eq!(
            subchannel::crc16(&p[..16]).to_be_bytes(),
            [p[16], p[17]],
            "pack CRC"
        );
    }
    let text = CdText::from_packs(&packs.packs, true).unwrap();
    let b = text.first().unwrap();
    let info = cd_info(&image).text;
    for (track, field, want) in [
        (0, CdTextField::Title, "Join us now we have the software"),
        (0, CdTextField::Performer, "Richard Stallman"),
        (1, CdTextField::Title, "Soft"),
        (1, CdTextField::Performer, "Richard S"),
    ] {
        assert_eq!(b.get(track, field), Some(want));
        assert!(info.contains(want), "cd-info shows {want}");
    }
    // A disc without CD-TEXT answers an empty list.
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    assert!(Mmc::new(&drive).cd_text().unwrap().packs.is_empty());
}

/// READ SUB-CHANNEL current position follows the last read; ISRC of a track.
#[test]
fn sub_channel_position_and_isrc() {
    let dir = tempfile::tempdir().unwrap();
    let mut disc = (*open(&mixed_cue(dir.path()))).clone();
    disc.sessions[0].tracks[1].isrc = spindle_disc::Isrc::parse("USXX19801234");
    let drive = ready(std::sync::Arc::new(disc));
    let mut m = Mmc::new(&drive);
    let mut buf = vec![0u8; 2352];
    // A sector in track 2's pregap: index 0, relative time counting down.
    m.read_cd(
        400,
        1,
        spindle_mmc::readcd::SectorType::Any,
        spindle_mmc::readcd::ReadCdFields::RAW,
        &mut buf,
    )
    .unwrap();
    let p = m
        .read_subchannel(SubChannelFormat::CurrentPosition, 0, false)
        .unwrap();
    assert_eq!(
        p.data,
        SubChannelData::Position {
            adr: 1,
            control: 0,
            track: 2,
            index: 0,
            absolute: Address::Lba(400),
            relative: Address::Lba(-52),
        }
    );
    let i = m.read_subchannel(SubChannelFormat::Isrc, 2, false).unwrap();
    assert_eq!(
        i.data,
        SubChannelData::Isrc {
            adr: 3,
            control: 0,
            track: 2,
            isrc: Some("USXX19801234".into())
        }
    );
    let i = m.read_subchannel(SubChannelFormat::Isrc, 1, false).unwrap();
    assert!(matches!(i.data, SubChannelData::Isrc { isrc: None, .. }));
    assert!(m.read_subchannel(SubChannelFormat::Isrc, 9, false).is_err());
}
