//! Unix time to FAT's packed date and time (2-second resolution, years 1980 to 2107).

/// A FAT timestamp: `(date, time, tenths)` as the directory entry stores them. `tenths` is
/// the creation time's extra hundredths of a second (0..=199): the odd second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FatTime {
    /// Bits 15-9 year since 1980, 8-5 month, 4-0 day.
    pub date: u16,
    /// Bits 15-11 hours, 10-5 minutes, 4-0 seconds / 2.
    pub time: u16,
    /// Hundredths of a second beyond `time` (0 or 100: the odd second).
    pub hundredths: u8,
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a 400-year era.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the year from March 1st
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `unix` seconds (UTC) as a FAT timestamp, clamped to 1980-01-01 00:00:00 and
/// 2107-12-31 23:59:58.
pub fn fat_time(unix: i64) -> FatTime {
    const MIN: i64 = 315_532_800; // 1980-01-01
    const MAX: i64 = 4_354_819_198; // 2107-12-31 23:59:58
    let t = unix.clamp(MIN, MAX);
    let (y, m, d) = civil(t.div_euclid(86_400));
    let secs = t.rem_euclid(86_400);
    let (h, min, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    FatTime {
        date: (((y - 1980) as u16) << 9) | ((m as u16) << 5) | d as u16,
        time: ((h as u16) << 11) | ((min as u16) << 5) | (s / 2) as u16,
        hundredths: if s % 2 == 1 { 100 } else { 0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // 2024-02-29 13:45:31 UTC
        let t = fat_time(1_709_214_331);
        assert_eq!(t.date, (44 << 9) | (2 << 5) | 29);
        assert_eq!(t.time, (13 << 11) | (45 << 5) | 15);
        assert_eq!(t.hundredths, 100);
        // Before 1980 clamps to the epoch of FAT.
        assert_eq!(fat_time(0).date, (1 << 5) | 1);
        assert_eq!(fat_time(0).time, 0);
        // 2000-03-01: the day after a leap day in a century leap year.
        assert_eq!(fat_time(951_868_800).date, (20 << 9) | (3 << 5) | 1);
        // Far future clamps to the last day FAT can store.
        assert_eq!(fat_time(i64::MAX).date, (127 << 9) | (12 << 5) | 31);
    }
}
