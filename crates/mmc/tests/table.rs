//! The commands hosts send beyond reading a TOC and sectors (shared/notes/mmc-hosts.md: sr,
//! cdrom_id, libburn, cdparanoia, eject), sent as raw CDBs and checked byte by byte against
//! MMC-6: READ CD MSF, MECHANISM STATUS, READ FORMAT CAPACITIES, READ BUFFER CAPACITY, SET
//! STREAMING, SEEK(10), FUA reads, GESN class masks, mode pages 0x0D/0x0E/0x2A, the old
//! READ TOC form, medium errors, unknown opcodes.

mod common;

use common::raw::{data_in, data_out, no_data, position};
use common::*;
use spindle_mmc::sense::{Asc, SenseKey};
use spindle_mmc::{EmulatedDrive, Faults};

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

#[test]
fn read_cd_msf_equals_read_cd() {
    let dir = tempfile::tempdir().unwrap();
    let drive = ready(open(&mixed_cue(dir.path())));
    // Every field selection of interest: raw + P-W, user data + Q, audio + C2.
    // Data sectors (track 1, LBA 0-301) and audio ones (track 2 from LBA 452).
    for (b9, b10, data_size, audio_size) in [
        (0xF8u8, 1u8, 2448usize, 2448usize),
        (0x10, 2, 2064, 2368),
        (0xFA, 0, 2646, 2646),
    ] {
        for lba in [0i32, 10, 700] {
            let per = if lba < 452 { data_size } else { audio_size };
            let n = 12u32;
            let mut cd = [0xBEu8, 0, 0, 0, 0, 0, 0, 0, n as u8, b9, b10, 0];
            cd[2..6].copy_from_slice(&lba.to_be_bytes());
            let a = data_in(&drive, &cd, n as usize * per);
            let (s, e) = ((lba + 150) as u32, (lba + 150) as u32 + n);
            let msf = |f: u32| [(f / 4500) as u8, (f / 75 % 60) as u8, (f % 75) as u8];
            let mut cm = [0xB9u8, 0, 0, 0, 0, 0, 0, 0, 0, b9, b10, 0];
            cm[3..6].copy_from_slice(&msf(s));
            cm[6..9].copy_from_slice(&msf(e));
            let b = data_in(&drive, &cm, n as usize * per);
            assert_eq!(a, b, "lba {lba} byte 9 {b9:#x} byte 10 {b10}");
            assert_eq!(a.unwrap().len(), n as usize * per, "lba {lba}");
        }
    }
    // An end before the start: 05/24/00 pointing at the end address.
    let s = data_in(&drive, &[0xB9, 0, 0, 0, 2, 10, 0, 2, 5, 0x10, 0, 0], 4096)
        .unwrap_err()
        .0;
    assert_eq!(
        (s.asc, s.field.unwrap().byte),
        (Asc::INVALID_FIELD_IN_CDB, 6)
    );
}

#[test]
fn mechanism_format_and_buffer_capacity() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let cap = data_in(&drive, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8).unwrap();
    let blocks = be32(&cap) + 1;
    // MECHANISM STATUS after a read: idle, door closed, the LBA read, no changer slots.
    data_in(&drive, &[0x28, 0, 0, 0, 0, 16, 0, 0, 2, 0], 4096).unwrap();
    let m = data_in(&drive, &[0xBD, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0], 8).unwrap();
    assert_eq!(m, [0, 0, 0, 0, 17, 0, 0, 0]);
    // READ FORMAT CAPACITIES: one formatted-media descriptor of the disc's blocks.
    let f = data_in(&drive, &[0x23, 0, 0, 0, 0, 0, 0, 0, 252, 0], 252).unwrap();
    assert_eq!(f.len(), 12);
    assert_eq!(f[3], 8);
    assert_eq!(be32(&f[4..]), blocks);
    assert_eq!(f[8] & 3, 2);
    assert_eq!(&f[9..12], &[0, 8, 0]);
    // READ BUFFER CAPACITY in bytes and in blocks.
    let b = data_in(&drive, &[0x5C, 0, 0, 0, 0, 0, 0, 0, 12, 0], 12).unwrap();
    assert_eq!(u16::from_be_bytes([b[0], b[1]]), 10);
    assert_eq!(be32(&b[4..]), 2 << 20);
    assert_eq!(be32(&b[8..]), 2 << 20);
    let b = data_in(&drive, &[0x5C, 1, 0, 0, 0, 0, 0, 0, 12, 0], 12).unwrap();
    assert_eq!((b[3] & 1, be32(&b[8..])), (1, 1024));
    // The host opens the tray: door open in MECHANISM STATUS; format capacities says no
    // media; buffer capacity needs no medium either.
    no_data(&drive, &[0x1B, 0, 0, 0, 2, 0]).unwrap();
    let m = data_in(&drive, &[0xBD, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0], 8).unwrap();
    assert_eq!(m[1] & 0x10, 0x10);
    let f = data_in(&drive, &[0x23, 0, 0, 0, 0, 0, 0, 0, 12, 0], 12).unwrap();
    assert_eq!(f[8] & 3, 3);
    data_in(&drive, &[0x5C, 0, 0, 0, 0, 0, 0, 0, 12, 0], 12).unwrap();
}

#[test]
fn set_streaming_sets_the_read_speed() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let perf = |d: &EmulatedDrive| {
        let p = data_in(d, &[0xAC, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], 24).unwrap();
        be32(&p[12..])
    };
    assert_eq!(perf(&drive), 176 * 48);
    // A performance descriptor: 1411 kB read in 500 ms = 2822 kB/s (16x).
    let mut d = [0u8; 28];
    d[8..12].copy_from_slice(&1000u32.to_be_bytes());
    d[12..16].copy_from_slice(&1411u32.to_be_bytes());
    d[16..20].copy_from_slice(&500u32.to_be_bytes());
    let cdb = [0xB6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 28, 0];
    data_out(&drive, &cdb, &d).unwrap();
    assert_eq!(perf(&drive), 2822);
    // RDD: back to the default.
    d[0] = 4;
    data_out(&drive, &cdb, &d).unwrap();
    assert_eq!(perf(&drive), 176 * 48);
    // Too short a list; another type (DBI cache zone) is accepted.
    let s = data_out(&drive, &[0xB6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0], &d[..8]).unwrap_err();
    assert_eq!(s.asc, Asc::PARAMETER_LIST_LENGTH);
    data_out(&drive, &[0xB6, 0, 0, 0, 0, 0, 0, 0, 5, 0, 8, 0], &d[..8]).unwrap();
    // SET CD SPEED still works alongside.
    no_data(&drive, &[0xBB, 0, 0x05, 0x83, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0]).unwrap();
    assert_eq!(perf(&drive), 1411);
}

#[test]
fn seek_and_fua_reads() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    no_data(&drive, &[0x2B, 0, 0, 0, 0, 100, 0, 0, 0, 0]).unwrap();
    assert_eq!(position(&drive).1, 100);
    let s = no_data(&drive, &[0x2B, 0, 0, 0x10, 0, 0, 0, 0, 0, 0]).unwrap_err();
    assert_eq!(
        (s.key, s.asc),
        (SenseKey::IllegalRequest, Asc::LBA_OUT_OF_RANGE)
    );
    // cdparanoia's cache-defeat probe: READ(10)/(12) with FUA read the same bytes.
    let plain = data_in(&drive, &[0x28, 0, 0, 0, 0, 16, 0, 0, 4, 0], 8192).unwrap();
    let fua10 = data_in(&drive, &[0x28, 8, 0, 0, 0, 16, 0, 0, 4, 0], 8192).unwrap();
    let fua12 = data_in(&drive, &[0xA8, 8, 0, 0, 0, 16, 0, 0, 0, 4, 0, 0], 8192).unwrap();
    assert_eq!(plain.len(), 8192);
    assert!(plain == fua10 && plain == fua12);
    assert_eq!(&plain[1..6], b"CD001");
}

#[test]
fn medium_error_reports_the_lba_and_moves_the_sectors_before_it() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    drive.faults().set(Faults::none().unreadable_range(20, 1));
    let good = data_in(&drive, &[0x28, 0, 0, 0, 0, 16, 0, 0, 4, 0], 8192).unwrap();
    drive.faults().set(Faults::none().unreadable_range(20, 1));
    let (s, moved) = data_in(&drive, &[0x28, 0, 0, 0, 0, 16, 0, 0, 8, 0], 8 * 2048).unwrap_err();
    assert_eq!(
        (s.key, s.asc),
        (SenseKey::MediumError, Asc::UNRECOVERED_READ_ERROR)
    );
    assert_eq!(s.information, Some(20));
    assert_eq!(moved, good, "the four sectors before LBA 20");
    // The fixed sense bytes themselves: VALID, 03, INFORMATION = 20, 11/00.
    let o = {
        use spindle_mmc::{DataBuffer, Transport};
        let mut t = &drive;
        let mut buf = vec![0u8; 2048];
        t.execute(
            &[0x28, 0, 0, 0, 0, 20, 0, 0, 1, 0],
            DataBuffer::In(&mut buf),
            std::time::Duration::from_secs(1),
        )
        .unwrap()
    };
    assert_eq!(o.sense[0], 0xF0);
    assert_eq!(o.sense[2] & 0xF, 3);
    assert_eq!(be32(&o.sense[3..7]), 20);
    assert_eq!((o.sense[12], o.sense[13]), (0x11, 0));
    assert_eq!(o.transferred, 0);
}

#[test]
fn gesn_class_masks() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    // libburn's mask 0x7E (every class): the media class answers, supported = media only.
    let b = data_in(&drive, &[0x4A, 1, 0, 0, 0x7E, 0, 0, 0, 8, 0], 8).unwrap();
    assert_eq!((b[2], b[3], b[4] & 0xF), (4, 0x10, 2));
    assert_eq!(u16::from_be_bytes([b[0], b[1]]), 4);
    // Classes without media, or none: NEA, header only.
    for mask in [0u8, 0x02, 0x40, 0x6E] {
        let b = data_in(&drive, &[0x4A, 1, 0, 0, mask, 0, 0, 0, 8, 0], 8).unwrap();
        assert_eq!(b, [0, 0, 0x80, 0x10], "mask {mask:#x}");
    }
    // Asynchronous (not polled) is refused.
    let s = data_in(&drive, &[0x4A, 0, 0, 0, 0x10, 0, 0, 0, 8, 0], 8)
        .unwrap_err()
        .0;
    assert_eq!(s.asc, Asc::INVALID_FIELD_IN_CDB);
}

#[test]
fn mode_pages_for_hosts() {
    let drive = ready(sample("libcdio/cdda.cue"));
    let sense6 =
        |d: &EmulatedDrive, page: u8| data_in(d, &[0x1A, 8, page, 0, 255, 0], 255).unwrap();
    // Page 0x0D: 60 S units per M, 75 F units per S.
    let p = sense6(&drive, 0x0D);
    assert_eq!(&p[4..], &[0x0D, 6, 0, 0, 0, 60, 0, 75]);
    // Page 0x0E: IMMED, port 0 = channel 0, port 1 = channel 1, full volume.
    let p = sense6(&drive, 0x0E);
    assert_eq!(
        &p[4..],
        &[0x0E, 14, 4, 0, 0, 0, 0, 0, 1, 0xFF, 2, 0xFF, 0, 0, 0, 0]
    );
    // Page 0x2A: tray loading (001b), eject, lock; the lock state follows PREVENT; audio
    // play and CD-DA.
    let byte6 = |d: &EmulatedDrive| sense6(d, 0x2A)[4 + 6];
    assert_eq!(byte6(&drive), 0x29);
    no_data(&drive, &[0x1E, 0, 0, 0, 1, 0]).unwrap();
    assert_eq!(byte6(&drive), 0x2B);
    no_data(&drive, &[0x1E, 0, 0, 0, 0, 0]).unwrap();
    let p = sense6(&drive, 0x2A);
    assert_eq!((p[4], p[5]), (0x2A, 0x14));
    assert_eq!((p[4 + 4] & 1, p[4 + 5] & 1), (1, 1));
    // 0x3F through MODE SENSE(6) and (10): every page, in order.
    for all in [
        sense6(&drive, 0x3F)[4..].to_vec(),
        data_in(&drive, &[0x5A, 8, 0x3F, 0, 0, 0, 0, 1, 0, 0], 256).unwrap()[8..].to_vec(),
    ] {
        let mut codes = Vec::new();
        let mut at = 0;
        while at + 2 <= all.len() {
            codes.push(all[at] & 0x3F);
            at += 2 + all[at + 1] as usize;
        }
        assert_eq!(codes, [0x01, 0x0D, 0x0E, 0x2A]);
    }
    // MODE SELECT(6) of page 0x0E: volume down; a change to a fixed byte is refused.
    let mut list = vec![0u8, 0, 0, 0];
    list.extend_from_slice(&[0x0E, 14, 4, 0, 0, 0, 0, 0, 1, 0x80, 2, 0x40, 0, 0, 0, 0]);
    data_out(&drive, &[0x15, 0x10, 0, 0, list.len() as u8, 0], &list).unwrap();
    assert_eq!(&sense6(&drive, 0x0E)[4 + 8..4 + 12], &[1, 0x80, 2, 0x40]);
    let mut bad = list.clone();
    bad[4 + 5] = 1;
    let s = data_out(&drive, &[0x15, 0x10, 0, 0, bad.len() as u8, 0], &bad).unwrap_err();
    assert_eq!(s.asc, Asc::INVALID_FIELD_IN_PARAMETERS);
    // Page 0x2A cannot be selected; page 0x0D neither.
    let mut p2a = vec![0u8, 0, 0, 0];
    p2a.extend_from_slice(&sense6(&drive, 0x0D)[4..]);
    let s = data_out(&drive, &[0x15, 0x10, 0, 0, p2a.len() as u8, 0], &p2a).unwrap_err();
    assert_eq!(s.asc, Asc::INVALID_FIELD_IN_PARAMETERS);
    // An unknown page: 05/24/00.
    let s = data_in(&drive, &[0x1A, 8, 0x05, 0, 255, 0], 255)
        .unwrap_err()
        .0;
    assert_eq!(s.asc, Asc::INVALID_FIELD_IN_CDB);
}

#[test]
fn read_toc_forms() {
    let drive = ready(sample("cditools/test.cdi"));
    // The old form of format 1: format 0 in byte 2, 01b in the control byte's top bits.
    let old = data_in(&drive, &[0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40], 12).unwrap();
    let new = data_in(&drive, &[0x43, 0, 1, 0, 0, 0, 0, 0, 12, 0], 12).unwrap();
    assert_eq!(old, new);
    assert_eq!((new[2], new[3]), (1, 2), "two sessions");
    // Format 2 through the old form (10b) equals format 2.
    let old = data_in(&drive, &[0x43, 2, 0, 0, 0, 0, 0, 0, 255, 0x80], 255).unwrap();
    let new = data_in(&drive, &[0x43, 2, 2, 0, 0, 0, 0, 0, 255, 0], 255).unwrap();
    assert_eq!(old, new);
    // Format 0 in MSF: the first track at 00:02:00.
    let t = data_in(&drive, &[0x43, 2, 0, 0, 0, 0, 1, 0, 12, 0], 12).unwrap();
    assert_eq!(&t[8..12], &[0, 0, 2, 0]);
    // Format 5 (CD-TEXT) on a disc without it: just the header.
    let t = data_in(&drive, &[0x43, 0, 5, 0, 0, 0, 0, 0, 255, 0], 255).unwrap();
    assert_eq!(t, [0, 2, 0, 0]);
}

#[test]
fn unknown_opcodes_are_invalid_not_fatal() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    for op in [0x2Fu8, 0xA4, 0xA6, 0xBA, 0xD8, 0xFF, 0x7F, 0x9E] {
        let mut cdb = [0u8; 16];
        cdb[0] = op;
        let s = data_in(&drive, &cdb, 64).unwrap_err().0;
        assert_eq!(
            (s.key, s.asc),
            (SenseKey::IllegalRequest, Asc::INVALID_OPCODE),
            "{op:#x}"
        );
    }
    // The drive still answers afterwards.
    no_data(&drive, &[0, 0, 0, 0, 0, 0]).unwrap();
}

#[test]
fn bd_disc_structures() {
    let mut disc = (*sample("libcdio/copying.iso")).clone();
    disc.medium = spindle_disc::Medium::BdRom;
    let drive = ready(std::sync::Arc::new(disc.clone()));
    let rds = |d: &EmulatedDrive, media: u8, format: u8| {
        data_in(
            d,
            &[0xAD, media, 0, 0, 0, 0, 0, format, 0x10, 0, 0, 0],
            4096,
        )
    };
    // Nothing stored: disc information and BCA refused, the list names only itself.
    assert_eq!(
        rds(&drive, 1, 0).unwrap_err().0.asc,
        Asc::INVALID_FIELD_IN_CDB
    );
    assert_eq!(
        rds(&drive, 1, 3).unwrap_err().0.asc,
        Asc::INVALID_FIELD_IN_CDB
    );
    assert_eq!(rds(&drive, 1, 0xFF).unwrap()[4..], [0xFF, 0x40, 0, 0]);
    // DVD structures on a BD: incompatible format.
    assert_eq!(
        rds(&drive, 0, 0).unwrap_err().0.asc,
        Asc::INCOMPATIBLE_FORMAT
    );
    // Stored disc information and BCA come back as stored, and the list names them.
    disc.structures.bd_disc_info = Some(vec![0x44; 112]);
    disc.structures.bca = Some(vec![0x42; 64]);
    let drive = ready(std::sync::Arc::new(disc));
    let di = rds(&drive, 1, 0).unwrap();
    assert_eq!(u16::from_be_bytes([di[0], di[1]]), 114);
    assert_eq!(di[4..], [0x44; 112]);
    assert_eq!(rds(&drive, 1, 3).unwrap()[4..], [0x42; 64]);
    assert_eq!(
        rds(&drive, 1, 0xFF).unwrap()[4..],
        [0, 0x40, 0, 112, 3, 0x40, 0, 64, 0xFF, 0x40, 0, 0]
    );
}
