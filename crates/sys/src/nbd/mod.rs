//! The kernel's nbd driver: putting connected NBD sockets on `/dev/nbdN` ([`attach`]) and
//! taking them off ([`detach`]).
//!
//! Two interfaces, both from `linux/nbd*.h`:
//! * the generic-netlink family `nbd` (Linux 4.12+): `NBD_CMD_CONNECT` hands the sockets to
//!   the kernel, which owns them from then on, so nothing stays running; the kernel can pick
//!   a free device, and takes several sockets (multi-connection);
//! * the older ioctls: `NBD_SET_*` configure the device and `NBD_DO_IT` serves it until the
//!   disconnect, so a forked child process stays in `NBD_DO_IT` for as long as the device is
//!   attached. One socket only.
//!
//! What the device shows is read from sysfs (`/sys/block/nbdN/{pid,backend,holders}`); who
//! has it mounted, from mountinfo. The NBD handshake itself (before the sockets are handed
//! over) is the caller's: `spindle_nbd::client`.

mod attach;
mod ioctl;
mod netlink;

pub use attach::{Attach, Attached, Via, attach, detach};

use std::io;
use std::path::{Path, PathBuf};

/// Why an nbd device could not be attached or detached.
#[derive(Debug, thiserror::Error)]
pub enum NbdError {
    /// Neither interface is there: the nbd module is not loaded (and `modprobe` did not load
    /// it), or the kernel has none.
    #[error(
        "the kernel has no nbd driver: load it with `modprobe nbd` (the nbd module; not every kernel or container has it)"
    )]
    NoDriver,
    /// Every nbd device is attached already (the ioctls cannot ask the kernel for a new one).
    #[error(
        "every /dev/nbdN is attached (load the nbd module with more devices: modprobe nbd nbds_max=N)"
    )]
    NoFreeDevice,
    /// No such nbd device (`source`: the kernel's answer, when it gave one).
    #[error("{dev}: no such nbd device{}", source.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    NoSuchDevice {
        /// The device as shown (`/dev/nbdN`).
        dev: String,
        /// The kernel's error.
        source: Option<io::Error>,
    },
    /// The device is attached already.
    #[error("{dev} is busy: it is already attached")]
    Busy {
        /// The device as shown.
        dev: String,
    },
    /// [`detach`] of a device nothing is attached to.
    #[error("{dev} is not attached")]
    NotAttached {
        /// The device as shown.
        dev: String,
    },
    /// [`detach`] refused: the device or a partition of it is mounted or held.
    #[error("{dev} is busy: {}", users.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    InUse {
        /// The device as shown.
        dev: String,
        /// Its mounts and holders.
        users: Vec<DeviceUser>,
    },
    /// The kernel refused for want of privilege (`CAP_SYS_ADMIN`).
    #[error("{dev}: {op} needs root (CAP_SYS_ADMIN): {source}")]
    Permission {
        /// The device as shown (`an nbd device` when the kernel was to pick one).
        dev: String,
        /// The request (`NBD_CMD_CONNECT`, `NBD ioctls`...).
        op: &'static str,
        /// The kernel's error.
        source: io::Error,
    },
    /// Any other refusal of the kernel.
    #[error("{dev}: {op}: {source}")]
    Kernel {
        /// The device as shown.
        dev: String,
        /// The request.
        op: &'static str,
        /// The kernel's error.
        source: io::Error,
    },
    /// The ioctls take one socket: several need the netlink interface.
    #[error("several connections need the netlink interface (the ioctls take one socket)")]
    OneSocketOnly,
    /// The background `NBD_DO_IT` did not show the device attached in time.
    #[error("{dev}: the kernel did not start the device (NBD_DO_IT) within 10 s")]
    NotStarted {
        /// The device as shown.
        dev: String,
    },
    /// The device still shows attached after the disconnect.
    #[error("{dev}: the kernel still shows it attached 10 s after the disconnect")]
    StillAttached {
        /// The device as shown.
        dev: String,
    },
    /// A socket of the netlink family could not be opened or read.
    #[error("opening a generic-netlink socket: {0}")]
    Netlink(#[source] io::Error),
    /// `/sys/block` could not be listed.
    #[error("/sys/block: {0}")]
    Sysfs(#[source] io::Error),
}

impl NbdError {
    /// Sorts a kernel error of request `op` on device `dev` into the variants above.
    fn kernel(e: io::Error, dev: &str, op: &'static str) -> NbdError {
        let dev = dev.to_string();
        match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => NbdError::Permission { dev, op, source: e },
            Some(libc::EBUSY) => NbdError::Busy { dev },
            Some(libc::ENOENT) | Some(libc::ENXIO) | Some(libc::ENODEV) => NbdError::NoSuchDevice {
                dev,
                source: Some(e),
            },
            _ => NbdError::Kernel { dev, op, source: e },
        }
    }
}

/// What keeps an nbd device in use ([`users`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceUser {
    /// The device, or a partition of it (`source`), is mounted at `at`.
    Mounted {
        /// The device or partition node as mountinfo names it.
        source: String,
        /// Where it is mounted.
        at: PathBuf,
    },
    /// A device stacked on it (`/sys/block/nbdN/holders/`: device mapper, RAID).
    Held {
        /// The device node (`/dev/nbdN`).
        dev: String,
        /// The holder's kernel name (`dm-0`).
        by: String,
    },
}

impl std::fmt::Display for DeviceUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceUser::Mounted { source, at } => {
                write!(f, "{source} is mounted on {}", at.display())
            }
            DeviceUser::Held { dev, by } => write!(f, "{dev} is held by {by}"),
        }
    }
}

/// `/dev/nbd<index>`.
pub fn device_path(index: u32) -> PathBuf {
    PathBuf::from(format!("/dev/nbd{index}"))
}

/// The index N of `/dev/nbdN` (also accepts `nbdN`); `None` for any other name (a partition
/// `nbd1p1` included).
pub fn parse_device(dev: &Path) -> Option<u32> {
    let name = dev.to_str()?;
    let digits = name
        .strip_prefix("/dev/nbd")
        .or_else(|| name.strip_prefix("nbd"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn sys(index: u32) -> PathBuf {
    PathBuf::from(format!("/sys/block/nbd{index}"))
}

/// True when the nbd module is loaded (`/sys/module/nbd`).
pub fn driver_loaded() -> bool {
    Path::new("/sys/module/nbd").exists()
}

/// True when the kernel has the device `/dev/nbd<index>` (in sysfs).
pub fn exists(index: u32) -> bool {
    sys(index).exists()
}

/// A device is attached when the kernel shows a serving pid for it (both interfaces make
/// one).
pub fn is_attached(index: u32) -> bool {
    sys(index).join("pid").exists()
}

/// The backend identifier an attached device shows (`/sys/block/nbdN/backend`, Linux 5.18+:
/// what [`Attach::backend`] set).
pub fn backend(index: u32) -> Option<String> {
    let b = std::fs::read_to_string(sys(index).join("backend")).ok()?;
    Some(b.trim_end().to_string())
}

/// The indices N of every /dev/nbdN the kernel has, in order.
pub fn devices() -> io::Result<Vec<u32>> {
    let mut found: Vec<u32> = std::fs::read_dir("/sys/block")?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("nbd"))
                .and_then(|d| d.parse().ok())
        })
        .collect();
    found.sort_unstable();
    Ok(found)
}

/// The mounts (of the device or its partitions `nbdNpM`, in `mounts`) and holders of
/// `/dev/nbd<index>`.
fn users_in(index: u32, mounts: &[crate::mountinfo::MountInfo]) -> Vec<DeviceUser> {
    let dev = device_path(index).display().to_string();
    let mut out: Vec<DeviceUser> = mounts
        .iter()
        .filter(|m| {
            m.source
                .strip_prefix(&dev)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('p'))
        })
        .map(|m| DeviceUser::Mounted {
            source: m.source.clone(),
            at: m.mount_point.clone(),
        })
        .collect();
    for h in std::fs::read_dir(sys(index).join("holders"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
    {
        out.push(DeviceUser::Held {
            dev: dev.clone(),
            by: h.file_name().to_string_lossy().into_owned(),
        });
    }
    out
}

/// Where `/dev/nbd<index>` or one of its partitions is mounted, and what holds it.
pub fn users(index: u32) -> Vec<DeviceUser> {
    users_in(index, &crate::mountinfo::mounts())
}

/// The kernel block size for an export: its preferred size when the kernel can use it (a
/// power of two from 512 to 4096), else its minimum when that is one, else 512 (a raw CD
/// export's 2352 is not one).
pub fn block_size(preferred: u32, min: u32) -> u64 {
    let ok = |b: u32| b.is_power_of_two() && (512..=4096).contains(&b);
    if ok(preferred) {
        u64::from(preferred)
    } else if ok(min) {
        u64::from(min)
    } else {
        512
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse() {
        assert_eq!(parse_device(Path::new("/dev/nbd0")), Some(0));
        assert_eq!(parse_device(Path::new("nbd12")), Some(12));
        assert_eq!(parse_device(Path::new("/dev/sda")), None);
        assert_eq!(parse_device(Path::new("/dev/nbd1p1")), None);
        assert_eq!(parse_device(Path::new("/dev/nbd")), None);
        assert_eq!(parse_device(Path::new("/dev/nbd+1")), None);
        assert_eq!(device_path(3), Path::new("/dev/nbd3"));
    }

    #[test]
    fn block_sizes_are_ones_the_kernel_takes() {
        assert_eq!(block_size(2048, 1), 2048);
        assert_eq!(block_size(2352, 1), 512);
        assert_eq!(block_size(65536, 4096), 4096);
    }

    #[test]
    fn users_are_the_device_and_its_partitions_only() {
        let m = crate::mountinfo::parse_mountinfo(
            "40 1 43:0 / /mnt/a rw - iso9660 /dev/nbd1 ro\n\
             41 1 43:1 / /mnt/with\\040space rw - vfat /dev/nbd1p1 rw\n\
             42 1 43:16 / /mnt/c rw - ext4 /dev/nbd10 rw\n\
             43 1 43:32 / /mnt/d rw - ext4 /dev/nbd2 rw\n",
        );
        let u = users_in(1, &m);
        assert_eq!(
            u.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "/dev/nbd1 is mounted on /mnt/a",
                "/dev/nbd1p1 is mounted on /mnt/with space",
            ]
        );
    }

    #[test]
    fn kernel_errors_are_sorted() {
        let k = |n| NbdError::kernel(io::Error::from_raw_os_error(n), "/dev/nbd3", "NBD ioctls");
        assert!(matches!(k(libc::EPERM), NbdError::Permission { .. }));
        assert_eq!(
            k(libc::EBUSY).to_string(),
            "/dev/nbd3 is busy: it is already attached"
        );
        assert!(
            k(libc::ENODEV)
                .to_string()
                .starts_with("/dev/nbd3: no such nbd device: ")
        );
        assert!(matches!(k(libc::EIO), NbdError::Kernel { .. }));
    }
}
