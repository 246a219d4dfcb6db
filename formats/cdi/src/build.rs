//! From a parsed [`Descriptor`] to a [`Disc`].
//!
//! - **Addresses**: a track block's start counts from MSF 00:00:00, so the track (its pregap
//!   included) starts at LBA `start − 150`: track 1 has 0 (LBA −150), and the data track of
//!   a cditools audio/data image has 11702 with a 150-sector pregap, so index 1 is at 11702,
//!   where its ISO 9660 volume (`mkisofs -C 0,11702`) lives (Aaru `DiscJuggler/Read.cs`
//!   subtracts 150 the same way).
//! - **Lengths**: the block's total length counts every stored sector, pregap included;
//!   index 0's length is the pregap, later index lengths place indexes 2, 3...
//! - **Data**: track data starts at byte 0 and runs on from track to track: a track's
//!   offset is the sum of `total × (sector size + subchannel size)` of the tracks before it
//!   (libmirage, cdirip). Pregaps (track 1's too) are stored.

use crate::descriptor::{Descriptor, TrackBlock};
use crate::error::{CdiError, Result};
use spindle_disc::{
    ByteSource, Disc, Extent, Isrc, Lba, MAX_LBA, MIN_LBA, MainLayout, Mcn, Medium, Session,
    SourceInfo, Stored, SubLayout, Track, TrackFlags, TrackMode,
};
use std::path::Path;
use std::sync::Arc;

/// Medium type of a DVD image (libmirage); CDs have 0x98.
pub const MEDIUM_DVD: u16 = 0x38;

/// How a track's sectors are stored, from its mode and read mode.
pub fn layout(mode: u32, read_mode: u32) -> Result<(TrackMode, MainLayout, SubLayout), String> {
    let track_mode = match mode {
        0 => TrackMode::Audio,
        1 => TrackMode::Mode1,
        // libmirage reads Mode 2 tracks as mixed XA: DiscJuggler stores their subheaders.
        2 => TrackMode::Mode2Mixed,
        m => {
            return Err(format!(
                "track mode {m} is not known (0 audio, 1 Mode 1, 2 Mode 2)"
            ));
        }
    };
    let (main, sub) = match read_mode {
        0 => (MainLayout::USER, SubLayout::None),
        1 => (MainLayout::MODE2_2336, SubLayout::None),
        2 => (MainLayout::RAW, SubLayout::None),
        3 => (MainLayout::RAW, SubLayout::Q16),
        4 => (MainLayout::RAW, SubLayout::Pw96Interleaved),
        r => {
            return Err(format!(
                "read mode {r} is not known (0..4: 2048, 2336, 2352, 2352+16, 2352+96)"
            ));
        }
    };
    match (track_mode, read_mode) {
        (TrackMode::Audio, 0 | 1) => Err(format!(
            "an audio track stored with read mode {read_mode} ({} bytes a sector); audio is stored as 2352",
            if read_mode == 0 { 2048 } else { 2336 }
        )),
        (TrackMode::Mode1, 1) => {
            Err("a Mode 1 track stored with read mode 1 (2336 bytes, a Mode 2 size)".into())
        }
        // 2048-byte Mode 2 sectors: only the Form 1 user data is there (cditools info.txt §2).
        (TrackMode::Mode2Mixed, 0) => Ok((TrackMode::Mode2Form1, main, sub)),
        _ => Ok((track_mode, main, sub)),
    }
}

/// Builds the disc. `data_end` is where track data must end (the descriptor's offset).
pub fn build(
    d: &Descriptor,
    file: Arc<dyn ByteSource>,
    data_end: u64,
    path: &Path,
) -> Result<Disc> {
    let mut disc = Disc::new(
        Medium::CdRom,
        SourceInfo {
            format: "cdi".into(),
            variant: format!(
                "DiscJuggler {} ({:#010x})",
                d.version.name(),
                d.version.raw()
            ),
            path: path.to_path_buf(),
            files: vec![file.path().to_path_buf()],
        },
    );
    let mut offset = 0u64;
    let mut number = 0u8;
    for (si, sb) in d.sessions.iter().enumerate() {
        let mut session = Session {
            number: si as u8 + 1,
            tracks: Vec::with_capacity(sb.tracks.len()),
            leadout: Lba::ZERO,
        };
        for tb in &sb.tracks {
            number += 1;
            let track = build_track(tb, number, &file, &mut offset, data_end, path)?;
            session.tracks.push(track);
        }
        session.leadout = session.tracks.last().map(Track::end).unwrap_or(Lba::ZERO);
        disc.sessions.push(session);
    }
    if let Some(db) = &d.disc {
        disc.mcn = db
            .mcn
            .and_then(|m| std::str::from_utf8(&m).ok().and_then(Mcn::parse));
        if !db.cdtext.is_empty() {
            disc.cdtext = spindle_disc::CdText::from_packs(&db.cdtext, false).ok();
        }
    }
    disc.validate().map_err(|source| CdiError::Disc {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(disc)
}

fn build_track(
    tb: &TrackBlock,
    number: u8,
    file: &Arc<dyn ByteSource>,
    offset: &mut u64,
    data_end: u64,
    path: &Path,
) -> Result<Track> {
    let bad = |m: String| CdiError::Corrupt {
        path: path.to_path_buf(),
        message: format!("track {number} (descriptor at {:#x}): {m}", tb.offset),
    };
    if tb.medium == Some(MEDIUM_DVD) {
        return Err(CdiError::Unsupported {
            path: path.to_path_buf(),
            message: format!(
                "track {number}: DiscJuggler DVD images (medium type 0x38) are not read"
            ),
        });
    }
    let (mode, main, sub) = layout(tb.mode, tb.read_mode).map_err(&bad)?;
    let total = tb.total;
    if total == 0 {
        return Err(bad("its total length is 0 sectors".into()));
    }
    let start = tb.start as i64 - 150;
    if start < MIN_LBA.0 as i64 || start + total as i64 > MAX_LBA.0 as i64 {
        return Err(bad(format!(
            "start {} with {total} sectors lies outside any disc",
            tb.start
        )));
    }
    let pregap = tb.index_lengths.first().copied().unwrap_or(0);
    if pregap >= total {
        return Err(bad(format!(
            "pregap of {pregap} sectors leaves nothing of its {total} sectors"
        )));
    }
    // Index lengths → positions of indexes 2, 3...; the last index runs to the end.
    let mut extra_indexes = Vec::new();
    let mut at = pregap as u64;
    for (i, &len) in tb.index_lengths.iter().enumerate().skip(1) {
        if i + 1 == tb.index_lengths.len() {
            break;
        }
        at += len as u64;
        if at >= total as u64 {
            return Err(bad(format!(
                "index {} lies at sector {at} of a {total}-sector track",
                i + 1
            )));
        }
        extra_indexes.push(Lba((start + at as i64) as i32));
    }
    let stride = (main.size(mode) + sub.size()) as u64;
    let bytes = stride * total as u64;
    let end = offset.checked_add(bytes).filter(|&e| e <= data_end).ok_or_else(|| {
        bad(format!(
            "its {total} sectors of {stride} bytes at offset {:#x} run past the track data (which ends at {data_end:#x}, where the descriptor starts)",
            *offset
        ))
    })?;
    let stored = Stored {
        file: file.clone(),
        offset: *offset,
        main,
        sub,
        scrambled: false,
        sub_stream: None,
    };
    *offset = end;
    Ok(Track {
        number,
        mode,
        flags: TrackFlags::from_control(tb.control as u8 & 0x0F),
        isrc: tb
            .isrc
            .and_then(|i| std::str::from_utf8(&i).ok().and_then(Isrc::parse)),
        start: Lba(start as i32),
        pregap,
        extra_indexes,
        length: total,
        postgap: 0,
        extents: vec![Extent::stored(total, stored)],
    })
}
