//! Pieces of UDF (ECMA-167) structures for tests that build volumes byte by byte: descriptor
//! tags with their CRC and checksum, d-strings, entity identifiers, long allocation
//! descriptors. Written from the standard, independently of spindle-udf's reader.

/// Copies `b` into `d` at `at`.
pub fn put(d: &mut [u8], at: usize, b: &[u8]) {
    d[at..at + b.len()].copy_from_slice(b);
}

/// CRC-16/CCITT (polynomial 0x1021, initial 0), as descriptor tags use (ECMA-167 3/7.2.6).
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in data {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Fills the 16-byte tag at the start of descriptor `d` (version 3): identifier `ident`,
/// location `loc`, the CRC of everything after the tag, and the tag checksum.
pub fn set_tag(d: &mut [u8], ident: u16, loc: u32) {
    d[0..2].copy_from_slice(&ident.to_le_bytes());
    d[2..4].copy_from_slice(&3u16.to_le_bytes());
    let crc = crc16(&d[16..]);
    d[8..10].copy_from_slice(&crc.to_le_bytes());
    let crc_len = (d.len() - 16) as u16;
    d[10..12].copy_from_slice(&crc_len.to_le_bytes());
    d[12..16].copy_from_slice(&loc.to_le_bytes());
    d[4] = 0;
    d[4] = d[..16].iter().fold(0u8, |s, b| s.wrapping_add(*b));
}

/// OSTA CS0 compressed unicode: compression id 8 (one byte a character) when every character
/// is below 256, else 16 (UTF-16 big-endian).
pub fn cs0(s: &str) -> Vec<u8> {
    if s.chars().all(|c| (c as u32) < 256) {
        std::iter::once(8)
            .chain(s.chars().map(|c| c as u8))
            .collect()
    } else {
        std::iter::once(16)
            .chain(s.encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect()
    }
}

/// A `len`-byte d-string of `s` (CS0, zero-padded, its length in the last byte).
pub fn dstring(s: &str, len: usize) -> Vec<u8> {
    let mut v = cs0(s);
    let used = v.len();
    v.resize(len, 0);
    v[len - 1] = used as u8;
    v
}

/// An entity identifier (regid) naming `s`, flags and suffix zero.
pub fn regid(s: &str) -> [u8; 32] {
    let mut r = [0u8; 32];
    r[1..1 + s.len()].copy_from_slice(s.as_bytes());
    r
}

/// A long allocation descriptor: `len` bytes at logical block `lbn` of partition `part`.
pub fn long_ad(len: u32, lbn: u32, part: u16) -> Vec<u8> {
    let mut v = vec![0u8; 16];
    put(&mut v, 0, &len.to_le_bytes());
    put(&mut v, 4, &lbn.to_le_bytes());
    put(&mut v, 8, &part.to_le_bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_tag() {
        // CRC-16/XMODEM check value (same polynomial and initial value).
        assert_eq!(crc16(b"123456789"), 0x31C3);
        let mut d = vec![0u8; 64];
        d[20] = 7;
        set_tag(&mut d, 5, 33);
        assert_eq!(u16::from_le_bytes([d[8], d[9]]), crc16(&d[16..]));
        let sum = d[..16]
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 4)
            .fold(0u8, |s, (_, b)| s.wrapping_add(*b));
        assert_eq!(d[4], sum);
        assert_eq!(dstring("DEEP", 32)[..5], [8, b'D', b'E', b'E', b'P']);
        assert_eq!(dstring("DEEP", 32)[31], 5);
        assert_eq!(cs0("€")[0], 16);
    }
}
