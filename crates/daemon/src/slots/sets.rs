//! Disc sets (M3U playlists) in one drive: opening a set, picking its disc, and changing
//! discs the way a person does (tray open, empty for a while, the next disc in).
//!
//! Every disc of a set is opened when the set is loaded, as the caller: a missing or
//! unreadable disc is refused then, naming its line, and a later swap (asked for by the
//! owner or root) never opens a file with anyone's rights (docs/sets.md).

use super::memory::release_freed_memory;
use super::open::{Opened, open_image};
use super::{Drives, LoadRequest, may_touch};
use crate::creds::{self, User};
use crate::{DaemonError, Result};
use spindle_fs::{DirEntry, FileKind, FileSystem, FsKind, Metadata, NodeId, Time};
use spindle_image::playlist;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How many sets' last discs the daemon remembers (the oldest are forgotten first).
const REMEMBERED: usize = 256;

/// A set opened for a user: every disc, ready to go into a drive.
pub struct OpenedSet {
    playlist: PathBuf,
    discs: Vec<Opened>,
    labels: Vec<String>,
}

/// A set in a drive.
pub(super) struct DiscSet {
    pub(super) playlist: PathBuf,
    discs: Vec<Opened>,
    labels: Vec<String>,
    pub(super) current: usize,
    /// The disc going in while the tray is open.
    pub(super) changing: Option<usize>,
}

impl OpenedSet {
    /// How many discs (at least one).
    pub fn len(&self) -> usize {
        self.discs.len()
    }

    /// Never: a set has at least one disc.
    pub fn is_empty(&self) -> bool {
        self.discs.is_empty()
    }

    /// Disc `i` (from 0).
    pub(super) fn disc(&self, i: usize) -> Opened {
        self.discs[i].clone()
    }
}

impl DiscSet {
    pub(super) fn report(&self) -> spindle_protocol::SetReport {
        spindle_protocol::SetReport {
            playlist: self.playlist.clone(),
            disc: self.current as u32 + 1,
            count: self.discs.len() as u32,
            label: self.labels[self.current].clone(),
            changing: self.changing.map(|i| i as u32 + 1),
        }
    }
}

/// Reads the playlist `path` (absolute) and opens every disc it names, all as `user`.
pub fn open_set(user: &User, path: &Path) -> Result<OpenedSet> {
    if !path.is_absolute() {
        return Err(DaemonError::Invalid(format!(
            "{}: playlist paths must be absolute",
            path.display()
        )));
    }
    let p = path.to_path_buf();
    let read = creds::as_user(user, move || {
        let entries = playlist::read(&p)?;
        let canonical = p
            .canonicalize()
            .map_err(|source| playlist::PlaylistError::Io {
                path: p.clone(),
                source,
            })?;
        Ok::<_, playlist::PlaylistError>((canonical, entries))
    })
    .map_err(|e| DaemonError::io(format!("{}: reading", path.display()), e))?;
    let (canonical, entries) = read.map_err(|e| DaemonError::Invalid(e.to_string()))?;
    let mut discs = Vec::with_capacity(entries.len());
    let mut labels = Vec::with_capacity(entries.len());
    for e in entries {
        let img = open_image(user, &e.path, None).map_err(|err| {
            DaemonError::Invalid(format!(
                "{}:{}: {}",
                e.playlist.display(),
                e.line,
                err.full_message()
            ))
        })?;
        labels.push(e.label.unwrap_or_else(|| {
            e.path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        }));
        discs.push(img);
    }
    Ok(OpenedSet {
        playlist: canonical,
        discs,
        labels,
    })
}

impl Drives {
    /// The disc of `set` to start with for `user`: the one last used, or the first.
    fn start_disc(&self, user: &User, set: &OpenedSet) -> usize {
        self.last_discs
            .iter()
            .find(|(p, uid, _)| *p == set.playlist && *uid == user.uid)
            .map(|&(_, _, i)| i)
            .filter(|&i| i < set.discs.len())
            .unwrap_or(0)
    }

    fn remember(&mut self, playlist: &Path, uid: u32, disc: usize) {
        self.last_discs
            .retain(|(p, u, _)| !(p == playlist && *u == uid));
        self.last_discs.push((playlist.to_path_buf(), uid, disc));
        if self.last_discs.len() > REMEMBERED {
            self.last_discs.remove(0);
        }
    }

    /// Puts a set into a drive (its last used disc, or the first) and mounts that disc's
    /// tree; returns the drive.
    pub fn mount_set(
        &mut self,
        user: &User,
        set: OpenedSet,
        req: &LoadRequest,
        at: Option<crate::mountpoint::MountPoint>,
    ) -> Result<u32> {
        let i = self.start_disc(user, &set);
        let drive = self.mount_at(user, set.discs[i].clone(), req.drive, req.allow_other, at)?;
        self.attach_set(user, drive, set, i);
        Ok(drive)
    }

    /// Loads a set into `drive` (its last used disc, or the first).
    pub fn load_set(&mut self, user: &User, drive: u32, set: OpenedSet) -> Result<()> {
        let i = self.start_disc(user, &set);
        self.load(user, drive, set.discs[i].clone())?;
        self.attach_set(user, drive, set, i);
        Ok(())
    }

    pub(super) fn attach_set(&mut self, user: &User, drive: u32, set: OpenedSet, current: usize) {
        self.remember(&set.playlist, user.uid, current);
        if let Some(l) = self.slots[drive as usize].as_mut() {
            l.set = Some(DiscSet {
                playlist: set.playlist,
                discs: set.discs,
                labels: set.labels,
                current,
                changing: None,
            });
        }
        self.changed();
    }

    /// Opens the tray of `drive` to change to the disc `which` names (`next`, `prev`, a
    /// number from 1, or a label): the drive is empty until [`Drives::finish_change`].
    /// Returns the disc going in (from 0).
    pub fn begin_change(&mut self, user: &User, drive: u32, which: &str) -> Result<usize> {
        self.check_drive(drive)?;
        let locked = self.units.locked(drive);
        let Some(l) = self.slots[drive as usize].as_mut() else {
            return Err(DaemonError::Empty(drive));
        };
        if !may_touch(user, &l.owner) {
            return Err(DaemonError::Denied(format!(
                "drive {drive} belongs to uid {}",
                l.owner.uid
            )));
        }
        let Some(set) = l.set.as_mut() else {
            return Err(DaemonError::Invalid(format!(
                "drive {drive} holds one disc, not a set (load a playlist)"
            )));
        };
        if set.changing.is_some() {
            return Err(DaemonError::Invalid(format!(
                "drive {drive} is changing discs already"
            )));
        }
        let n = set.discs.len();
        let target = match which {
            "next" => (set.current + 1) % n,
            "prev" => (set.current + n - 1) % n,
            w => match w.parse::<usize>() {
                Ok(k) if (1..=n).contains(&k) => k - 1,
                Ok(k) => {
                    return Err(DaemonError::Invalid(format!(
                        "disc {k}: the set has discs 1 to {n}"
                    )));
                }
                Err(_) => set.labels.iter().position(|l| l == w).ok_or_else(|| {
                    DaemonError::Invalid(format!(
                        "no disc labelled {w:?} in the set (its labels: {})",
                        set.labels.join(", ")
                    ))
                })?,
            },
        };
        if locked {
            // A real drive's tray stays shut too: the host is asked to let go.
            self.units.press_eject(drive);
            return Err(self.locked_error(drive));
        }
        set.changing = Some(target);
        for m in &l.mounts {
            if let Err(e) = m.mount.swap(Arc::new(TrayOpen)) {
                eprintln!(
                    "spindle-daemon: drive {drive}: emptying {}: {e}",
                    m.path.display()
                );
            }
        }
        let old_fs = l.fs.take();
        self.units.remove(drive);
        self.changed();
        release_freed_memory(old_fs.into_iter().collect());
        Ok(target)
    }

    /// Closes the tray of `drive` on disc `target` (after [`Drives::begin_change`]).
    pub fn finish_change(&mut self, drive: u32, target: usize) -> Result<()> {
        let Some(l) = self.slots.get_mut(drive as usize).and_then(|s| s.as_mut()) else {
            return Err(DaemonError::Invalid(format!(
                "drive {drive} was emptied while its tray was open"
            )));
        };
        let Some(set) = l.set.as_mut().filter(|s| s.changing == Some(target)) else {
            return Err(DaemonError::Invalid(format!(
                "drive {drive} was given another disc while its tray was open"
            )));
        };
        let img = set.discs[target].clone();
        set.changing = None;
        set.current = target;
        let playlist = set.playlist.clone();
        if let Some(fs) = &img.fs {
            for m in &l.mounts {
                if let Err(e) = m.mount.swap(fs.clone()) {
                    eprintln!("spindle-daemon: drive {drive}: {}: {e}", m.path.display());
                }
            }
        }
        l.format = img.disc.source.format.clone();
        l.medium = img.disc.medium.to_string();
        l.image = img.image.clone();
        l.label = img.label.clone();
        l.encrypted = img.encrypted;
        l.disc = img.disc.clone();
        l.fs = img.fs.as_ref().map(Arc::downgrade);
        let owner = l.owner.clone();
        self.units.insert(drive, img.disc, &owner);
        self.remember(&playlist, owner.uid, target);
        self.changed();
        Ok(())
    }
}

/// What a drive's mount points show while its tray is open: an empty directory.
struct TrayOpen;

impl FileSystem for TrayOpen {
    fn kind(&self) -> FsKind {
        FsKind::Iso9660
    }
    fn label(&self) -> String {
        String::new()
    }
    fn root(&self) -> NodeId {
        NodeId(1)
    }
    fn metadata(&self, node: NodeId) -> spindle_fs::Result<Metadata> {
        if node != NodeId(1) {
            return Err(spindle_fs::FsError::NoEntry(format!("node {}", node.0)));
        }
        Ok(Metadata {
            kind: FileKind::Dir,
            size: 0,
            mode: 0o555,
            nlink: 2,
            uid: 0,
            gid: 0,
            mtime: Time::default(),
            atime: Time::default(),
            ctime: Time::default(),
            rdev: 0,
            ino: 1,
        })
    }
    fn read_dir(&self, _: NodeId) -> spindle_fs::Result<Vec<DirEntry>> {
        Ok(Vec::new())
    }
    fn read(&self, _: NodeId, _: u64, _: &mut [u8]) -> spindle_fs::Result<usize> {
        Err(spindle_fs::FsError::IsDir("/".into()))
    }
    fn read_link(&self, _: NodeId) -> spindle_fs::Result<String> {
        Err(spindle_fs::FsError::NotSymlink("/".into()))
    }
}
