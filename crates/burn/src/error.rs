//! Every way a burn can be refused or fail. Each refusal names the device and the reason, so
//! the message alone tells the user what was protected and how to proceed if they mean it.

use std::path::PathBuf;

fn human(bytes: &u64) -> String {
    crate::human_size(*bytes)
}

fn join(list: &[String]) -> String {
    list.join(", ")
}

#[derive(Debug, thiserror::Error)]
pub enum BurnError {
    #[error("{}: not a block device", path.display())]
    NotBlockDevice { path: PathBuf },
    #[error("{}: is partition {partition} of {disk}; burn writes whole disks: name /dev/{disk}", path.display())]
    IsPartition {
        path: PathBuf,
        partition: String,
        disk: String,
    },
    #[error("{}: is an optical drive; spindle burn writes USB sticks and other disks", path.display())]
    Optical { path: PathBuf },
    #[error("{}: holds the running system ({what}); refusing to overwrite it", path.display())]
    SystemDisk { path: PathBuf, what: String },
    #[error("{}: holds the image being written ({}); refusing to overwrite the source", path.display(), image.display())]
    HoldsImage { path: PathBuf, image: PathBuf },
    #[error("{}: writing it would overwrite the source: {chain} {what}; refusing (no option overrides this)", path.display())]
    OverSource {
        path: PathBuf,
        chain: String,
        what: String,
    },
    #[error("{}: cannot check what writing it would overwrite ({chain}: {what}); refusing", path.display())]
    Unverifiable {
        path: PathBuf,
        chain: String,
        what: String,
    },
    #[error("{}: is read-only; it cannot be written (write-protect switch, or a read-only loop device)", path.display())]
    ReadOnly { path: PathBuf },
    #[error("{}: permission denied opening it for writing ({source}); run spindle burn as root or as a member of the device's group", path.display())]
    Permission {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: is a fixed disk ({transport}), not a removable or USB one; pass --allow-fixed if you really mean to overwrite it", path.display())]
    Fixed { path: PathBuf, transport: String },
    #[error("{}: is too small: it holds {} but the image needs {}", path.display(), human(size), human(need))]
    TooSmall { path: PathBuf, size: u64, need: u64 },
    #[error("{}: has mounted filesystems ({}); unmount them or pass --unmount", path.display(), join(mounts))]
    Mounted { path: PathBuf, mounts: Vec<String> },
    #[error("{}: is in use by {} (device mapper, RAID or another loop device); close those first", path.display(), join(holders))]
    Held { path: PathBuf, holders: Vec<String> },
    #[error("{}: is used as swap; run swapoff first", path.display())]
    Swap { path: PathBuf },
    #[error("{}: unmounting {mountpoint}: {source}", path.display())]
    Unmount {
        path: PathBuf,
        mountpoint: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: is busy: another program holds it open exclusively (a mount, an installer, another burn)", path.display())]
    Busy { path: PathBuf },
    #[error("{}: is no longer the disk that was checked and confirmed ({what}: unplugged and replaced, or new media?); nothing was written", path.display())]
    Changed { path: PathBuf, what: String },
    #[error("{}: not confirmed (typed {typed:?}, expected {expected:?}); nothing was written", path.display())]
    NotConfirmed {
        path: PathBuf,
        typed: String,
        expected: String,
    },
    #[error("{} named twice", path.display())]
    Duplicate { path: PathBuf },
    #[error("{}: {what}: {source}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {what}", path.display())]
    Source { path: PathBuf, what: String },
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

pub type Result<T, E = BurnError> = std::result::Result<T, E>;
