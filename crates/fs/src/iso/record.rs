//! Directory records (ECMA-119 §9.1) and the recording dates in them.
//!
//! [`parse_directory_record`] is a pure function over arbitrary bytes, safe to fuzz: every
//! length is checked against the slice and the result borrows nothing.

use crate::api::{FsError, Result, Time};

/// Flag: hide the file from directory listings (file flags: ECMA-119 §9.1.6).
pub const FLAG_HIDDEN: u8 = 0x01;
/// Flag: the record is a directory.
pub const FLAG_DIRECTORY: u8 = 0x02;
/// Flag: an associated file (a Macintosh resource fork, in practice).
pub const FLAG_ASSOCIATED: u8 = 0x04;
/// Flag: the file continues in the next record (a multi-extent file).
pub const FLAG_MULTI_EXTENT: u8 = 0x80;

/// The fixed part of a directory record before the file identifier.
pub const RECORD_HEADER: usize = 33;

/// One directory record, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirRecord {
    /// Length of the whole record (byte 0).
    pub len: u8,
    /// Blocks of extended attribute record before the data (byte 1).
    pub ext_attr_len: u8,
    /// First logical block of the extent.
    pub extent: u32,
    /// Data length in bytes of this extent.
    pub size: u32,
    /// Recording date and time, decoded.
    pub recorded: Time,
    /// File flags (byte 25, see the `FLAG_` constants).
    pub flags: u8,
    /// Interleaving: file unit size and gap size in blocks (0 = not interleaved).
    pub unit_size: u8,
    /// Blocks skipped between two file units of an interleaved file.
    pub gap_size: u8,
    /// The raw file identifier (`\0` is `.`, `\1` is `..`).
    pub name: Vec<u8>,
    /// The system use area after the identifier (SUSP / Rock Ridge lives here).
    pub system_use: Vec<u8>,
}

impl DirRecord {
    /// True when the directory flag is set.
    pub fn is_dir(&self) -> bool {
        self.flags & FLAG_DIRECTORY != 0
    }
    /// The `.` record (the directory itself).
    pub fn is_dot(&self) -> bool {
        self.name == [0]
    }
    /// The `..` record (the parent directory).
    pub fn is_dotdot(&self) -> bool {
        self.name == [1]
    }
}

fn corrupt(what: String) -> FsError {
    FsError::Corrupt {
        fs: "iso9660",
        what,
    }
}

/// A directory record borrowing its identifier and system use area from the directory bytes
/// (what the reader works with: no allocation per record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// Length of the whole record (byte 0).
    pub len: u8,
    /// Blocks of extended attribute record before the data (byte 1).
    pub ext_attr_len: u8,
    /// First logical block of the extent.
    pub extent: u32,
    /// Data length in bytes of this extent.
    pub size: u32,
    /// Recording date and time, decoded.
    pub recorded: Time,
    /// File flags (byte 25, see the `FLAG_` constants).
    pub flags: u8,
    /// File unit size in blocks of an interleaved file (0 = not interleaved).
    pub unit_size: u8,
    /// Blocks skipped between two file units of an interleaved file.
    pub gap_size: u8,
    /// The raw file identifier (`\0` is `.`, `\1` is `..`).
    pub name: &'a [u8],
    /// The system use area after the identifier (SUSP / Rock Ridge lives here).
    pub system_use: &'a [u8],
}

impl<'a> RecordRef<'a> {
    /// True when the directory flag is set.
    pub fn is_dir(&self) -> bool {
        self.flags & FLAG_DIRECTORY != 0
    }
    /// The `.` record (the directory itself).
    pub fn is_dot(&self) -> bool {
        self.name == [0]
    }
    /// The `..` record (the parent directory).
    pub fn is_dotdot(&self) -> bool {
        self.name == [1]
    }
    /// An owned copy.
    pub fn to_owned(&self) -> DirRecord {
        DirRecord {
            len: self.len,
            ext_attr_len: self.ext_attr_len,
            extent: self.extent,
            size: self.size,
            recorded: self.recorded,
            flags: self.flags,
            unit_size: self.unit_size,
            gap_size: self.gap_size,
            name: self.name.to_vec(),
            system_use: self.system_use.to_vec(),
        }
    }
}

impl DirRecord {
    /// A borrowing view of this record.
    pub fn as_ref(&self) -> RecordRef<'_> {
        RecordRef {
            len: self.len,
            ext_attr_len: self.ext_attr_len,
            extent: self.extent,
            size: self.size,
            recorded: self.recorded,
            flags: self.flags,
            unit_size: self.unit_size,
            gap_size: self.gap_size,
            name: &self.name,
            system_use: &self.system_use,
        }
    }
}

/// Decodes the directory record at the start of `bytes`.
///
/// Returns `Ok(None)` for a zero length byte (padding up to the next sector), an error when
/// the record claims more bytes than `bytes` holds or is shorter than its own identifier.
/// `high_sierra` selects the High Sierra layout (6-byte date, flags at byte 24).
pub fn parse_directory_record(bytes: &[u8], high_sierra: bool) -> Result<Option<DirRecord>> {
    Ok(parse_record_ref(bytes, high_sierra)?.map(|r| r.to_owned()))
}

/// [`parse_directory_record`] without copying the identifier and system use area.
pub fn parse_record_ref(bytes: &[u8], high_sierra: bool) -> Result<Option<RecordRef<'_>>> {
    let Some(&len) = bytes.first() else {
        return Ok(None);
    };
    if len == 0 {
        return Ok(None);
    }
    let len_us = len as usize;
    if len_us < RECORD_HEADER + 1 {
        return Err(corrupt(format!(
            "directory record of {len} bytes (at least 34 needed)"
        )));
    }
    if len_us > bytes.len() {
        return Err(corrupt(format!(
            "directory record of {len} bytes runs past the end of its sector ({} bytes left)",
            bytes.len()
        )));
    }
    let r = &bytes[..len_us];
    let name_len = r[32] as usize;
    if RECORD_HEADER + name_len > len_us {
        return Err(corrupt(format!(
            "directory record of {len} bytes holds a {name_len}-byte identifier"
        )));
    }
    let name = &r[33..33 + name_len];
    // The identifier is padded to an even offset (§9.1.12).
    let mut su_start = RECORD_HEADER + name_len;
    if name_len & 1 == 0 {
        su_start += 1;
    }
    let system_use = r.get(su_start..).unwrap_or(&[]);
    let (recorded, flags) = if high_sierra {
        (
            decode_record_time(&[r[18], r[19], r[20], r[21], r[22], r[23], 0]),
            r[24],
        )
    } else {
        (decode_record_time(&r[18..25]), r[25])
    };
    Ok(Some(RecordRef {
        len,
        ext_attr_len: r[1],
        extent: le32(&r[2..6]),
        size: le32(&r[10..14]),
        recorded,
        flags,
        unit_size: r[26],
        gap_size: r[27],
        name,
        system_use,
    }))
}

pub(crate) fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}
pub(crate) fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[allow(clippy::too_many_arguments)]
fn to_time(
    year: i64,
    month: u32,
    day: u32,
    h: u32,
    mi: u32,
    s: u32,
    hundredths: u32,
    tz: i8,
) -> Time {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || mi > 59 || s > 60 {
        return Time::default();
    }
    let secs = days_from_civil(year, month, day) * 86400 + (h * 3600 + mi * 60 + s) as i64
        - tz as i64 * 15 * 60;
    Time {
        secs,
        nanos: hundredths.min(99) * 10_000_000,
    }
}

/// The 7-byte date of directory records and Rock Ridge TF short form (§9.1.5): years since
/// 1900, month, day, hour, minute, second, offset from GMT in 15-minute steps.
/// Nonsense dates (all zero, month 13) decode as the epoch.
pub fn decode_record_time(b: &[u8]) -> Time {
    if b.len() < 7 {
        return Time::default();
    }
    to_time(
        1900 + b[0] as i64,
        b[1] as u32,
        b[2] as u32,
        b[3] as u32,
        b[4] as u32,
        b[5] as u32,
        0,
        b[6] as i8,
    )
}

/// The 17-byte digit date of volume descriptors and TF long form (§8.4.26.1):
/// `YYYYMMDDHHMMSScc` in ASCII digits plus the GMT offset byte. Unset (zero) dates decode as the
/// epoch.
pub fn decode_dec_time(b: &[u8]) -> Time {
    if b.len() < 17 {
        return Time::default();
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = std::str::from_utf8(&b[r]).ok()?;
        s.parse().ok()
    };
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s), Some(cs)) = (
        num(0..4),
        num(4..6),
        num(6..8),
        num(8..10),
        num(10..12),
        num(12..14),
        num(14..16),
    ) else {
        return Time::default();
    };
    if y == 0 {
        return Time::default();
    }
    to_time(y as i64, mo, d, h, mi, s, cs, b[16] as i8)
}

/// The ISO 9660 name of a record for display: `;version` and a trailing `.` of extension-less
/// names stripped (`README.;1` is `README`).
pub fn iso_name(raw: &[u8]) -> String {
    let mut s = String::from_utf8_lossy(raw).into_owned();
    if let Some(i) = s
        .rfind(';')
        .filter(|&i| s[i + 1..].bytes().all(|c| c.is_ascii_digit()))
    {
        s.truncate(i);
    }
    if s.ends_with('.') && s.len() > 1 {
        s.pop();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_versions_and_dots() {
        assert_eq!(iso_name(b"README.;1"), "README");
        assert_eq!(iso_name(b"A.TXT;1"), "A.TXT");
        assert_eq!(iso_name(b"A.TXT"), "A.TXT");
        assert_eq!(iso_name(b"DIR"), "DIR");
    }

    #[test]
    fn dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        let t = decode_record_time(&[100, 1, 2, 3, 4, 5, 0]);
        assert_eq!(t.secs, 946_782_245);
        let t = decode_dec_time(b"2000010203040500\0");
        assert_eq!(t.secs, 946_782_245);
        assert_eq!(decode_dec_time(b"0000000000000000\0"), Time::default());
    }

    #[test]
    fn hostile_records() {
        assert!(parse_directory_record(&[], false).unwrap().is_none());
        assert!(parse_directory_record(&[0; 40], false).unwrap().is_none());
        assert!(parse_directory_record(&[10; 40], false).is_err());
        let mut r = [0u8; 40];
        r[0] = 40;
        r[32] = 200;
        assert!(parse_directory_record(&r, false).is_err());
        r[0] = 60;
        assert!(parse_directory_record(&r, false).is_err());
    }
}
