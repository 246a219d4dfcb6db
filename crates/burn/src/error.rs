//! Every way a burn can be refused or fail. Each refusal names the device and the reason, so
//! the message alone tells the user what was protected and how to proceed if they mean it.

use std::path::PathBuf;

fn human(bytes: &u64) -> String {
    crate::human_size(*bytes)
}

fn join(list: &[String]) -> String {
    list.join(", ")
}

/// Why a burn refused a device or failed. Every variant names the device (or the image) in
/// `path`, so its message alone says what was protected or what went wrong.
#[derive(Debug, thiserror::Error)]
pub enum BurnError {
    /// The path exists but is not a block device (a regular file, a character device...).
    #[error("{}: not a block device", path.display())]
    NotBlockDevice {
        /// The path the user named.
        path: PathBuf,
    },
    /// The path is a partition; burns write whole disks only.
    #[error("{}: is partition {partition} of {disk}; burn writes whole disks: name /dev/{disk}", path.display())]
    IsPartition {
        /// The path the user named.
        path: PathBuf,
        /// The partition's kernel name (`sdb1`).
        partition: String,
        /// The kernel name of the disk it belongs to (`sdb`).
        disk: String,
    },
    /// The device is an optical drive (SCSI peripheral type 5), which burn does not write.
    #[error("{}: is an optical drive; spindle burn writes USB sticks and other disks", path.display())]
    Optical {
        /// The device.
        path: PathBuf,
    },
    /// The disk holds the running system (the root, `/boot` or `/usr` filesystem, or active
    /// swap, through any stacking); no option overrides this.
    #[error("{}: holds the running system ({what}); refusing to overwrite it", path.display())]
    SystemDisk {
        /// The device.
        path: PathBuf,
        /// What on it belongs to the system (`the filesystem mounted at /`, `active swap`).
        what: String,
    },
    /// The disk itself holds the image being written; no option overrides this.
    #[error("{}: holds the image being written ({}); refusing to overwrite the source", path.display(), image.display())]
    HoldsImage {
        /// The device.
        path: PathBuf,
        /// The image the user named.
        image: PathBuf,
    },
    /// Writing the disk would reach a file the source reads through a stack of devices
    /// (device mapper, RAID, loop devices and their backing files); no option overrides this.
    #[error("{}: writing it would overwrite the source: {chain} {what}; refusing (no option overrides this)", path.display())]
    OverSource {
        /// The device.
        path: PathBuf,
        /// The devices and files the walk went through, joined by arrows.
        chain: String,
        /// What the last of them is or holds.
        what: String,
    },
    /// What writing the disk would reach could not be determined (a loop device whose
    /// backing file is unknown, a stack deeper than the walk follows), so it is refused.
    #[error("{}: cannot check what writing it would overwrite ({chain}: {what}); refusing", path.display())]
    Unverifiable {
        /// The device.
        path: PathBuf,
        /// The devices the walk went through, joined by arrows.
        chain: String,
        /// Why the walk could not go on.
        what: String,
    },
    /// The disk is read-only (sysfs `ro`, `EROFS`, or `EACCES` on a read-only disk).
    #[error("{}: is read-only; it cannot be written (write-protect switch, or a read-only loop device)", path.display())]
    ReadOnly {
        /// The device.
        path: PathBuf,
    },
    /// Opening the disk for writing was denied (`EACCES`/`EPERM` on a writable disk).
    #[error("{}: permission denied opening it for writing ({source}); run spindle burn as root or as a member of the device's group", path.display())]
    Permission {
        /// The device.
        path: PathBuf,
        /// The error the open returned.
        #[source]
        source: std::io::Error,
    },
    /// The disk is neither removable nor attached by USB or MMC, and the policy does not
    /// allow fixed disks ([`crate::Policy::allow_fixed`]).
    #[error("{}: is a fixed disk ({transport}), not a removable or USB one; pass --allow-fixed if you really mean to overwrite it", path.display())]
    Fixed {
        /// The device.
        path: PathBuf,
        /// How it is attached ([`crate::Transport::name`]).
        transport: String,
    },
    /// The disk is smaller than the image.
    #[error("{}: is too small: it holds {} but the image needs {}", path.display(), human(size), human(need))]
    TooSmall {
        /// The device.
        path: PathBuf,
        /// The disk's size in bytes.
        size: u64,
        /// The image's size in bytes.
        need: u64,
    },
    /// Filesystems on the disk or its partitions are mounted, and the policy does not allow
    /// unmounting them ([`crate::Policy::unmount`]), or some stayed mounted after unmounting.
    #[error("{}: has mounted filesystems ({}); unmount them or pass --unmount", path.display(), join(mounts))]
    Mounted {
        /// The device.
        path: PathBuf,
        /// Each mount as `partition on mountpoint`.
        mounts: Vec<String>,
    },
    /// Something is built on the disk or its partitions (sysfs `holders/`: device mapper,
    /// RAID, loop devices).
    #[error("{}: is in use by {} (device mapper, RAID or another loop device); close those first", path.display(), join(holders))]
    Held {
        /// The device.
        path: PathBuf,
        /// The holders' kernel names (`dm-0`, `md127`).
        holders: Vec<String>,
    },
    /// The disk or one of its partitions is active swap (`/proc/swaps`).
    #[error("{}: is used as swap; run swapoff first", path.display())]
    Swap {
        /// The device.
        path: PathBuf,
    },
    /// Unmounting one of the disk's filesystems failed.
    #[error("{}: unmounting {mountpoint}: {source}", path.display())]
    Unmount {
        /// The device.
        path: PathBuf,
        /// The mount point that would not unmount.
        mountpoint: String,
        /// The error `umount2` returned.
        #[source]
        source: std::io::Error,
    },
    /// The exclusive open (`O_EXCL`) failed with `EBUSY`: something else has the disk open
    /// exclusively or mounted.
    #[error("{}: is busy: another program holds it open exclusively (a mount, an installer, another burn)", path.display())]
    Busy {
        /// The device.
        path: PathBuf,
    },
    /// The disk behind the name is no longer the one that was checked (another device
    /// number, `diskseq`, size or identity); nothing was written.
    #[error("{}: is no longer the disk that was checked and confirmed ({what}: unplugged and replaced, or new media?); nothing was written", path.display())]
    Changed {
        /// The device.
        path: PathBuf,
        /// What differs, as `what was X, is now Y`.
        what: String,
    },
    /// The user did not type the confirmation the prompt asked for; nothing was written.
    #[error("{}: not confirmed (typed {typed:?}, expected {expected:?}); nothing was written", path.display())]
    NotConfirmed {
        /// The device.
        path: PathBuf,
        /// What the user typed.
        typed: String,
        /// What the prompt asked for.
        expected: String,
    },
    /// The same device was named twice as a target.
    #[error("{} named twice", path.display())]
    Duplicate {
        /// The device.
        path: PathBuf,
    },
    /// An I/O error on a device or the image.
    #[error("{}: {what}: {source}", path.display())]
    Io {
        /// The device or file.
        path: PathBuf,
        /// What was being done (`opening the device`, `reading the image`).
        what: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A Windows installation ISO whose files cannot be laid out on a FAT32 stick (a file
    /// of 4 GiB or more, a name FAT cannot hold, a stick too small).
    #[error("{}: cannot build a bootable stick from its files: {what}", path.display())]
    Stick {
        /// The image.
        path: PathBuf,
        /// Why, with what to do instead.
        what: String,
    },
    /// The image cannot be read or has nothing to write (no data track, an empty data
    /// track, empty).
    #[error("{}: {what}", path.display())]
    Source {
        /// The image.
        path: PathBuf,
        /// What is wrong with it, with its causes.
        what: String,
    },
}

impl BurnError {
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        what: &'static str,
        source: std::io::Error,
    ) -> BurnError {
        BurnError::Io {
            path: path.into(),
            what,
            source,
        }
    }
}

/// The crate's result type: [`BurnError`] unless said otherwise.
pub type Result<T, E = BurnError> = std::result::Result<T, E>;
