//! What the system does to a drive from its side of `/dev/srN`, and the drive's identity.
//!
//! `eject /dev/sr0` (START STOP UNIT with LoEj) opens the model's tray on a TCMU server
//! thread; the model's host listener sends the drive number to a thread of the daemon
//! (service.rs), which calls [`Drives::host_ejected`] with the drives lock: the slot is
//! emptied through the normal eject path, so its FUSE mounts and NBD exports go and
//! `spindle drives` shows it empty.

use super::Drives;
use crate::Result;
use crate::state::SavedIdentity;
use spindle_protocol::DriveIdentity;

impl Drives {
    /// The system opened drive `n`'s tray: empties the slot, unless a disc was loaded since
    /// (the tray is shut again, or holds another disc). True when it emptied it.
    pub fn host_ejected(&mut self, n: u32) -> bool {
        let Some(Some(l)) = self.slots.get(n as usize) else {
            return false;
        };
        if !self.units.host_took(n, &l.disc) {
            return false;
        }
        eprintln!(
            "spindle-daemon: drive {n}: ejected by the system ({})",
            l.image.display()
        );
        self.take_out(&[n]);
        true
    }

    /// Sets what drive `n` answers to INQUIRY (saved with the drives). A drive with a
    /// `/dev/srN` is probed again by the kernel, which only works while the system does not
    /// hold it: a locked drive is refused ([`crate::DaemonError::DriveLocked`]).
    pub fn set_identity(&mut self, n: u32, id: DriveIdentity) -> Result<()> {
        self.check_drive(n)?;
        if self.units.nodes(n).device.is_some() && self.units.locked(n) {
            return Err(crate::DaemonError::DriveLocked {
                drive: n,
                device: self.units.nodes(n).device,
            });
        }
        let r = self.units.set_identity(n, id);
        // A probed-again device has new nodes (root's): give them to the disc's owner.
        if let Some(l) = &self.slots[n as usize] {
            self.units.own(n, Some(&l.owner));
        }
        self.changed();
        r.map_err(|e| crate::DaemonError::io(format!("drive {n}: probing the drive again"), e))
    }

    /// The identities that differ from the default, for the saved state.
    pub(super) fn saved_identities(&self) -> Vec<SavedIdentity> {
        let default = crate::scsi::default_identity();
        (0..self.count())
            .filter(|&n| *self.units.identity(n) != default)
            .map(|n| SavedIdentity {
                drive: n,
                identity: self.units.identity(n).clone(),
            })
            .collect()
    }

    /// Puts saved identities back (before the devices are made, so the kernel's first probe
    /// sees them).
    pub(super) fn restore_identities(&mut self, saved: &[SavedIdentity]) {
        let count = self.count();
        for s in saved.iter().filter(|s| s.drive < count) {
            if let Err(e) = self.units.set_identity(s.drive, s.identity.clone()) {
                eprintln!("spindle-daemon: drive {}: identity: {e}", s.drive);
            }
        }
    }
}
