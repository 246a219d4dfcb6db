//! Faults the emulated drive injects, changeable while the drive is in use (a test can let a
//! drive "recover" in the middle of a rip).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// What goes wrong, and where.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Sectors (LBAs) that never read: MEDIUM ERROR 03/11/00 with the LBA in INFORMATION.
    pub unreadable: BTreeSet<i32>,
    /// Sectors that fail this many more times, then read (a retry gets them).
    pub flaky: BTreeMap<i32, u32>,
    /// Sectors with C2 (CIRC) errors at these byte offsets of the 2352-byte frame: READ CD
    /// returns those bytes damaged and flags them in C2 error information; cooked data
    /// reads (READ(10/12), READ CD user data of a data sector) come back corrected, as L-EC
    /// repairs them.
    pub c2: BTreeMap<i32, Vec<u16>>,
    /// Every command takes at least this long.
    pub command_delay: Duration,
    /// Each sector read adds this.
    pub sector_delay: Duration,
    /// Every command hangs: it completes only if the fault is cleared within the host's
    /// timeout, otherwise the transport reports a timeout.
    pub hang: bool,
    /// Reads touching these sectors hang (as `hang`).
    pub hang_sectors: BTreeSet<i32>,
    /// After a load, medium commands answer NOT READY 02/04/01 (becoming ready) this long.
    pub spin_up: Duration,
    /// The drive cannot read subchannel: READ CD with a subchannel selection is 05/24/00
    /// (pointing at byte 10), as on drives without that capability.
    pub no_subchannel: bool,
    /// The drive's read offset in samples (4 bytes): READ CD of an audio sector returns the
    /// samples that start this many samples earlier on the disc (a positive offset delays
    /// the stream), as real drives do; bytes beyond the disc are zeros. Data sectors are
    /// framed by their sync and not shifted.
    pub read_offset: i32,
}

impl Faults {
    /// No faults: a drive that reads everything.
    pub fn none() -> Faults {
        Faults::default()
    }

    /// Marks `count` sectors from `lba` unreadable.
    pub fn unreadable_range(mut self, lba: i32, count: u32) -> Faults {
        self.unreadable.extend((0..count as i32).map(|i| lba + i));
        self
    }

    /// C2 errors on `lba` at `offsets`.
    pub fn c2_at(mut self, lba: i32, offsets: &[u16]) -> Faults {
        self.c2.entry(lba).or_default().extend_from_slice(offsets);
        self
    }

    /// True when reading `lba` must fail now (counting down flaky sectors).
    pub(crate) fn read_fails(&mut self, lba: i32) -> bool {
        if self.unreadable.contains(&lba) {
            return true;
        }
        if let Some(n) = self.flaky.get_mut(&lba) {
            if *n > 0 {
                *n -= 1;
                return true;
            }
            self.flaky.remove(&lba);
        }
        false
    }

    pub(crate) fn hangs(&self, first: i32, count: u32) -> bool {
        self.hang
            || self
                .hang_sectors
                .range(first..first.saturating_add(count as i32))
                .next()
                .is_some()
    }
}

/// A shared handle on a drive's faults.
#[derive(Clone, Debug, Default)]
pub struct FaultHandle(pub(crate) Arc<Mutex<Faults>>);

impl FaultHandle {
    /// Locks the faults for reading or changing (a poisoned lock is taken over).
    pub fn lock(&self) -> MutexGuard<'_, Faults> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Replaces all faults.
    pub fn set(&self, f: Faults) {
        *self.lock() = f;
    }
    /// Changes faults in place.
    pub fn update(&self, change: impl FnOnce(&mut Faults)) {
        change(&mut self.lock());
    }
    /// The drive "recovers": every fault is cleared.
    pub fn recover(&self) {
        self.set(Faults::none());
    }
    /// A copy of the faults as they are now.
    pub fn snapshot(&self) -> Faults {
        self.lock().clone()
    }
}
