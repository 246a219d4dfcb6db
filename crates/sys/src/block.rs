//! Block and loop device ioctls (`linux/fs.h`, `linux/loop.h`) behind safe functions.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// A device number as `(major, minor)`.
pub type DevNum = (u32, u32);

/// `(major, minor)` of a `dev_t`.
pub fn split_dev(dev: u64) -> DevNum {
    (libc::major(dev), libc::minor(dev))
}

/// `BLKROSET`: `_IO(0x12, 93)`.
const BLKROSET: libc::c_ulong = 0x125d;
/// `BLKGETDISKSEQ`: `_IOR(0x12, 128, __u64)`.
const BLKGETDISKSEQ: libc::c_ulong = 0x8008_1280;
/// `LOOP_GET_STATUS64` (`linux/loop.h`).
const LOOP_GET_STATUS64: libc::c_ulong = 0x4C05;

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The device number `fd` refers to (`st_rdev`; `(0, 0)` for a file that is no device).
pub fn device_number(fd: BorrowedFd<'_>) -> io::Result<DevNum> {
    let st = rustix::fs::fstat(fd)?;
    Ok(split_dev(st.st_rdev))
}

/// The disk sequence number of the block device `fd` (`BLKGETDISKSEQ`, Linux 5.15+; older
/// kernels fail with `ENOTTY`): it changes whenever the medium behind a device node does.
pub fn disk_seq(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let mut seq: u64 = 0;
    // SAFETY: BLKGETDISKSEQ writes one u64 through the pointer, valid for the call.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), BLKGETDISKSEQ as _, &raw mut seq) })?;
    Ok(seq)
}

/// Makes the block device `fd` read-only, or writable again (`BLKROSET`; needs
/// `CAP_SYS_ADMIN`).
pub fn set_read_only(fd: BorrowedFd<'_>, read_only: bool) -> io::Result<()> {
    let v: libc::c_int = read_only.into();
    // SAFETY: BLKROSET reads one int through the pointer, valid for the call.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), BLKROSET as _, &raw const v) })
}

/// `struct loop_info64` (`linux/loop.h`).
#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

/// What the kernel says backs a bound loop device ([`loop_status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopStatus {
    /// The device of the filesystem holding the backing file.
    pub backing_dev: DevNum,
    /// The inode of the backing file.
    pub backing_inode: u64,
    /// The backing file's own device number when it is a device node (a nested loop or a
    /// partition), else 0.
    pub backing_rdev: u64,
}

/// `LOOP_GET_STATUS64` of the loop device `fd`: which file backs it, by device and inode of
/// the open file (not the name it had when it was attached). `ENXIO` when it is unbound.
pub fn loop_status(fd: BorrowedFd<'_>) -> io::Result<LoopStatus> {
    let mut info = LoopInfo64 {
        lo_device: 0,
        lo_inode: 0,
        lo_rdevice: 0,
        lo_offset: 0,
        lo_sizelimit: 0,
        lo_number: 0,
        lo_encrypt_type: 0,
        lo_encrypt_key_size: 0,
        lo_flags: 0,
        lo_file_name: [0; 64],
        lo_crypt_name: [0; 64],
        lo_encrypt_key: [0; 32],
        lo_init: [0; 2],
    };
    // SAFETY: LOOP_GET_STATUS64 fills one loop_info64, whose layout LoopInfo64 repeats, through
    // a pointer valid for the call.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), LOOP_GET_STATUS64 as _, &raw mut info) })?;
    Ok(LoopStatus {
        backing_dev: split_dev(info.lo_device),
        backing_inode: info.lo_inode,
        backing_rdev: info.lo_rdevice,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn ioctls_on_a_plain_file_are_refused_not_misread() {
        let f = tempfile::tempfile().unwrap();
        assert_eq!(device_number(f.as_fd()).unwrap(), (0, 0));
        for e in [
            disk_seq(f.as_fd()).unwrap_err(),
            set_read_only(f.as_fd(), true).unwrap_err(),
            loop_status(f.as_fd()).unwrap_err(),
        ] {
            assert_eq!(e.raw_os_error(), Some(libc::ENOTTY), "{e}");
        }
    }

    #[test]
    fn a_device_node_has_its_number() {
        let null = std::fs::File::open("/dev/null").unwrap();
        assert_eq!(device_number(null.as_fd()).unwrap(), (1, 3));
        assert_eq!(split_dev(libc::makedev(259, 65536)), (259, 65536));
    }

    /// A loop device attached with losetup(8) (as root; the burn tests use them too).
    #[test]
    fn a_loop_device_reports_its_backing_file_and_takes_read_only() {
        if rustix::process::geteuid().as_raw() != 0 {
            return;
        }
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("img");
        std::fs::File::create(&img)
            .unwrap()
            .set_len(1 << 20)
            .unwrap();
        let out = std::process::Command::new("losetup")
            .args(["--find", "--show"])
            .arg(&img)
            .output()
            .expect("losetup runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dev = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let f = std::fs::File::open(&dev).unwrap();
        let got = (loop_status(f.as_fd()), set_read_only(f.as_fd(), true));
        let ro = std::fs::read_to_string(format!(
            "/sys/class/block/{}/ro",
            dev.trim_start_matches("/dev/")
        ));
        let back = set_read_only(f.as_fd(), false);
        let num = device_number(f.as_fd());
        let seq = disk_seq(f.as_fd());
        drop(f);
        let _ = std::process::Command::new("losetup")
            .args(["-d", &dev])
            .status();
        let m = std::fs::metadata(&img).unwrap();
        let s = got.0.unwrap();
        assert_eq!(s.backing_dev, split_dev(m.dev()));
        assert_eq!(s.backing_inode, m.ino());
        assert_eq!(s.backing_rdev, 0);
        got.1.unwrap();
        assert_eq!(ro.unwrap().trim(), "1");
        back.unwrap();
        assert_eq!(num.unwrap().0, 7, "loop devices are major 7");
        assert!(seq.unwrap() > 0);
    }
}
