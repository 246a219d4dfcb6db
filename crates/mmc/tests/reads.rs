//! Sector reads through the emulated drive: READ CD of every field selection and
//! subchannel against the bytes of the sample files (and of what `spindle convert` writes),
//! READ(10/12) against ISO files, and the refusals a drive gives.

mod common;

use common::*;
use spindle_disc::{Medium, subchannel};
use spindle_mmc::readcd::{C2Mode, HeaderCodes, ReadCdFields, SectorType, SubSelect};
use spindle_mmc::sense::Asc;
use spindle_mmc::{EmulatedDrive, Mmc, MmcError, SenseKey};
use std::sync::Arc;

fn read_cd_all(
    m: &mut Mmc<&EmulatedDrive>,
    lba: i32,
    count: u32,
    t: SectorType,
    f: ReadCdFields,
    per: usize,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 27 * per];
    let mut done = 0;
    while done < count {
        let n = (count - done).min(27);
        let got = m
            .read_cd(lba + done as i32, n, t, f, &mut buf[..n as usize * per])
            .unwrap();
        assert_eq!(got, n as usize * per);
        out.extend_from_slice(&buf[..got]);
        done += n;
    }
    out
}

fn sense_of(e: MmcError) -> (SenseKey, Asc, Option<u32>) {
    let s = *e.sense().unwrap_or_else(|| panic!("no sense: {e}"));
    (s.key, s.asc, s.information)
}

/// Raw READ CD of the Mode 1 and the audio CUE/BIN samples equals their BIN files.
#[test]
fn raw_equals_source_bins() {
    for (cue, bin) in [
        ("libcdio/isofs-m1.cue", "libcdio/isofs-m1.bin"),
        ("libcdio/cdda.cue", "libcdio/cdda.bin"),
    ] {
        let drive = ready(sample(cue));
        let mut m = Mmc::new(&drive);
        let want = std::fs::read(samples().join(bin)).unwrap();
        let got = read_cd_all(
            &mut m,
            0,
            (want.len() / 2352) as u32,
            SectorType::Any,
            ReadCdFields::RAW,
            2352,
        );
        assert!(got == want, "{cue}: READ CD raw differs from {bin}");
    }
    // p1: track 1's INDEX 01 is one second into the BIN (a stored pregap before it, as
    // cd-info also reads it: track 1 at LBA 75), so the BIN is LBA 0 on.
    let dir = tempfile::tempdir().unwrap();
    let drive = ready(open(&p1_cue(dir.path())));
    let mut m = Mmc::new(&drive);
    let want = std::fs::read(samples().join("libcdio/p1.bin")).unwrap();
    let got = read_cd_all(
        &mut m,
        0,
        (want.len() / 2352) as u32,
        SectorType::CdDa,
        ReadCdFields::RAW,
        2352,
    );
    let diff = got.iter().zip(&want).position(|(a, b)| a != b);
    assert_eq!(
        (got.len(), diff.map(|d| d / 2352)),
        (want.len(), None),
        "p1: READ CD from 0 differs from p1.bin"
    );
    assert_eq!(
        m.read_toc(false, 0).unwrap().tracks[0].address,
        spindle_mmc::toc::Address::Lba(75)
    );
    // The 150 sectors before LBA 0 of track 1's pregap read as silence.
    let lead = read_cd_all(&mut m, -150, 150, SectorType::CdDa, ReadCdFields::RAW, 2352);
    assert!(lead.iter().all(|&b| b == 0));
}

/// Raw READ CD of the data + audio disc equals the BIN `spindle convert --format cue`
/// writes (track 2's unstored pregap is left out of the BIN: LBAs 302..452).
#[test]
fn raw_equals_converted_bin() {
    let dir = tempfile::tempdir().unwrap();
    let disc = open(&mixed_cue(dir.path()));
    let out = dir.path().join("out.cue");
    let opts = spindle_image::ConvertOptions {
        format: Some("cue".into()),
        data_only: false,
        write: Default::default(),
    };
    spindle_image::convert(&disc, &out, &opts, &mut |_, _| {}).unwrap();
    let bin = std::fs::read(dir.path().join("out.bin")).unwrap();
    assert_eq!(bin.len(), 604 * 2352);
    let drive = ready(disc);
    let mut m = Mmc::new(&drive);
    let t1 = read_cd_all(&mut m, 0, 302, SectorType::Mode1, ReadCdFields::RAW, 2352);
    let t2 = read_cd_all(&mut m, 452, 302, SectorType::CdDa, ReadCdFields::RAW, 2352);
    assert!(t1 == bin[..302 * 2352], "track 1");
    assert!(t2 == bin[302 * 2352..], "track 2");
    // The unstored pregap reads as digital silence.
    let gap = read_cd_all(&mut m, 302, 150, SectorType::CdDa, ReadCdFields::RAW, 2352);
    assert!(gap.iter().all(|&b| b == 0));
}

/// Every field selection of a Mode 1 sector is the matching slice of the raw sector.
#[test]
fn mode1_field_selections() {
    let raw = std::fs::read(samples().join("libcdio/isofs-m1.bin")).unwrap();
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let mut m = Mmc::new(&drive);
    let f = |sync, headers, user_data, edc_ecc| ReadCdFields {
        sync,
        headers,
        user_data,
        edc_ecc,
        c2: C2Mode::None,
        sub: SubSelect::None,
    };
    let cases: [(ReadCdFields, std::ops::Range<usize>); 7] = [
        (f(false, HeaderCodes::None, true, false), 16..2064),
        (f(false, HeaderCodes::Header, false, false), 12..16),
        (f(true, HeaderCodes::Header, false, false), 0..16),
        (f(false, HeaderCodes::None, true, true), 16..2352),
        (f(false, HeaderCodes::Header, true, false), 12..2064),
        (f(false, HeaderCodes::All, true, true), 12..2352),
        (f(false, HeaderCodes::SubHeader, true, false), 16..2064),
    ];
    for lba in [0usize, 16, 150, 301] {
        let sector = &raw[lba * 2352..(lba + 1) * 2352];
        for (fields, range) in cases.clone() {
            let mut buf = vec![0u8; 2352];
            let n = m
                .read_cd(lba as i32, 1, SectorType::Mode1, fields, &mut buf)
                .unwrap();
            assert_eq!(
                &buf[..n],
                &sector[range.clone()],
                "lba {lba} byte 9 = {:#04x}",
                fields.byte9()
            );
        }
        // READ(10) is the user data too.
        let mut buf = vec![0u8; 2048];
        m.read10(lba as u32, 1, &mut buf).unwrap();
        assert_eq!(&buf[..], &sector[16..2064]);
    }
    // Sync without the header is illegal: 05/24/00 pointing at byte 9.
    let e = m
        .read_cd(
            0,
            1,
            SectorType::Any,
            f(true, HeaderCodes::None, true, false),
            &mut vec![0u8; 2352],
        )
        .unwrap_err();
    let s = *e.sense().unwrap();
    assert_eq!(
        (s.key, s.asc),
        (SenseKey::IllegalRequest, Asc::INVALID_FIELD_IN_CDB)
    );
    assert_eq!(s.field.unwrap().byte, 9);
    // The wrong expected sector type: 05/64/00 with the LBA.
    for t in [
        SectorType::CdDa,
        SectorType::Mode2Form1,
        SectorType::Mode2Formless,
    ] {
        let e = m
            .read_cd(5, 1, t, ReadCdFields::RAW, &mut vec![0u8; 2352])
            .unwrap_err();
        assert_eq!(
            sense_of(e),
            (
                SenseKey::IllegalRequest,
                Asc::ILLEGAL_MODE_FOR_TRACK,
                Some(5)
            )
        );
    }
}

/// Subchannel selections: formatted Q with good CRCs carrying ECMA-130 positions and the MCN,
/// raw P-W whose Q bits are that Q, R-W, and P set only in a pregap.
#[test]
fn subchannel_selections() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let mut m = Mmc::new(&drive);
    let q = read_cd_all(
        &mut m,
        0,
        302,
        SectorType::Any,
        ReadCdFields::RAW.with_sub(SubSelect::Q),
        2352 + 16,
    );
    let pw = read_cd_all(
        &mut m,
        0,
        302,
        SectorType::Any,
        ReadCdFields::RAW.with_sub(SubSelect::RawPw),
        2352 + 96,
    );
    let rw = read_cd_all(
        &mut m,
        0,
        302,
        SectorType::Any,
        ReadCdFields::USER.with_sub(SubSelect::Rw),
        2048 + 96,
    );
    let (mut positions, mut mcns) = (0, 0);
    for lba in 0..302usize {
        let qf: [u8; 12] = q[lba * 2368 + 2352..lba * 2368 + 2364].try_into().unwrap();
        assert!(subchannel::q_crc_ok(&qf), "Q CRC at {lba}");
        assert_eq!(&q[lba * 2368 + 2364..(lba + 1) * 2368], &[0, 0, 0, 0]);
        assert_eq!(qf[0] >> 4, 4, "CONTROL of a data track");
        match qf[0] & 0xF {
            1 => {
                positions += 1;
                let abs = spindle_disc::Lba(lba as i32).to_msf().to_bcd();
                let rel = spindle_disc::Msf::from_frames(lba as u32).to_bcd();
                assert_eq!(&qf[1..3], &[0x01, 0x01]);
                assert_eq!(&qf[3..6], &rel);
                assert_eq!(&qf[7..10], &abs);
            }
            2 => {
                mcns += 1;
                let digits: String = qf[1..8]
                    .iter()
                    .flat_map(|b| [b >> 4, b & 0xF])
                    .take(13)
                    .map(|d| (b'0' + d) as char)
                    .collect();
                assert_eq!(digits, "0000012101954");
            }
            a => panic!("ADR {a} at {lba}"),
        }
        let block = &pw[lba * 2448..(lba + 1) * 2448];
        assert_eq!(&block[..2352], &q[lba * 2368..lba * 2368 + 2352]);
        assert_eq!(subchannel::q_of_interleaved(&block[2352..]), qf);
        assert!(
            block[2352..].iter().all(|b| b & 0x80 == 0),
            "P is clear in index 1"
        );
        let rblock = &rw[lba * 2144 + 2048..(lba + 1) * 2144];
        for (r, p) in rblock.iter().zip(&block[2352..]) {
            assert_eq!(*r, p & 0x3F);
        }
    }
    assert!(
        positions > 290 && mcns >= 3,
        "{positions} positions, {mcns} MCN frames"
    );
    // P is set through a pregap (track 2 of the data + audio disc).
    let dir = tempfile::tempdir().unwrap();
    let drive = ready(open(&mixed_cue(dir.path())));
    let mut m = Mmc::new(&drive);
    let pw = read_cd_all(
        &mut m,
        440,
        20,
        SectorType::CdDa,
        ReadCdFields::RAW.with_sub(SubSelect::RawPw),
        2448,
    );
    for i in 0..20 {
        let p = pw[i * 2448 + 2352..(i + 1) * 2448]
            .iter()
            .all(|b| b & 0x80 != 0);
        assert_eq!(p, 440 + i < 452, "P at {}", 440 + i);
        let q = subchannel::q_of_interleaved(&pw[i * 2448 + 2352..(i + 1) * 2448]);
        if q[0] & 0xF == 1 {
            assert_eq!(
                q[2],
                if 440 + i < 452 { 0 } else { 1 },
                "index at {}",
                440 + i
            );
        }
    }
}

/// Mixed XA (the Video CD): Form 1 and Form 2 sectors by their subheader, with the sizes
/// MMC gives them, and the refusals of READ(10) and wrong sector types.
#[test]
fn xa_forms() {
    let drive = ready(sample("libcdio/videocd.nrg"));
    let mut m = Mmc::new(&drive);
    // Find a Form 1 and a Form 2 sector from the raw subheaders.
    let raw = read_cd_all(&mut m, 0, 1726, SectorType::Any, ReadCdFields::RAW, 2352);
    let form2 = |lba: usize| raw[lba * 2352 + 18] & 0x20 != 0;
    let gap = |lba: usize| (676..826).contains(&lba); // the unstored pregap of track 2 reads as Form 1 zeros
    let f1 = (0..1726).find(|&l| !form2(l)).unwrap();
    let f2 = (0..1726)
        .find(|&l| form2(l) && !gap(l))
        .expect("a Form 2 sector");
    assert!(raw[f1 * 2352 + 15] == 2 && raw[f2 * 2352 + 15] == 2);
    let mut buf = vec![0u8; 2352];
    let n = m
        .read_cd(
            f2 as i32,
            1,
            SectorType::Mode2Form2,
            ReadCdFields::USER,
            &mut buf,
        )
        .unwrap();
    assert_eq!(&buf[..n], &raw[f2 * 2352 + 24..f2 * 2352 + 2348]);
    let n = m
        .read_cd(
            f1 as i32,
            1,
            SectorType::Mode2Form1,
            ReadCdFields::USER,
            &mut buf,
        )
        .unwrap();
    assert_eq!(&buf[..n], &raw[f1 * 2352 + 24..f1 * 2352 + 2072]);
    let sub = ReadCdFields {
        headers: HeaderCodes::SubHeader,
        ..ReadCdFields::USER
    };
    let n = m
        .read_cd(f2 as i32, 1, SectorType::Any, sub, &mut buf)
        .unwrap();
    assert!(buf[..n] == raw[f2 * 2352 + 16..f2 * 2352 + 2348]);
    let e = m
        .read_cd(
            f2 as i32,
            1,
            SectorType::Mode2Form1,
            ReadCdFields::USER,
            &mut buf,
        )
        .unwrap_err();
    assert_eq!(sense_of(e).1, Asc::ILLEGAL_MODE_FOR_TRACK);
    let e = m
        .read_cd(
            f1 as i32,
            1,
            SectorType::Mode1,
            ReadCdFields::USER,
            &mut buf,
        )
        .unwrap_err();
    assert_eq!(sense_of(e).1, Asc::ILLEGAL_MODE_FOR_TRACK);
    // READ(10): Form 1 gives its 2048 bytes, Form 2 is refused.
    let mut b = vec![0u8; 2048];
    m.read10(f1 as u32, 1, &mut b).unwrap();
    assert_eq!(&b[..], &raw[f1 * 2352 + 24..f1 * 2352 + 2072]);
    let e = m.read10(f2 as u32, 1, &mut b).unwrap_err();
    assert_eq!(
        sense_of(e),
        (
            SenseKey::IllegalRequest,
            Asc::ILLEGAL_MODE_FOR_TRACK,
            Some(f2 as u32)
        )
    );
    let di = m.disc_information().unwrap();
    assert_eq!(di.disc_type, 0x20, "CD-ROM XA");
}

/// READ(10) and READ(12) of ISO samples equal the files; capacity, range and audio refusals.
#[test]
fn read10_equals_iso_files() {
    for rel in [
        "debian-ipxe/ipxe.iso",
        "libcdio/copying.iso",
        "kdomanski-iso9660/test.iso",
    ] {
        let file = std::fs::read(samples().join(rel)).unwrap();
        let blocks = (file.len() / 2048) as u32;
        let drive = ready(sample(rel));
        let mut m = Mmc::new(&drive);
        let cap = m.read_capacity().unwrap();
        assert_eq!((cap.last_lba + 1, cap.block_size), (blocks, 2048), "{rel}");
        let mut got = Vec::new();
        let mut buf = vec![0u8; 32 * 2048];
        let mut at = 0;
        while at < blocks {
            let n = (blocks - at).min(32);
            if at % 64 == 0 {
                m.read10(at, n as u16, &mut buf).unwrap();
            } else {
                m.read12(at, n, &mut buf).unwrap();
            }
            got.extend_from_slice(&buf[..n as usize * 2048]);
            at += n;
        }
        assert!(got == file, "{rel}");
        let e = m.read10(blocks - 1, 2, &mut buf).unwrap_err();
        assert_eq!(sense_of(e).1, Asc::LBA_OUT_OF_RANGE);
    }
    let drive = ready(sample("libcdio/cdda.cue"));
    let e = Mmc::new(&drive)
        .read10(0, 1, &mut vec![0u8; 2048])
        .unwrap_err();
    assert_eq!(
        sense_of(e),
        (
            SenseKey::IllegalRequest,
            Asc::ILLEGAL_MODE_FOR_TRACK,
            Some(0)
        )
    );
}

/// A DVD: READ(10) works, READ CD is refused (05/30/02), disc structures answer.
#[test]
fn dvd_medium() {
    let mut disc = (*sample("libcdio/copying.iso")).clone();
    disc.medium = Medium::DvdRom;
    let file = std::fs::read(samples().join("libcdio/copying.iso")).unwrap();
    let drive = ready(Arc::new(disc));
    let mut m = Mmc::new(&drive);
    let mut buf = vec![0u8; 2048 * 64];
    m.read10(0, 64, &mut buf).unwrap();
    assert!(buf[..] == file[..64 * 2048]);
    let e = m
        .read_cd(
            0,
            1,
            SectorType::Any,
            ReadCdFields::RAW,
            &mut vec![0u8; 2352],
        )
        .unwrap_err();
    assert_eq!(sense_of(e).1, Asc::INCOMPATIBLE_FORMAT);
    let pfi = m.disc_structure(0, 0, 0).unwrap();
    assert_eq!(pfi.len(), 2048);
    let p = spindle_mmc::structure::PhysicalFormat::parse(&pfi).unwrap();
    assert_eq!(p.sectors() as usize, file.len() / 2048);
    assert_eq!(p.layers, 1);
    let c = m.disc_structure(0, 0, 1).unwrap();
    assert_eq!(c, vec![0, 0, 0, 0]);
    assert_eq!(m.disc_structure(0, 0, 4).unwrap().len(), 2048);
    // No BCA on this disc, no second layer, and BD structures on a DVD.
    for (media, layer, format) in [(0, 0, 3), (0, 1, 0), (1, 0, 0)] {
        assert!(
            m.disc_structure(media, layer, format).is_err(),
            "{media} {layer} {format}"
        );
    }
    // A stored BCA and PFI are what the drive returns.
    let mut disc = (*sample("libcdio/copying.iso")).clone();
    disc.medium = Medium::DvdRom;
    disc.structures.bca = Some(vec![7u8; 64]);
    let mut pfi = spindle_mmc::structure::PhysicalFormat::dvd_rom(64).to_bytes();
    pfi[2] = 0x21; // two layers
    disc.structures.pfi = vec![pfi.clone(), pfi.clone()];
    let drive = ready(Arc::new(disc));
    let mut m = Mmc::new(&drive);
    assert_eq!(m.disc_structure(0, 0, 3).unwrap(), vec![7u8; 64]);
    assert_eq!(m.disc_structure(0, 1, 0).unwrap(), pfi);
    // CDs have no disc structures.
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let e = Mmc::new(&drive).disc_structure(0, 0, 0).unwrap_err();
    assert_eq!(sense_of(e).1, Asc::INCOMPATIBLE_FORMAT);
}

/// The gap between two sessions and the lead-out are not addressable.
#[test]
fn session_gap_and_lead_out() {
    let drive = ready(sample("cditools/test.cdi"));
    let mut m = Mmc::new(&drive);
    let mut buf = vec![0u8; 2352 * 2];
    // Session 1 ends at 302; session 2's first track starts (pregap) at 11552.
    for lba in [302, 5000, 11551, 12037] {
        let e = m
            .read_cd(lba, 1, SectorType::Any, ReadCdFields::RAW, &mut buf)
            .unwrap_err();
        assert_eq!(sense_of(e).1, Asc::LBA_OUT_OF_RANGE, "LBA {lba}");
    }
    // A read running from the last sector of session 1 into the gap fails after one sector.
    let e = m
        .read_cd(301, 2, SectorType::Any, ReadCdFields::RAW, &mut buf)
        .unwrap_err();
    assert_eq!(e.transferred(), 2352);
    m.read_cd(11552, 1, SectorType::Any, ReadCdFields::RAW, &mut buf)
        .unwrap();
    m.read_cd(12036, 1, SectorType::Any, ReadCdFields::RAW, &mut buf)
        .unwrap();
}

/// Mode 2 formless and Mode 0 sectors (a disc built from the model: no sample has them).
#[test]
fn formless_and_mode0_sectors() {
    use spindle_disc::{Disc, Extent, Lba, Session, SourceInfo, Track, TrackFlags, TrackMode};
    let track = |number, mode, start: i32, pregap, length| Track {
        number,
        mode,
        flags: TrackFlags::default(),
        isrc: None,
        start: Lba(start),
        pregap,
        extra_indexes: Vec::new(),
        length,
        postgap: 0,
        extents: vec![Extent::zero(length)],
    };
    let mut disc = Disc::new(Medium::CdRom, SourceInfo::default());
    disc.sessions.push(Session {
        number: 1,
        tracks: vec![
            track(1, TrackMode::Mode1, -150, 150, 250),
            track(2, TrackMode::Mode2Formless, 100, 0, 100),
            track(3, TrackMode::Mode0, 200, 0, 50),
        ],
        leadout: Lba(250),
    });
    disc.validate().unwrap();
    let drive = ready(Arc::new(disc));
    let mut m = Mmc::new(&drive);
    let mut buf = vec![0u8; 2352];
    for (lba, t, kind_ok, user) in [
        (150, SectorType::Mode2Formless, SectorType::Mode1, 2336),
        (220, SectorType::Any, SectorType::Mode2Formless, 2336),
    ] {
        let n = m.read_cd(lba, 1, t, ReadCdFields::USER, &mut buf).unwrap();
        assert_eq!(n, user);
        let n = m.read_cd(lba, 1, t, ReadCdFields::RAW, &mut buf).unwrap();
        assert_eq!(n, 2352);
        assert_eq!(&buf[..12], &spindle_disc::sector::SYNC);
        assert_eq!(buf[15], if lba == 150 { 2 } else { 0 });
        // EDC/ECC selected alone adds nothing: these modes have none.
        let f = ReadCdFields {
            headers: HeaderCodes::Header,
            edc_ecc: true,
            ..ReadCdFields::USER
        };
        assert_eq!(
            m.read_cd(lba, 1, SectorType::Any, f, &mut buf).unwrap(),
            4 + 2336
        );
        let e = m
            .read_cd(lba, 1, kind_ok, ReadCdFields::USER, &mut buf)
            .unwrap_err();
        assert_eq!(sense_of(e).1, Asc::ILLEGAL_MODE_FOR_TRACK);
        let e = m.read10(lba as u32, 1, &mut buf).unwrap_err();
        assert_eq!(sense_of(e).1, Asc::ILLEGAL_MODE_FOR_TRACK);
    }
    // The TOC: all three are data tracks.
    let toc = m.read_toc(false, 0).unwrap();
    assert!(toc.tracks.iter().all(|t| t.control == 4));
}
