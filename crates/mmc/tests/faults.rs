//! Fault injection in the emulated drive: unreadable and flaky sectors, C2 errors, hanging
//! and slow commands, spin-up; faults changed while the drive is in use.

mod common;

use common::*;
use spindle_mmc::readcd::{C2Mode, ReadCdFields, SectorType, c2_offsets};
use spindle_mmc::sense::Asc;
use spindle_mmc::{Faults, Mmc, SenseKey};
use std::time::{Duration, Instant};

#[test]
fn unreadable_sectors_then_recovery() {
    let file = std::fs::read(samples().join("libcdio/isofs-m1.bin")).unwrap();
    let user = |lba: usize| &file[lba * 2352 + 16..lba * 2352 + 2064];
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let faults = drive.faults();
    faults.set(Faults::none().unreadable_range(100, 3));
    let mut m = Mmc::new(&drive);
    let mut buf = vec![0u8; 8 * 2048];
    let e = m.read10(96, 8, &mut buf).unwrap_err();
    let s = *e.sense().unwrap();
    assert_eq!(
        (s.key, s.asc, s.information),
        (
            SenseKey::MediumError,
            Asc::UNRECOVERED_READ_ERROR,
            Some(100)
        )
    );
    assert_eq!(
        e.transferred(),
        4 * 2048,
        "the sectors before the bad one arrive"
    );
    for i in 0..4 {
        assert_eq!(&buf[i * 2048..(i + 1) * 2048], user(96 + i));
    }
    // Every bad sector fails alone; its neighbours read.
    for lba in 100..103 {
        let e = m.read10(lba, 1, &mut buf).unwrap_err();
        assert_eq!(e.sense().unwrap().information, Some(lba));
    }
    m.read10(103, 1, &mut buf).unwrap();
    // READ CD reports the same.
    let mut raw = vec![0u8; 10 * 2352];
    let e = m
        .read_cd(95, 10, SectorType::Any, ReadCdFields::RAW, &mut raw)
        .unwrap_err();
    assert_eq!(e.sense().unwrap().information, Some(100));
    assert_eq!(e.transferred(), 5 * 2352);
    assert!(raw[..5 * 2352] == file[95 * 2352..100 * 2352]);
    // The drive recovers: everything reads, equal to the source.
    faults.recover();
    m.read10(96, 8, &mut buf).unwrap();
    for i in 0..8 {
        assert_eq!(&buf[i * 2048..(i + 1) * 2048], user(96 + i));
    }
}

#[test]
fn flaky_sector_reads_on_retry() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    drive.faults().update(|f| {
        f.flaky.insert(20, 2);
    });
    let mut m = Mmc::new(&drive);
    let mut buf = vec![0u8; 2048];
    assert!(m.read10(20, 1, &mut buf).is_err());
    assert!(m.read10(20, 1, &mut buf).is_err());
    m.read10(20, 1, &mut buf).unwrap();
    m.read10(20, 1, &mut buf).unwrap();
    assert!(drive.faults().snapshot().flaky.is_empty());
}

#[test]
fn c2_errors() {
    // Audio: damaged bytes, flagged in the C2 block, with the block error byte.
    let file = std::fs::read(samples().join("libcdio/cdda.bin")).unwrap();
    let drive = ready(sample("libcdio/cdda.cue"));
    let offsets = [0u16, 100, 101, 2351];
    drive.faults().set(Faults::none().c2_at(10, &offsets));
    let mut m = Mmc::new(&drive);
    let f = ReadCdFields::RAW.with_c2(C2Mode::PointersAndBlock);
    let mut buf = vec![0u8; 3 * (2352 + 296)];
    m.read_cd(9, 3, SectorType::CdDa, f, &mut buf).unwrap();
    let block = |i: usize| &buf[i * 2648..(i + 1) * 2648];
    for (i, lba) in (9..12).enumerate() {
        let b = block(i);
        let src = &file[lba * 2352..(lba + 1) * 2352];
        let c2 = &b[2352..2352 + 294];
        if lba == 10 {
            assert_eq!(c2_offsets(c2), offsets.to_vec());
            assert_ne!(b[2352 + 294], 0, "block error byte");
            let damaged: Vec<u16> = (0..2352)
                .filter(|&k| b[k] != src[k])
                .map(|k| k as u16)
                .collect();
            assert_eq!(damaged, offsets.to_vec());
        } else {
            assert!(c2.iter().all(|&x| x == 0) && b[2352 + 294] == 0);
            assert_eq!(&b[..2352], src);
        }
    }
    // Data: cooked reads come back corrected; raw reads show the damage and the flags.
    let file = std::fs::read(samples().join("libcdio/isofs-m1.bin")).unwrap();
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    drive.faults().set(Faults::none().c2_at(30, &[500, 501]));
    let mut m = Mmc::new(&drive);
    let mut user = vec![0u8; 2048];
    m.read10(30, 1, &mut user).unwrap();
    assert_eq!(&user[..], &file[30 * 2352 + 16..30 * 2352 + 2064]);
    let mut b = vec![0u8; 2048 + 294];
    m.read_cd(
        30,
        1,
        SectorType::Mode1,
        ReadCdFields::USER.with_c2(C2Mode::Pointers),
        &mut b,
    )
    .unwrap();
    assert_eq!(&b[..2048], &file[30 * 2352 + 16..30 * 2352 + 2064]);
    assert_eq!(c2_offsets(&b[2048..]), vec![500, 501]);
    let mut r = vec![0u8; 2352];
    m.read_cd(30, 1, SectorType::Mode1, ReadCdFields::RAW, &mut r)
        .unwrap();
    assert_ne!(r[500], file[30 * 2352 + 500]);
}

#[test]
fn hanging_commands_time_out_or_complete_when_recovered() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let faults = drive.faults();
    faults.update(|f| {
        f.hang_sectors.insert(50);
    });
    let mut m = Mmc::new(&drive);
    m.timeout = Duration::from_millis(100);
    let mut buf = vec![0u8; 4 * 2048];
    let t = Instant::now();
    let e = m.read10(48, 4, &mut buf).unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(t.elapsed() >= Duration::from_millis(100));
    m.read10(51, 2, &mut buf).unwrap();
    // A long timeout, and the fault is cleared from another thread meanwhile.
    m.timeout = Duration::from_secs(20);
    let t = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(150));
            faults.recover();
        });
        m.read10(48, 4, &mut buf).unwrap();
    });
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    // Every command hangs.
    faults.update(|f| f.hang = true);
    m.timeout = Duration::from_millis(50);
    assert!(m.test_unit_ready().unwrap_err().is_timeout());
    faults.recover();
    m.test_unit_ready().unwrap();
}

#[test]
fn slow_commands_and_spin_up() {
    let drive = ready(sample("libcdio/isofs-m1.cue"));
    let mut m = Mmc::new(&drive);
    drive
        .faults()
        .update(|f| f.command_delay = Duration::from_millis(40));
    let t = Instant::now();
    m.test_unit_ready().unwrap();
    assert!(t.elapsed() >= Duration::from_millis(40));
    drive.faults().set(Faults {
        sector_delay: Duration::from_millis(2),
        ..Faults::none()
    });
    let t = Instant::now();
    m.read10(0, 20, &mut vec![0u8; 20 * 2048]).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(40));
    // Becoming ready after a load.
    drive.faults().set(Faults {
        spin_up: Duration::from_millis(200),
        ..Faults::none()
    });
    drive.insert(sample("libcdio/cdda.cue"));
    let e = m.test_unit_ready().unwrap_err();
    assert_eq!(e.sense().unwrap().asc, Asc::MEDIUM_MAY_HAVE_CHANGED);
    let e = m.test_unit_ready().unwrap_err();
    let s = *e.sense().unwrap();
    assert_eq!((s.key, s.asc), (SenseKey::NotReady, Asc::BECOMING_READY));
    std::thread::sleep(Duration::from_millis(220));
    m.test_unit_ready().unwrap();
}
