//! What requests do to the drives: put a disc in and mount it, swap it, eject it.

use super::memory::release_freed_memory;
use super::mount_points::{TreeMount, mount_tree, unmount_all};
use super::{Drives, LoadRequest, Loaded, Opened, loaded, may_touch};
use crate::creds::User;
use crate::mountpoint::{self, MountPoint};
use crate::{DaemonError, Result};
use spindle_protocol::EjectTarget;

/// What an eject did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ejected {
    /// The drives emptied.
    pub ejected: Vec<u32>,
    /// The drives the system holds locked: asked to eject, they keep their discs.
    pub locked: Vec<u32>,
}

impl Drives {
    /// Puts `img` into a drive and mounts its tree (when it has one); returns the drive.
    pub fn mount(&mut self, user: &User, img: Opened, req: &LoadRequest) -> Result<u32> {
        let at = req
            .at
            .as_deref()
            .map(|p| mountpoint::resolve(user, p))
            .transpose()?;
        self.mount_at(user, img, req.drive, req.allow_other, at)
    }

    /// [`Drives::mount`] with the mount point resolved and checked already
    /// ([`mountpoint::resolve`], which the server calls before it takes the drives lock, so
    /// that a slow path holds up that request alone).
    pub fn mount_at(
        &mut self,
        user: &User,
        img: Opened,
        drive: Option<u32>,
        allow_other: bool,
        at: Option<MountPoint>,
    ) -> Result<u32> {
        let drive = match drive {
            Some(d) => {
                self.check_drive(d)?;
                if let Some(l) = &self.slots[d as usize] {
                    return Err(DaemonError::Busy {
                        drive: d,
                        image: l.image.clone(),
                    });
                }
                d
            }
            None => self
                .slots
                .iter()
                .position(|s| s.is_none())
                .ok_or(DaemonError::Full(self.count()))? as u32,
        };
        let mut mounts = Vec::new();
        if let Some(fs) = &img.fs {
            let (mp, created) = match at {
                Some(at) => (self.not_in_use(at)?, false),
                None => (self.make_mount_point(user, img.label.as_deref())?, true),
            };
            match mount_tree(fs.clone(), &mp, user, &img.image, allow_other) {
                Ok(mount) => mounts.push(TreeMount {
                    path: mount.path().to_path_buf(),
                    mount,
                    created,
                    allow_other,
                }),
                Err(e) => {
                    if created {
                        mountpoint::remove_made(&mp.path);
                    }
                    return Err(e);
                }
            }
        } else if at.is_some() {
            return Err(DaemonError::Invalid(format!(
                "{}: no file tree on this disc to mount (its raw views are in the drives mount)",
                img.image.display()
            )));
        }
        let disc = img.disc.clone();
        self.slots[drive as usize] = Some(loaded(user, img, mounts));
        self.units.insert(drive, disc, user);
        self.changed();
        Ok(drive)
    }

    /// Swaps the disc of `drive` for `img` (loading an empty drive): its mount points stay
    /// and show the new disc's files.
    pub fn load(&mut self, user: &User, drive: u32, img: Opened) -> Result<()> {
        self.check_drive(drive)?;
        let slot = &mut self.slots[drive as usize];
        let mut old_fs = None;
        let mounts = match slot.take() {
            None => Vec::new(),
            Some(old) => {
                if !may_touch(user, &old.owner) {
                    let e = Err(DaemonError::Denied(format!(
                        "drive {drive} belongs to uid {}",
                        old.owner.uid
                    )));
                    *slot = Some(old);
                    return e;
                }
                if self.units.locked(drive) {
                    // A real drive's tray stays shut too: the host is asked to let go.
                    self.units.press_eject(drive);
                    *slot = Some(old);
                    return Err(self.locked_error(drive));
                }
                if !old.mounts.is_empty() && img.fs.is_none() {
                    let e = Err(DaemonError::Invalid(format!(
                        "{}: no file tree to show at drive {drive}'s mount points; eject the drive first",
                        img.image.display()
                    )));
                    *slot = Some(old);
                    return e;
                }
                let mut result = Ok(());
                if let Some(fs) = &img.fs {
                    for m in &old.mounts {
                        if let Err(e) = m.mount.swap(fs.clone()) {
                            result = Err(e);
                            break;
                        }
                    }
                }
                if let Err(e) = result {
                    *slot = Some(old);
                    return Err(e.into());
                }
                old_fs = old.fs;
                old.mounts
            }
        };
        let disc = img.disc.clone();
        *slot = Some(loaded(user, img, mounts));
        self.units.insert(drive, disc, user);
        self.changed();
        release_freed_memory(old_fs.into_iter().collect());
        Ok(())
    }

    /// Ejects the drives `target` names (for `user`); returns their numbers, and those the
    /// system holds locked (each asked to eject, keeping its disc). One drive named alone
    /// that is locked is an error ([`DaemonError::DriveLocked`]).
    pub fn eject(&mut self, user: &User, target: &EjectTarget) -> Result<Ejected> {
        let which: Vec<u32> = match target {
            EjectTarget::All => (0..self.count())
                .filter(|&i| {
                    self.slots[i as usize]
                        .as_ref()
                        .is_some_and(|l| may_touch(user, &l.owner))
                })
                .collect(),
            EjectTarget::Drive(d) => {
                self.check_drive(*d)?;
                match &self.slots[*d as usize] {
                    None => return Err(DaemonError::Empty(*d)),
                    Some(l) if !may_touch(user, &l.owner) => {
                        return Err(DaemonError::Denied(format!(
                            "drive {d} belongs to uid {}",
                            l.owner.uid
                        )));
                    }
                    Some(_) => vec![*d],
                }
            }
            EjectTarget::Path(p) => {
                let by_mount = self.find(|l| l.mounts.iter().any(|m| &m.path == p));
                let found = if by_mount.is_empty() {
                    self.find(|l| &l.image == p)
                } else {
                    by_mount
                };
                if found.is_empty() {
                    return Err(DaemonError::NotFound(p.clone()));
                }
                let mine: Vec<u32> = found
                    .iter()
                    .copied()
                    .filter(|&d| {
                        self.slots[d as usize]
                            .as_ref()
                            .is_some_and(|l| may_touch(user, &l.owner))
                    })
                    .collect();
                if mine.is_empty() {
                    return Err(DaemonError::Denied(format!(
                        "{}: belongs to another user",
                        p.display()
                    )));
                }
                mine
            }
        };
        // The eject button of each: a drive the system holds locked raises an eject request
        // and keeps its disc.
        let (which, locked): (Vec<u32>, Vec<u32>) =
            which.into_iter().partition(|&d| self.units.press_eject(d));
        if which.is_empty()
            && let [d] = locked[..]
        {
            return Err(self.locked_error(d));
        }
        self.take_out(&which);
        Ok(Ejected {
            ejected: which,
            locked,
        })
    }

    /// Empties the drives `which` (their trays are open): their mounts go, the models give
    /// the discs back, and the table, the saved state and the memory follow.
    pub(super) fn take_out(&mut self, which: &[u32]) {
        let gone: Vec<Loaded> = which
            .iter()
            .filter_map(|&d| self.slots[d as usize].take())
            .collect();
        for &d in which {
            self.units.remove(d);
        }
        let trees = gone.iter().filter_map(|l| l.fs.clone()).collect();
        self.changed();
        unmount_all(gone);
        release_freed_memory(trees);
    }

    pub(super) fn locked_error(&self, drive: u32) -> DaemonError {
        DaemonError::DriveLocked {
            drive,
            device: self.units.nodes(drive).device,
        }
    }

    fn find(&self, f: impl Fn(&Loaded) -> bool) -> Vec<u32> {
        (0..self.count())
            .filter(|&i| self.slots[i as usize].as_ref().is_some_and(&f))
            .collect()
    }
}
