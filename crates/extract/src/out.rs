//! The output side: every entry is made relative to a directory descriptor extract opened
//! itself, with `O_NOFOLLOW`/`O_EXCL`-style calls, and published under its name by a rename.
//! Nothing here follows a symbolic link found in the output, writes into an existing file's
//! inode, or resolves a path of more than one name (except the output folder the user named).

use crate::name::{Shown, TEMP_PREFIX};
use rustix::fs::{AtFlags, CWD, Mode, OFlags, RenameFlags, Stat};
use rustix::io::Errno;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// An output directory: a descriptor opened with `O_DIRECTORY | O_NOFOLLOW`, and the path
/// it had when opened (for messages and to name it again from the root).
#[derive(Debug)]
pub struct Dir {
    pub(crate) fd: OwnedFd,
    /// For messages: the output folder joined with the names below it.
    pub(crate) path: PathBuf,
    /// The names from the output folder down to this directory.
    pub(crate) rel: Vec<String>,
    /// Made by this run (`mkdirat` succeeded): nothing was in it before us.
    pub(crate) fresh: bool,
}

/// What went wrong with one output entry.
#[derive(Debug, thiserror::Error)]
pub enum OutError {
    /// The entry exists and overwriting was not asked for.
    #[error("{} already exists (--overwrite replaces it)", Shown(.0))]
    Exists(PathBuf),
    /// A directory has the name a file or link would take.
    #[error("{} is a directory in the output folder; it is not replaced by a file or link", Shown(.0))]
    DirInTheWay(PathBuf),
    /// A file changed between being written and being hard linked.
    #[error("{} changed while it was being linked (it is not the file extract wrote)", Shown(.0))]
    Changed(PathBuf),
    /// A system call on the output failed.
    #[error("{what} {}: {source}", Shown(.path))]
    Io {
        /// What was being done ("creating", "opening"...).
        what: &'static str,
        /// The entry's path.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: io::Error,
    },
}

fn io_err(what: &'static str, path: &Path, e: impl Into<io::Error>) -> OutError {
    OutError::Io {
        what,
        path: path.to_path_buf(),
        source: e.into(),
    }
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// Unpredictable temporary names: a random key from the OS mixed with a counter.
static TEMP_KEY: AtomicU64 = AtomicU64::new(0);
static TEMP_COUNT: AtomicU64 = AtomicU64::new(0);

/// A fresh temporary name (`.spindle-<16 hex>.tmp`).
pub(crate) fn temp_name() -> String {
    let mut key = TEMP_KEY.load(Ordering::Relaxed);
    if key == 0 {
        let mut b = [0u8; 8];
        // Without the OS generator the names are still created with O_EXCL (and retried):
        // only their predictability suffers.
        let _ = rustix::rand::getrandom(&mut b, rustix::rand::GetRandomFlags::empty());
        key = u64::from_ne_bytes(b) | 1;
        TEMP_KEY.store(key, Ordering::Relaxed);
    }
    // splitmix64 of key + counter.
    let mut z = key.wrapping_add(
        TEMP_COUNT
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    format!("{TEMP_PREFIX}{z:016x}.tmp")
}

/// Runs `make` with fresh temporary names until one does not exist yet.
fn with_temp_name<T>(
    mut make: impl FnMut(&str) -> rustix::io::Result<T>,
) -> rustix::io::Result<(String, T)> {
    let mut tries = 0;
    loop {
        let name = temp_name();
        match make(&name) {
            Err(Errno::EXIST) if tries < 100 => tries += 1,
            r => return r.map(|v| (name, v)),
        }
    }
}

impl Dir {
    /// Opens (making it and its parents if missing) the output folder the user named. This
    /// is the one path that is resolved as a path, links included: the user chose it.
    pub fn open_root(path: &Path) -> Result<Dir, OutError> {
        let existed = path.exists();
        if existed && !path.is_dir() {
            return Err(io_err(
                "using as the output folder",
                path,
                io::Error::from(io::ErrorKind::NotADirectory),
            ));
        }
        std::fs::create_dir_all(path).map_err(|e| io_err("creating", path, e))?;
        let fd = rustix::fs::openat(CWD, path, DIR_FLAGS & !OFlags::NOFOLLOW, Mode::empty())
            .map_err(|e| io_err("opening", path, e))?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
            rel: Vec::new(),
            fresh: !existed,
        })
    }

    /// The directory's path (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn child_path(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Opens the directory `name` below this one if it is a directory (never through a link).
    pub fn open_dir(&self, name: &str) -> Result<Dir, OutError> {
        let fd = rustix::fs::openat(&self.fd, name, DIR_FLAGS, Mode::empty())
            .map_err(|e| io_err("opening", &self.child_path(name), e))?;
        Ok(self.child(fd, name, false))
    }

    fn child(&self, fd: OwnedFd, name: &str, fresh: bool) -> Dir {
        let mut rel = self.rel.clone();
        rel.push(name.to_string());
        Dir {
            fd,
            path: self.child_path(name),
            rel,
            fresh,
        }
    }

    /// Makes the directory `name` (mode 0700 until its own mode is set at the end) and
    /// opens it. An existing real directory is merged into; anything else under the name is
    /// refused, or removed first with `overwrite` (the name, not what a link points to).
    pub fn make_dir(&self, name: &str, overwrite: bool) -> Result<Dir, OutError> {
        let path = self.child_path(name);
        let fresh = match rustix::fs::mkdirat(&self.fd, name, Mode::RWXU) {
            Ok(()) => true,
            Err(Errno::EXIST) => false,
            Err(e) => return Err(io_err("creating the directory", &path, e)),
        };
        match rustix::fs::openat(&self.fd, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => Ok(self.child(fd, name, fresh)),
            // A symbolic link, a file or a device is in the way.
            Err(Errno::LOOP | Errno::NOTDIR) if !fresh => {
                if !overwrite {
                    return Err(OutError::Exists(path));
                }
                rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())
                    .map_err(|e| io_err("removing", &path, e))?;
                rustix::fs::mkdirat(&self.fd, name, Mode::RWXU)
                    .map_err(|e| io_err("creating the directory", &path, e))?;
                let fd = rustix::fs::openat(&self.fd, name, DIR_FLAGS, Mode::empty())
                    .map_err(|e| io_err("opening", &path, e))?;
                Ok(self.child(fd, name, true))
            }
            Err(e) => Err(io_err("opening", &path, e)),
        }
    }

    /// Refuses early (before any content is written) a name that is taken in a directory
    /// that was not made by this run, unless `overwrite`. The rename at the end checks again.
    pub fn check_free(&self, name: &str, overwrite: bool) -> Result<(), OutError> {
        if self.fresh {
            return Ok(());
        }
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Err(Errno::NOENT) => Ok(()),
            Ok(st) if is_dir(&st) => Err(OutError::DirInTheWay(self.child_path(name))),
            Ok(_) if overwrite => Ok(()),
            Ok(_) => Err(OutError::Exists(self.child_path(name))),
            Err(e) => Err(io_err("looking at", &self.child_path(name), e)),
        }
    }

    /// Creates a new file under a temporary name (`O_CREAT | O_EXCL | O_NOFOLLOW`), with
    /// `mode` (the umask applies).
    pub fn create_temp(
        &self,
        mode: u32,
        for_name: &str,
    ) -> Result<(String, std::fs::File), OutError> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let (tmp, fd) =
            with_temp_name(|t| rustix::fs::openat(&self.fd, t, flags, Mode::from_raw_mode(mode)))
                .map_err(|e| {
                io_err(
                    "creating a temporary file for",
                    &self.child_path(for_name),
                    e,
                )
            })?;
        Ok((tmp, std::fs::File::from(fd)))
    }

    /// Removes a temporary name made here (a file or a link, never a directory).
    pub fn remove_temp(&self, tmp: &str) -> io::Result<()> {
        rustix::fs::unlinkat(&self.fd, tmp, AtFlags::empty()).map_err(Into::into)
    }

    /// Gives the finished temporary `tmp` its name: `RENAME_NOREPLACE` (or link + unlink
    /// where the filesystem lacks it) unless `overwrite`, which renames over a file or link
    /// (replacing the name: the old inode and whatever a link pointed to are untouched).
    /// On failure `tmp` is left for the caller to remove.
    pub fn publish(&self, tmp: &str, name: &str, overwrite: bool) -> Result<(), OutError> {
        let path = self.child_path(name);
        let r = if overwrite {
            rustix::fs::renameat(&self.fd, tmp, &self.fd, name)
        } else {
            match rustix::fs::renameat_with(&self.fd, tmp, &self.fd, name, RenameFlags::NOREPLACE) {
                Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
                    rustix::fs::linkat(&self.fd, tmp, &self.fd, name, AtFlags::empty()).map(|()| {
                        let _ = rustix::fs::unlinkat(&self.fd, tmp, AtFlags::empty());
                    })
                }
                r => r,
            }
        };
        match r {
            Ok(()) => Ok(()),
            Err(Errno::EXIST) if !overwrite => {
                // What is in the way decides the message.
                match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(st) if is_dir(&st) => Err(OutError::DirInTheWay(path)),
                    _ => Err(OutError::Exists(path)),
                }
            }
            Err(Errno::ISDIR | Errno::NOTEMPTY | Errno::EXIST) => Err(OutError::DirInTheWay(path)),
            Err(e) => Err(io_err("renaming into place", &path, e)),
        }
    }

    /// Makes the symbolic link `name` → `target` (stored as given: extract never follows it),
    /// with its times, under a temporary name first, then published.
    pub fn symlink(
        &self,
        name: &str,
        target: &str,
        times: Option<&rustix::fs::Timestamps>,
        overwrite: bool,
    ) -> Result<(), OutError> {
        let path = self.child_path(name);
        let (tmp, ()) = with_temp_name(|t| rustix::fs::symlinkat(target, &self.fd, t))
            .map_err(|e| io_err("creating the symbolic link", &path, e))?;
        if let Some(t) = times {
            // Not every filesystem keeps a link's own times: not worth failing over.
            let _ = rustix::fs::utimensat(&self.fd, &tmp, t, AtFlags::SYMLINK_NOFOLLOW);
        }
        self.publish(&tmp, name, overwrite).inspect_err(|_| {
            let _ = self.remove_temp(&tmp);
        })
    }

    /// Makes `name` a hard link to `src_name` in `src`, provided that is still the file
    /// `(dev, ino)` extract wrote (checked on the new link before it gets its name).
    pub fn hard_link(
        &self,
        name: &str,
        src: &Dir,
        src_name: &str,
        want: (u64, u64),
        overwrite: bool,
    ) -> Result<(), OutError> {
        let path = self.child_path(name);
        let (tmp, ()) = with_temp_name(|t| {
            rustix::fs::linkat(&src.fd, src_name, &self.fd, t, AtFlags::empty())
        })
        .map_err(|e| io_err("linking", &path, e))?;
        let same = rustix::fs::statat(&self.fd, &tmp, AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|st| is_file(&st) && stat_id(&st) == want);
        if !same {
            let _ = self.remove_temp(&tmp);
            return Err(OutError::Changed(src.child_path(src_name)));
        }
        self.publish(&tmp, name, overwrite).inspect_err(|_| {
            let _ = self.remove_temp(&tmp);
        })
    }

    /// Sets this directory's mode and times, through its descriptor.
    pub fn set_attrs(&self, mode: u32, times: &rustix::fs::Timestamps) -> Result<(), OutError> {
        rustix::fs::futimens(&self.fd, times)
            .map_err(|e| io_err("setting the times of", &self.path, e))?;
        rustix::fs::fchmod(&self.fd, Mode::from_raw_mode(mode))
            .map_err(|e| io_err("setting the mode of", &self.path, e))
    }

    /// Opens the directory `rel` below this one, one name at a time, never through a link.
    pub fn open_below(&self, rel: &[String]) -> Result<Dir, OutError> {
        let mut d = Dir {
            fd: self
                .fd
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| io_err("opening", &self.path, e))?,
            path: self.path.clone(),
            rel: self.rel.clone(),
            fresh: false,
        };
        for name in rel {
            d = d.open_dir(name)?;
        }
        Ok(d)
    }
}

fn is_dir(st: &Stat) -> bool {
    rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory
}

fn is_file(st: &Stat) -> bool {
    rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile
}

/// The (device, inode) of an open file.
pub fn identity(f: &std::fs::File) -> io::Result<(u64, u64)> {
    Ok(stat_id(&rustix::fs::fstat(f)?))
}

/// (device, inode): `u64` on 64-bit Linux, narrower elsewhere.
#[allow(clippy::unnecessary_cast)]
fn stat_id(st: &Stat) -> (u64, u64) {
    (st.st_dev as u64, st.st_ino as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_differ_and_are_recognised() {
        let a = temp_name();
        let b = temp_name();
        assert_ne!(a, b);
        assert!(crate::name::is_temp_name(&a), "{a}");
    }

    #[test]
    fn a_link_in_the_way_is_never_followed() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("secret"), b"keep").unwrap();
        let root = Dir::open_root(&t.path().join("out")).unwrap();
        std::os::unix::fs::symlink(&outside, t.path().join("out/d")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), t.path().join("out/f")).unwrap();
        // Without --overwrite: refused.
        let root = Dir {
            fresh: false,
            ..root
        };
        assert!(matches!(
            root.make_dir("d", false),
            Err(OutError::Exists(_))
        ));
        assert!(matches!(
            root.check_free("f", false),
            Err(OutError::Exists(_))
        ));
        let (tmp, _) = root.create_temp(0o644, "f").unwrap();
        assert!(matches!(
            root.publish(&tmp, "f", false),
            Err(OutError::Exists(_))
        ));
        // With it: the names are replaced, the targets untouched.
        let (tmp2, f) = root.create_temp(0o644, "f").unwrap();
        drop(f);
        root.publish(&tmp2, "f", true).unwrap();
        root.remove_temp(&tmp).unwrap();
        let d = root.make_dir("d", true).unwrap();
        assert!(d.fresh);
        assert_eq!(std::fs::read(outside.join("secret")).unwrap(), b"keep");
        assert!(
            std::fs::symlink_metadata(t.path().join("out/f"))
                .unwrap()
                .is_file()
        );
        assert!(
            std::fs::symlink_metadata(t.path().join("out/d"))
                .unwrap()
                .is_dir()
        );
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
    }
}
