//! READ replies by `splice(2)`, straight from the image file: for bytes stored as they read
//! in a plain file (an ISO image; [`spindle_fs::FileSystem::content_run`]).
//!
//! An ordinary reply costs two copies: `pread` of the image into our buffer, then the
//! kernel's copy of that buffer into the reader's pages (or the mount's page cache), one
//! 4 KiB page at a time, pinning each page of our buffer. Spliced, the image's own
//! page-cache pages go into a pipe by reference (`splice` file → pipe) behind the 16-byte
//! reply header, and `splice` pipe → `/dev/fuse` copies them once, into the reader's
//! pages: the same single copy a `read` of the image file makes.
//!
//! fuser 0.18 has no splice support (cberner/fuser#18, closed as not planned), so we write
//! the reply ourselves, on a duplicate of the session's `/dev/fuse` descriptor. The kernel
//! matches a reply to its request on the descriptor the request was read from, so this
//! needs the session threads to share one descriptor (no `clone_fd`), and it needs the
//! descriptor, which we only hold when we called `mount(2)` ourselves (as root). fuser's
//! reply object must still be consumed: answering it sends a second reply for the same
//! request id, which the kernel refuses (`ENOENT`: no such request any more; ids are never
//! reused) and fuser only reports through the `log` crate.
//!
//! The whole reply must be in the pipe for one `splice` to `/dev/fuse`: header, plus data
//! spanning up to one page more than its length when it starts inside a page. A pipe holds
//! `pipe-max-size` (1 MiB, 256 pages) without CAP_SYS_RESOURCE, so the mount's `max_read`
//! is set to [`Splicer::max_data`] (1016 KiB then: 254 pages) and READ requests never
//! outgrow the pipe.

use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const PAGE: usize = 4096;

/// The largest READ the kernel sends (`max_pages_limit` 256 pages).
const MAX_READ: usize = 1 << 20;

struct Pipe {
    r: OwnedFd,
    w: OwnedFd,
}

/// A pipe of `bytes` capacity (`F_SETPIPE_SZ`); `None` when the kernel will not make one.
fn pipe(bytes: usize) -> io::Result<Pipe> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded: both descriptors are open and ours alone.
    let p = unsafe {
        Pipe {
            r: OwnedFd::from_raw_fd(fds[0]),
            w: OwnedFd::from_raw_fd(fds[1]),
        }
    };
    // SAFETY: F_SETPIPE_SZ on our own pipe.
    let got = unsafe { libc::fcntl(p.w.as_raw_fd(), libc::F_SETPIPE_SZ, bytes as libc::c_int) };
    if got < 0 {
        return Err(io::Error::last_os_error());
    }
    if (got as usize) < bytes {
        return Err(io::Error::other(format!(
            "pipe of {got} bytes, not {bytes}"
        )));
    }
    Ok(p)
}

thread_local! {
    /// Each session thread's pipe (made at its first spliced reply).
    static PIPE: RefCell<Option<Pipe>> = const { RefCell::new(None) };
}

/// The reply half of one mount's `/dev/fuse` connection.
pub(crate) struct Splicer {
    fuse: OwnedFd,
    pipe_bytes: usize,
}

/// Why a spliced reply was not made: the caller answers the request the ordinary way.
#[derive(Debug)]
pub(crate) struct NotSent(pub io::Error);

impl Splicer {
    /// The size of pipe this process may make, and so the data a spliced reply can carry:
    /// `None` when pipes are too small to be worth it. Decided before mounting (it sets
    /// `max_read`).
    pub(crate) fn probe() -> Option<(usize, usize)> {
        for bytes in [2 * MAX_READ, MAX_READ] {
            if pipe(bytes).is_ok() {
                // One page for the header, one for data that starts inside a page.
                let data = (bytes / PAGE - 2) * PAGE;
                return Some((bytes, data.min(MAX_READ)));
            }
        }
        None
    }

    /// `fuse`: a duplicate of the session's descriptor (shared by every session thread).
    pub(crate) fn new(fuse: OwnedFd, pipe_bytes: usize) -> Splicer {
        Splicer { fuse, pipe_bytes }
    }

    /// Answers READ request `unique` with `len` bytes of `file` at `offset`. On `Err` the
    /// caller answers the request the ordinary way (should the kernel have closed it after
    /// all, that answer is refused, which is harmless).
    pub(crate) fn reply(
        &self,
        unique: u64,
        file: &File,
        offset: u64,
        len: usize,
    ) -> Result<(), NotSent> {
        let spans = (offset as usize % PAGE + len).div_ceil(PAGE);
        if spans + 1 > self.pipe_bytes / PAGE {
            return Err(NotSent(io::Error::other(format!(
                "{len} bytes do not fit the pipe"
            ))));
        }
        PIPE.with(|cell| {
            let mut cell = cell.borrow_mut();
            if cell.is_none() {
                *cell = Some(pipe(self.pipe_bytes).map_err(NotSent)?);
            }
            let Some(p) = cell.as_ref() else {
                unreachable!()
            };
            let r = self.send(p, unique, file, offset, len);
            if r.is_err() {
                // Whatever is left in the pipe belongs to no reply: start the next afresh.
                *cell = None;
            }
            r
        })
    }

    fn send(
        &self,
        p: &Pipe,
        unique: u64,
        file: &File,
        offset: u64,
        len: usize,
    ) -> Result<(), NotSent> {
        let total = 16 + len;
        // struct fuse_out_header { u32 len; i32 error; u64 unique; }
        let mut hdr = [0u8; 16];
        hdr[0..4].copy_from_slice(&(total as u32).to_ne_bytes());
        hdr[8..16].copy_from_slice(&unique.to_ne_bytes());
        // SAFETY: writes 16 bytes from a live buffer to our pipe.
        if unsafe { libc::write(p.w.as_raw_fd(), hdr.as_ptr().cast(), 16) } != 16 {
            return Err(NotSent(io::Error::last_os_error()));
        }
        let mut off = offset as libc::loff_t;
        let mut left = len;
        while left > 0 {
            // SAFETY: splice between two open descriptors; `off` is our own variable.
            let n = unsafe {
                libc::splice(
                    file.as_raw_fd(),
                    &mut off,
                    p.w.as_raw_fd(),
                    std::ptr::null_mut(),
                    left,
                    libc::SPLICE_F_NONBLOCK,
                )
            };
            match n {
                // The image ends early (truncated under us): the ordinary read says so.
                0 => return Err(NotSent(io::Error::from(io::ErrorKind::UnexpectedEof))),
                n if n < 0 => return Err(NotSent(io::Error::last_os_error())),
                n => left -= n as usize,
            }
        }
        // SAFETY: as above; the pipe holds exactly the reply.
        let n = unsafe {
            libc::splice(
                p.r.as_raw_fd(),
                std::ptr::null_mut(),
                self.fuse.as_raw_fd(),
                std::ptr::null_mut(),
                total,
                0,
            )
        };
        if n != total as isize {
            return Err(NotSent(if n < 0 {
                io::Error::last_os_error()
            } else {
                io::Error::other(format!("{n} of {total} bytes"))
            }));
        }
        Ok(())
    }
}
