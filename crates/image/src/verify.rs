//! `verify`: is the image whole, and are its sectors what they claim?
//!
//! * Missing data: what the image's structures declare against what it holds
//!   ([`crate::completeness`]).
//! * Every stored data sector with EDC/ECC (raw 2352, and the 2336-byte Mode 2 sectors of
//!   CDI and friends, whose subheader, data and EDC/ECC are stored) is checked, with its
//!   header address where the image stored one.
//! * The hashes of the image files as stored (CRC32, MD5, SHA-1, SHA-256): what `md5sum`
//!   and friends print for them.
//! * The redump-style hashes of each track file ([`spindle_disc::track_files`], the
//!   definition a rip's hash log uses too): raw 2352-byte sectors of a CD from each track's
//!   pregap (track 1 from LBA 0), the 2048-byte user data of a DVD or BD, or of a CD image
//!   that stores only user data (whose raw sectors would be made up).

use crate::ImageError;
use crate::completeness::{MissingData, missing_data};
use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::Sha256;
use spindle_disc::sector::{RawSector, SectorCheck, check_raw};
use spindle_disc::{
    Disc, ExtentData, Lba, Track, TrackMode, raw_track_files, read_track_files, track_files,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Most sector problems listed per track (the counts are complete).
pub const MAX_LISTED: usize = 20;

/// One data sector that failed its checks.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SectorIssue {
    /// The sector's logical block address.
    pub lba: i32,
    /// What is wrong (`EDC mismatch`, `no sync pattern`, a wrong header address...).
    pub problem: String,
}

/// The hashes and sector checks of one track file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TrackReport {
    /// The track number (1 to 99).
    pub number: u8,
    /// The track's mode as it prints (`Audio`, `Mode 1`...).
    pub mode: String,
    /// Sectors in the track file.
    pub sectors: u32,
    /// Bytes hashed.
    pub size: u64,
    /// CRC-32 of the bytes hashed, 8 lower-case hex digits.
    pub crc32: String,
    /// MD5 of the bytes hashed, lower-case hex.
    pub md5: String,
    /// SHA-1 of the bytes hashed, lower-case hex.
    pub sha1: String,
    /// Stored sectors whose EDC/ECC could be checked.
    pub checked: u64,
    /// Sectors whose sync, mode, EDC, ECC and (where stored) header address are right.
    pub good: u64,
    /// Sectors with no EDC/ECC to check (zero-filled gaps, formless Mode 2, Form 2 without EDC).
    pub unprotected: u64,
    /// Sectors that failed a check.
    pub bad: u64,
    /// The first failing sectors, at most 20 (the counts above are complete).
    pub issues: Vec<SectorIssue>,
}

/// The digests of one image file as it is stored.
#[derive(Clone, Debug, serde::Serialize, PartialEq, Eq)]
pub struct FileHashes {
    /// The file.
    pub path: PathBuf,
    /// Its length in bytes.
    pub size: u64,
    /// CRC-32, 8 lower-case hex digits.
    pub crc32: String,
    /// MD5, lower-case hex.
    pub md5: String,
    /// SHA-1, lower-case hex.
    pub sha1: String,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// What [`verify`] found: missing data, bad sectors, read errors and the hashes.
#[derive(Clone, Debug, serde::Serialize)]
pub struct VerifyReport {
    /// The image the user named.
    pub image: PathBuf,
    /// `OK` or `FAILED`.
    pub result: &'static str,
    /// Problems found: missing data, sectors failing their checks, read errors.
    pub problem_count: u64,
    /// Data the image's structures declare but it does not hold.
    pub missing: Vec<MissingData>,
    /// Reads that failed (the track hashes stop there).
    pub read_errors: Vec<String>,
    /// The image files as stored.
    pub files: Vec<FileHashes>,
    /// What the track hashes are of.
    pub track_form: &'static str,
    /// True when the track hashes are of raw 2352-byte sectors (BIN files), false for
    /// 2048-byte user data (ISO files).
    pub raw: bool,
    /// Redump-style per-track-file hashes and EDC/ECC counts.
    pub tracks: Vec<TrackReport>,
}

impl VerifyReport {
    /// Sectors that failed their checks, over all tracks.
    pub fn bad_sectors(&self) -> u64 {
        self.tracks.iter().map(|t| t.bad).sum()
    }
    /// True when no problem was found.
    pub fn ok(&self) -> bool {
        self.problem_count == 0
    }
}

/// True when the stored bytes of the sector at `lba` of `track` include its EDC/ECC (raw
/// sectors, or 2336-byte Mode 2 sectors with subheader and tail).
fn stored_with_edc(track: &Track, lba: Lba) -> bool {
    let mut at = track.start;
    for e in &track.extents {
        let end = at.offset(e.sectors as i64);
        if lba < end {
            let l = match &e.data {
                ExtentData::Stored(s) => s.main,
                ExtentData::Custom(c) => c.main_layout(),
                ExtentData::Zero => return false,
            };
            return l.edc_ecc
                && l.user
                && (l.sync || l.subheader || track.mode == TrackMode::Mode1);
        }
        at = end;
    }
    false
}

/// True when the sector at `lba` has its header stored (so its address can be checked).
fn stored_header(track: &Track, lba: Lba) -> bool {
    let mut at = track.start;
    for e in &track.extents {
        let end = at.offset(e.sectors as i64);
        if lba < end {
            return match &e.data {
                ExtentData::Stored(s) => s.main.header,
                ExtentData::Custom(c) => c.main_layout().header,
                ExtentData::Zero => false,
            };
        }
        at = end;
    }
    false
}

/// Verifies a disc, naming it by the file it is stored in ([`stored_image`]). `progress`
/// gets (units done, units total): sectors read, and the image files' bytes hashed in
/// 2048-byte units. Read errors of the track files are in the report; fails with
/// [`ImageError::Io`] only when an image file cannot be hashed.
pub fn verify(disc: &Disc, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport, ImageError> {
    verify_image(&Arc::new(disc.clone()), &stored_image(disc).0, progress)
}

/// [`verify`] naming the image as the user gave it (a container's path, not the file inside).
pub fn verify_image(
    disc: &Arc<Disc>,
    image: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, ImageError> {
    let cd = raw_track_files(disc);
    let files = track_files(disc);
    let stored: Vec<PathBuf> = stored_files(disc, image);
    let file_units: u64 = stored
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .map(|m| m.len().div_ceil(2048))
                .unwrap_or(0)
        })
        .sum();
    let total: u64 = files.iter().map(|f| f.sectors() as u64).sum::<u64>() + file_units;
    let mut done = 0u64;

    let missing = missing_data(disc);
    let tracks: Vec<&Track> = disc.tracks().collect();
    let mut hashers: Vec<(crc32fast::Hasher, Md5, Sha1)> =
        files.iter().map(|_| Default::default()).collect();
    let mut reports: Vec<TrackReport> = files
        .iter()
        .zip(&tracks)
        .map(|(f, t)| TrackReport {
            number: f.track,
            mode: t.mode.to_string(),
            sectors: f.sectors(),
            size: 0,
            crc32: String::new(),
            md5: String::new(),
            sha1: String::new(),
            checked: 0,
            good: 0,
            unprotected: 0,
            bad: 0,
            issues: Vec::new(),
        })
        .collect();
    let mut read_errors = Vec::new();
    let mut reached = 0usize;
    let result = read_track_files(disc, cd, &mut |i, first, bytes| {
        reached = i;
        let (crc, md5, sha) = &mut hashers[i];
        crc.update(bytes);
        md5.update(bytes);
        sha.update(bytes);
        let r = &mut reports[i];
        r.size += bytes.len() as u64;
        let track = tracks[i];
        if cd && track.mode != TrackMode::Audio {
            for (k, raw) in bytes.chunks_exact(2352).enumerate() {
                let at = first.offset(k as i64);
                if stored_with_edc(track, at) {
                    check_one(
                        raw.try_into().expect("2352-byte chunk"),
                        at,
                        stored_header(track, at),
                        r,
                    );
                }
            }
        }
        done += (bytes.len() / if cd { 2352 } else { 2048 }) as u64;
        progress(done, total);
    });
    if let Err(e) = result {
        read_errors.push(format!("track {}: {e}", files[reached].track));
        // The hashes of that track and those after it would be of part of the data.
        reports.truncate(reached);
        hashers.truncate(reached);
    }
    for (r, (crc, md5, sha)) in reports.iter_mut().zip(hashers) {
        r.crc32 = format!("{:08x}", crc.finalize());
        r.md5 = hex(&md5.finalize());
        r.sha1 = hex(&sha.finalize());
    }

    let mut file_hashes = Vec::new();
    for p in stored {
        let h = hash_file(&p, &mut |n| {
            done += n;
            progress(done, total);
        })
        .map_err(|source| ImageError::Io {
            path: p.clone(),
            source,
        })?;
        file_hashes.push(h);
    }
    let problem_count = missing.len() as u64
        + read_errors.len() as u64
        + reports.iter().map(|t| t.bad).sum::<u64>();
    Ok(VerifyReport {
        image: image.to_path_buf(),
        result: if problem_count == 0 { "OK" } else { "FAILED" },
        problem_count,
        missing,
        read_errors,
        files: file_hashes,
        track_form: if cd {
            "raw 2352-byte sectors of each track from its pregap (track 1 from LBA 0), as redump lists them"
        } else if disc.medium.is_cd() {
            "2048-byte user data of each track: the image stores no raw sectors to hash"
        } else {
            "2048-byte user data of each track, as redump lists them"
        },
        raw: cd,
        tracks: reports,
    })
}

/// The files the image is made of as they lie on disk: the one the user named (a CUE or MDS
/// descriptor, an ISO, a compressed container) and every file sectors are read from.
fn stored_files(disc: &Disc, image: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let same = |a: &Path, b: &Path| {
        a == b
            || std::fs::canonicalize(a)
                .ok()
                .is_some_and(|c| std::fs::canonicalize(b).ok() == Some(c))
    };
    for f in std::iter::once(image).chain(disc.source.files.iter().map(PathBuf::as_path)) {
        if f.is_file() && !out.iter().any(|o| same(o, f)) {
            out.push(f.to_path_buf());
        }
    }
    out
}

/// The image file as it is on disk, and its compression container: `game.iso.xz` and `xz`
/// for a disc read from the `game.iso` inside it; else the image's own path and `None`.
pub fn stored_image(disc: &Disc) -> (PathBuf, Option<&'static str>) {
    let inner = &disc.source.path;
    disc.source
        .files
        .iter()
        .find_map(|f| {
            let kind = spindle_container::kind_by_name(f)?;
            (f != inner && &spindle_container::inner_path(f) == inner)
                .then(|| (f.clone(), Some(kind.name())))
        })
        .unwrap_or_else(|| (inner.clone(), None))
}

/// CRC32, MD5, SHA-1 and SHA-256 of a file; `step` gets each 2048-byte units hashed.
pub fn hash_file(path: &Path, step: &mut dyn FnMut(u64)) -> std::io::Result<FileHashes> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let (mut crc, mut md5, mut sha1, mut sha256) = (
        crc32fast::Hasher::new(),
        Md5::new(),
        Sha1::new(),
        Sha256::new(),
    );
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let b = &buf[..n];
        crc.update(b);
        md5.update(b);
        sha1.update(b);
        sha256.update(b);
        size += n as u64;
        step((n as u64).div_ceil(2048));
    }
    Ok(FileHashes {
        path: path.to_path_buf(),
        size,
        crc32: format!("{:08x}", crc.finalize()),
        md5: hex(&md5.finalize()),
        sha1: hex(&sha1.finalize()),
        sha256: hex(&sha256.finalize()),
    })
}

fn check_one(raw: &RawSector, lba: Lba, header_stored: bool, r: &mut TrackReport) {
    r.checked += 1;
    let mut problem = match check_raw(raw) {
        SectorCheck::Good => None,
        SectorCheck::Unprotected => {
            r.unprotected += 1;
            return;
        }
        SectorCheck::NoSync => Some("no sync pattern".to_string()),
        SectorCheck::WrongMode(m) => Some(format!("mode byte {m}")),
        // A Form 1 or Mode 1 sector whose EDC and ECC are zeros: written from user data
        // only (a 2336-byte CDI track often is), not damaged after the fact.
        SectorCheck::BadEdc if edc_tail_zero(raw) => {
            Some("EDC/ECC not stored (zeros where they belong)".to_string())
        }
        SectorCheck::BadEdc => Some("EDC mismatch".to_string()),
        SectorCheck::BadEcc => Some("ECC mismatch".to_string()),
    };
    if problem.is_none() && header_stored && raw[12..15] != lba.to_msf().to_bcd() {
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
                r.issues.push(SectorIssue {
                    lba: lba.0,
                    problem: p,
                });
            }
        }
    }
}

/// True when the EDC and ECC of a Mode 1 or Mode 2 Form 1 sector are all zeros.
fn edc_tail_zero(raw: &RawSector) -> bool {
    let at = if raw[15] == 1 { 0x810 } else { 0x818 };
    raw[at..].iter().all(|&b| b == 0)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
