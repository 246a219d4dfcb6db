//! Unmounting by path: `umount2(2)`, plain or lazy.

use std::io;
use std::path::Path;

/// Unmounts the filesystem mounted at `path` (`umount2(path, 0)`): fails with `EBUSY` while
/// anything uses it.
pub fn unmount(path: &Path) -> io::Result<()> {
    rustix::mount::unmount(path, rustix::mount::UnmountFlags::empty()).map_err(Into::into)
}

/// Lazily detaches the mount at `path` (`umount2(MNT_DETACH | UMOUNT_NOFOLLOW)`: a symbolic
/// link in place of the mount point is not followed). The mount leaves the namespace at
/// once; open files keep working until they close.
pub fn detach(path: &Path) -> io::Result<()> {
    use rustix::mount::UnmountFlags;
    rustix::mount::unmount(path, UnmountFlags::DETACH | UnmountFlags::NOFOLLOW).map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_that_is_no_mount_point_is_refused() {
        let t = tempfile::tempdir().unwrap();
        for r in [unmount(t.path()), detach(t.path())] {
            let e = r.unwrap_err().raw_os_error();
            // EINVAL: not a mount point (as root); EPERM: not allowed to unmount at all.
            assert!(matches!(e, Some(libc::EINVAL) | Some(libc::EPERM)), "{e:?}");
        }
        assert_eq!(
            unmount(&t.path().join("none")).unwrap_err().raw_os_error(),
            Some(libc::ENOENT)
        );
    }
}
