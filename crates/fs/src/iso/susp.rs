//! System Use Sharing Protocol (SUSP 1.12): the entries in a directory record's system use
//! area and in continuation areas.
//!
//! [`parse_susp`] is a pure function over arbitrary bytes (fuzzable); following `CE`
//! continuation areas needs the device and lives in [`collect_entries`], which bounds the
//! number of areas and bytes so a `CE` loop (libarchive `test_read_format_iso_rockridge_ce_loop`)
//! ends with an error instead of a hang.

use crate::api::{FsError, Result};
use crate::iso::record::le32;
use spindle_bytes::ByteSource;
use std::collections::HashSet;

/// One SUSP entry: two signature bytes, a version and its data (after the 4-byte header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuspEntry {
    /// The two signature bytes (`SP`, `CE`, `PX`, `NM`...).
    pub sig: [u8; 2],
    /// The entry's version byte.
    pub version: u8,
    /// The entry's bytes after its 4-byte header.
    pub data: Vec<u8>,
}

/// A `CE` entry: where the continuation area is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Continuation {
    /// Logical block of the continuation area.
    pub block: u32,
    /// Byte offset of the area in that block.
    pub offset: u32,
    /// Length of the area in bytes.
    pub len: u32,
}

/// Splits a system use area into entries. Stops at `ST`, at a length below 4, at a length
/// running past the area, or at padding (a zero byte where a signature should be).
/// Returns the entries and the last `CE` seen.
pub fn parse_susp(bytes: &[u8]) -> (Vec<SuspEntry>, Option<Continuation>) {
    let mut out = Vec::new();
    let ce = visit_susp(bytes, &mut |sig, version, data| {
        out.push(SuspEntry {
            sig,
            version,
            data: data.to_vec(),
        })
    });
    (out, ce)
}

/// What [`visit_susp`] and [`visit_entries`] call with each entry: (signature, version, data).
pub type EntryVisitor<'f> = dyn FnMut([u8; 2], u8, &[u8]) + 'f;

/// [`parse_susp`] without copying: calls `f` with (signature, version, data) of each entry;
/// returns the last `CE` seen.
pub fn visit_susp(bytes: &[u8], f: &mut EntryVisitor<'_>) -> Option<Continuation> {
    let mut ce = None;
    let mut pos = 0usize;
    while pos + 4 <= bytes.len() {
        let sig = [bytes[pos], bytes[pos + 1]];
        let mut len = bytes[pos + 2] as usize;
        if sig[0] == 0 || len < 4 || pos + len > bytes.len() {
            break;
        }
        if &sig == b"SL" {
            len = sl_length(&bytes[pos..], len);
        }
        let data = &bytes[pos + 4..pos + len];
        if &sig == b"ST" {
            break;
        }
        if &sig == b"CE" && data.len() >= 24 {
            ce = Some(Continuation {
                block: le32(&data[0..4]),
                offset: le32(&data[8..12]),
                len: le32(&data[16..20]),
            });
        }
        f(sig, bytes[pos + 3], data);
        pos += len;
    }
    ce
}

/// The true length of an `SL` entry starting at `e[0]` whose length byte says `claimed`.
///
/// Quirk: genisoimage 1.1.11 (cdrkit) writes `SL` entries longer than 255 bytes (a long
/// symlink target component) with the length byte wrapped modulo 256; xorriso reads them whole.
/// When the components do not end exactly at `claimed`, the entry is taken to end where they
/// do end at `claimed + 256·k` within the area; otherwise the claimed length stands.
fn sl_length(e: &[u8], claimed: usize) -> usize {
    let mut p = 5; // header + flags
    loop {
        if p >= claimed && (p - claimed) & 0xFF == 0 {
            return p;
        }
        if p + 2 > e.len() {
            return claimed;
        }
        p += 2 + e[p + 1] as usize;
        if p > e.len() {
            return claimed;
        }
    }
}

/// Most continuation areas one record may chain (xorriso writes a handful for long names and
/// symlinks; 64 leaves room for real ones).
pub const MAX_CE_AREAS: usize = 64;
/// Most continuation bytes one record may chain.
pub const MAX_CE_BYTES: u64 = 256 << 10;
/// Continuation bytes one directory listing may read in all.
pub const MAX_LISTING_CE_BYTES: u64 = 256 << 20;

/// Entries of a system use area (from `skip` on, the `SP` skip length) with every continuation
/// area followed, bounded by [`MAX_CE_AREAS`] and [`MAX_CE_BYTES`], each area visited once.
/// Continuation bytes read are also taken from `budget` (shared by all records of one
/// directory listing, so a hostile directory of many records cannot make it read without end).
pub fn collect_entries(
    dev: &dyn ByteSource,
    system_use: &[u8],
    skip: usize,
    budget: &mut u64,
) -> Result<Vec<SuspEntry>> {
    let mut entries = Vec::new();
    visit_entries(dev, system_use, skip, budget, &mut |sig, version, data| {
        entries.push(SuspEntry {
            sig,
            version,
            data: data.to_vec(),
        })
    })?;
    Ok(entries)
}

/// [`collect_entries`] without copying: calls `f` with (signature, version, data) of each
/// entry, continuation areas in order, with the same bounds.
pub fn visit_entries(
    dev: &dyn ByteSource,
    system_use: &[u8],
    skip: usize,
    budget: &mut u64,
    f: &mut EntryVisitor<'_>,
) -> Result<()> {
    let area = system_use.get(skip..).unwrap_or(&[]);
    let mut next = visit_susp(area, f);
    if next.is_none() {
        return Ok(());
    }
    let mut seen = HashSet::new();
    let mut total = 0u64;
    let mut buf = Vec::new();
    while let Some(ce) = next.take() {
        if !seen.insert(ce) || seen.len() > MAX_CE_AREAS {
            return Err(FsError::Corrupt {
                fs: "rockridge",
                what: format!(
                    "SUSP continuation areas loop (block {}, offset {}) or chain more than {MAX_CE_AREAS}",
                    ce.block, ce.offset
                ),
            });
        }
        total += ce.len as u64;
        if ce.len as u64 > *budget {
            return Err(FsError::Corrupt {
                fs: "rockridge",
                what: "SUSP continuation areas of one directory exceed their byte budget".into(),
            });
        }
        *budget -= ce.len as u64;
        if total > MAX_CE_BYTES {
            return Err(FsError::Corrupt {
                fs: "rockridge",
                what: format!("SUSP continuation areas exceed {MAX_CE_BYTES} bytes"),
            });
        }
        let start = ce.block as u64 * 2048 + ce.offset as u64;
        if start + ce.len as u64 > dev.len() {
            return Err(FsError::Corrupt {
                fs: "rockridge",
                what: format!(
                    "SUSP continuation area at block {} offset {} ({} bytes) lies past the end of the device",
                    ce.block, ce.offset, ce.len
                ),
            });
        }
        buf.clear();
        buf.resize(ce.len as usize, 0);
        dev.read_exact_at(&mut buf, start)?;
        next = visit_susp(&buf, f);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_stops() {
        let mut b = b"PX\x05\x01\x00NM\x06\x01\x00A".to_vec();
        b.extend_from_slice(b"ST\x04\x01XX\x04\x01");
        let (e, ce) = parse_susp(&b);
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].data, b"\x00A");
        assert!(ce.is_none());
        assert!(parse_susp(b"PX\xff\x01").0.is_empty());
        assert!(parse_susp(b"PX\x02\x01").0.is_empty());
    }

    #[test]
    fn wrapped_sl_length() {
        // One 300-byte component: the entry is 307 bytes, its length byte says 51.
        let mut b = b"SL\x33\x01\x00\x00\xfa".to_vec();
        b.extend(std::iter::repeat_n(b'y', 250));
        b.extend_from_slice(b"\x00\x30");
        b.extend(std::iter::repeat_n(b'z', 48));
        b.extend_from_slice(b"PX\x04\x01");
        let (e, _) = parse_susp(&b);
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(e[0].data.len(), 303);
        assert_eq!(&e[1].sig, b"PX");
    }

    #[test]
    fn ce_loop_is_an_error() {
        // An area at block 0 whose CE points at itself.
        let mut dev = vec![0u8; 4096];
        let mut ce = b"CE\x1c\x01".to_vec();
        for v in [0u32, 0, 0, 0, 28, 28] {
            ce.extend_from_slice(&v.to_le_bytes());
        }
        ce.truncate(28);
        dev[..28].copy_from_slice(&ce);
        let err = collect_entries(
            &spindle_bytes::MemSource::new(dev, "ce.iso"),
            &ce,
            0,
            &mut { MAX_LISTING_CE_BYTES },
        )
        .unwrap_err();
        assert!(err.to_string().contains("loop"), "{err}");
    }
}
