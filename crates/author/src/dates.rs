//! ISO 9660 dates (ECMA-119 8.4.26.1 and 9.1.5), always in UTC (offset 0).

use crate::tree::Stamp;

/// Year, month, day, hour, minute, second of `secs` since the epoch (proleptic Gregorian).
fn civil(secs: i64) -> (i64, u8, u8, u8, u8, u8) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u8,
        (rem / 60 % 60) as u8,
        (rem % 60) as u8,
    )
}

/// Whether the 7-byte form (years 1900 to 2155) holds `t`.
pub fn fits_short(t: Stamp) -> bool {
    (1900..=2155).contains(&civil(t.secs).0)
}

/// The 7-byte form of directory records and `TF` entries; years outside 1900-2155 are
/// clamped (the 17-byte form is used where they matter).
pub fn short(t: Stamp) -> [u8; 7] {
    let (y, mo, d, h, mi, s) = civil(t.secs);
    if y < 1900 {
        return [0, 1, 1, 0, 0, 0, 0];
    }
    if y > 2155 {
        return [255, 12, 31, 23, 59, 59, 0];
    }
    [(y - 1900) as u8, mo, d, h, mi, s, 0]
}

/// The 17-byte form of volume descriptors and long `TF` entries (`YYYYMMDDHHMMSScc` and
/// the offset), years clamped to 1-9999.
pub fn long(t: Stamp) -> [u8; 17] {
    let (y, mo, d, h, mi, s) = civil(t.secs);
    let text = if y < 1 {
        "0001010100000000".to_string()
    } else if y > 9999 {
        "9999123123595999".to_string()
    } else {
        format!(
            "{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}{:02}",
            t.nanos / 10_000_000
        )
    };
    let mut out = [0u8; 17];
    out[..16].copy_from_slice(text.as_bytes());
    out
}

/// The "not specified" 17-byte date.
pub const UNSET: [u8; 17] = *b"0000000000000000\0";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let t = |secs| Stamp { secs, nanos: 0 };
        assert_eq!(short(t(0)), [70, 1, 1, 0, 0, 0, 0]);
        // 1969-12-31 23:59:59 and 2100-03-01 12:00:00.
        assert_eq!(short(t(-1)), [69, 12, 31, 23, 59, 59, 0]);
        assert_eq!(short(t(4_107_585_600)), [200, 3, 1, 12, 0, 0, 0]);
        assert_eq!(&long(t(951_782_400))[..16], b"2000022900000000");
        assert!(!fits_short(t(-2_300_000_000)));
    }
}
