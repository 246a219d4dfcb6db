//! The emulated drive's sector reads: READ(10/12) of 2048-byte user data and READ CD of any
//! field selection, with injected faults.

use super::faults::FaultHandle;
use crate::cdb::ReadCd;
use crate::readcd::{ReadCdFields, SectorKind, SubSelect, write_c2};
use crate::sense::{Asc, Sense, SenseKey};
use spindle_disc::{Disc, DiscError, Lba, MainFormat, SectorFormat, SubFormat, TrackMode};
use std::time::Duration;

/// Sectors fetched from the disc model at a time.
const RUN: u32 = 64;

/// A failed read: the sense, and the bytes already in the host's buffer.
pub(super) type ReadResult = Result<usize, (Sense, usize)>;

fn out_of_range(lba: i64) -> Sense {
    Sense::new(SenseKey::IllegalRequest, Asc::LBA_OUT_OF_RANGE).with_information(lba as u32)
}

fn medium_error(lba: i32) -> Sense {
    Sense::new(SenseKey::MediumError, Asc::UNRECOVERED_READ_ERROR).with_information(lba as u32)
}

fn illegal_mode(lba: i32) -> Sense {
    Sense::new(SenseKey::IllegalRequest, Asc::ILLEGAL_MODE_FOR_TRACK).with_information(lba as u32)
}

fn model_error(e: DiscError, lba: i32) -> Sense {
    match e {
        DiscError::OutOfRange { lba } => out_of_range(lba.0 as i64),
        DiscError::NotData { .. } | DiscError::BadSector { .. } => illegal_mode(lba),
        // The image could not be read: to the host, the disc has a bad spot.
        _ => medium_error(lba),
    }
}

/// The first sector of `lba..lba+n` that fails now (flaky sectors count down).
fn first_failure(faults: &FaultHandle, lba: i32, n: u32) -> Option<i32> {
    let mut f = faults.lock();
    (lba..lba + n as i32).find(|&l| f.read_fails(l))
}

fn pause(faults: &FaultHandle, sectors: u32) {
    let d = faults.lock().sector_delay;
    if !d.is_zero() {
        std::thread::sleep(d.saturating_mul(sectors));
    }
}

/// The run of sectors from `at` that lies in one track: (track mode, run length).
fn run_at(disc: &Disc, at: i32, left: u32) -> Result<(TrackMode, u32), Sense> {
    let (_, t) = disc
        .locate(Lba(at))
        .ok_or_else(|| out_of_range(at as i64))?;
    let n = (t.end().since(Lba(at)) as u32).min(left).min(RUN);
    Ok((t.mode, n))
}

/// READ(10) / READ(12): `blocks` 2048-byte blocks from `lba`.
pub(super) fn read_user(
    disc: &Disc,
    faults: &FaultHandle,
    lba: u32,
    blocks: u32,
    buf: &mut [u8],
) -> ReadResult {
    let end = lba as i64 + blocks as i64;
    if end > disc.leadout().0 as i64 {
        return Err((out_of_range(lba as i64), 0));
    }
    let blocks = blocks.min((buf.len() / 2048) as u32);
    let mut done = 0u32;
    // Only Mode 2 mixed tracks need a raw staging buffer; Mode 1 and DVD/BD user data is read
    // straight into the host's buffer (no allocation on the fast path).
    let mut raw: Vec<u8> = Vec::new();
    while done < blocks {
        let at = lba as i32 + done as i32;
        let written = done as usize * 2048;
        let (mode, mut n) = run_at(disc, at, blocks - done).map_err(|s| (s, written))?;
        let bad = first_failure(faults, at, n);
        if let Some(b) = bad {
            n = (b - at) as u32;
        }
        pause(faults, n);
        let out = &mut buf[written..written + n as usize * 2048];
        match mode {
            TrackMode::Mode1 | TrackMode::Mode2Form1 => {
                disc.read_sectors(Lba(at), n, SectorFormat::USER_2048, out)
                    .map_err(|e| (model_error(e, at), written))?;
            }
            TrackMode::Mode2Mixed => {
                if raw.is_empty() {
                    raw = vec![0u8; RUN as usize * 2352];
                }
                let raw = &mut raw[..n as usize * 2352];
                disc.read_sectors(Lba(at), n, SectorFormat::RAW, raw)
                    .map_err(|e| (model_error(e, at), written))?;
                for (i, (r, o)) in raw
                    .chunks_exact(2352)
                    .zip(out.chunks_exact_mut(2048))
                    .enumerate()
                {
                    if SectorKind::of(mode, r) != SectorKind::Mode2Form1 {
                        return Err((illegal_mode(at + i as i32), written + i * 2048));
                    }
                    o.copy_from_slice(&r[24..24 + 2048]);
                }
            }
            _ if disc.medium.is_cd() => return Err((illegal_mode(at), written)),
            _ => {
                disc.read_sectors(Lba(at), n, SectorFormat::USER_2048, out)
                    .map_err(|e| (model_error(e, at), written))?;
            }
        }
        done += n;
        if let Some(b) = bad {
            return Err((medium_error(b), done as usize * 2048));
        }
    }
    Ok(done as usize * 2048)
}

/// Damages the bytes at `offsets` of a raw frame (what a CIRC failure leaves).
fn damage(raw: &mut [u8], offsets: &[u16]) {
    for &o in offsets {
        if let Some(b) = raw.get_mut(o as usize) {
            *b ^= 0x5A;
        }
    }
}

fn is_full_raw(f: &ReadCdFields) -> bool {
    f.sync && f.edc_ecc && f.user_data
}

/// READ CD.
pub(super) fn read_cd(
    disc: &Disc,
    faults: &FaultHandle,
    cmd: &ReadCd,
    buf: &mut [u8],
) -> ReadResult {
    if !disc.medium.is_cd() {
        return Err((
            Sense::new(SenseKey::IllegalRequest, Asc::INCOMPATIBLE_FORMAT),
            0,
        ));
    }
    let first = disc.tracks().next().map(|t| t.start.0).unwrap_or(0);
    let end = cmd.lba as i64 + cmd.blocks as i64;
    if (cmd.lba as i64) < first as i64 || end > disc.leadout().0 as i64 {
        return Err((out_of_range(cmd.lba as i64), 0));
    }
    let f = cmd.fields;
    if f.sub != SubSelect::None && faults.lock().no_subchannel {
        return Err((Sense::invalid_cdb_field(10, None), 0));
    }
    let sub = match f.sub {
        SubSelect::None => SubFormat::None,
        SubSelect::Q => SubFormat::Q16,
        SubSelect::RawPw | SubSelect::Rw => SubFormat::Pw96,
    };
    let stride = 2352 + sub.size();
    let mut scratch = vec![0u8; RUN as usize * stride];
    let mut written = 0usize;
    let mut done = 0u32;
    while done < cmd.blocks {
        let at = cmd.lba + done as i32;
        let (mode, n) = run_at(disc, at, cmd.blocks - done).map_err(|s| (s, written))?;
        pause(faults, n);
        let chunk = &mut scratch[..n as usize * stride];
        disc.read_sectors(
            Lba(at),
            n,
            SectorFormat {
                main: MainFormat::Raw,
                sub,
            },
            chunk,
        )
        .map_err(|e| (model_error(e, at), written))?;
        for (i, sector) in chunk.chunks_exact_mut(stride).enumerate() {
            let lba = at + i as i32;
            let (raw, subch) = sector.split_at_mut(2352);
            let kind = SectorKind::of(mode, raw);
            if !cmd.sector_type.accepts(kind) {
                return Err((illegal_mode(lba), written));
            }
            let size = f.size(kind);
            if written + size > buf.len() {
                return Ok(written);
            }
            if first_failure(faults, lba, 1).is_some() {
                return Err((medium_error(lba), written));
            }
            let offset = faults.lock().read_offset;
            if offset != 0 && kind == SectorKind::Audio {
                shifted_audio(disc, lba, offset, raw);
            }
            let c2 = faults.lock().c2.get(&lba).cloned().unwrap_or_default();
            if !c2.is_empty() && (kind == SectorKind::Audio || is_full_raw(&f)) {
                damage(raw, &c2);
            }
            let out = &mut buf[written..written + size];
            let mut n = f.extract_main(raw, kind, out);
            write_c2(f.c2, &c2, &mut out[n..]);
            n += f.c2.size();
            match f.sub {
                SubSelect::None => {}
                SubSelect::RawPw | SubSelect::Q => out[n..n + subch.len()].copy_from_slice(subch),
                SubSelect::Rw => {
                    for (o, s) in out[n..n + 96].iter_mut().zip(subch.iter()) {
                        *o = s & 0x3F;
                    }
                }
            }
            written += size;
        }
        done += n;
    }
    Ok(written)
}

/// The 2352 bytes an audio read of `lba` returns on a drive with a read offset of `samples`:
/// the disc's sample stream from `lba * 2352 - samples * 4`, zeros outside the disc.
fn shifted_audio(disc: &Disc, lba: i32, samples: i32, out: &mut [u8]) {
    let start = lba as i64 * 2352 - samples as i64 * 4;
    let first = start.div_euclid(2352);
    let within = start.rem_euclid(2352) as usize;
    let mut two = [0u8; 2 * 2352];
    for (k, half) in two.chunks_exact_mut(2352).enumerate() {
        let s = first + k as i64;
        if disc
            .read_sectors(Lba(s as i32), 1, SectorFormat::RAW, half)
            .is_err()
        {
            half.fill(0);
        }
    }
    out[..2352].copy_from_slice(&two[within..within + 2352]);
}

/// Sleeps in small steps until `until` passes or `clear` says the hang is over; true when
/// the command may complete.
pub(super) fn wait_hang(timeout: Duration, mut hanging: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while hanging() {
        if start.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5).min(timeout));
    }
    true
}
