//! `verify`: checks every stored raw sector's EDC/ECC and address, and hashes each track the
//! way redump datfiles list them (CRC32, MD5, SHA-1 and size of the track's BIN).
//!
//! CD tracks are hashed as the raw 2352-byte sectors a BIN/CUE conversion would store
//! ([`spindle_disc::cuesheet::bin_plan`]); DVD and BD tracks as their 2048-byte user data.

use crate::ImageError;
use md5::{Digest, Md5};
use sha1::Sha1;
use spindle_disc::cuesheet::bin_plan;
use spindle_disc::sector::{RawSector, SectorCheck, check_raw};
use spindle_disc::{Disc, ExtentData, Lba, SectorFormat, Track, TrackMode};

/// Most sector problems listed per track (the counts are complete).
pub const MAX_LISTED: usize = 20;

#[derive(Clone, Debug, serde::Serialize)]
pub struct SectorIssue {
    pub lba: i32,
    pub problem: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct TrackReport {
    pub number: u8,
    pub mode: String,
    /// Sectors hashed.
    pub sectors: u32,
    /// Bytes hashed.
    pub size: u64,
    pub crc32: String,
    pub md5: String,
    pub sha1: String,
    /// Stored sectors whose EDC/ECC could be checked.
    pub checked: u64,
    pub good: u64,
    /// Sectors with no EDC/ECC to check (zero-filled gaps, formless Mode 2, Form 2 without EDC).
    pub unprotected: u64,
    pub bad: u64,
    pub issues: Vec<SectorIssue>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct VerifyReport {
    pub tracks: Vec<TrackReport>,
}

impl VerifyReport {
    pub fn bad_sectors(&self) -> u64 {
        self.tracks.iter().map(|t| t.bad).sum()
    }
}

/// True for each sector of `track` from `first` whose stored bytes include EDC/ECC.
fn stored_with_edc(track: &Track, lba: Lba) -> bool {
    let mut at = track.start;
    for e in &track.extents {
        let end = at.offset(e.sectors as i64);
        if lba < end {
            return match &e.data {
                ExtentData::Stored(s) => s.main.edc_ecc && s.main.sync,
                ExtentData::Custom(c) => c.main_layout().edc_ecc && c.main_layout().sync,
                ExtentData::Zero => false,
            };
        }
        at = end;
    }
    false
}

/// Verifies a disc. `progress` gets (sectors done, sectors total).
pub fn verify(disc: &Disc, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport, ImageError> {
    let cd = disc.medium.is_cd();
    let plans = bin_plan(disc);
    let ranges: Vec<(&Track, Lba, Lba)> = disc
        .tracks()
        .zip(plans.iter())
        .map(|(t, p)| if cd { (t, p.first, p.end) } else { (t, t.index1(), t.end()) })
        .collect();
    let total: u64 = ranges.iter().map(|(_, a, b)| b.since(*a) as u64).sum();
    let mut done = 0u64;
    let mut reports = Vec::new();
    const CHUNK: u32 = 256;
    for (track, first, end) in ranges {
        let (format, ss) = if cd {
            (SectorFormat::RAW, 2352)
        } else {
            (SectorFormat::USER_2048, 2048)
        };
        let mut buf = vec![0u8; CHUNK as usize * ss];
        let (mut crc, mut md5, mut sha) = (crc32fast::Hasher::new(), Md5::new(), Sha1::new());
        let mut r = TrackReport {
            number: track.number,
            mode: track.mode.to_string(),
            sectors: end.since(first) as u32,
            size: 0,
            crc32: String::new(),
            md5: String::new(),
            sha1: String::new(),
            checked: 0,
            good: 0,
            unprotected: 0,
            bad: 0,
            issues: Vec::new(),
        };
        let mut lba = first;
        while lba < end {
            let n = (end.since(lba) as u32).min(CHUNK);
            let len = disc.read_sectors(lba, n, format, &mut buf)?;
            let bytes = &buf[..len];
            crc.update(bytes);
            md5.update(bytes);
            sha.update(bytes);
            r.size += len as u64;
            if cd && track.mode != TrackMode::Audio {
                for (i, raw) in bytes.chunks_exact(2352).enumerate() {
                    let at = lba.offset(i as i64);
                    if stored_with_edc(track, at) {
                        check_one(raw.try_into().unwrap(), at, &mut r);
                    }
                }
            }
            lba = lba.offset(n as i64);
            done += n as u64;
            progress(done, total);
        }
        r.crc32 = format!("{:08x}", crc.finalize());
        r.md5 = hex(&md5.finalize());
        r.sha1 = hex(&sha.finalize());
        reports.push(r);
    }
    Ok(VerifyReport { tracks: reports })
}

fn check_one(raw: &RawSector, lba: Lba, r: &mut TrackReport) {
    r.checked += 1;
    let mut problem = match check_raw(raw) {
        SectorCheck::Good => None,
        SectorCheck::Unprotected => {
            r.unprotected += 1;
            return;
        }
        SectorCheck::NoSync => Some("no sync pattern".to_string()),
        SectorCheck::WrongMode(m) => Some(format!("mode byte {m}")),
        SectorCheck::BadEdc => Some("EDC mismatch".to_string()),
        SectorCheck::BadEcc => Some("ECC mismatch".to_string()),
    };
    if problem.is_none() && raw[12..15] != lba.to_msf().to_bcd() {
        problem = Some(format!(
            "header address {:02x}:{:02x}:{:02x} (expected {})",
            raw[12],
            raw[13],
            raw[14],
            lba.to_msf()
        ));
    }
    match problem {
        None => r.good += 1,
        Some(p) => {
            r.bad += 1;
            if r.issues.len() < MAX_LISTED {
                r.issues.push(SectorIssue { lba: lba.0, problem: p });
            }
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
