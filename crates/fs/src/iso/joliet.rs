//! Joliet: a supplementary volume descriptor whose escape sequences (`%/@`, `%/C`, `%/E` for
//! UCS-2 levels 1-3) mark names as big-endian UCS-2 / UTF-16.
//!
//! Names are decoded leniently: unpaired surrogates become U+FFFD and an odd trailing byte is
//! dropped, so malformed UTF-16 (libarchive `test_read_format_iso_joliet_utf16be_overflow`)
//! never panics. Names longer than the 64 characters Joliet allows are read as written (Nero
//! writes up to 110; the record length bounds them at 111).

/// The Joliet UCS-2 level of an SVD's escape sequences field (bytes 88..120), if any.
pub fn joliet_level(escapes: &[u8]) -> Option<u8> {
    // The three-byte sequence may sit anywhere in the 32-byte field (ECMA-35 style), though
    // every writer puts it first.
    escapes.windows(3).find_map(|w| match w {
        b"%/@" => Some(1),
        b"%/C" => Some(2),
        b"%/E" => Some(3),
        _ => None,
    })
}

/// Decodes big-endian UTF-16 leniently.
pub fn decode_ucs2(raw: &[u8]) -> String {
    let units = raw
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// A Joliet file name for display: decoded, `;1` version suffix and a trailing `.` dropped,
/// and `/` (which cannot appear in a path component) replaced by `_`.
pub fn joliet_name(raw: &[u8]) -> String {
    let mut s = decode_ucs2(raw);
    if let Some(i) = s
        .rfind(';')
        .filter(|&i| s[i + 1..].chars().all(|c| c.is_ascii_digit()))
    {
        s.truncate(i);
    }
    if s.ends_with('.') && s.len() > 1 {
        s.pop();
    }
    s.replace(['/', '\0'], "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let raw: Vec<u8> = "héllo.txt;1"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        assert_eq!(joliet_name(&raw), "héllo.txt");
        assert_eq!(joliet_name(&[0xD8, 0x00, 0x00]), "\u{FFFD}");
        assert_eq!(joliet_level(b"%/E\0\0"), Some(3));
        assert_eq!(joliet_level(b"\0\0\0"), None);
    }
}
