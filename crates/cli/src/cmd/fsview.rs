//! Shared by `ls`, `cat` and `extract`: opening an image's filesystem and describing nodes.

use anyhow::{Context, Result};
use spindle_fs::{FileKind, FileSystem, FsKind, Metadata, Time};
use std::path::Path;
use std::sync::Arc;

/// `--fs` values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum FsChoice {
    Iso9660,
    Joliet,
    Rockridge,
    Udf,
}

impl From<FsChoice> for FsKind {
    fn from(c: FsChoice) -> FsKind {
        match c {
            FsChoice::Iso9660 => FsKind::Iso9660,
            FsChoice::Joliet => FsKind::Joliet,
            FsChoice::Rockridge => FsKind::RockRidge,
            FsChoice::Udf => FsKind::Udf,
        }
    }
}

/// Opens the image and its filesystem (the best view unless `choice` names one).
pub fn open(image: &Path, choice: Option<FsChoice>) -> Result<Arc<dyn FileSystem>> {
    let disc = super::open(image)?;
    spindle_image::filesystem(&disc, choice.map(FsKind::from)).with_context(|| format!("reading the files of {}", image.display()))
}

/// `drwxr-xr-x`-style mode, as 10 bytes.
pub fn mode_bytes(m: &Metadata) -> [u8; 10] {
    let mut out = *b"----------";
    out[0] = match m.kind {
        FileKind::Dir => b'd',
        FileKind::Symlink => b'l',
        FileKind::CharDevice => b'c',
        FileKind::BlockDevice => b'b',
        FileKind::Fifo => b'p',
        FileKind::Socket => b's',
        FileKind::File => b'-',
    };
    for (i, bit) in (0..9).rev().enumerate() {
        if m.mode & (1 << bit) != 0 {
            out[1 + i] = b"rwx"[i % 3];
        }
    }
    out
}

/// `YYYY-MM-DD HH:MM` in UTC.
pub fn time_string(t: Time) -> String {
    let days = t.secs.div_euclid(86_400);
    let rem = t.secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", rem / 3600, rem % 3600 / 60)
}
