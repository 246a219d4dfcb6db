//! The checks between a device name and a write. Order matters only for which reason is
//! reported first; every check runs before anything is opened for writing.

use crate::backing::{self, Reads};
use crate::device::{self, Device};
use crate::error::{BurnError, Result};
use crate::mounts;
use std::os::fd::{AsFd, OwnedFd};

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
        if let Err(source) = spindle_sys::mount::unmount(std::path::Path::new(&mp)) {
            return Err(BurnError::Unmount {
                path: d.path.clone(),
                mountpoint: mp,
                source,
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
    use std::os::unix::fs::OpenOptionsExt;
    for direct in [true, false] {
        let flags = libc::O_EXCL | if direct { libc::O_DIRECT } else { 0 };
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(flags)
            .open(&d.path);
        let e = match opened {
            Ok(f) => return Ok((OwnedFd::from(f), direct)),
            Err(e) => e,
        };
        match e.raw_os_error() {
            Some(libc::EINVAL) if direct => continue,
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

/// Fails unless the open descriptor is the disk `d` was read as: the same device number,
/// the same `diskseq` (asked of the descriptor itself, so a stick swapped under the same name
/// between the checks and the open is caught) and the same identity in sysfs now. Run after
/// [`open_exclusive`]: from then on the descriptor pins that disk, and nothing can mount it.
pub fn still_same(fd: &OwnedFd, d: &Device) -> Result<()> {
    let changed = |what: String| BurnError::Changed {
        path: d.path.clone(),
        what,
    };
    let dev = spindle_sys::block::device_number(fd.as_fd())
        .map_err(|e| BurnError::io(&d.path, "checking the opened device", e))?;
    if dev != d.dev {
        return Err(changed(format!(
            "device number was {:?}, is now {dev:?}",
            d.dev
        )));
    }
    // Older kernels have no BLKGETDISKSEQ (ENOTTY): the other checks stand.
    if let Ok(seq) = spindle_sys::block::disk_seq(fd.as_fd())
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
