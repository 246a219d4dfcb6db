//! Page-cache and writeback control of an open file or device: `O_DIRECT` on and off,
//! `sync_file_range(2)`, `posix_fadvise(DONTNEED)`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Sets or clears `O_DIRECT` on an open descriptor (`fcntl(F_SETFL)`; shared by every
/// descriptor of the same open file description).
pub fn set_direct(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    use rustix::fs::OFlags;
    let fl = rustix::fs::fcntl_getfl(fd)?;
    let want = if on {
        fl | OFlags::DIRECT
    } else {
        fl - OFlags::DIRECT
    };
    if want != fl {
        rustix::fs::fcntl_setfl(fd, want)?;
    }
    Ok(())
}

fn sync_range(fd: BorrowedFd<'_>, off: u64, len: u64, flags: libc::c_uint) -> io::Result<()> {
    let (Ok(off), Ok(len)) = (i64::try_from(off), i64::try_from(len)) else {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    };
    // SAFETY: sync_file_range takes integers only; fd is open for the call.
    if unsafe { libc::sync_file_range(fd.as_raw_fd(), off, len, flags) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Starts writeback of the dirty pages in `off..off + len` without waiting for it
/// (`SYNC_FILE_RANGE_WRITE`).
pub fn start_writeback(fd: BorrowedFd<'_>, off: u64, len: u64) -> io::Result<()> {
    sync_range(fd, off, len, libc::SYNC_FILE_RANGE_WRITE)
}

/// Writes back the dirty pages in `off..off + len` and waits until they are written
/// (`WAIT_BEFORE | WRITE | WAIT_AFTER`): bounds the dirty data a writer leaves behind. Not a
/// durability barrier (no metadata, no device cache flush): `fsync` is.
pub fn wait_writeback(fd: BorrowedFd<'_>, off: u64, len: u64) -> io::Result<()> {
    sync_range(
        fd,
        off,
        len,
        libc::SYNC_FILE_RANGE_WAIT_BEFORE
            | libc::SYNC_FILE_RANGE_WRITE
            | libc::SYNC_FILE_RANGE_WAIT_AFTER,
    )
}

/// Asks the kernel to drop the clean cached pages of the whole file
/// (`posix_fadvise(POSIX_FADV_DONTNEED)`), so that the next read comes from the device.
pub fn drop_cached_pages(fd: BorrowedFd<'_>) -> io::Result<()> {
    rustix::fs::fadvise(fd, 0, None, rustix::fs::Advice::DontNeed).map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileExt;

    #[test]
    fn direct_goes_on_and_off() {
        let dir = tempfile::tempdir().unwrap();
        let f = std::fs::File::create(dir.path().join("f")).unwrap();
        let direct = || {
            rustix::fs::fcntl_getfl(&f)
                .unwrap()
                .contains(rustix::fs::OFlags::DIRECT)
        };
        match set_direct(f.as_fd(), true) {
            // tmpfs and some others refuse O_DIRECT.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            r => {
                r.unwrap();
                assert!(direct());
            }
        }
        set_direct(f.as_fd(), false).unwrap();
        assert!(!direct());
    }

    #[test]
    fn writeback_and_advice_on_a_written_file() {
        let f = tempfile::tempfile().unwrap();
        f.write_all_at(&[7u8; 65536], 0).unwrap();
        start_writeback(f.as_fd(), 0, 65536).unwrap();
        wait_writeback(f.as_fd(), 0, 65536).unwrap();
        drop_cached_pages(f.as_fd()).unwrap();
        let mut b = [0u8; 16];
        f.read_exact_at(&mut b, 4096).unwrap();
        assert_eq!(b, [7u8; 16]);
        let e = start_writeback(f.as_fd(), u64::MAX, 1).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    }
}
