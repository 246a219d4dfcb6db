//! Volume structures: the volume recognition sequence (ECMA-167 2/9), the anchor volume
//! descriptor pointer (3/10.2), the volume descriptor sequence (3/8.4: primary, partition,
//! logical volume, terminating descriptors), partition maps (3/10.7, UDF 2.60 2.2.8-2.2.10)
//! and the file set descriptor (4/14.1), plus the small recorded types they use (1/7).

use spindle_fs::{Result, Time};

use crate::cs0::decode_dstring;
use crate::tag::{corrupt, expect_tag, ident, u16le, u32le};

/// `extent_ad` (ECMA-167 3/7.1): a byte length and a sector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ExtentAd {
    /// Length of the extent in bytes.
    pub len: u32,
    /// First sector of the extent.
    pub loc: u32,
}

impl ExtentAd {
    /// Reads the 8-byte `extent_ad` at byte `at` of `b`; bytes past the end of `b` read as 0.
    pub fn parse(b: &[u8], at: usize) -> ExtentAd {
        ExtentAd {
            len: u32le(b, at),
            loc: u32le(b, at + 4),
        }
    }
}

/// `lb_addr` (ECMA-167 4/7.1): a logical block within a partition (by partition reference
/// number, the index of the logical volume's partition map).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct LbAddr {
    /// Logical block number, relative to the start of the partition.
    pub lbn: u32,
    /// Partition reference number (index in the logical volume's partition maps).
    pub part: u16,
}

impl LbAddr {
    /// Reads the 6-byte `lb_addr` at byte `at` of `b`; bytes past the end of `b` read as 0.
    pub fn parse(b: &[u8], at: usize) -> LbAddr {
        LbAddr {
            lbn: u32le(b, at),
            part: u16le(b, at + 4),
        }
    }
}

/// `long_ad` (ECMA-167 4/14.14.2). `len` keeps the extent type in its top two bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LongAd {
    /// Extent length in bytes (low 30 bits) and extent type (top 2 bits).
    pub len: u32,
    /// Where the extent starts.
    pub loc: LbAddr,
}

impl LongAd {
    /// Reads the 16-byte `long_ad` at byte `at` of `b`; bytes past the end of `b` read as 0.
    pub fn parse(b: &[u8], at: usize) -> LongAd {
        LongAd {
            len: u32le(b, at),
            loc: LbAddr::parse(b, at + 4),
        }
    }
    /// Extent length in bytes, without the extent type bits.
    pub fn byte_len(&self) -> u32 {
        self.len & 0x3FFF_FFFF
    }
}

/// `regid` (ECMA-167 1/7.4): an entity identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Regid {
    /// Flags (bit 0 dirty, bit 1 protected).
    pub flags: u8,
    /// Identifier, NUL padded ("*OSTA UDF Compliant", "+NSR03"...).
    pub ident: [u8; 23],
    /// Identifier suffix (UDF: the UDF revision, or the OS class and identifier).
    pub suffix: [u8; 8],
}

impl Regid {
    /// Reads the 32-byte `regid` at byte `at` of `b`; all zeros when `b` is too short.
    pub fn parse(b: &[u8], at: usize) -> Regid {
        let mut r = Regid::default();
        if let Some(s) = b.get(at..at + 32) {
            r.flags = s[0];
            r.ident.copy_from_slice(&s[1..24]);
            r.suffix.copy_from_slice(&s[24..32]);
        }
        r
    }
    /// The identifier up to its first NUL.
    pub fn name(&self) -> &[u8] {
        let end = self.ident.iter().position(|&c| c == 0).unwrap_or(23);
        &self.ident[..end]
    }
    /// True when the identifier (up to its first NUL) is `s`.
    pub fn is(&self, s: &str) -> bool {
        self.name() == s.as_bytes()
    }
}

/// Converts a `timestamp` (ECMA-167 1/7.3) to Unix time. The low 12 bits of the first field
/// are a signed offset from UTC in minutes (-2047: unspecified) when the type (top 4 bits)
/// is 1. Invalid dates give the epoch.
pub fn parse_timestamp(b: &[u8], at: usize) -> Time {
    let Some(s) = b.get(at..at + 12) else {
        return Time::default();
    };
    let tt = u16::from_le_bytes([s[0], s[1]]);
    let year = i16::from_le_bytes([s[2], s[3]]) as i64;
    let (month, day, hour, min, sec) = (
        s[4] as i64,
        s[5] as i64,
        s[6] as i64,
        s[7] as i64,
        s[8] as i64,
    );
    let (cs, hus, us) = (s[9] as u32, s[10] as u32, s[11] as u32);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return Time::default();
    }
    let mut tz = (tt & 0x0FFF) as i64;
    if tz & 0x800 != 0 {
        tz -= 0x1000;
    }
    if tt >> 12 != 1 || !(-1440..=1440).contains(&tz) {
        tz = 0;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86400 + hour * 3600 + min * 60 + sec - tz * 60;
    let nanos = (cs.min(99) * 10_000 + hus.min(99) * 100 + us.min(99)) * 1000;
    Time { secs, nanos }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Anchor volume descriptor pointer (ECMA-167 3/10.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// The main volume descriptor sequence.
    pub main: ExtentAd,
    /// The reserve volume descriptor sequence.
    pub reserve: ExtentAd,
}

/// Parses an anchor volume descriptor pointer (tag 2); [`spindle_fs::FsError::Corrupt`] when
/// the tag does not verify, is another descriptor's, or the descriptor is under 32 bytes.
pub fn parse_anchor(b: &[u8]) -> Result<Anchor> {
    expect_tag(b, ident::ANCHOR, "anchor volume descriptor pointer")?;
    if b.len() < 32 {
        return Err(corrupt("anchor volume descriptor pointer: truncated"));
    }
    Ok(Anchor {
        main: ExtentAd::parse(b, 16),
        reserve: ExtentAd::parse(b, 24),
    })
}

/// Partition descriptor (ECMA-167 3/10.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionDesc {
    /// Volume descriptor sequence number (the highest wins among copies).
    pub vds_number: u32,
    /// Partition number, which partition maps refer to.
    pub number: u16,
    /// Partition contents ("+NSR02" or "+NSR03" for UDF).
    pub contents: Regid,
    /// Access type (1 read-only, 2 write-once, 3 rewritable, 4 overwritable).
    pub access_type: u32,
    /// First sector.
    pub start: u32,
    /// Length in sectors.
    pub len: u32,
}

/// Parses a partition descriptor (tag 5); [`spindle_fs::FsError::Corrupt`] when the tag does
/// not verify, is another descriptor's, or the descriptor is under 196 bytes.
pub fn parse_partition_desc(b: &[u8]) -> Result<PartitionDesc> {
    expect_tag(b, ident::PARTITION, "partition descriptor")?;
    if b.len() < 196 {
        return Err(corrupt("partition descriptor: truncated"));
    }
    Ok(PartitionDesc {
        vds_number: u32le(b, 16),
        number: u16le(b, 22),
        contents: Regid::parse(b, 24),
        access_type: u32le(b, 184),
        start: u32le(b, 188),
        len: u32le(b, 192),
    })
}

/// A partition map of the logical volume descriptor (ECMA-167 3/10.7; the type 2 maps are
/// UDF's, UDF 2.60 2.2.8 virtual, 2.2.9 sparable, 2.2.10 metadata).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartitionMap {
    /// Type 1: a partition descriptor's sectors as they are.
    Physical {
        /// Partition number of the partition descriptor this map uses.
        number: u16,
    },
    /// Type 2 "*UDF Virtual Partition": blocks translated by the VAT (write-once media).
    Virtual {
        /// Partition number of the partition descriptor this map uses.
        number: u16,
    },
    /// Type 2 "*UDF Sparable Partition": packets relocated by sparing tables.
    Sparable {
        /// Partition number of the partition descriptor this map uses.
        number: u16,
        /// Packet length in blocks (32 in UDF).
        packet_len: u16,
        /// Size of each sparing table in bytes.
        table_size: u32,
        /// Sectors of the sparing table copies (at most 4 are kept).
        tables: Vec<u32>,
    },
    /// Type 2 "*UDF Metadata Partition": blocks are those of the metadata file.
    Metadata {
        /// Partition number of the partition descriptor this map uses.
        number: u16,
        /// Logical block of the metadata file's ICB in the partition.
        file: u32,
        /// Logical block of the metadata mirror file's ICB in the partition.
        mirror: u32,
        /// Flags (bit 0: the metadata is duplicated in the mirror).
        flags: u8,
    },
    /// Anything else (kept so that partition reference numbers stay aligned).
    Unknown,
}

/// Logical volume descriptor (ECMA-167 3/10.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogicalVolume {
    /// Volume descriptor sequence number (the highest wins among copies).
    pub vds_number: u32,
    /// Logical volume identifier (the label).
    pub label: String,
    /// Logical block size in bytes.
    pub block_size: u32,
    /// Domain identifier ("*OSTA UDF Compliant" for UDF).
    pub domain: Regid,
    /// Where the file set descriptor is (UDF 2.60 2.2.4.4: logical volume contents use).
    pub fsd: LongAd,
    /// Partition maps, indexed by partition reference number.
    pub maps: Vec<PartitionMap>,
}

/// Parses a logical volume descriptor. At most 64 partition maps are accepted.
pub fn parse_logical_volume(b: &[u8]) -> Result<LogicalVolume> {
    expect_tag(b, ident::LOGICAL_VOLUME, "logical volume descriptor")?;
    if b.len() < 440 {
        return Err(corrupt("logical volume descriptor: truncated"));
    }
    let table_len = u32le(b, 264) as usize;
    let count = u32le(b, 268) as usize;
    let Some(table) = b.get(440..440usize.saturating_add(table_len)) else {
        return Err(corrupt(format!(
            "logical volume descriptor: partition map table of {table_len} bytes runs past the descriptor"
        )));
    };
    if count > 64 {
        return Err(corrupt(format!(
            "logical volume descriptor: {count} partition maps"
        )));
    }
    let mut maps = Vec::with_capacity(count);
    let mut at = 0usize;
    for i in 0..count {
        let (Some(&ty), Some(&len)) = (table.get(at), table.get(at + 1)) else {
            return Err(corrupt(format!(
                "logical volume descriptor: partition map {i} past the map table"
            )));
        };
        let len = len as usize;
        let Some(m) = table.get(at..at + len).filter(|_| len >= 6) else {
            return Err(corrupt(format!(
                "logical volume descriptor: partition map {i} has bad length {len}"
            )));
        };
        maps.push(parse_partition_map(ty, m));
        at += len;
    }
    Ok(LogicalVolume {
        vds_number: u32le(b, 16),
        label: decode_dstring(&b[84..212]),
        block_size: u32le(b, 212),
        domain: Regid::parse(b, 216),
        fsd: LongAd::parse(b, 248),
        maps,
    })
}

fn parse_partition_map(ty: u8, m: &[u8]) -> PartitionMap {
    if ty == 1 {
        return PartitionMap::Physical {
            number: u16le(m, 4),
        };
    }
    if ty != 2 || m.len() < 40 {
        return PartitionMap::Unknown;
    }
    let id = Regid::parse(m, 4);
    let number = u16le(m, 38);
    if id.is("*UDF Virtual Partition") {
        PartitionMap::Virtual { number }
    } else if id.is("*UDF Sparable Partition") && m.len() >= 48 {
        let n = (m[42] as usize).min(4);
        let tables = (0..n)
            .map(|i| u32le(m, 48 + 4 * i))
            .filter(|_| m.len() >= 52)
            .collect();
        PartitionMap::Sparable {
            number,
            packet_len: u16le(m, 40),
            table_size: u32le(m, 44),
            tables,
        }
    } else if id.is("*UDF Metadata Partition") && m.len() >= 59 {
        PartitionMap::Metadata {
            number,
            file: u32le(m, 40),
            mirror: u32le(m, 44),
            flags: m[58],
        }
    } else {
        PartitionMap::Unknown
    }
}

/// File set descriptor (ECMA-167 4/14.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSet {
    /// File set identifier.
    pub label: String,
    /// The root directory's ICB.
    pub root: LongAd,
}

/// Parses a file set descriptor (tag 256); [`spindle_fs::FsError::Corrupt`] when the tag does
/// not verify, is another descriptor's, or the descriptor is under 416 bytes.
pub fn parse_file_set(b: &[u8]) -> Result<FileSet> {
    expect_tag(b, ident::FILE_SET, "file set descriptor")?;
    if b.len() < 416 {
        return Err(corrupt("file set descriptor: truncated"));
    }
    Ok(FileSet {
        label: decode_dstring(&b[304..336]),
        root: LongAd::parse(b, 400),
    })
}

/// Looks for a volume recognition sequence (ECMA-167 2/9.1) in `area`, the bytes from
/// offset 32768 on: a "BEA01", then "NSR02" or "NSR03", then "TEA01", one structure every
/// `record` bytes (2048, or the block size when larger: ECMA-167 2/8.4).
pub fn has_nsr_sequence(area: &[u8], record: usize) -> bool {
    let (mut bea, mut nsr) = (false, false);
    for vsd in area.chunks_exact(record.max(6)) {
        match &vsd[1..6] {
            b"BEA01" => bea = true,
            b"NSR02" | b"NSR03" if bea => nsr = true,
            b"TEA01" => return bea && nsr,
            b"CD001" | b"CDW02" | b"BOOT2" | b"NSR02" | b"NSR03" => {}
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let mut b = [0u8; 12];
        b[0..2].copy_from_slice(&(0x1000u16 | 60).to_le_bytes()); // UTC+1
        b[2..4].copy_from_slice(&2000i16.to_le_bytes());
        b[4] = 1;
        b[5] = 1;
        b[6] = 1;
        assert_eq!(parse_timestamp(&b, 0).secs, 946684800);
        b[4] = 13;
        assert_eq!(parse_timestamp(&b, 0), Time::default());
        assert_eq!(parse_timestamp(&b, 5), Time::default());
    }
}
