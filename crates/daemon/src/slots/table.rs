//! The drive table the drives mount and the NBD exports read: which disc each drive holds
//! and who loaded it, under one lock, replaced whole at every change (so no reader pairs a
//! new owner with the old disc). It is tiny and never held across I/O, so FUSE lookups under
//! `raw/drives/` and NBD handshakes never wait for a load in progress.

use spindle_disc::Disc;
use spindle_fuse::{DriveTable, DrivesRefresh};
use std::sync::{Arc, Mutex, RwLock};

/// One drive as the table shows it: its disc and who loaded it, read together.
#[derive(Clone)]
pub struct TableEntry {
    /// The drive number.
    pub drive: u32,
    /// The disc in it.
    pub disc: Option<Arc<Disc>>,
    /// The uid that loaded the disc (NBD shares serve only their sharer's discs).
    pub owner: Option<u32>,
}

/// The table the drives mount shows.
#[derive(Default)]
pub struct Table {
    /// Every drive, in order.
    entries: RwLock<Arc<[TableEntry]>>,
    /// Told of every change (see [`Table::notify`]).
    refresh: Mutex<Option<DrivesRefresh>>,
}

impl Table {
    /// Every drive with its disc and owner, as of one moment.
    pub fn entries(&self) -> Arc<[TableEntry]> {
        self.entries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The drives mount to tell of every change, so that it drops ejected discs at once
    /// (else it keeps them, and their image files open, until the next lookup under it).
    pub fn notify(&self, refresh: DrivesRefresh) {
        *self.refresh.lock().unwrap_or_else(|e| e.into_inner()) = Some(refresh);
    }

    /// Replaces every entry at once, then tells the drives mount.
    pub(super) fn publish(&self, entries: Vec<TableEntry>) {
        *self.entries.write().unwrap_or_else(|e| e.into_inner()) = entries.into();
        if let Some(r) = &*self.refresh.lock().unwrap_or_else(|e| e.into_inner()) {
            r.forget_ejected();
        }
    }
}

impl DriveTable for Table {
    fn drives(&self) -> Vec<(u32, Option<Arc<Disc>>)> {
        self.entries()
            .iter()
            .map(|e| (e.drive, e.disc.clone()))
            .collect()
    }
}
