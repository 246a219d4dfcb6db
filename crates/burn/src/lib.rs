//! # spindle-burn: writing images to USB sticks safely
//!
//! [`device::list`] reads block devices from sysfs; [`safety::check`] refuses the disks a burn
//! must never touch (the running system's, the image's own or stacked on it, loop devices
//! backed by the image's files, mounted, read-only, fixed, too small: [`backing`] walks the
//! stacks); [`write::burn`] writes one [`Source`] to several [`write::Target`]s at once from a
//! single read, then reads each back and compares. [`boot::check`] says whether the written
//! stick will boot; for a Windows installation ISO, [`stick`] builds the FAT32 stick that
//! does. `docs/burn.md` has the rules and why.

use spindle_disc::aligned;
pub mod backing;
pub mod boot;
pub mod device;
mod error;
mod mounts;
pub mod safety;
pub mod source;
pub mod stick;
mod stream;
mod verify;
pub mod wim;
pub mod wimcheck;
pub mod write;

pub use backing::Reads;
pub use boot::Boot;
pub use device::{Device, Partition, Transport};
pub use error::{BurnError, Result};
pub use safety::Policy;
pub use source::Source;
pub use write::{Options, Outcome, Phase, Progress, Report, Target, TargetReport, burn, verify};

/// A byte count for people, in binary units with one decimal: `1.5 GiB`, `512.0 MiB`,
/// `700 B` (whole bytes below 1 KiB).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
