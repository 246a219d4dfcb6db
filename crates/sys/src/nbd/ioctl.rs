//! The kernel nbd driver's older ioctl interface (linux/nbd.h), for kernels without the netlink
//! family: NBD_SET_* configure the device and NBD_DO_IT serves it until disconnect, so a
//! background child process has to stay in NBD_DO_IT for as long as the device is attached.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::path::Path;

const fn io_nr(nr: u64) -> u64 {
    (0xab << 8) | nr
}
const NBD_SET_SOCK: u64 = io_nr(0);
const NBD_SET_BLKSIZE: u64 = io_nr(1);
const NBD_SET_SIZE: u64 = io_nr(2);
const NBD_DO_IT: u64 = io_nr(3);
const NBD_CLEAR_SOCK: u64 = io_nr(4);
const NBD_CLEAR_QUE: u64 = io_nr(5);
const NBD_DISCONNECT: u64 = io_nr(8);
const NBD_SET_FLAGS: u64 = io_nr(10);

fn ioctl(fd: RawFd, req: u64, arg: u64) -> io::Result<()> {
    // SAFETY: the nbd ioctls take an integer argument (no pointers).
    if unsafe { libc::ioctl(fd, req as _, arg as libc::c_ulong) } < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn open(dev: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new().read(true).write(true).open(dev)
}

/// Configures `dev` for `socket` and forks a child that stays in NBD_DO_IT; returns its pid.
pub(crate) fn connect(
    dev: &Path,
    socket: BorrowedFd<'_>,
    size: u64,
    block_size: u64,
    flags: u64,
) -> io::Result<i32> {
    let file = open(dev)?;
    let fd = file.as_raw_fd();
    ioctl(fd, NBD_SET_BLKSIZE, block_size)?;
    ioctl(fd, NBD_SET_SIZE, size)?;
    ioctl(fd, NBD_SET_FLAGS, flags)?;
    ioctl(fd, NBD_SET_SOCK, socket.as_raw_fd() as u64)?;
    // SAFETY: the child only makes system calls (setsid, ioctl, _exit) before it exits: nothing
    // that needs the parent's locks or threads.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => {
            let e = io::Error::last_os_error();
            let _ = ioctl(fd, NBD_CLEAR_SOCK, 0);
            Err(e)
        }
        0 => {
            // SAFETY: as above; the child never returns to Rust code.
            unsafe {
                libc::setsid();
                let rc = libc::ioctl(fd, NBD_DO_IT as _, 0 as libc::c_ulong);
                libc::ioctl(fd, NBD_CLEAR_QUE as _, 0 as libc::c_ulong);
                libc::ioctl(fd, NBD_CLEAR_SOCK as _, 0 as libc::c_ulong);
                libc::_exit(if rc < 0 { 1 } else { 0 });
            }
        }
        child => Ok(child),
    }
}

/// NBD_DISCONNECT on `dev` (works on netlink-connected devices too).
pub(crate) fn disconnect(dev: &Path) -> io::Result<()> {
    let file = open(dev)?;
    ioctl(file.as_raw_fd(), NBD_DISCONNECT, 0)
}
