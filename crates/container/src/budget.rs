//! The decompression budget: how many bytes of decompressed temporary copies one caller
//! may hold at once.
//!
//! A file with no random access (one zstd frame, one xz block, over 32 MiB decoded) is read
//! through a decompressed copy in an unlinked temporary file, held until the image is
//! closed. A few hundred kilobytes of zstd can decode to terabytes, so the copy is bounded:
//!
//! - The limit is the one set with [`DecodeBudget::with_limit`], else the environment
//!   variable [`ENV`] (`SPINDLE_DECODE_BUDGET=16G`), else [`DEFAULT_LIMIT`] (8 GiB); and
//!   never more than the free space of the temporary directory less [`FREE_SPACE_MARGIN`].
//! - It counts the copies every image open in this process holds for the same account: the
//!   uid given with [`DecodeBudget::for_uid`], else the filesystem uid of the calling thread
//!   (the daemon opens images on a thread with the user's, so each user has their own).
//! - A size the file declares (zstd's frame content size, the xz index) is checked before
//!   anything is decoded; a file that does not declare it is decoded until it crosses the
//!   limit, and then refused and its copy deleted. Bytes are reserved before they are
//!   written, so a copy never grows past the limit.

use crate::Kind;
use std::collections::HashMap;
use std::ffi::CString;
use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The environment variable that sets the budget: bytes, or a number with a `K`, `M`, `G`
/// or `T` suffix (binary: `64M` is 64 MiB).
pub const ENV: &str = "SPINDLE_DECODE_BUDGET";
/// The budget when neither the caller nor [`ENV`] sets one.
pub const DEFAULT_LIMIT: u64 = 8 << 30;
/// Space always left free in the temporary directory.
pub const FREE_SPACE_MARGIN: u64 = 1 << 30;

/// Live bytes of temporary copies, by account (uid).
static LIVE: Mutex<Option<HashMap<u32, u64>>> = Mutex::new(None);

fn live(uid: u32) -> u64 {
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|m| m.get(&uid).copied())
        .unwrap_or(0)
}

/// How much decompressed temporary data an open may create, and whom it is counted against.
/// The default (`DecodeBudget::default()`) is [`ENV`] or 8 GiB, counted against the calling
/// thread's filesystem uid, in the system's temporary directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodeBudget {
    limit: Option<u64>,
    uid: Option<u32>,
    temp_dir: Option<PathBuf>,
    margin: Option<u64>,
}

/// Where the limit came from (for the message that says how to raise it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitSource {
    /// [`DecodeBudget::with_limit`].
    Caller,
    /// The [`ENV`] variable.
    Env,
    /// [`DEFAULT_LIMIT`].
    Default,
    /// The free space of the temporary directory less [`FREE_SPACE_MARGIN`].
    FreeSpace,
}

impl DecodeBudget {
    /// The default budget (see the type's docs).
    pub fn new() -> DecodeBudget {
        DecodeBudget::default()
    }
    /// Sets the limit in bytes (over [`ENV`] and the default; still capped by free space).
    pub fn with_limit(mut self, bytes: u64) -> DecodeBudget {
        self.limit = Some(bytes);
        self
    }
    /// Counts copies against `uid` (instead of the calling thread's filesystem uid).
    pub fn for_uid(mut self, uid: u32) -> DecodeBudget {
        self.uid = Some(uid);
        self
    }
    /// Makes temporary copies in `dir` instead of the system's temporary directory.
    pub fn with_temp_dir(mut self, dir: impl Into<PathBuf>) -> DecodeBudget {
        self.temp_dir = Some(dir.into());
        self
    }
    /// Leaves `bytes` free in the temporary directory instead of [`FREE_SPACE_MARGIN`].
    pub fn with_free_space_margin(mut self, bytes: u64) -> DecodeBudget {
        self.margin = Some(bytes);
        self
    }
    /// Bytes of temporary copies `uid` holds now, across every open image of this process.
    pub fn live_bytes(uid: u32) -> u64 {
        live(uid)
    }

    /// The account copies are counted against.
    pub fn uid(&self) -> u32 {
        self.uid.unwrap_or_else(fs_uid)
    }

    /// The temporary directory copies go to.
    pub fn temp_dir(&self) -> PathBuf {
        self.temp_dir.clone().unwrap_or_else(std::env::temp_dir)
    }

    fn margin(&self) -> u64 {
        self.margin.unwrap_or(FREE_SPACE_MARGIN)
    }

    /// The limit the caller, the environment or the default sets, before free space.
    pub fn configured_limit(&self) -> io::Result<(u64, LimitSource)> {
        if let Some(l) = self.limit {
            return Ok((l, LimitSource::Caller));
        }
        match std::env::var_os(ENV) {
            Some(v) => {
                let text = v.to_string_lossy();
                parse_size(&text).map(|l| (l, LimitSource::Env)).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("{ENV}={text:?} is not a size (bytes, or a number with K, M, G or T, e.g. 16G)"),
                    )
                })
            }
            None => Ok((DEFAULT_LIMIT, LimitSource::Default)),
        }
    }

    /// Starts a temporary copy of the decompressed `path`: checks `declared` (the size the
    /// file states, if it does) against what is left of the budget, and creates the file.
    pub(crate) fn start(
        &self,
        path: &Path,
        kind: Kind,
        declared: Option<u64>,
    ) -> io::Result<(Reservation, File)> {
        let (mut limit, mut source) = self.configured_limit()?;
        let dir = self.temp_dir();
        if let Some(free) = free_space(&dir) {
            let usable = free.saturating_sub(self.margin());
            if usable < limit {
                (limit, source) = (usable, LimitSource::FreeSpace);
            }
        }
        let r = Reservation {
            margin: self.margin(),
            uid: self.uid(),
            bytes: 0,
            limit,
            source,
            path: path.to_path_buf(),
            kind,
            temp_dir: dir,
        };
        if let Some(size) = declared {
            r.check(size, true)?;
        }
        let file = tempfile::tempfile_in(&r.temp_dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{}: creating a temporary file in {}: {e}",
                    path.display(),
                    r.temp_dir.display()
                ),
            )
        })?;
        Ok((r, file))
    }
}

/// Bytes of one temporary copy counted against its account; given back when dropped.
pub(crate) struct Reservation {
    margin: u64,
    uid: u32,
    bytes: u64,
    limit: u64,
    source: LimitSource,
    path: PathBuf,
    kind: Kind,
    temp_dir: PathBuf,
}

impl Reservation {
    fn check(&self, more: u64, declared: bool) -> io::Result<()> {
        let in_use = live(self.uid);
        if in_use.checked_add(more).is_none_or(|t| t > self.limit) {
            return Err(self.exceeded(
                if declared { more } else { self.bytes + more },
                declared,
                in_use - self.bytes,
            ));
        }
        Ok(())
    }

    /// Counts `n` more bytes before they are written; an error when they would cross the
    /// limit.
    pub fn grow(&mut self, n: u64) -> io::Result<()> {
        let mut map = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        let m = map.get_or_insert_with(HashMap::new);
        let cur = m.get(&self.uid).copied().unwrap_or(0);
        if cur.checked_add(n).is_none_or(|t| t > self.limit) {
            drop(map);
            return Err(self.exceeded(self.bytes + n, false, cur - self.bytes));
        }
        m.insert(self.uid, cur + n);
        self.bytes += n;
        Ok(())
    }

    fn exceeded(&self, needed: u64, declared: bool, others: u64) -> io::Error {
        io::Error::new(
            io::ErrorKind::QuotaExceeded,
            BudgetExceeded {
                path: self.path.clone(),
                kind: self.kind,
                needed,
                declared,
                budget: self.limit,
                others,
                limited_by: self.source,
                temp_dir: self.temp_dir.clone(),
                margin: self.margin,
            },
        )
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut map = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = map.as_mut()
            && let Some(v) = m.get_mut(&self.uid)
        {
            *v = v.saturating_sub(self.bytes);
            if *v == 0 {
                m.remove(&self.uid);
            }
        }
    }
}

/// A compressed file whose decompressed copy would not fit the budget. Carried inside an
/// `io::Error` (kind `QuotaExceeded`); find it with `spindle_disc::open::find_in_chain`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct BudgetExceeded {
    /// The compressed file.
    pub path: PathBuf,
    /// Its container.
    pub kind: Kind,
    /// The size the file declares (`declared`), or how far decoding got before it stopped.
    pub needed: u64,
    /// True when `needed` is the size the file declares, false when decoding stopped at it.
    pub declared: bool,
    /// The limit that applied.
    pub budget: u64,
    /// Bytes the same account already held in other images' copies.
    pub others: u64,
    /// What set the limit.
    pub limited_by: LimitSource,
    /// The directory the temporary copy would have gone to.
    pub temp_dir: PathBuf,
    /// Space left free in `temp_dir` (when `limited_by` is `FreeSpace`).
    pub margin: u64,
}

impl fmt::Display for BudgetExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, says) = match self.kind {
            Kind::Xz => ("block", "its index"),
            _ => ("frame", "its frame header"),
        };
        if self.declared {
            write!(
                f,
                "{}: a decompressed copy of {} ({says} says so)",
                self.path.display(),
                human(self.needed)
            )?;
        } else {
            write!(
                f,
                "{}: a decompressed copy of more than {} (decoding stopped there; the file does not declare its size)",
                self.path.display(),
                human(self.needed)
            )?;
        }
        write!(
            f,
            " is over the decompression budget of {}",
            human(self.budget)
        )?;
        if self.others > 0 {
            write!(
                f,
                " ({} of it held by other open images of the same user)",
                human(self.others)
            )?;
        }
        write!(
            f,
            ". It is one {} {unit}, which has no random access: it is read through a copy in a temporary file. ",
            self.kind.name()
        )?;
        let suggest = if self.declared {
            format!("{}G", (self.needed + self.others).div_ceil(1 << 30))
        } else {
            "<size>".into()
        };
        match self.limited_by {
            LimitSource::FreeSpace => write!(
                f,
                "The budget is the free space of {} less a {} margin: free space there, or point TMPDIR at a larger filesystem",
                self.temp_dir.display(),
                human(self.margin)
            )?,
            LimitSource::Env => {
                write!(f, "The budget was set by {ENV}: raise it ({ENV}={suggest})")?
            }
            LimitSource::Caller | LimitSource::Default => {
                write!(f, "Raise the budget with {ENV}={suggest}")?
            }
        }
        write!(
            f,
            ", or recompress the image in frames, which read without a copy (`zstd -B1M`, `xz -T0 --block-size=1MiB`)"
        )
    }
}

/// `n` bytes for people: `64 MiB`, `4.0 GiB`, `1000 bytes`.
pub fn human(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Parses `123`, `64M`, `8G`, `16GiB`, `1t` (binary multiples).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: u64 = t[..digits].parse().ok()?;
    let unit = t[digits..].trim().to_ascii_lowercase();
    let shift = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

/// Bytes an unprivileged user may still write in `dir`'s filesystem.
fn free_space(dir: &Path) -> Option<u64> {
    let c = CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs fills the zeroed struct; c is a valid NUL-terminated path.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// The calling thread's filesystem uid (what the kernel checks file access against).
fn fs_uid() -> u32 {
    // SAFETY: setfsuid with an invalid id changes nothing and returns the current fsuid.
    unsafe { libc::syscall(libc::SYS_setfsuid, u32::MAX) as u32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("8G"), Some(8 << 30));
        assert_eq!(parse_size("16GiB"), Some(16 << 30));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size(" 2 k "), Some(2048));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("5X"), None);
        assert_eq!(parse_size("99999999999T"), None);
        assert_eq!(human(64 << 20), "64 MiB");
        assert_eq!(human(3 << 29), "1.5 GiB");
    }

    #[test]
    fn reservations_count_per_account_and_are_given_back() {
        let uid = 0xDEAD_0001;
        let b = DecodeBudget::new().for_uid(uid).with_limit(100);
        let (mut r, _f) = b.start(Path::new("x.zst"), Kind::Zstd, Some(60)).unwrap();
        r.grow(60).unwrap();
        assert_eq!(DecodeBudget::live_bytes(uid), 60);
        // A second copy for the same account sees the first.
        let e = b
            .start(Path::new("y.zst"), Kind::Zstd, Some(50))
            .err()
            .unwrap();
        let be = e
            .get_ref()
            .unwrap()
            .downcast_ref::<BudgetExceeded>()
            .unwrap();
        assert_eq!((be.needed, be.others, be.declared), (50, 60, true));
        let (mut r2, _f2) = b.start(Path::new("y.zst"), Kind::Zstd, None).unwrap();
        r2.grow(40).unwrap();
        assert!(r2.grow(1).is_err());
        // Another account is not affected.
        let (mut r3, _f3) = b
            .clone()
            .for_uid(uid + 1)
            .start(Path::new("z.zst"), Kind::Zstd, None)
            .unwrap();
        r3.grow(100).unwrap();
        drop((r, r2, r3));
        assert_eq!(DecodeBudget::live_bytes(uid), 0);
        assert_eq!(DecodeBudget::live_bytes(uid + 1), 0);
    }

    #[test]
    fn free_space_bounds_any_limit() {
        let dir = tempfile::tempdir().unwrap();
        // A margin larger than any disk: nothing is usable, whatever the limit says.
        let b = DecodeBudget::new()
            .for_uid(0xDEAD_0003)
            .with_limit(u64::MAX)
            .with_temp_dir(dir.path())
            .with_free_space_margin(u64::MAX);
        let e = b
            .start(Path::new("x.zst"), Kind::Zstd, Some(1))
            .err()
            .unwrap();
        let be = e
            .get_ref()
            .unwrap()
            .downcast_ref::<BudgetExceeded>()
            .unwrap();
        assert_eq!((be.budget, be.limited_by), (0, LimitSource::FreeSpace));
        assert!(
            be.to_string().contains("free space there, or point TMPDIR"),
            "{be}"
        );
    }
}
