//! Attributes: `spindle_fs::Metadata` and synthetic files as fuser `FileAttr`s.

use fuser::{FileAttr, FileType, INodeNo};
use spindle_fs::{FileKind, Metadata, Time};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `st_blksize`: what `stat` suggests as the I/O size (cp and friends read that much at a time).
pub(crate) const BLKSIZE: u32 = 128 * 1024;

pub(crate) fn kind(k: FileKind) -> FileType {
    match k {
        FileKind::File => FileType::RegularFile,
        FileKind::Dir => FileType::Directory,
        FileKind::Symlink => FileType::Symlink,
        FileKind::CharDevice => FileType::CharDevice,
        FileKind::BlockDevice => FileType::BlockDevice,
        FileKind::Fifo => FileType::NamedPipe,
        FileKind::Socket => FileType::Socket,
    }
}

pub(crate) fn time(t: Time) -> SystemTime {
    let nanos = Duration::from_nanos(t.nanos.min(999_999_999) as u64);
    if t.secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(t.secs as u64) + nanos
    } else {
        UNIX_EPOCH - Duration::from_secs(t.secs.unsigned_abs()) + nanos
    }
}

/// The kernel's 32-bit device encoding (`new_encode_dev`) of a glibc `dev_t`.
fn encode_dev(rdev: u64) -> u32 {
    let major = libc::major(rdev as libc::dev_t);
    let minor = libc::minor(rdev as libc::dev_t);
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12)
}

pub(crate) fn from_meta(ino: u64, m: &Metadata) -> FileAttr {
    FileAttr {
        ino: INodeNo(ino),
        size: m.size,
        blocks: m.size.div_ceil(512),
        atime: time(m.atime),
        mtime: time(m.mtime),
        ctime: time(m.ctime),
        crtime: time(m.ctime),
        kind: kind(m.kind),
        perm: (m.mode & 0o7777) as u16,
        nlink: m.nlink.max(1),
        uid: m.uid,
        gid: m.gid,
        rdev: encode_dev(m.rdev),
        blksize: BLKSIZE,
        flags: 0,
    }
}

/// Attributes of a synthetic node (the raw views): read-only, owned by the mount's user.
pub(crate) fn synthetic(
    ino: u64,
    kind: FileType,
    size: u64,
    nlink: u32,
    owner: (u32, u32),
    at: SystemTime,
) -> FileAttr {
    FileAttr {
        ino: INodeNo(ino),
        size,
        blocks: size.div_ceil(512),
        atime: at,
        mtime: at,
        ctime: at,
        crtime: at,
        kind,
        perm: if kind == FileType::Directory {
            0o555
        } else {
            0o444
        },
        nlink,
        uid: owner.0,
        gid: owner.1,
        rdev: 0,
        blksize: BLKSIZE,
        flags: 0,
    }
}

/// Maps a reader error to an errno: a missing name is ENOENT, a wrong kind ENOTDIR/EISDIR,
/// and everything else (bad sectors, corrupt structures, truncated images) EIO.
pub(crate) fn errno(e: &spindle_fs::FsError) -> fuser::Errno {
    use spindle_fs::FsError;
    match e {
        FsError::NoEntry(_) => fuser::Errno::ENOENT,
        FsError::NotDir(_) => fuser::Errno::ENOTDIR,
        FsError::IsDir(_) => fuser::Errno::EISDIR,
        FsError::NotSymlink(_) => fuser::Errno::EINVAL,
        _ => fuser::Errno::EIO,
    }
}
