//! Every layout the ISO format recognises, built from libcdio's isofs-m1.bin (real raw Mode 1
//! sectors) or synthesised, opened through the format and read back.

use spindle_disc::sector::{SectorCheck, build_raw, check_raw};
use spindle_disc::*;
use std::sync::Arc;

/// Opens an ISO or raw image the way the registry does, with its directory as companions.
fn open_iso(path: &std::path::Path) -> Result<Disc, spindle_format_iso::IsoError> {
    let companions = DirCompanions::beside(path);
    let ctx = OpenContext {
        companions: &companions,
        password: None,
    };
    spindle_format_iso::open(path, &ctx)
}

fn sample_bin() -> Vec<u8> {
    std::fs::read(spindle_testkit::sample("libcdio/isofs-m1.bin")).unwrap()
}

fn user_of(bin: &[u8]) -> Vec<u8> {
    bin.chunks(2352)
        .flat_map(|s| s[16..2064].to_vec())
        .collect()
}

#[test]
fn raw_2352_and_2048_agree() {
    let dir = tempfile::tempdir().unwrap();
    let bin = sample_bin();
    let raw = dir.path().join("raw.bin");
    let iso = dir.path().join("cooked.iso");
    std::fs::write(&raw, &bin).unwrap();
    std::fs::write(&iso, user_of(&bin)).unwrap();
    let a = Arc::new(open_iso(&raw).unwrap());
    let b = Arc::new(open_iso(&iso).unwrap());
    assert_eq!(a.source.variant, "raw 2352-byte sectors (mode1)");
    assert_eq!(b.medium, Medium::CdRom);
    for lba in [0, 16, 301] {
        let (mut x, mut y) = (vec![0u8; 2352], vec![0u8; 2352]);
        a.read_sector(Lba(lba), SectorFormat::RAW, &mut x).unwrap();
        b.read_sector(Lba(lba), SectorFormat::RAW, &mut y).unwrap();
        assert_eq!(x, y, "raw sector {lba}: stored vs synthesised");
        assert_eq!(&x[..], &bin[lba as usize * 2352..(lba as usize + 1) * 2352]);
    }
}

#[test]
fn raw_2448_keeps_its_subchannel() {
    let dir = tempfile::tempdir().unwrap();
    let bin = sample_bin();
    let mut img = Vec::new();
    for (i, s) in bin.chunks(2352).enumerate() {
        img.extend_from_slice(s);
        img.extend((0..96).map(|k| (i * 7 + k) as u8));
    }
    let p = dir.path().join("sub.img");
    std::fs::write(&p, &img).unwrap();
    let disc = open_iso(&p).unwrap();
    assert_eq!(disc.source.variant, "raw 2448-byte sectors (mode1)");
    let mut buf = vec![0u8; 2352 + 96];
    disc.read_sector(Lba(10), SectorFormat::RAW_PW96, &mut buf)
        .unwrap();
    assert_eq!(&buf[..], &img[10 * 2448..11 * 2448]);
    let view = SectorView::first_data_track(Arc::new(disc)).unwrap();
    let mut user = vec![0u8; view.len() as usize];
    view.read_at(&mut user, 0).unwrap();
    assert_eq!(user, user_of(&bin));
}

#[test]
fn mode2_2336_with_a_volume_descriptor() {
    // 20 Mode 2 Form 1 sectors, a "CD001" descriptor at sector 16, stored without sync/header.
    let dir = tempfile::tempdir().unwrap();
    let layout = MainLayout {
        edc_ecc: false,
        ..MainLayout::MODE2_2336
    };
    let mut img = Vec::new();
    let mut raws = Vec::new();
    for i in 0..20 {
        let mut stored = vec![0u8, 0, 8, 0, 0, 0, 8, 0];
        let mut user = vec![(i * 3) as u8; 2048];
        if i == 16 {
            user[..7].copy_from_slice(b"\x01CD001\x01");
        }
        stored.extend(user);
        let mut raw = [0u8; 2352];
        build_raw(
            &mut raw,
            Lba(i),
            TrackMode::Mode2Mixed,
            &layout,
            Some(&stored),
        );
        img.extend_from_slice(&raw[16..]);
        raws.push(raw);
    }
    let p = dir.path().join("m2.bin");
    std::fs::write(&p, &img).unwrap();
    let disc = open_iso(&p).unwrap();
    assert_eq!(disc.tracks().next().unwrap().mode, TrackMode::Mode2Mixed);
    let mut raw = vec![0u8; 2352];
    disc.read_sector(Lba(16), SectorFormat::RAW, &mut raw)
        .unwrap();
    assert_eq!(&raw[..], &raws[16][..], "sync and header are synthesised");
    assert_eq!(check_raw(raw[..].try_into().unwrap()), SectorCheck::Good);
    let mut user = vec![0u8; 2048];
    disc.read_sector(Lba(16), SectorFormat::USER_2048, &mut user)
        .unwrap();
    assert_eq!(&user[1..6], b"CD001");
}

#[test]
fn medium_is_guessed_from_size() {
    let dir = tempfile::tempdir().unwrap();
    for (bytes, medium, pregap) in [
        (700u64 << 20, Medium::CdRom, 150),
        (4_700_000_256, Medium::DvdRom, 0),
        (25_025_314_816, Medium::BdRom, 0),
    ] {
        let p = dir.path().join(format!("{bytes}.iso"));
        // Sparse files: nothing is written but the length.
        std::fs::File::create(&p).unwrap().set_len(bytes).unwrap();
        let disc = open_iso(&p).unwrap();
        assert_eq!(disc.medium, medium, "{bytes} bytes");
        let t = disc.tracks().next().unwrap();
        assert_eq!(
            (t.pregap, t.index1(), t.program_length() as u64),
            (pregap, Lba(0), bytes / 2048)
        );
    }
}

#[test]
fn raw_mode2_with_zero_subheaders_is_xa() {
    // Zero subheaders mean Form 1 data: user data starts at byte 24, after the subheader.
    let dir = tempfile::tempdir().unwrap();
    let layout = MainLayout {
        edc_ecc: false,
        ..MainLayout::MODE2_2336
    };
    let mut img = Vec::new();
    for i in 0..20 {
        let mut stored = vec![0u8; 8];
        let mut user = vec![0u8; 2048];
        if i == 16 {
            user[..7].copy_from_slice(b"\x01CD001\x01");
        }
        stored.extend(user);
        let mut raw = [0u8; 2352];
        build_raw(
            &mut raw,
            Lba(i),
            TrackMode::Mode2Mixed,
            &layout,
            Some(&stored),
        );
        img.extend_from_slice(&raw);
    }
    let p = dir.path().join("zero-sub.bin");
    std::fs::write(&p, &img).unwrap();
    let disc = Arc::new(open_iso(&p).unwrap());
    assert_eq!(disc.tracks().next().unwrap().mode, TrackMode::Mode2Mixed);
    let view = SectorView::first_data_track(disc).unwrap();
    let mut pvd = vec![0u8; 2048];
    view.read_at(&mut pvd, 16 * 2048).unwrap();
    assert_eq!(&pvd[1..6], b"CD001");
}
