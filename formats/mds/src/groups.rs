//! MDS v2/MDX compressed track data (formats.md §1.7): sectors are stored in groups of
//! `G` sectors, back to back; a zlib-compressed table gives one u16 per group:
//! `0` = stored as is (`G × S` bytes), `0x8000 | v` = every byte is `v` (nothing stored),
//! otherwise the byte size of a raw deflate stream that inflates to the group.
//!
//! [`GroupTable::parse`] and [`inflate_group`] are pure functions over bytes, so that they can
//! be fuzzed on their own; the fragment reader ([`crate::fragment`]) uses them.

use flate2::read::{DeflateDecoder, ZlibDecoder};
use std::io::Read;

/// Largest group accepted, in bytes (DAEMON Tools uses 16 sectors: 32–40 KiB).
pub const MAX_GROUP_BYTES: u64 = 64 << 20;

/// Most groups one table may have: a 64 MiB table, far more than a Blu-ray in groups of 16
/// sectors needs (4 M), so that a hostile count cannot make the table inflate without end.
pub const MAX_GROUPS: u64 = 1 << 25;

/// How one group is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Stored uncompressed.
    Raw,
    /// Every byte of the group is this value; nothing is stored.
    Fill(u8),
    /// A raw deflate stream of this many bytes.
    Deflate(u16),
}

impl Group {
    /// The group a table entry describes (0: raw; top bit set: a fill byte; else a deflate
    /// length).
    pub fn from_entry(e: u16) -> Group {
        if e == 0 {
            Group::Raw
        } else if e & 0x8000 != 0 {
            Group::Fill(e as u8)
        } else {
            Group::Deflate(e)
        }
    }
    /// The table entry for this group.
    pub fn entry(self) -> u16 {
        match self {
            Group::Raw => 0,
            Group::Fill(v) => 0x8000 | v as u16,
            Group::Deflate(n) => n,
        }
    }
}

/// The decoded table: each group's kind and where its bytes start (from the track's start offset).
#[derive(Clone, Debug)]
pub struct GroupTable {
    /// Sectors per group.
    pub group_sectors: u32,
    /// Sectors in the track.
    pub sectors: u64,
    /// Bytes per stored sector.
    pub stride: usize,
    /// Every group's kind, in order.
    pub groups: Vec<Group>,
    /// Byte offset of each group's stored bytes from the start of the track data.
    pub offsets: Vec<u64>,
    /// Bytes of all stored groups.
    pub stored_bytes: u64,
}

impl GroupTable {
    /// Number of groups for `sectors` sectors in groups of `group_sectors`.
    pub fn count(sectors: u64, group_sectors: u32) -> u64 {
        sectors.div_ceil(group_sectors as u64)
    }

    /// Decodes the zlib stream `z` (the bytes from the table's offset on; extra bytes after
    /// the stream are ignored) into the table of a fragment of `sectors` sectors of `stride`
    /// bytes in groups of `group_sectors`.
    pub fn parse(
        z: &[u8],
        sectors: u64,
        group_sectors: u32,
        stride: usize,
    ) -> Result<GroupTable, String> {
        if group_sectors == 0 {
            return Err("compression groups of 0 sectors".into());
        }
        if group_sectors as u64 * stride as u64 > MAX_GROUP_BYTES {
            return Err(format!(
                "compression groups of {group_sectors} sectors of {stride} bytes are too large"
            ));
        }
        let n = GroupTable::count(sectors, group_sectors);
        if n > MAX_GROUPS {
            return Err(format!("{n} compression groups (at most {MAX_GROUPS})"));
        }
        let mut raw = Vec::new();
        ZlibDecoder::new(z)
            .take(n * 2)
            .read_to_end(&mut raw)
            .map_err(|e| format!("compression table does not inflate: {e}"))?;
        if (raw.len() as u64) < n * 2 {
            return Err(format!(
                "compression table holds {} entries, {n} groups expected",
                raw.len() / 2
            ));
        }
        let mut t = GroupTable {
            group_sectors,
            sectors,
            stride,
            groups: Vec::with_capacity(n as usize),
            offsets: Vec::with_capacity(n as usize),
            stored_bytes: 0,
        };
        for (i, c) in raw.chunks_exact(2).enumerate() {
            let g = Group::from_entry(u16::from_le_bytes([c[0], c[1]]));
            t.offsets.push(t.stored_bytes);
            t.stored_bytes += match g {
                Group::Raw => t.group_len(i as u64),
                Group::Fill(_) => 0,
                Group::Deflate(n) => n as u64,
            };
            t.groups.push(g);
        }
        Ok(t)
    }

    /// Sectors in group `g` (the last one may be short).
    pub fn group_sector_count(&self, g: u64) -> u64 {
        let first = g * self.group_sectors as u64;
        (self.sectors - first).min(self.group_sectors as u64)
    }

    /// Decoded bytes of group `g`.
    pub fn group_len(&self, g: u64) -> u64 {
        self.group_sector_count(g) * self.stride as u64
    }

    /// Stored bytes of group `g`.
    pub fn stored_len(&self, g: u64) -> u64 {
        match self.groups[g as usize] {
            Group::Raw => self.group_len(g),
            Group::Fill(_) => 0,
            Group::Deflate(n) => n as u64,
        }
    }
}

/// Inflates a raw deflate group into `out`, which must come out exactly full.
pub fn inflate_group(stored: &[u8], out: &mut [u8]) -> Result<(), String> {
    let mut d = DeflateDecoder::new(stored);
    d.read_exact(out).map_err(|e| {
        format!(
            "compressed group does not inflate to {} bytes: {e}",
            out.len()
        )
    })?;
    let mut extra = [0u8; 1];
    match d.read(&mut extra) {
        Ok(0) => Ok(()),
        Ok(_) => Err(format!(
            "compressed group inflates to more than {} bytes",
            out.len()
        )),
        Err(e) => Err(format!(
            "compressed group is corrupt after {} bytes: {e}",
            out.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::{DeflateEncoder, ZlibEncoder};
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn table_offsets() {
        let entries: Vec<u8> = [0u16, 0x8000, 100, 0x80FF]
            .iter()
            .flat_map(|e| e.to_le_bytes())
            .collect();
        let mut z = zlib(&entries);
        z.extend_from_slice(&[0xAA; 64]); // what follows the stream is ignored
        let t = GroupTable::parse(&z, 16 * 3 + 5, 16, 2048).unwrap();
        assert_eq!(
            t.groups,
            vec![
                Group::Raw,
                Group::Fill(0),
                Group::Deflate(100),
                Group::Fill(0xFF)
            ]
        );
        assert_eq!(t.offsets, vec![0, 16 * 2048, 16 * 2048, 16 * 2048 + 100]);
        assert_eq!(t.group_len(3), 5 * 2048);
        assert!(
            GroupTable::parse(&z, 16 * 5, 16, 2048)
                .unwrap_err()
                .contains("4 entries")
        );
        assert!(GroupTable::parse(&z[..2], 16, 16, 2048).is_err());
        assert!(GroupTable::parse(&z, 16, 0, 2048).is_err());
    }

    #[test]
    fn inflate_exact() {
        let data = vec![7u8; 5000];
        let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
        e.write_all(&data).unwrap();
        let z = e.finish().unwrap();
        let mut out = vec![0u8; 5000];
        inflate_group(&z, &mut out).unwrap();
        assert_eq!(out, data);
        assert!(inflate_group(&z, &mut vec![0u8; 5001]).is_err());
        assert!(inflate_group(&z, &mut vec![0u8; 4999]).is_err());
        assert!(inflate_group(&z[..z.len() / 2], &mut out).is_err());
    }
}
