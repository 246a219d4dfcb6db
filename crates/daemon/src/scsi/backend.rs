//! Which way a drive becomes a device of the system, or why it does not; one drive's device.

use super::Nodes;
use spindle_mmc::EmulatedDrive;
use spindle_protocol::ScsiStatus;
use std::sync::Arc;

/// How drives become devices.
pub enum Backend {
    /// They do not: why, and what would help.
    Unavailable {
        /// Why there is no `/dev/srN`.
        reason: String,
        /// What to install or enable.
        hint: Option<String>,
    },
}

/// One drive's device.
pub struct Device {
    nodes: Nodes,
}

impl Backend {
    /// Before the daemon chose (and in tests of the slots alone).
    pub fn not_set_up() -> Backend {
        Backend::Unavailable {
            reason: "the daemon made no SCSI drives".into(),
            hint: None,
        }
    }

    /// The way this daemon makes devices, or why it cannot.
    pub fn choose() -> Backend {
        Backend::Unavailable {
            reason: "this build has no TCMU backend".into(),
            hint: None,
        }
    }

    /// Whether there are devices, and why not.
    pub fn status(&self) -> ScsiStatus {
        match self {
            Backend::Unavailable { reason, hint } => ScsiStatus {
                available: false,
                reason: Some(reason.clone()),
                hint: hint.clone(),
            },
        }
    }

    /// The device of drive `n` answering from `model` (`None`: no devices here).
    pub fn device(&self, _n: u32, _model: &Arc<EmulatedDrive>) -> std::io::Result<Option<Device>> {
        match self {
            Backend::Unavailable { .. } => Ok(None),
        }
    }
}

impl Device {
    /// Its nodes.
    pub fn nodes(&self) -> Nodes {
        self.nodes.clone()
    }

    /// Makes the kernel probe the device again (after an identity change).
    pub fn reprobe(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    /// Removes the device and every configfs object of it.
    pub fn remove(self) {}
}

/// Removes devices, in parallel (each waits for the kernel to let go of its LUN).
pub fn remove_all(devices: Vec<Device>) {
    for d in devices {
        d.remove();
    }
}
