//! The drive slots: what each holds, loading, swapping, ejecting, and the mount points.
//!
//! [`Drives`] lives behind one mutex in the server, and holds everything about the drives:
//! each one's disc, owner and mounts, and the shares. Opening an image (which may be slow:
//! MDX key derivation, CHD maps) happens before that lock is taken ([`open_image`]); the
//! locked part only picks a drive, makes the mount point and mounts. The drives mount and
//! the NBD exports read a separate, tiny table ([`Table`]: each drive's disc and owner under
//! one lock, published whole after every change) so FUSE lookups under `raw/drives/` never
//! wait for a load in progress.
//!
//! - [`open`](self::open): opening an image for a user;
//! - `load_eject`: mount, swap, eject;
//! - `mount_points`: where trees are mounted, mounting and unmounting;
//! - `saved`: the saved state, restoring it, the shares;
//! - `table`: the table readers outside the lock see;
//! - `memory`: giving ejected discs' memory back;
//! - `host`: what the system's own eject and lock do to a slot (crates/daemon/src/scsi:
//!   each slot's drive model and `/dev/srN`).

mod host;
#[cfg(test)]
mod host_tests;
mod load_eject;
mod memory;
mod mount_points;
mod open;
mod saved;
mod sets;
#[cfg(test)]
mod sets_tests;
mod table;
#[cfg(test)]
mod tests;

pub use load_eject::Ejected;
pub use open::{Opened, folder_name, open_image};
pub use sets::{OpenedSet, open_set};
pub use table::{Table, TableEntry};

use crate::creds::User;
use crate::scsi::{Backend, Units};
use crate::sharing::Share;
use crate::state::SavedShare;
use crate::{DaemonError, Result};
use mount_points::{TreeMount, unmount_all};
use spindle_disc::Disc;
use spindle_fs::FileSystem;
use spindle_protocol::DriveReport;
use std::path::PathBuf;
use std::sync::{Arc, Weak};

/// The most drives one daemon offers.
pub const MAX_DRIVES: u32 = 256;
/// Drives at first start.
pub const DEFAULT_DRIVES: u32 = 4;

/// A loaded drive.
struct Loaded {
    image: PathBuf,
    format: String,
    medium: String,
    label: Option<String>,
    encrypted: bool,
    disc: Arc<Disc>,
    owner: User,
    mounts: Vec<TreeMount>,
    /// The file tree the mounts show, watched after an eject or swap (see
    /// [`memory::release_freed_memory`]).
    fs: Option<Weak<dyn FileSystem>>,
    /// The set the disc belongs to (a playlist loaded), if any.
    set: Option<sets::DiscSet>,
}

/// What to do with an opened image.
#[derive(Clone, Debug, Default)]
pub struct LoadRequest {
    /// The drive to use (`None`: the first free one).
    pub drive: Option<u32>,
    /// Where to mount the tree (`None`: `<media>/<LABEL>`).
    pub at: Option<PathBuf>,
    /// Let other users into the mount (FUSE `allow_other`).
    pub allow_other: bool,
}

/// The drive slots.
pub struct Drives {
    slots: Vec<Option<Loaded>>,
    table: Arc<Table>,
    media: PathBuf,
    state_file: Option<PathBuf>,
    /// The running shares (at most one per drive), saved with the drives.
    shares: Vec<(SavedShare, Share)>,
    /// Each slot's drive model and its `/dev/srN` (one per slot, always).
    units: Units,
    /// The disc last used of each set: (canonical playlist, uid, disc from 0), oldest first.
    last_discs: Vec<(PathBuf, u32, usize)>,
}

impl Drives {
    /// `count` empty drives; default mount points go under `media`, and every change is
    /// saved to `state_file`.
    pub fn new(count: u32, media: PathBuf, state_file: Option<PathBuf>) -> Drives {
        let mut d = Drives {
            slots: Vec::new(),
            table: Arc::default(),
            media,
            state_file,
            shares: Vec::new(),
            units: Units::new(0),
            last_discs: Vec::new(),
        };
        d.resize(count.clamp(1, MAX_DRIVES));
        d.sync_table();
        d
    }

    /// Makes every drive a SCSI drive of the system through `backend` (now and whenever the
    /// count grows), taking over devices a killed daemon left.
    pub fn attach_scsi(&mut self, backend: Backend) {
        self.units.attach(backend);
        // Restored discs went in before there were nodes to give their owners.
        for (n, s) in self.slots.iter().enumerate() {
            if let Some(l) = s {
                self.units.own(n as u32, Some(&l.owner));
            }
        }
    }

    /// The drive numbers whose tray the system opened (`eject /dev/srN`), for the thread that
    /// empties them with [`Drives::host_ejected`]; taken once.
    pub fn host_events(&mut self) -> Option<std::sync::mpsc::Receiver<u32>> {
        self.units.host_events()
    }

    /// The drive model of drive `n` (what the kernel's commands reach).
    pub fn model(&self, n: u32) -> Option<&Arc<spindle_mmc::EmulatedDrive>> {
        (n < self.count()).then(|| self.units.model(n))
    }

    /// Slots and drive models together.
    fn resize(&mut self, n: u32) {
        self.slots.resize_with(n as usize, || None);
        self.units.resize(n as usize);
    }

    /// The table a drives mount shows (see [`spindle_fuse::mount_drives`]).
    pub fn table(&self) -> Arc<Table> {
        self.table.clone()
    }

    /// How many drives there are.
    pub fn count(&self) -> u32 {
        self.slots.len() as u32
    }

    /// True when drive `n` holds a disc.
    pub fn is_loaded(&self, n: u32) -> bool {
        self.slots.get(n as usize).is_some_and(|s| s.is_some())
    }

    /// Drives with a disc in them.
    pub fn loaded(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Publishes every drive's disc and owner to the table, together.
    fn sync_table(&self) {
        let entries = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| TableEntry {
                drive: i as u32,
                // The tray is open while a set changes discs: no disc to read.
                disc: s
                    .as_ref()
                    .filter(|l| l.set.as_ref().is_none_or(|s| s.changing.is_none()))
                    .map(|l| l.disc.clone()),
                owner: s.as_ref().map(|l| l.owner.uid),
            })
            .collect();
        self.table.publish(entries);
    }

    /// After every change: the table and the saved state follow.
    fn changed(&self) {
        self.sync_table();
        if let Some(f) = &self.state_file
            && let Err(e) = self.saved().save(f)
        {
            eprintln!("spindle-daemon: saving {}: {e}", f.display());
        }
    }

    /// Every drive.
    pub fn report(&self) -> Vec<DriveReport> {
        (0..self.slots.len() as u32)
            .map(|n| self.report_of(n))
            .collect()
    }

    /// Drive `n` (an index below the drive count).
    pub fn report_of(&self, n: u32) -> DriveReport {
        let mut r = match &self.slots[n as usize] {
            None => DriveReport::empty(n),
            Some(l) if l.set.as_ref().is_some_and(|s| s.changing.is_some()) => DriveReport {
                mountpoints: l.mounts.iter().map(|m| m.path.clone()).collect(),
                uid: Some(l.owner.uid),
                set: l.set.as_ref().map(|s| s.report()),
                ..DriveReport::empty(n)
            },
            Some(l) => DriveReport {
                set: l.set.as_ref().map(|s| s.report()),
                image: Some(l.image.clone()),
                format: Some(l.format.clone()),
                medium: Some(l.medium.clone()),
                label: l.label.clone(),
                mountpoints: l.mounts.iter().map(|m| m.path.clone()).collect(),
                encrypted: l.encrypted,
                uid: Some(l.owner.uid),
                ..DriveReport::empty(n)
            },
        };
        let nodes = self.units.nodes(n);
        r.device = nodes.device;
        r.sg = nodes.sg;
        r.locked = self.units.locked(n);
        r.identity = Some(self.units.identity(n).clone());
        r
    }

    /// Whether the drives are `/dev/srN`, and why not.
    pub fn scsi_status(&self) -> spindle_protocol::ScsiStatus {
        self.units.status()
    }

    /// Sets the number of drives; refuses to drop a loaded one.
    pub fn set_count(&mut self, n: u32) -> Result<()> {
        if n == 0 || n > MAX_DRIVES {
            return Err(DaemonError::Invalid(format!(
                "drive count must be 1 to {MAX_DRIVES}, not {n}"
            )));
        }
        if let Some(i) = (n as usize..self.slots.len()).find(|&i| self.slots[i].is_some()) {
            return Err(DaemonError::Invalid(format!(
                "drive {i} is loaded: eject it before lowering the count to {n}"
            )));
        }
        self.resize(n);
        self.changed();
        Ok(())
    }

    fn check_drive(&self, drive: u32) -> Result<()> {
        if drive as usize >= self.slots.len() {
            return Err(DaemonError::NoDrive {
                drive,
                count: self.count(),
            });
        }
        Ok(())
    }

    /// Unmounts everything without touching the saved state (the daemon is stopping; the
    /// next start restores the drives).
    pub fn shutdown(&mut self) {
        let gone: Vec<Loaded> = self.slots.iter_mut().filter_map(|s| s.take()).collect();
        self.sync_table();
        unmount_all(gone);
        self.units.shutdown();
    }
}

/// Who may eject or swap a drive: its owner, root, and the daemon's own user.
fn may_touch(user: &User, owner: &User) -> bool {
    user.uid == 0 || user.uid == owner.uid || user.uid == User::current().uid
}

fn loaded(user: &User, img: Opened, mounts: Vec<TreeMount>) -> Loaded {
    Loaded {
        format: img.disc.source.format.clone(),
        medium: img.disc.medium.to_string(),
        image: img.image,
        label: img.label,
        encrypted: img.encrypted,
        disc: img.disc,
        owner: user.clone(),
        fs: img.fs.as_ref().map(Arc::downgrade),
        mounts,
        set: None,
    }
}
