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
    spindle_image::filesystem(&disc, choice.map(FsKind::from))
        .with_context(|| format!("reading the files of {}", image.display()))
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
    // As GNU ls: setuid, setgid and sticky show in the execute columns, lower case when
    // execute is set too.
    for (special, col, lower, upper) in [
        (0o4000, 3, b's', b'S'),
        (0o2000, 6, b's', b'S'),
        (0o1000, 9, b't', b'T'),
    ] {
        if m.mode & special != 0 {
            out[col] = if out[col] == b'x' { lower } else { upper };
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
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(kind: FileKind, mode: u32) -> String {
        let m = Metadata {
            kind,
            size: 0,
            mode,
            nlink: 1,
            uid: 0,
            gid: 0,
            mtime: Time::default(),
            atime: Time::default(),
            ctime: Time::default(),
            rdev: 0,
            ino: 0,
        };
        String::from_utf8(mode_bytes(&m).to_vec()).unwrap()
    }

    #[test]
    fn special_bits_show_as_gnu_ls_shows_them() {
        // Each expected string is what GNU ls -l prints for the mode (coreutils 9).
        assert_eq!(mode(FileKind::File, 0o4755), "-rwsr-xr-x");
        assert_eq!(mode(FileKind::File, 0o4644), "-rwSr--r--");
        assert_eq!(mode(FileKind::File, 0o2755), "-rwxr-sr-x");
        assert_eq!(mode(FileKind::File, 0o2644), "-rw-r-Sr--");
        assert_eq!(mode(FileKind::Dir, 0o1777), "drwxrwxrwt");
        assert_eq!(mode(FileKind::Dir, 0o1776), "drwxrwxrwT");
        assert_eq!(mode(FileKind::File, 0o7777), "-rwsrwsrwt");
        assert_eq!(mode(FileKind::File, 0o7000), "---S--S--T");
        assert_eq!(mode(FileKind::Symlink, 0o777), "lrwxrwxrwx");
        assert_eq!(mode(FileKind::CharDevice, 0o620), "crw--w----");
        assert_eq!(mode(FileKind::BlockDevice, 0o660), "brw-rw----");
        assert_eq!(mode(FileKind::Fifo, 0o644), "prw-r--r--");
        assert_eq!(mode(FileKind::Socket, 0o755), "srwxr-xr-x");
    }
}
