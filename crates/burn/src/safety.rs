//! The checks between a device name and a write. Order matters only for which reason is
//! reported first; every check runs before anything is opened for writing.

use crate::backing::{self, Reads};
use crate::device::{self, Device};
use crate::error::{BurnError, Result};
use crate::mounts;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// What the user allowed.
#[derive(Clone, Copy, Debug, Default)]
pub struct Policy {
    /// Write fixed (non-removable, non-USB) disks, loop devices included.
    pub allow_fixed: bool,
    /// Unmount the target's mounted partitions instead of refusing.
    pub unmount: bool,
}

/// Refuses a target the policy does not allow. `need` is the image size in bytes and `reads`
/// the files the source reads (a target that holds one, is stacked on a disk holding one or
/// is a loop device backed by one is refused whatever the policy: [`backing::check`]).
pub fn check(d: &Device, need: u64, reads: &Reads, policy: Policy) -> Result<()> {
    let path = d.path.clone();
    if let Some(what) = &d.system {
        return Err(BurnError::SystemDisk {
            path,
            what: what.clone(),
        });
    }
    backing::check(&d.path, &d.name, reads)?;
    if d.read_only {
        return Err(BurnError::ReadOnly { path });
    }
    if !policy.allow_fixed && !d.is_removable_kind() {
        return Err(BurnError::Fixed {
            path,
            transport: d.transport.name().to_string(),
        });
    }
    if d.size < need {
        return Err(BurnError::TooSmall {
            path,
            size: d.size,
            need,
        });
    }
    let swaps = mounts::swap_devices();
    let mut devs = vec![d.dev];
    devs.extend(
        d.partitions
            .iter()
            .filter_map(|p| mounts::dev_of_name(&p.name)),
    );
    if devs.iter().any(|x| swaps.contains(x)) {
        return Err(BurnError::Swap { path });
    }
    let holders = d.all_holders();
    if !holders.is_empty() {
        return Err(BurnError::Held { path, holders });
    }
    let mounted = d.all_mounts();
    if !mounted.is_empty() && !policy.unmount {
        return Err(BurnError::Mounted {
            path,
            mounts: mounted,
        });
    }
    Ok(())
}

/// Unmounts every filesystem on the disk and its partitions (deepest mount points first),
/// then reads the device again and fails if anything is still mounted. Fails without
/// unmounting anything when the disk is no longer the one `d` describes.
pub fn unmount_all(d: &Device) -> Result<Device> {
    let now = device::open_device(&d.path)?;
    if let Some(what) = device::changed(d, &now) {
        return Err(BurnError::Changed {
            path: d.path.clone(),
            what,
        });
    }
    let mut points: Vec<String> = d.mountpoints.clone();
    for p in &d.partitions {
        points.extend(p.mountpoints.iter().cloned());
    }
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for mp in points {
        let c = CString::new(mp.as_bytes()).map_err(|_| BurnError::Unmount {
            path: d.path.clone(),
            mountpoint: mp.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL in mount point"),
        })?;
        // SAFETY: a valid NUL-terminated path.
        if unsafe { libc::umount2(c.as_ptr(), 0) } != 0 {
            return Err(BurnError::Unmount {
                path: d.path.clone(),
                mountpoint: mp,
                source: std::io::Error::last_os_error(),
            });
        }
    }
    let again = device::open_device(&d.path)?;
    if let Some(what) = device::changed(d, &again) {
        return Err(BurnError::Changed {
            path: d.path.clone(),
            what,
        });
    }
    let left = again.all_mounts();
    if !left.is_empty() {
        return Err(BurnError::Mounted {
            path: d.path.clone(),
            mounts: left,
        });
    }
    Ok(again)
}

/// Opens the whole disk for reading and writing, exclusively (`O_EXCL` on a block device
/// fails while anything has it mounted or claimed), with `O_DIRECT` when the device allows.
/// Returns the descriptor and whether it is direct.
pub fn open_exclusive(d: &Device) -> Result<(OwnedFd, bool)> {
    let c = CString::new(d.path.as_os_str().as_encoded_bytes()).map_err(|_| {
        BurnError::NotBlockDevice {
            path: d.path.clone(),
        }
    })?;
    let base = libc::O_RDWR | libc::O_EXCL | libc::O_CLOEXEC;
    for flags in [base | libc::O_DIRECT, base] {
        // SAFETY: a valid NUL-terminated path; the result is checked.
        let fd = unsafe { libc::open(c.as_ptr(), flags) };
        if fd >= 0 {
            // SAFETY: a descriptor we just opened and own.
            return Ok((
                unsafe { OwnedFd::from_raw_fd(fd) },
                flags & libc::O_DIRECT != 0,
            ));
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINVAL) if flags & libc::O_DIRECT != 0 => continue,
            Some(libc::EBUSY) => {
                return Err(BurnError::Busy {
                    path: d.path.clone(),
                });
            }
            Some(libc::EROFS) => {
                return Err(BurnError::ReadOnly {
                    path: d.path.clone(),
                });
            }
            // The kernel answers EACCES both for a read-only disk and for a user who may not
            // write it: the disk's `ro` flag tells which.
            Some(libc::EACCES) | Some(libc::EPERM) => {
                let ro = std::fs::read_to_string(mounts::sys_dir(&d.name).join("ro"))
                    .is_ok_and(|s| s.trim() == "1");
                return Err(if ro {
                    BurnError::ReadOnly {
                        path: d.path.clone(),
                    }
                } else {
                    BurnError::Permission {
                        path: d.path.clone(),
                        source: e,
                    }
                });
            }
            _ => return Err(BurnError::io(&d.path, "opening for writing", e)),
        }
    }
    unreachable!("the buffered open either succeeds or returns")
}

/// `BLKGETDISKSEQ`: `_IOR(0x12, 128, __u64)`.
const BLKGETDISKSEQ: libc::c_ulong = 0x8008_1280;

/// Fails unless the open descriptor is the disk `d` was read as: the same device number,
/// the same `diskseq` (asked of the descriptor itself, so a stick swapped under the same name
/// between the checks and the open is caught) and the same identity in sysfs now. Run after
/// [`open_exclusive`]: from then on the descriptor pins that disk, and nothing can mount it.
pub fn still_same(fd: &OwnedFd, d: &Device) -> Result<()> {
    let changed = |what: String| BurnError::Changed {
        path: d.path.clone(),
        what,
    };
    // SAFETY: fstat on a descriptor we own into a zeroed struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open for the call; st is a valid stat the call fills.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(BurnError::io(
            &d.path,
            "checking the opened device",
            std::io::Error::last_os_error(),
        ));
    }
    let dev = mounts::split_dev(st.st_rdev);
    if dev != d.dev {
        return Err(changed(format!(
            "device number was {:?}, is now {dev:?}",
            d.dev
        )));
    }
    let mut seq: u64 = 0;
    // SAFETY: BLKGETDISKSEQ writes one u64 into `seq`; older kernels fail with ENOTTY.
    if unsafe { libc::ioctl(fd.as_raw_fd(), BLKGETDISKSEQ as _, &mut seq) } == 0
        && let Some(was) = d.diskseq
        && was != seq
    {
        return Err(changed(format!("diskseq was {was}, is now {seq}")));
    }
    let mounts = mounts::mounts();
    let system = mounts::system_disks(&mounts);
    let now = device::read_device(&d.name, &mounts, &system)
        .ok_or_else(|| changed("it is gone from /sys/block".into()))?;
    if let Some(what) = device::changed(d, &now) {
        return Err(changed(what));
    }
    Ok(())
}
