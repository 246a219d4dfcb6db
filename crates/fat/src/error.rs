//! What can go wrong when laying out a FAT volume.

/// An error naming the file or the volume and the problem.
#[derive(Debug, thiserror::Error)]
pub enum FatError {
    /// A path component FAT cannot store.
    #[error("{path}: cannot be stored on FAT: {reason}")]
    InvalidName {
        /// The path as given.
        path: String,
        /// Why.
        reason: &'static str,
    },
    /// Two names that FAT sees as the same (names compare without case).
    #[error(
        "{path}: another entry of that directory has the same name when case is ignored (FAT compares names without case)"
    )]
    Duplicate {
        /// The second path.
        path: String,
    },
    /// A path goes through a file as if it were a directory.
    #[error("{path}: a file of that name is already there, so it cannot be a directory")]
    NotADirectory {
        /// The path of the file in the way.
        path: String,
    },
    /// A file over FAT's limit of 4 GiB - 1 bytes.
    #[error("{path}: {size} bytes, over FAT's limit of 4294967295 bytes (4 GiB - 1) per file")]
    FileTooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
    },
    /// A directory with more entries than FAT allows.
    #[error("{path}: needs {entries} directory entries, over FAT's limit of 65536 per directory")]
    DirectoryTooLarge {
        /// The directory.
        path: String,
        /// Entries it would need (long-name entries count).
        entries: usize,
    },
    /// No more short aliases for a name.
    #[error("{path}: no free 8.3 alias left for this name in its directory")]
    NoAlias {
        /// The name.
        path: String,
    },
    /// The volume cannot hold this FAT type, or the files.
    #[error("FAT volume of {size} bytes: {reason}")]
    Geometry {
        /// The volume's size in bytes.
        size: u64,
        /// The problem.
        reason: String,
    },
    /// Boot code longer than the boot sector's room for it.
    #[error("boot code of {len} bytes does not fit the boot sector's {room} bytes")]
    BootCode {
        /// Its length.
        len: usize,
        /// The room (420 bytes on FAT32, 448 on FAT12/16).
        room: usize,
    },
    /// A partition that does not fit an MBR or the disk.
    #[error("disk of {size} bytes: {reason}")]
    Disk {
        /// The disk's size in bytes.
        size: u64,
        /// The problem.
        reason: String,
    },
    /// A volume label FAT cannot store.
    #[error("volume label {label:?}: {reason}")]
    Label {
        /// The label as given.
        label: String,
        /// Why.
        reason: &'static str,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, FatError>;
