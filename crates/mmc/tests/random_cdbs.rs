//! Bad input never panics: random CDBs (valid opcodes with random fields, and random bytes)
//! and random parameter lists against the emulated drive and the parsers, with and without
//! a disc, on CD and DVD media. Each answer is GOOD with at most the buffer's bytes, or
//! CHECK CONDITION with parseable fixed-format sense.

mod common;

use common::*;
use spindle_mmc::transport::status;
use spindle_mmc::{Command, DataBuffer, EmulatedDrive, Sense, Transport};
use std::sync::Arc;
use std::time::Duration;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

const OPCODES: [u8; 33] = [
    0x00, 0x03, 0x12, 0x15, 0x1A, 0x1B, 0x1E, 0x23, 0x25, 0x28, 0x2B, 0x42, 0x43, 0x45, 0x46, 0x47,
    0x4A, 0x4B, 0x4E, 0x51, 0x52, 0x55, 0x5A, 0x5C, 0xA5, 0xA8, 0xAC, 0xAD, 0xB6, 0xB9, 0xBB, 0xBD,
    0xBE,
];

fn hammer(drive: &EmulatedDrive, seed: u64, rounds: usize) {
    let mut rng = Rng(seed);
    let mut t = drive;
    let mut buf = vec![0u8; 70_000];
    for i in 0..rounds {
        let mut cdb = [0u8; 12];
        for b in cdb.iter_mut() {
            *b = rng.byte();
        }
        if i % 4 != 0 {
            cdb[0] = OPCODES[rng.next() as usize % OPCODES.len()];
            // Keep reads small enough to be quick: transfer lengths of a few blocks.
            if matches!(cdb[0], 0x28 | 0xA8 | 0xBE) {
                cdb[2] = 0;
                cdb[3] = 0;
                for b in &mut cdb[6..10] {
                    *b &= 0;
                }
                cdb[8] = rng.byte() & 7;
            }
        }
        let len = match cdb[0] >> 5 {
            0 => 6,
            5 => 12,
            _ => 10,
        };
        let n = (rng.next() as usize) % buf.len();
        let out: Vec<u8> = (0..rng.byte() as usize).map(|_| rng.byte()).collect();
        let data = if spindle_mmc::cdb::is_data_out(&cdb[..len]) {
            DataBuffer::Out(&out)
        } else {
            DataBuffer::In(&mut buf[..n])
        };
        let o = t
            .execute(&cdb[..len], data, Duration::from_secs(1))
            .unwrap();
        match o.status {
            status::GOOD => assert!(o.transferred <= n.max(out.len()), "{cdb:02x?}"),
            status::CHECK_CONDITION => {
                assert!(Sense::parse(&o.sense).is_some(), "{cdb:02x?}");
            }
            s => panic!("status {s:#x} for {cdb:02x?}"),
        }
        // The parser agrees with itself: whatever parses re-encodes to a CDB that parses
        // to the same command.
        if let Ok(c) = Command::parse(&cdb[..len]) {
            assert_eq!(Command::parse(&c.encode()), Ok(c), "{cdb:02x?}");
        }
    }
}

#[test]
fn random_cdbs_never_panic() {
    hammer(&EmulatedDrive::new(None), 1, 3000);
    hammer(
        &EmulatedDrive::new(Some(sample("libcdio/videocd.nrg"))),
        2,
        3000,
    );
    hammer(
        &EmulatedDrive::new(Some(sample("cditools/test.cdi"))),
        3,
        3000,
    );
    let mut d = (*sample("libcdio/copying.iso")).clone();
    d.medium = spindle_disc::Medium::DvdRom;
    hammer(&EmulatedDrive::new(Some(Arc::new(d))), 4, 3000);
}

/// Random commands interleaved with the daemon's actions (swap, eject button, remove, tray,
/// reset) and a host listener that removes the disc on a host eject, as the daemon does:
/// every answer stays well-formed and nothing deadlocks.
#[test]
fn random_streams_with_daemon_actions() {
    let discs = [
        sample("libcdio/isofs-m1.cue"),
        sample("libcdio/cdda.cue"),
        sample("cditools/test.cdi"),
    ];
    let drive = Arc::new(EmulatedDrive::new(Some(discs[0].clone())));
    let weak = Arc::downgrade(&drive);
    drive.set_host_listener(Box::new(move |e| {
        if e == spindle_mmc::HostEvent::TrayOpened
            && let Some(d) = weak.upgrade()
        {
            d.remove();
        }
    }));
    let mut rng = Rng(7);
    let mut buf = vec![0u8; 70_000];
    let mut t = &*drive;
    for _ in 0..6000 {
        match rng.next() % 16 {
            0 => drive.insert(discs[rng.next() as usize % discs.len()].clone()),
            1 => {
                drive.press_eject();
            }
            2 => {
                drive.remove();
            }
            3 => drive.close_tray(),
            4 if rng.next().is_multiple_of(8) => drive.reset(),
            _ => {}
        }
        let mut cdb = [0u8; 12];
        for b in cdb.iter_mut() {
            *b = rng.byte();
        }
        cdb[0] = OPCODES[rng.next() as usize % OPCODES.len()];
        // START STOP and PREVENT often, so the host events and the lock come into play.
        if rng.next().is_multiple_of(4) {
            cdb[..6].copy_from_slice(&[0x1B, 0, 0, 0, (rng.byte() & 3), 0]);
        } else if rng.next().is_multiple_of(6) {
            cdb[..6].copy_from_slice(&[0x1E, 0, 0, 0, (rng.byte() & 1), 0]);
        }
        if matches!(cdb[0], 0x28 | 0xA8 | 0xBE | 0xB9) {
            cdb[6] = 0;
            cdb[7] = 0;
        }
        let len = match cdb[0] >> 5 {
            0 => 6,
            5 => 12,
            _ => 10,
        };
        let out: Vec<u8> = (0..rng.byte() as usize).map(|_| rng.byte()).collect();
        let n = rng.next() as usize % buf.len();
        let data = if spindle_mmc::cdb::is_data_out(&cdb[..len]) {
            DataBuffer::Out(&out)
        } else {
            DataBuffer::In(&mut buf[..n])
        };
        let o = t
            .execute(&cdb[..len], data, Duration::from_secs(1))
            .unwrap();
        match o.status {
            status::GOOD => assert!(o.transferred <= n.max(out.len()), "{cdb:02x?}"),
            status::CHECK_CONDITION => assert!(Sense::parse(&o.sense).is_some(), "{cdb:02x?}"),
            s => panic!("status {s:#x} for {cdb:02x?}"),
        }
    }
    assert!(drive.commands() >= 6000);
}

#[test]
fn random_answers_never_panic_the_parsers() {
    let mut rng = Rng(99);
    for i in 0..60_000 {
        // Mostly short answers, some long enough for every structure; lengths fields at
        // both extremes.
        let n = if i % 10 == 0 {
            rng.next() as usize % 3000
        } else {
            rng.next() as usize % 64
        };
        let mut b: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
        if i % 3 == 0 && b.len() >= 4 {
            b[0] = 0xFF;
            b[1] = 0xFF;
        }
        let _ = spindle_mmc::sense::Sense::parse(&b);
        let _ = spindle_mmc::inquiry::InquiryData::parse(&b);
        let _ = spindle_mmc::inquiry::VpdPage::parse(&b);
        let _ = spindle_mmc::mode::ModeData::parse(&b, true, false);
        let _ = spindle_mmc::mode::ModeData::parse(&b, false, true);
        let _ = spindle_mmc::mode::Capabilities::parse(&b);
        let _ = spindle_mmc::config::Configuration::parse(&b);
        let _ = spindle_mmc::toc::Toc::parse(&b, true);
        let _ = spindle_mmc::toc::FullToc::parse(&b);
        let _ = spindle_mmc::toc::SessionInfo::parse(&b, false);
        let _ = spindle_mmc::toc::CdTextPacks::parse(&b);
        let _ = spindle_mmc::discinfo::DiscInformation::parse(&b);
        let _ = spindle_mmc::discinfo::TrackInformation::parse(&b);
        let _ = spindle_mmc::subq::SubChannel::parse(&b, true);
        let _ = spindle_mmc::events::EventStatus::parse(&b);
        let _ = spindle_mmc::events::Performance::parse(&b);
        let _ = spindle_mmc::structure::unwrap(&b);
        let _ = spindle_mmc::structure::PhysicalFormat::parse(&b);
    }
}
