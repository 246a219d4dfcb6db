//! Where a drive's tree is mounted: a directory the daemon makes under its media dir, or one
//! the user named (checked on its descriptor, see [`crate::mountpoint`]); mounting and
//! unmounting trees.

use super::{Drives, Loaded, folder_name};
use crate::creds::User;
use crate::mountpoint::{self, Made, MountPoint};
use crate::state::SavedMount;
use crate::{DaemonError, Result};
use spindle_fs::FileSystem;
use spindle_fuse::{Mount, MountOptions};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// One tree mount of a loaded disc.
pub(super) struct TreeMount {
    pub(super) mount: Mount,
    pub(super) path: PathBuf,
    /// Made by the daemon under the media dir (removed again at eject).
    pub(super) created: bool,
    pub(super) allow_other: bool,
}

impl Drives {
    /// A saved mount point, checked as for a new mount: one the daemon made under the media
    /// dir is made (or taken) again there; any other is resolved as the user named it.
    pub(super) fn restore_mount_point(&self, owner: &User, m: &SavedMount) -> Result<MountPoint> {
        if let (true, Some(parent), Some(name)) = (
            m.created,
            m.path.parent(),
            m.path.file_name().and_then(|n| n.to_str()),
        ) && parent == self.media
        {
            let media = self.media_dir()?;
            return match mountpoint::make_in(media.as_fd(), &self.media, name, owner)? {
                Some(Made::New(mp) | Made::Reused(mp)) => Ok(mp),
                None => Err(DaemonError::MountPoint {
                    path: m.path.clone(),
                    reason: "something else is there now".into(),
                }),
            };
        }
        self.check_mount_point(owner, &m.path)
    }

    /// A mount point the user named: an empty directory they own, resolved once and
    /// checked on its descriptor (see [`mountpoint`]).
    fn check_mount_point(&self, user: &User, at: &Path) -> Result<MountPoint> {
        self.not_in_use(at)?;
        mountpoint::resolve(user, at)
    }

    /// `at` unless a drive is mounted at its path already.
    pub(super) fn not_in_use<T: AsRef<Path>>(&self, at: T) -> Result<T> {
        let p = at.as_ref();
        if self
            .slots
            .iter()
            .flatten()
            .any(|l| l.mounts.iter().any(|m| m.path == p))
        {
            return Err(DaemonError::MountPoint {
                path: p.to_path_buf(),
                reason: "a drive is mounted there already".into(),
            });
        }
        Ok(at)
    }

    /// The media dir, made when missing, opened without following links; it must be the
    /// daemon's own (nobody else may put names in it).
    fn media_dir(&self) -> Result<std::os::fd::OwnedFd> {
        let media = mountpoint::open_dir_nofollow(&self.media, true).map_err(|e| {
            DaemonError::io(format!("{}: the media directory", self.media.display()), e)
        })?;
        let st = rustix::fs::fstat(&media)
            .map_err(|e| DaemonError::io(format!("{}", self.media.display()), e.into()))?;
        let me = User::current();
        // Group-writable only for the daemon's own group (a user-private group, umask 002).
        let others_write =
            st.st_mode & 0o002 != 0 || (st.st_mode & 0o020 != 0 && st.st_gid != me.gid);
        if st.st_uid != me.uid || others_write {
            return Err(DaemonError::Invalid(format!(
                "{}: the media directory must belong to the daemon's user (uid {}) and be writable by it alone",
                self.media.display(),
                me.uid
            )));
        }
        Ok(media)
    }

    /// `<media>/<LABEL>`, or `<LABEL>_2`... when taken: a new directory owned by the user
    /// (or an empty one of theirs left from before, not in use).
    pub(super) fn make_mount_point(&self, user: &User, label: Option<&str>) -> Result<MountPoint> {
        let media = self.media_dir()?;
        let name = folder_name(label);
        for n in 1..10_000 {
            let file = if n == 1 {
                name.clone()
            } else {
                format!("{name}_{n}")
            };
            let p = self.media.join(&file);
            if self
                .slots
                .iter()
                .flatten()
                .any(|l| l.mounts.iter().any(|m| m.path == p))
            {
                continue;
            }
            match mountpoint::make_in(media.as_fd(), &self.media, &file, user)? {
                Some(Made::New(mp) | Made::Reused(mp)) => return Ok(mp),
                None => continue,
            }
        }
        Err(DaemonError::Invalid(format!(
            "no free mount point for {name} under {}",
            self.media.display()
        )))
    }
}

pub(super) fn mount_tree(
    fs: Arc<dyn FileSystem>,
    at: &MountPoint,
    user: &User,
    image: &Path,
    allow_other: bool,
) -> Result<Mount> {
    let opts = MountOptions {
        allow_other,
        owner: Some((user.uid, user.gid)),
        fsname: image.to_string_lossy().into_owned(),
        unmount_wait: Duration::from_millis(100),
        ..MountOptions::default()
    };
    Ok(spindle_fuse::mount_tree_at(
        fs,
        at.fd.as_fd(),
        &at.path,
        &opts,
    )?)
}

/// Unmounts every mount of `gone` at once (each lazily; a file still open under one does
/// not hold up the others) and removes the directories the daemon made.
pub(super) fn unmount_all(gone: Vec<Loaded>) {
    let handles: Vec<_> = gone
        .into_iter()
        .flat_map(|l| l.mounts)
        .map(|m| {
            std::thread::spawn(move || {
                if let Err(e) = m.mount.unmount() {
                    eprintln!("spindle-daemon: {e}");
                }
                if m.created {
                    mountpoint::remove_made(&m.path);
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
}
