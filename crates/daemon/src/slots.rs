//! The drive slots: what each holds, loading, swapping, ejecting, and the mount points.
//!
//! [`Drives`] lives behind one mutex in the server. Opening an image (which may be slow:
//! MDX key derivation, CHD maps) happens before that lock is taken ([`open_image`]); the
//! locked part only picks a drive, makes the mount point and mounts. The drives mount reads
//! a separate, tiny table ([`Table`]) so FUSE lookups under `raw/drives/` never wait for a
//! load in progress.

use crate::creds::{self, User};
use crate::mountpoint::{self, Made, MountPoint};
use crate::state::{SavedDrive, SavedMount, SavedShare, SavedState};
use crate::{DaemonError, Result};
use spindle_disc::Disc;
use spindle_fs::FileSystem;
use spindle_fuse::{DriveTable, DrivesRefresh, Mount, MountOptions};
use spindle_protocol::{DriveReport, EjectTarget};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

/// The most drives one daemon offers.
pub const MAX_DRIVES: u32 = 256;
/// Drives at first start.
pub const DEFAULT_DRIVES: u32 = 4;

/// One tree mount of a loaded disc.
struct TreeMount {
    mount: Mount,
    path: PathBuf,
    /// Made by the daemon under the media dir (removed again at eject).
    created: bool,
    allow_other: bool,
}

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
    /// [`release_freed_memory`]).
    fs: Option<Weak<dyn FileSystem>>,
}

/// An image opened for a user, ready to go into a drive.
pub struct Opened {
    image: PathBuf,
    disc: Arc<Disc>,
    fs: Option<Arc<dyn FileSystem>>,
    label: Option<String>,
    encrypted: bool,
}

/// What to do with an opened image.
#[derive(Clone, Debug, Default)]
pub struct LoadRequest {
    /// The drive to use (`None`: the first free one).
    pub drive: Option<u32>,
    /// Where to mount the tree (`None`: `<media>/<LABEL>`).
    pub at: Option<PathBuf>,
    pub allow_other: bool,
}

/// The table the drives mount shows.
#[derive(Default)]
pub struct Table(
    RwLock<Vec<(u32, Option<Arc<Disc>>)>>,
    Mutex<Option<DrivesRefresh>>,
    /// The uid that loaded each drive's disc (NBD shares serve only their sharer's discs).
    RwLock<Vec<Option<u32>>>,
);

impl Table {
    /// Who loaded the disc in `drive`, if it holds one.
    pub fn owner(&self, drive: u32) -> Option<u32> {
        self.2.read().ok()?.get(drive as usize).copied().flatten()
    }

    /// The drives mount to tell of every change, so that it drops ejected discs at once
    /// (else it keeps them, and their image files open, until the next lookup under it).
    pub fn notify(&self, refresh: DrivesRefresh) {
        *self.1.lock().unwrap_or_else(|e| e.into_inner()) = Some(refresh);
    }
}

impl DriveTable for Table {
    fn drives(&self) -> Vec<(u32, Option<Arc<Disc>>)> {
        self.0.read().map(|t| t.clone()).unwrap_or_default()
    }
}

/// Opens `image` (absolute) with `user`'s rights, and its file tree if it has one.
pub fn open_image(user: &User, image: &Path, password: Option<String>) -> Result<Opened> {
    if !image.is_absolute() {
        return Err(DaemonError::Invalid(format!(
            "{}: image paths must be absolute",
            image.display()
        )));
    }
    let p = image.to_path_buf();
    let uid = user.uid;
    let encrypted = password.is_some();
    let opened = creds::as_user(user, move || -> Result<Opened> {
        let disc = match spindle_image::open_with(&p, password) {
            Ok(d) => Arc::new(d),
            Err(e) if e.needs_password() => return Err(DaemonError::PasswordNeeded(p)),
            Err(spindle_image::ImageError::Io { path, source })
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                return Err(DaemonError::Denied(format!(
                    "{}: permission denied: user {uid} cannot read this image",
                    path.display()
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let fs = spindle_image::filesystem(&disc, None).ok();
        let label = fs
            .as_ref()
            .map(|f| f.label())
            .filter(|l| !l.trim().is_empty())
            .or_else(|| spindle_image::iso_volume_label(&disc));
        Ok(Opened {
            image: p,
            disc,
            fs,
            label,
            encrypted,
        })
    })
    .map_err(|e| DaemonError::io(format!("{}: opening", image.display()), e))??;
    Ok(opened)
}

/// A directory name from a volume label: no slashes or control characters, never empty.
pub fn folder_name(label: Option<&str>) -> String {
    let s: String = label
        .unwrap_or("")
        .trim()
        .chars()
        .map(|c| if c == '/' || c.is_control() { '_' } else { c })
        .collect();
    match s.as_str() {
        "" | "." | ".." => "disc".into(),
        _ => s,
    }
}

/// The drive slots.
pub struct Drives {
    slots: Vec<Option<Loaded>>,
    table: Arc<Table>,
    media: PathBuf,
    state_file: Option<PathBuf>,
    /// The shares to save with the drives (the servers themselves live in the server).
    shares: Vec<SavedShare>,
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
        };
        d.slots
            .resize_with(count.clamp(1, MAX_DRIVES) as usize, || None);
        d.sync_table();
        d
    }

    /// The table a drives mount shows (see [`spindle_fuse::mount_drives`]).
    pub fn table(&self) -> Arc<Table> {
        self.table.clone()
    }

    pub fn count(&self) -> u32 {
        self.slots.len() as u32
    }

    /// Drives with a disc in them.
    pub fn loaded(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    fn sync_table(&self) {
        let t = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| (i as u32, s.as_ref().map(|l| l.disc.clone())))
            .collect();
        let owners = self
            .slots
            .iter()
            .map(|s| s.as_ref().map(|l| l.owner.uid))
            .collect();
        if let Ok(mut w) = self.table.2.write() {
            *w = owners;
        }
        if let Ok(mut w) = self.table.0.write() {
            *w = t;
        }
        if let Some(r) = &*self.table.1.lock().unwrap_or_else(|e| e.into_inner()) {
            r.forget_ejected();
        }
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
        self.slots
            .iter()
            .enumerate()
            .map(|(i, s)| match s {
                None => DriveReport::empty(i as u32),
                Some(l) => DriveReport {
                    drive: i as u32,
                    image: Some(l.image.clone()),
                    format: Some(l.format.clone()),
                    medium: Some(l.medium.clone()),
                    label: l.label.clone(),
                    mountpoints: l.mounts.iter().map(|m| m.path.clone()).collect(),
                    encrypted: l.encrypted,
                    uid: Some(l.owner.uid),
                    nbd: Vec::new(),
                },
            })
            .collect()
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
        self.slots.resize_with(n as usize, || None);
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
        self.slots[drive as usize] = Some(loaded(user, img, mounts));
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
        *slot = Some(loaded(user, img, mounts));
        self.changed();
        release_freed_memory(old_fs.into_iter().collect());
        Ok(())
    }

    /// Ejects the drives `target` names (for `user`); returns their numbers.
    pub fn eject(&mut self, user: &User, target: &EjectTarget) -> Result<Vec<u32>> {
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
        let gone: Vec<Loaded> = which
            .iter()
            .filter_map(|&d| self.slots[d as usize].take())
            .collect();
        let trees = gone.iter().filter_map(|l| l.fs.clone()).collect();
        self.changed();
        unmount_all(gone);
        release_freed_memory(trees);
        Ok(which)
    }

    fn find(&self, f: impl Fn(&Loaded) -> bool) -> Vec<u32> {
        (0..self.count())
            .filter(|&i| self.slots[i as usize].as_ref().is_some_and(&f))
            .collect()
    }

    /// Unmounts everything without touching the saved state (the daemon is stopping; the
    /// next start restores the drives).
    pub fn shutdown(&mut self) {
        let gone: Vec<Loaded> = self.slots.iter_mut().filter_map(|s| s.take()).collect();
        self.sync_table();
        unmount_all(gone);
    }

    /// Sets the shares saved with the drives.
    pub fn set_shares(&mut self, shares: Vec<SavedShare>) {
        self.shares = shares;
        self.changed();
    }

    /// The saved form of the drives.
    pub fn saved(&self) -> SavedState {
        SavedState {
            version: 1,
            count: self.count(),
            shares: self.shares.clone(),
            drives: self
                .slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    s.as_ref().map(|l| SavedDrive {
                        drive: i as u32,
                        image: l.image.clone(),
                        encrypted: l.encrypted,
                        owner: l.owner.clone(),
                        mounts: l
                            .mounts
                            .iter()
                            .map(|m| SavedMount {
                                path: m.path.clone(),
                                created: m.created,
                                allow_other: m.allow_other,
                            })
                            .collect(),
                    })
                })
                .collect(),
        }
    }

    /// Loads the drives of a saved state again (encrypted images stay out: their passwords
    /// are never stored). Failures are logged; the drive stays empty.
    pub fn restore(&mut self, saved: &SavedState) {
        let count = saved
            .count
            .clamp(1, MAX_DRIVES)
            .max(saved.drives.iter().map(|d| d.drive + 1).max().unwrap_or(0));
        self.slots
            .resize_with(count.min(MAX_DRIVES) as usize, || None);
        for d in &saved.drives {
            if d.drive >= MAX_DRIVES {
                continue;
            }
            if d.encrypted {
                eprintln!(
                    "spindle-daemon: drive {}: {} is encrypted and passwords are never stored; the drive starts empty",
                    d.drive,
                    d.image.display()
                );
                continue;
            }
            match self.restore_one(d) {
                Ok(()) => eprintln!(
                    "spindle-daemon: drive {}: restored {}",
                    d.drive,
                    d.image.display()
                ),
                Err(e) => eprintln!(
                    "spindle-daemon: drive {}: cannot restore {}: {}",
                    d.drive,
                    d.image.display(),
                    e.full_message()
                ),
            }
        }
        self.changed();
    }

    fn restore_one(&mut self, d: &SavedDrive) -> Result<()> {
        let img = open_image(&d.owner, &d.image, None)?;
        let mut mounts = Vec::new();
        if let Some(fs) = &img.fs {
            for m in &d.mounts {
                // Every check again, as the saved owner: the directory may have been
                // swapped for a link or given away since.
                let mp = match self.restore_mount_point(&d.owner, m) {
                    Ok(mp) => mp,
                    Err(e) => {
                        eprintln!(
                            "spindle-daemon: drive {}: not mounted again (the drive keeps its disc): {}",
                            d.drive,
                            e.full_message()
                        );
                        continue;
                    }
                };
                match mount_tree(fs.clone(), &mp, &d.owner, &img.image, m.allow_other) {
                    Ok(mount) => mounts.push(TreeMount {
                        path: mount.path().to_path_buf(),
                        mount,
                        created: m.created,
                        allow_other: m.allow_other,
                    }),
                    Err(e) => eprintln!("spindle-daemon: drive {}: {}", d.drive, e.full_message()),
                }
            }
        }
        self.slots[d.drive as usize] = Some(loaded(&d.owner, img, mounts));
        Ok(())
    }

    /// A saved mount point, checked as for a new mount: one the daemon made under the media
    /// dir is made (or taken) again there; any other is resolved as the user named it.
    fn restore_mount_point(&self, owner: &User, m: &SavedMount) -> Result<MountPoint> {
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
    fn not_in_use<T: AsRef<Path>>(&self, at: T) -> Result<T> {
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
    fn make_mount_point(&self, user: &User, label: Option<&str>) -> Result<MountPoint> {
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
    }
}

fn mount_tree(
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
fn unmount_all(gone: Vec<Loaded>) {
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

/// Gives the heap pages freed by an eject or a swap back to the kernel, once the file
/// trees of `gone` are dropped.
///
/// A walked disc's tables (inode maps, the filesystem's directory caches) are many small
/// allocations spread over the glibc arenas of its session threads; once the disc is
/// dropped they are free but stay resident (eight walked 100,000-entry discs: 144 to 218 MiB
/// resident, with live allocations back at the idle level, after `eject --all`; see
/// docs/daemon.md).
/// `malloc_trim` releases the free pages of every arena. The session threads drop the tree
/// when the kernel ends the connection, which may come after the unmount returned (a big
/// tree's inodes take a while to evict; an open file keeps it until its close), so a thread
/// waits for that (up to a minute; after that the next eject or swap trims) and trims then.
fn release_freed_memory(gone: Vec<Weak<dyn FileSystem>>) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    std::thread::spawn(move || {
        let start = std::time::Instant::now();
        while gone.iter().any(|w| w.strong_count() > 0) && start.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        // The tree goes first; the mount's inode tables right after it.
        std::thread::sleep(Duration::from_millis(50));
        // SAFETY: malloc_trim only walks the allocator's own free lists.
        unsafe {
            libc::malloc_trim(0);
        }
    });
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    drop(gone);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Weak;
    use std::time::Instant;

    fn dies_within_5s<T: ?Sized>(w: &Weak<T>) -> bool {
        let t = Instant::now();
        while w.strong_count() > 0 {
            if t.elapsed() > Duration::from_secs(5) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    fn walk(p: &Path) -> usize {
        let mut n = 0;
        for e in std::fs::read_dir(p).unwrap() {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            n += 1;
            if meta.is_dir() {
                n += walk(&e.path());
            }
        }
        n
    }

    /// An eject (and a swap) lets go of the disc and its filesystem: no cycle, session thread
    /// or table of the daemon or of the drives mount keeps them.
    #[test]
    fn eject_and_swap_drop_the_disc_and_its_filesystem() {
        let dir = tempfile::Builder::new()
            .prefix("spindle-slots-test")
            .tempdir()
            .unwrap();
        let root = dir.path().canonicalize().unwrap();
        let me = User::current();
        let image = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/samples/libcdio/joliet.iso"
        ))
        .canonicalize()
        .unwrap();
        let mut d = Drives::new(2, root.join("media"), None);
        let raw = root.join("raw");
        std::fs::create_dir(&raw).unwrap();
        let raw_mount =
            spindle_fuse::mount_drives(d.table(), &raw, &MountOptions::default()).unwrap();
        d.table().notify(raw_mount.drives_refresh().unwrap());
        let opened = || {
            let img = open_image(&me, &image, None).unwrap();
            let weak = (
                Arc::downgrade(img.fs.as_ref().unwrap()),
                Arc::downgrade(&img.disc),
            );
            (img, weak)
        };
        let (img, (fs_a, disc_a)) = opened();
        let drive = d.mount(&me, img, &LoadRequest::default()).unwrap();
        let at = d.report()[drive as usize].mountpoints[0].clone();
        assert!(walk(&at) > 0);
        // The raw views of the drive too: the drives mount builds its files of the disc.
        assert!(walk(&raw) > 0);
        // A swap drops the old disc.
        let (img, (fs_b, disc_b)) = opened();
        d.load(&me, drive, img).unwrap();
        assert!(
            dies_within_5s(&fs_a),
            "the swapped-out filesystem stayed alive"
        );
        assert!(dies_within_5s(&disc_a), "the swapped-out disc stayed alive");
        assert!(walk(&at) > 0);
        assert!(walk(&raw) > 0);
        d.eject(&me, &EjectTarget::All).unwrap();
        assert!(spindle_fuse::find_mount(&at).is_none());
        assert!(dies_within_5s(&fs_b), "the ejected filesystem stayed alive");
        // The drives mount was told: it let go of the disc before anyone looked at it again.
        assert!(dies_within_5s(&disc_b), "the ejected disc stayed alive");
        assert_eq!(walk(&raw), 1 + 2);
        raw_mount.unmount().unwrap();
    }
}
