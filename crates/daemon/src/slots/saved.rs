//! The drives' saved form (written after every change) and restoring it at start; the shares
//! kept with the drives.

use super::mount_points::{TreeMount, mount_tree};
use super::{Drives, MAX_DRIVES, loaded, open_image, open_set};
use crate::Result;
use crate::sharing::Share;
use crate::state::{LastDisc, SavedDrive, SavedMount, SavedSet, SavedShare, SavedState};

impl Drives {
    /// The running shares, at most one per drive.
    pub fn shares(&self) -> &[(SavedShare, Share)] {
        &self.shares
    }

    /// Adds a started share and saves it with the drives.
    pub fn add_share(&mut self, spec: SavedShare, share: Share) {
        self.shares.push((spec, share));
        self.changed();
    }

    /// Takes the share of `drive` out (saved without it); the caller drops it (which stops
    /// its server and waits for its connections) after letting go of the drives.
    pub fn remove_share(&mut self, drive: u32) -> Option<(SavedShare, Share)> {
        let i = self
            .shares
            .iter()
            .position(|(s, _)| s.share.drive == drive)?;
        let gone = self.shares.remove(i);
        self.changed();
        Some(gone)
    }

    /// Takes every share out without touching the saved state (the daemon is stopping; the
    /// next start shares again).
    pub fn take_shares(&mut self) -> Vec<(SavedShare, Share)> {
        std::mem::take(&mut self.shares)
    }

    /// The saved form of the drives.
    pub fn saved(&self) -> SavedState {
        SavedState {
            version: 1,
            count: self.count(),
            shares: self.shares.iter().map(|(spec, _)| spec.clone()).collect(),
            identities: self.saved_identities(),
            last_discs: self
                .last_discs
                .iter()
                .map(|(p, uid, disc)| LastDisc {
                    playlist: p.clone(),
                    uid: *uid,
                    disc: *disc,
                })
                .collect(),
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
                        set: l.set.as_ref().map(|s| SavedSet {
                            playlist: s.playlist.clone(),
                            // Mid-change: the disc going in.
                            disc: s.changing.unwrap_or(s.current),
                        }),
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
        self.resize(count.min(MAX_DRIVES));
        self.restore_identities(&saved.identities);
        self.last_discs = saved
            .last_discs
            .iter()
            .map(|l| (l.playlist.clone(), l.uid, l.disc))
            .collect();
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
        let (img, set) = match &d.set {
            None => (open_image(&d.owner, &d.image, None)?, None),
            Some(s) => {
                let set = open_set(&d.owner, &s.playlist)?;
                // A disc past the end of an edited playlist: disc 1.
                let i = if s.disc < set.len() { s.disc } else { 0 };
                (set.disc(i), Some((set, i)))
            }
        };
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
        let disc = img.disc.clone();
        self.slots[d.drive as usize] = Some(loaded(&d.owner, img, mounts));
        self.units.insert(d.drive, disc, &d.owner);
        if let Some((set, i)) = set {
            self.attach_set(&d.owner, d.drive, set, i);
        }
        Ok(())
    }
}
