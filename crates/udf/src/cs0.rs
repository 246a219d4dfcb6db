//! OSTA Compressed Unicode (UDF 2.60 section 2.1.1, "CS0") and dstrings (ECMA-167 1/7.2.12).

/// Decodes OSTA compressed unicode: a compression ID byte, then 8-bit (ID 8) or big-endian
/// 16-bit (ID 16) code units. UDF 2.50+ also allows IDs 254 and 255 (same as 8 and 16 for
/// decoding; UDF 2.60 2.1.1). Unknown IDs and empty input give an empty string. Unpaired
/// surrogates become U+FFFD.
pub fn decode_cs0(b: &[u8]) -> String {
    let Some((&id, rest)) = b.split_first() else {
        return String::new();
    };
    match id {
        8 | 254 => rest.iter().map(|&c| c as char).collect(),
        16 | 255 => {
            let units = rest
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .map(|r| r.unwrap_or('\u{FFFD}'))
                .collect()
        }
        _ => String::new(),
    }
}

/// Decodes a dstring field: CS0 bytes whose used length is in the field's last byte.
pub fn decode_dstring(field: &[u8]) -> String {
    let Some((&len, body)) = field.split_last() else {
        return String::new();
    };
    let len = (len as usize).min(body.len());
    decode_cs0(&body[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_and_sixteen_bit() {
        assert_eq!(decode_cs0(b"\x08abc"), "abc");
        assert_eq!(decode_cs0(&[16, 0, b'F', 0, 0xE9]), "Fé");
        assert_eq!(decode_cs0(&[16, 0xD8]), "");
        assert_eq!(decode_cs0(&[]), "");
        let mut f = [0u8; 8];
        f[..3].copy_from_slice(b"\x08hi");
        f[7] = 3;
        assert_eq!(decode_dstring(&f), "hi");
        f[7] = 200;
        assert_eq!(decode_dstring(&f), "hi\0\0\0\0");
    }
}
