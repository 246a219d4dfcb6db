//! Who may open a drive's device nodes: the owner of the disc in it, alone.
//!
//! While a disc is loaded, `/dev/srN` and `/dev/sgN` belong to its owner with mode 0600, so
//! the owner's programs (players, rippers, `mount`) open them and no other user reads a
//! private disc through them; an empty drive's nodes are root's, 0600. Giving a node away
//! narrows the mode first and changes the owner after; taking it back changes the owner
//! first: at no moment may a third user open it. Only a root daemon can do this; a user's
//! daemon leaves the nodes as the privileged helper made them (the caller's).

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

/// Makes each of `nodes` belong to `owner` (uid, gid; `None`: root) with mode 0600.
/// Anything that is not a device node is left alone (and reported).
pub fn set_owner(nodes: &[&Path], owner: Option<(u32, u32)>) -> std::io::Result<()> {
    let (uid, gid) = owner.unwrap_or((0, 0));
    for node in nodes {
        let meta = std::fs::symlink_metadata(node)?;
        let ft = meta.file_type();
        if !(ft.is_block_device() || ft.is_char_device()) {
            return Err(std::io::Error::other(format!(
                "{}: not a device node",
                node.display()
            )));
        }
        let narrow = || std::fs::set_permissions(node, std::fs::Permissions::from_mode(0o600));
        if owner.is_some() {
            narrow()?;
            std::os::unix::fs::lchown(node, Some(uid), Some(gid))?;
        } else {
            std::os::unix::fs::lchown(node, Some(uid), Some(gid))?;
            narrow()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    /// On a real character device node (made with mknod, as /dev/sgN is; needs root, as the
    /// FUSE tests do): given to a user
    /// and taken back; a regular file is refused.
    #[test]
    fn a_node_goes_to_the_owner_and_back_to_root() {
        assert!(
            crate::paths::is_root(),
            "this test needs root (mknod, chown)"
        );
        let dir = tempfile::tempdir().unwrap();
        let node = dir.path().join("sg9");
        // /dev/null's numbers: a harmless character device.
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &node,
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::from_raw_mode(0o660),
            rustix::fs::makedev(1, 3),
        )
        .unwrap();
        set_owner(&[&node], Some((1234, 5678))).unwrap();
        let m = std::fs::metadata(&node).unwrap();
        assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (1234, 5678, 0o600));
        set_owner(&[&node], None).unwrap();
        let m = std::fs::metadata(&node).unwrap();
        assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (0, 0, 0o600));
        let file = dir.path().join("plain");
        std::fs::write(&file, b"x").unwrap();
        let e = set_owner(&[&file], Some((1, 1))).unwrap_err();
        assert!(e.to_string().contains("not a device node"), "{e}");
    }
}
