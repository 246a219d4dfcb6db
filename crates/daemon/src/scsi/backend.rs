//! Which way a drive becomes a device of the system, or why it does not; one drive's device.
//!
//! A root daemon makes its devices itself (`spindle_tcmu::Local`); a user's daemon asks the
//! privileged helper (`spindle-drive-helper`, socket-activated), which makes them for the
//! caller's uid and passes each `/dev/uioN` back, and serves the rings itself. Each drive's
//! device is `spindle_u<uid>_d<N>`: a daemon killed with SIGKILL leaves them behind, and the
//! next one finds them by name, serves their rings again (commands the kernel queued
//! meanwhile are answered, within its 30 s timeout) and removes those past its drive count.

use super::Nodes;
use super::handler::ModelHandler;
use spindle_mmc::EmulatedDrive;
use spindle_protocol::ScsiStatus;
use spindle_tcmu::{DeviceSpec, Helper, Local, Provisioner, Server, Support};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Overrides the helper's socket path.
pub const HELPER_ENV: &str = "SPINDLE_DRIVE_HELPER";

/// How long the kernel may take to bind `sr_mod` to a new device.
const ATTACH_TIMEOUT: Duration = Duration::from_secs(10);

/// How drives become devices.
pub enum Backend {
    /// They do not: why, and what would help.
    Unavailable {
        /// Why there is no `/dev/srN`.
        reason: String,
        /// What to install or enable.
        hint: Option<String>,
    },
    /// Through TCMU, with devices made by `provisioner`.
    Tcmu {
        /// Local (root) or the helper.
        provisioner: Arc<dyn Provisioner>,
        /// Whose devices (the name's `u<uid>`).
        uid: u32,
        /// Devices that existed when the daemon started (a killed predecessor's).
        existing: Vec<String>,
    },
}

/// One drive's device: its name, the server of its ring, its nodes.
pub struct Device {
    name: String,
    provisioner: Arc<dyn Provisioner>,
    server: Option<Server>,
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

    /// The way this daemon makes devices, or why it cannot: the kernel first
    /// (`target_core_user`, `tcm_loop`, configfs), then the privilege (root, else the
    /// helper's socket, `$SPINDLE_DRIVE_HELPER` or the default).
    pub fn choose() -> Backend {
        if let Support::Unavailable { reason, hint } = spindle_tcmu::support() {
            return Backend::Unavailable {
                reason,
                hint: Some(hint),
            };
        }
        let uid = rustix::process::geteuid().as_raw();
        let provisioner: Arc<dyn Provisioner> = if uid == 0 {
            Arc::new(Local)
        } else {
            let socket = std::env::var_os(HELPER_ENV)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(spindle_tcmu::helper::DEFAULT_SOCKET));
            if !socket.exists() {
                return Backend::Unavailable {
                    reason: format!(
                        "no privileged helper: enable spindle-drive-helper.socket ({} is missing)",
                        socket.display()
                    ),
                    hint: Some(
                        "as root: systemctl enable --now spindle-drive-helper.socket; or run the daemon as root"
                            .into(),
                    ),
                };
            }
            Arc::new(Helper::new(socket))
        };
        let existing = match provisioner.list() {
            Ok(l) => l,
            Err(e) => {
                return Backend::Unavailable {
                    reason: format!("cannot list TCMU devices: {e}"),
                    hint: None,
                };
            }
        };
        Backend::Tcmu {
            provisioner,
            uid,
            existing,
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
            Backend::Tcmu { .. } => ScsiStatus {
                available: true,
                reason: None,
                hint: None,
            },
        }
    }

    /// Devices a killed predecessor left past `count` drives (removed at start).
    pub fn leftovers(&self, count: usize) -> Vec<String> {
        match self {
            Backend::Tcmu { uid, existing, .. } => existing
                .iter()
                .filter(|name| {
                    DeviceSpec::parse_name(name)
                        .is_ok_and(|(u, i)| u == *uid && i as usize >= count)
                })
                .cloned()
                .collect(),
            Backend::Unavailable { .. } => Vec::new(),
        }
    }

    /// Removes the device `name` (a leftover).
    pub fn remove_named(&self, name: &str) {
        if let Backend::Tcmu { provisioner, .. } = self
            && let Err(e) = provisioner.remove(name)
        {
            eprintln!("spindle-daemon: removing the leftover device {name}: {e}");
        }
    }

    /// The device of drive `n` answering from `model` (`None`: no devices here): made, or
    /// taken over when a killed daemon left it; its ring served before the kernel probes it.
    pub fn device(
        &self,
        n: u32,
        model: &Arc<EmulatedDrive>,
    ) -> Result<Option<Device>, spindle_tcmu::Error> {
        let Backend::Tcmu {
            provisioner,
            uid,
            existing,
        } = self
        else {
            return Ok(None);
        };
        let spec = DeviceSpec::for_user(*uid, n);
        let reopened = existing.contains(&spec.name);
        let uio = if reopened {
            match provisioner.reopen(&spec.name) {
                Ok(f) => f,
                // Gone since the daemon started: make it anew.
                Err(_) => provisioner.create(&spec)?,
            }
        } else {
            provisioner.create(&spec)?
        };
        if reopened {
            // The kernel saw the killed daemon's drive; this one must look the same to it.
            super::handler::resume(model);
        }
        let handler = Arc::new(ModelHandler::new(model.clone()));
        let mut device = Device {
            name: spec.name.clone(),
            provisioner: provisioner.clone(),
            server: None,
            nodes: Nodes::default(),
        };
        // From here on, a failure removes what was made (Device's remove).
        device.server = Some(Server::serve(uio, handler).inspect_err(|_| {
            let _ = provisioner.remove(&spec.name);
        })?);
        match provisioner.attach(&spec.name, ATTACH_TIMEOUT) {
            Ok(nodes) => {
                device.nodes = Nodes {
                    device: nodes.sr,
                    sg: nodes.sg,
                    address: Some(nodes.address),
                };
                if reopened {
                    eprintln!("spindle-daemon: drive {n}: took over {}", spec.name);
                }
                Ok(Some(device))
            }
            Err(e) => {
                device.remove();
                Err(e)
            }
        }
    }
}

impl Device {
    /// Its nodes.
    pub fn nodes(&self) -> Nodes {
        self.nodes.clone()
    }

    /// Makes the kernel probe the device again (after an identity change: the kernel reads
    /// INQUIRY only when it adds a device): the SCSI device is deleted and the host scanned
    /// again, through sysfs. Root only; the nodes may get new numbers.
    pub fn reprobe(&mut self) -> std::io::Result<()> {
        let Some(address) = self.nodes.address.clone() else {
            return Ok(());
        };
        if !crate::paths::is_root() {
            return Err(std::io::Error::other(
                "the kernel keeps the old identity until the next start of the daemon (probing a drive again needs root)",
            ));
        }
        let Some((host, _)) = address.split_once(':') else {
            return Err(std::io::Error::other(format!(
                "unexpected SCSI address {address:?}"
            )));
        };
        let dev = PathBuf::from("/sys/bus/scsi/devices").join(&address);
        std::fs::write(dev.join("delete"), "1")?;
        // Each device has a tcm_loop host of its own (one target WWN each), so a scan of
        // the whole host finds it alone. tcm_loop's hosts take no explicit LUN (its
        // `max_lun` makes "0 1 0" EINVAL): wildcards.
        let scan = PathBuf::from(format!("/sys/class/scsi_host/host{host}/scan"));
        std::fs::write(&scan, "- - -")?;
        let nodes = self
            .provisioner
            .attach(&self.name, ATTACH_TIMEOUT)
            .map_err(std::io::Error::other)?;
        self.nodes = Nodes {
            device: nodes.sr,
            sg: nodes.sg,
            address: Some(nodes.address),
        };
        Ok(())
    }

    /// Removes the device and every configfs object of it (LUN, target, backstore), then
    /// stops its server (which answers the kernel's last commands while the LUN goes).
    pub fn remove(mut self) {
        if let Err(e) = self.provisioner.remove(&self.name) {
            eprintln!("spindle-daemon: removing {}: {e}", self.name);
        }
        if let Some(s) = self.server.take()
            && let Err(e) = s.stop()
        {
            eprintln!("spindle-daemon: {}: {e}", self.name);
        }
    }
}

/// Removes devices in parallel (each waits for the kernel to let go of its LUN).
pub fn remove_all(devices: Vec<Device>) {
    std::thread::scope(|s| {
        for d in devices {
            s.spawn(move || d.remove());
        }
    });
}
