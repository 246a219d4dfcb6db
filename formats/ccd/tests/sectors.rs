//! What the `.img` and `.sub` hold: the Q channel of the `.sub` we write (CRC, positions),
//! scrambled images (`DataTracksScrambled=1`), track modes taken from sector headers when the
//! control file lies, and `ccd2iso` as an oracle for the user data of our `.img`.

mod common;

use common::{mixed_disc, open_ccd, open_cue};
use spindle_disc::addr::to_bcd;
use spindle_disc::subchannel::q_crc_ok;
use spindle_disc::{ByteSource, ImageWriter, Lba, SectorFormat, SectorView, TrackMode};
use spindle_format_ccd::CcdWriter;
use spindle_testkit::sample;
use spindle_testkit::sectors::raw_md5;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Writes the sample cue `rel` (or the mixed-mode disc for `"mixed"`) as CCD into a new folder; returns the folder and the .ccd.
fn written(rel: &str, stem: &str) -> (tempfile::TempDir, PathBuf) {
    let (disc, _src) = if rel == "mixed" {
        mixed_disc()
    } else {
        (open_cue(&sample(rel)), tempfile::tempdir().unwrap())
    };
    let out = tempfile::tempdir().unwrap();
    let ccd = out.path().join(format!("{stem}.ccd"));
    CcdWriter.write(&disc, &ccd, &mut |_, _| {}).unwrap();
    (out, ccd)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from:?} not in\n{text}");
    std::fs::write(path, text.replace(from, to)).unwrap();
}

#[test]
fn sub_holds_valid_q_at_the_right_positions() {
    let (dir, ccd) = written("libcdio/cdda_4_5.cue", "audio");
    let sub = std::fs::read(dir.path().join("audio.sub")).unwrap();
    let disc = open_ccd(&ccd).unwrap();
    assert_eq!(sub.len() as i32, disc.leadout().0 * 96);
    let mut checked = 0;
    for lba in [0i32, 1, 2, 75, 149, 150, 301] {
        let rec = &sub[lba as usize * 96..(lba as usize + 1) * 96];
        let q: [u8; 12] = rec[12..24].try_into().unwrap();
        assert!(q_crc_ok(&q), "LBA {lba}: Q {q:02x?} has a bad CRC");
        let (_, track) = disc.locate(Lba(lba)).unwrap();
        if q[0] & 0xF == 1 {
            let abs = Lba(lba).to_msf().to_bcd();
            assert_eq!(q[1], to_bcd(track.number), "LBA {lba}: track number");
            assert_eq!(q[2], to_bcd(track.index_at(Lba(lba))), "LBA {lba}: index");
            assert_eq!(&q[7..10], &abs, "LBA {lba}: absolute time");
            assert_eq!(q[0] >> 4, track.control(), "LBA {lba}: CONTROL");
            checked += 1;
        }
        // P is clear in the program area, R-W empty.
        assert!(
            rec[..12].iter().all(|&b| b == 0) && rec[24..].iter().all(|&b| b == 0),
            "LBA {lba}"
        );
    }
    assert!(checked >= 6);
    // Reading back: the stored subchannel (interleaved again) is what the model synthesises.
    let src = open_cue(&sample("libcdio/cdda_4_5.cue"));
    let mut a = vec![0u8; 300 * 2448];
    let mut b = vec![0u8; 300 * 2448];
    src.read_sectors(Lba(0), 300, SectorFormat::RAW_PW96, &mut a)
        .unwrap();
    disc.read_sectors(Lba(0), 300, SectorFormat::RAW_PW96, &mut b)
        .unwrap();
    assert!(a == b, "subchannel read back from the .sub differs");
    // A corrupted Q in the .sub comes back as stored (never "corrected").
    let mut sub2 = sub.clone();
    sub2[10 * 96 + 15] ^= 0xFF;
    std::fs::write(dir.path().join("audio.sub"), &sub2).unwrap();
    let disc = open_ccd(&ccd).unwrap();
    let mut q = vec![0u8; 2352 + 16];
    disc.read_sectors(Lba(10), 1, SectorFormat::RAW_Q16, &mut q)
        .unwrap();
    assert_eq!(&q[2352..2364], &sub2[10 * 96 + 12..10 * 96 + 24]);
}

#[test]
fn without_sub_the_model_synthesises_q() {
    let (dir, ccd) = written("libcdio/isofs-m1.cue", "data");
    std::fs::remove_file(dir.path().join("data.sub")).unwrap();
    let disc = open_ccd(&ccd).unwrap();
    assert_eq!(disc.source.files.len(), 1);
    let mut q = vec![0u8; 2352 + 16];
    disc.read_sectors(Lba(5), 1, SectorFormat::RAW_Q16, &mut q)
        .unwrap();
    assert!(q_crc_ok(&q[2352..2364].try_into().unwrap()));
    // An empty .sub is the same as none (psx-spx).
    std::fs::write(dir.path().join("data.sub"), b"").unwrap();
    assert_eq!(open_ccd(&ccd).unwrap().source.files.len(), 1);
}

/// The ECMA-130 Annex B scrambler, written out here (x^15 + x + 1, seed 1, LSB first) so the
/// test does not lean on the code under test.
fn scramble_table() -> Vec<u8> {
    let mut reg: u16 = 1;
    (0..2340)
        .map(|_| {
            let mut byte = 0u8;
            for bit in 0..8 {
                byte |= ((reg & 1) as u8) << bit;
                let fb = (reg ^ (reg >> 1)) & 1;
                reg = (reg >> 1) | (fb << 14);
            }
            byte
        })
        .collect()
}

#[test]
fn scrambled_img_reads_back_descrambled() {
    let (dir, ccd) = written("mixed", "mixed");
    let plain = open_ccd(&ccd).unwrap();
    let table = scramble_table();
    assert_eq!(&table[..4], &[0x01, 0x80, 0x00, 0x60]);
    // A scrambled copy beside the plain image (which reads its files lazily).
    let mut img = std::fs::read(dir.path().join("mixed.img")).unwrap();
    std::fs::copy(dir.path().join("mixed.sub"), dir.path().join("scr.sub")).unwrap();
    std::fs::copy(&ccd, dir.path().join("scr.ccd")).unwrap();
    let (img_path, ccd) = (dir.path().join("scr.img"), dir.path().join("scr.ccd"));
    // Scramble the data track (track 1, LBA 0..302); audio is never scrambled.
    let t1 = plain.track(1).unwrap();
    for lba in 0..t1.end().0 as usize {
        for (b, s) in img[lba * 2352 + 12..(lba + 1) * 2352]
            .iter_mut()
            .zip(&table)
        {
            *b ^= s;
        }
    }
    std::fs::write(&img_path, &img).unwrap();
    edit(&ccd, "DataTracksScrambled=0", "DataTracksScrambled=1");
    // MODE lies too, so only the descrambled header can say Mode 1.
    edit(&ccd, "[TRACK 1]\r\nMODE=1", "[TRACK 1]\r\nMODE=2");
    let back = open_ccd(&ccd).unwrap();
    assert_eq!(
        back.track(1).unwrap().mode,
        TrackMode::Mode1,
        "the mode is sniffed after descrambling"
    );
    assert!(back.source.variant.contains("scrambled"));
    for t in plain.tracks() {
        assert_eq!(
            raw_md5(&back, t.start, t.end()),
            raw_md5(&plain, t.start, t.end()),
            "track {}",
            t.number
        );
    }
    let mut user = vec![0u8; 2048];
    back.read_sectors(Lba(16), 1, SectorFormat::USER_2048, &mut user)
        .unwrap();
    assert_eq!(&user[1..6], b"CD001");
}

#[test]
fn modes_come_from_sector_headers_when_the_ccd_lies() {
    let (_dir, ccd) = written("mixed", "mixed");
    edit(&ccd, "[TRACK 1]\r\nMODE=1", "[TRACK 1]\r\nMODE=2");
    let disc = open_ccd(&ccd).unwrap();
    assert_eq!(disc.track(1).unwrap().mode, TrackMode::Mode1);
    assert_eq!(disc.track(2).unwrap().mode, TrackMode::Audio);
    edit(&ccd, "[TRACK 1]\r\nMODE=2", "[TRACK 1]\r\nMODE=0");
    assert_eq!(
        open_ccd(&ccd).unwrap().track(1).unwrap().mode,
        TrackMode::Mode1
    );
    // A Mode 2 XA header is read as such whatever MODE says.
    let (dir, ccd) = written("libcdio/isofs-m1.cue", "xa");
    let img_path = dir.path().join("xa.img");
    let mut img = std::fs::read(&img_path).unwrap();
    for s in img.chunks_exact_mut(2352) {
        s[15] = 2;
        s[16..24].copy_from_slice(&[0, 0, 8, 0, 0, 0, 8, 0]);
    }
    std::fs::write(&img_path, &img).unwrap();
    assert_eq!(
        open_ccd(&ccd).unwrap().track(1).unwrap().mode,
        TrackMode::Mode2Mixed
    );
    for s in img.chunks_exact_mut(2352) {
        s[16..24].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    }
    std::fs::write(&img_path, &img).unwrap();
    assert_eq!(
        open_ccd(&ccd).unwrap().track(1).unwrap().mode,
        TrackMode::Mode2Formless
    );
    // No sync anywhere: MODE= decides.
    for s in img.chunks_exact_mut(2352) {
        s[..12].fill(0);
    }
    std::fs::write(&img_path, &img).unwrap();
    assert_eq!(
        open_ccd(&ccd).unwrap().track(1).unwrap().mode,
        TrackMode::Mode1
    );
}

#[test]
fn ccd2iso_gives_our_user_data() {
    let (dir, ccd) = written("libcdio/isofs-m1.cue", "isofs-m1");
    let iso = dir.path().join("out.iso");
    let status = std::process::Command::new("ccd2iso")
        .arg(dir.path().join("isofs-m1.img"))
        .arg(&iso)
        .output()
        .expect("ccd2iso must be installed (Debian package ccd2iso)");
    assert!(
        status.status.success(),
        "ccd2iso: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let theirs = std::fs::read(&iso).unwrap();
    let disc = Arc::new(open_ccd(&ccd).unwrap());
    let view = SectorView::user_data(disc, 1).unwrap();
    assert_eq!(view.len(), 302 * 2048);
    let mut ours = vec![0u8; view.len() as usize];
    assert_eq!(view.read_at(&mut ours, 0).unwrap(), ours.len());
    assert_eq!(
        theirs.len(),
        ours.len(),
        "ccd2iso wrote {} bytes",
        theirs.len()
    );
    assert!(
        theirs == ours,
        "ccd2iso's ISO differs from our user-data view"
    );
}
