//! Opening an image or companion file: the name is resolved once, and the check is made on
//! the descriptor that open returned.
//!
//! Every image file (the one the user names, and every BIN, IMG, SUB, MDF, WAV or container
//! a descriptor names) is opened with `O_NONBLOCK`, so that opening a FIFO with no writer
//! returns at once instead of waiting for one, and `O_NOCTTY`, so that a terminal never
//! becomes the process's controlling terminal. The descriptor is then checked with
//! `fstat(2)`: a regular file or a block device is read (and `O_NONBLOCK` is cleared again);
//! a FIFO, a socket, a character device (`/dev/zero` would read forever) or a directory is
//! refused with [`NotAFile`], which names the file and what it is. Nothing is checked by
//! name before the open, so a file swapped after a check cannot be read in its place.

use std::error::Error;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What a path turned out to be when it is not something an image can be read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// A FIFO (named pipe): reading it would block or consume another writer's data.
    Fifo,
    /// A Unix domain socket.
    Socket,
    /// A character device (a tty, `/dev/zero`...), which has no fixed size.
    CharDevice,
    /// A directory.
    Directory,
    /// Anything else `fstat` may report.
    Other,
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileType::Fifo => "a FIFO (named pipe)",
            FileType::Socket => "a socket",
            FileType::CharDevice => "a character device",
            FileType::Directory => "a directory",
            FileType::Other => "not a regular file",
        })
    }
}

/// An image or companion path that names something other than a regular file or a block
/// device. Carried inside an [`io::Error`] (kind `InvalidInput`, or `IsADirectory`); find it
/// in any error chain with [`NotAFile::find`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} is {what}, not a disc image", path.display())]
pub struct NotAFile {
    /// The path as given by the caller.
    pub path: PathBuf,
    /// What the path turned out to be.
    pub what: FileType,
}

impl NotAFile {
    /// The `NotAFile` in `err` or any error it wraps (including inside `io::Error`s).
    pub fn find<'a>(err: &'a (dyn Error + 'static)) -> Option<&'a NotAFile> {
        find_in_chain(err)
    }

    fn into_io(self) -> io::Error {
        let kind = match self.what {
            FileType::Directory => io::ErrorKind::IsADirectory,
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, self)
    }
}

/// The first `T` in an error chain, looking inside `io::Error`s (whose `source()` skips the
/// error they carry).
pub fn find_in_chain<'a, T: Error + 'static>(err: &'a (dyn Error + 'static)) -> Option<&'a T> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        if let Some(t) = e
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<T>())
        {
            return Some(t);
        }
        cur = e.source();
    }
    None
}

/// Opens `path` for reading as an image file: a regular file or a block device. Returns the
/// file and its length in bytes. Errors from `open(2)` itself come back as they are (the
/// caller names the file); a path that names anything else is a [`NotAFile`] error.
pub fn open_image_file(path: &Path) -> io::Result<(File, u64)> {
    let mut file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(f) => f,
        // A socket cannot be opened (ENXIO): say so rather than "no such device". The
        // O_PATH descriptor only names the error; nothing is read through it.
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            let is_socket = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_PATH)
                .open(path)
                .and_then(|f| f.metadata())
                .is_ok_and(|m| m.file_type().is_socket());
            if is_socket {
                return Err(NotAFile {
                    path: path.to_path_buf(),
                    what: FileType::Socket,
                }
                .into_io());
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let ft = file.metadata()?.file_type();
    let what = if ft.is_file() || ft.is_block_device() {
        None
    } else if ft.is_fifo() {
        Some(FileType::Fifo)
    } else if ft.is_socket() {
        Some(FileType::Socket)
    } else if ft.is_char_device() {
        Some(FileType::CharDevice)
    } else if ft.is_dir() {
        Some(FileType::Directory)
    } else {
        Some(FileType::Other)
    };
    if let Some(what) = what {
        return Err(NotAFile {
            path: path.to_path_buf(),
            what,
        }
        .into_io());
    }
    clear_nonblock(&file)?;
    // A block device's inode says 0 bytes: its size is where its end is.
    let len = if ft.is_block_device() {
        file.seek(SeekFrom::End(0))?
    } else {
        file.metadata()?.len()
    };
    Ok((file, len))
}

fn clear_nonblock(file: &File) -> io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with commands that take an int argument.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// `e` with `path` in front of its message, unless it already names the file (a
/// [`NotAFile`], kept as it is so that it can still be found in the chain).
pub fn name_error(path: &Path, e: io::Error) -> io::Error {
    if e.get_ref().is_some_and(|inner| inner.is::<NotAFile>()) {
        return e;
    }
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn refused(path: &Path) -> NotAFile {
        let e = open_image_file(path).unwrap_err();
        NotAFile::find(&e)
            .unwrap_or_else(|| panic!("{}: {e}", path.display()))
            .clone()
    }

    #[test]
    fn refuses_what_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f.iso");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let t = Instant::now();
        assert_eq!(refused(&fifo).what, FileType::Fifo);
        // Opening did not wait for a writer (it would wait forever).
        assert!(t.elapsed() < Duration::from_secs(30));
        assert_eq!(refused(Path::new("/dev/zero")).what, FileType::CharDevice);
        assert_eq!(refused(dir.path()).what, FileType::Directory);
        assert_eq!(refused(Path::new("/")).what, FileType::Directory);
        let sock = dir.path().join("s");
        let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert_eq!(refused(&sock).what, FileType::Socket);
        let msg = open_image_file(&fifo).unwrap_err().to_string();
        assert!(msg.contains("f.iso is a FIFO"), "{msg}");
    }

    #[test]
    fn reads_regular_files_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.iso");
        std::fs::write(&p, vec![7u8; 4096]).unwrap();
        let (f, len) = open_image_file(&p).unwrap();
        assert_eq!(len, 4096);
        // SAFETY: F_GETFL on a descriptor we own.
        let flags = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(flags & libc::O_NONBLOCK, 0);
    }
}
