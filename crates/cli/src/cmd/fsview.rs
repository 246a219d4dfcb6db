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

/// `drwxr-xr-x`-style mode string.
pub fn mode_string(m: &Metadata) -> String {
    let t = match m.kind {
        FileKind::Dir => 'd',
        FileKind::Symlink => 'l',
        FileKind::CharDevice => 'c',
        FileKind::BlockDevice => 'b',
        FileKind::Fifo => 'p',
        FileKind::Socket => 's',
        FileKind::File => '-',
    };
    let mut s = String::from(t);
    for shift in [6, 3, 0] {
        let bits = (m.mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
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
