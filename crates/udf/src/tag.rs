//! Descriptor tags (ECMA-167 3/7.2): the 16-byte header of every UDF descriptor, with its
//! checksum and CRC.

use spindle_fs::{FsError, Result};

/// Tag identifiers (ECMA-167 3/7.2.1 and 4/7.2.1).
pub mod ident {
    /// UDF 2.2.12: a sparing table carries tag identifier 0.
    pub const SPARING_TABLE: u16 = 0;
    /// Primary volume descriptor.
    pub const PRIMARY_VOLUME: u16 = 1;
    /// Anchor volume descriptor pointer.
    pub const ANCHOR: u16 = 2;
    /// Volume descriptor pointer (continues the sequence elsewhere).
    pub const VOLUME_POINTER: u16 = 3;
    /// Implementation use volume descriptor.
    pub const IMPL_USE_VOLUME: u16 = 4;
    /// Partition descriptor.
    pub const PARTITION: u16 = 5;
    /// Logical volume descriptor.
    pub const LOGICAL_VOLUME: u16 = 6;
    /// Unallocated space descriptor.
    pub const UNALLOCATED_SPACE: u16 = 7;
    /// Terminating descriptor (ends a sequence).
    pub const TERMINATING: u16 = 8;
    /// Logical volume integrity descriptor.
    pub const LV_INTEGRITY: u16 = 9;
    /// File set descriptor.
    pub const FILE_SET: u16 = 256;
    /// File identifier descriptor (a directory entry).
    pub const FILE_IDENTIFIER: u16 = 257;
    /// Allocation extent descriptor (more allocation descriptors).
    pub const ALLOC_EXTENT: u16 = 258;
    /// Indirect entry (points to a newer ICB).
    pub const INDIRECT_ENTRY: u16 = 259;
    /// Terminal entry (ends an ICB hierarchy).
    pub const TERMINAL_ENTRY: u16 = 260;
    /// File entry.
    pub const FILE_ENTRY: u16 = 261;
    /// Extended attribute header descriptor.
    pub const EA_HEADER: u16 = 262;
    /// Extended file entry.
    pub const EXTENDED_FILE_ENTRY: u16 = 266;
}

/// The name of a descriptor by its tag identifier (for messages).
pub fn descriptor_name(id: u16) -> &'static str {
    match id {
        ident::PRIMARY_VOLUME => "primary volume descriptor",
        ident::ANCHOR => "anchor volume descriptor pointer",
        ident::VOLUME_POINTER => "volume descriptor pointer",
        ident::IMPL_USE_VOLUME => "implementation use volume descriptor",
        ident::PARTITION => "partition descriptor",
        ident::LOGICAL_VOLUME => "logical volume descriptor",
        ident::UNALLOCATED_SPACE => "unallocated space descriptor",
        ident::TERMINATING => "terminating descriptor",
        ident::LV_INTEGRITY => "logical volume integrity descriptor",
        ident::FILE_SET => "file set descriptor",
        ident::FILE_IDENTIFIER => "file identifier descriptor",
        ident::ALLOC_EXTENT => "allocation extent descriptor",
        ident::INDIRECT_ENTRY => "indirect entry",
        ident::TERMINAL_ENTRY => "terminal entry",
        ident::FILE_ENTRY => "file entry",
        ident::EA_HEADER => "extended attribute header descriptor",
        ident::EXTENDED_FILE_ENTRY => "extended file entry",
        _ => "descriptor",
    }
}

/// A verified descriptor tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag {
    /// Tag identifier (see [`ident`]).
    pub ident: u16,
    /// Descriptor version (2 for NSR02 volumes, 3 for NSR03).
    pub version: u16,
    /// Tag serial number.
    pub serial: u16,
    /// CRC of the `crc_len` bytes after the tag.
    pub crc: u16,
    /// Number of bytes after the tag the CRC covers.
    pub crc_len: u16,
    /// Logical block (or sector, for volume descriptors) the descriptor claims to live at.
    pub location: u32,
}

pub(crate) fn corrupt(what: impl Into<String>) -> FsError {
    FsError::Corrupt {
        fs: "udf",
        what: what.into(),
    }
}

pub(crate) fn u16le(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

pub(crate) fn u32le(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

pub(crate) fn u64le(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).map_or(0, |s| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        u64::from_le_bytes(a)
    })
}

/// CRC-ITU-T (x^16 + x^12 + x^5 + 1), initial value 0, no reflection (ECMA-167 1/7.2.6).
pub fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |crc, &b| {
        (crc << 8) ^ CRC_TABLE[((crc >> 8) as u8 ^ b) as usize]
    })
}

const CRC_TABLE: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u16) << 8;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000 != 0 {
                (c << 1) ^ 0x1021
            } else {
                c << 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Checksum: the sum modulo 256 of bytes 0-3 and 5-15 of the tag (ECMA-167 3/7.2.3).
pub fn tag_checksum(tag: &[u8; 16]) -> u8 {
    tag.iter()
        .enumerate()
        .filter(|(i, _)| *i != 4)
        .fold(0u8, |s, (_, b)| s.wrapping_add(*b))
}

/// Parses and verifies the tag at the start of `buf`: the checksum, and the CRC over the
/// `crc_len` bytes that follow the tag (which must lie inside `buf`). `what` names the
/// descriptor in errors.
pub fn verify_tag(buf: &[u8], what: &str) -> Result<Tag> {
    let Some(head) = buf.get(..16) else {
        return Err(corrupt(format!(
            "{what}: descriptor shorter than its 16-byte tag"
        )));
    };
    let mut t = [0u8; 16];
    t.copy_from_slice(head);
    if tag_checksum(&t) != t[4] {
        return Err(corrupt(format!("{what}: bad descriptor tag checksum")));
    }
    let tag = Tag {
        ident: u16le(&t, 0),
        version: u16le(&t, 2),
        serial: u16le(&t, 6),
        crc: u16le(&t, 8),
        crc_len: u16le(&t, 10),
        location: u32le(&t, 12),
    };
    let end = 16 + tag.crc_len as usize;
    let Some(body) = buf.get(16..end) else {
        return Err(corrupt(format!(
            "{what}: descriptor CRC length {} runs past the descriptor",
            tag.crc_len
        )));
    };
    if crc16(body) != tag.crc {
        return Err(corrupt(format!("{what}: bad descriptor CRC")));
    }
    Ok(tag)
}

/// Fuzz-friendly entry: [`verify_tag`] with a generic name.
pub fn parse_tag(buf: &[u8]) -> Result<Tag> {
    verify_tag(buf, "descriptor tag")
}

/// Verifies the tag and that it carries identifier `want`.
pub(crate) fn expect_tag(buf: &[u8], want: u16, what: &str) -> Result<Tag> {
    let tag = verify_tag(buf, what)?;
    if tag.ident != want {
        return Err(corrupt(format!(
            "{what}: tag identifier {} where {want} was expected",
            tag.ident
        )));
    }
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_known_value() {
        // CRC-16/XMODEM ("123456789") = 0x31C3, the same polynomial and initial value.
        assert_eq!(crc16(b"123456789"), 0x31C3);
    }

    #[test]
    fn short_and_bad_tags() {
        assert!(parse_tag(&[0u8; 8]).is_err());
        let mut b = [0u8; 32];
        b[0] = 2;
        assert!(parse_tag(&b).is_err());
        b[4] = 2;
        assert_eq!(parse_tag(&b).unwrap().ident, 2);
        b[10] = 100; // CRC length past the end
        b[4] = 102;
        assert!(parse_tag(&b).is_err());
    }
}
