//! Every drive slot as a SCSI CD/DVD/BD drive of the system.
//!
//! Each slot has one drive model, an [`EmulatedDrive`], always: the disc the slot holds is
//! in it, it keeps the tray, the host's lock (PREVENT MEDIUM REMOVAL), media events and the
//! INQUIRY identity. Where the kernel offers TCMU (docs/drives.md), each model is also a
//! `/dev/srN`: a TCMU device and a server thread that hands every command the kernel sends
//! to the model ([`handler`]). Elsewhere the models are still there (the locked-eject and
//! identity logic is the same), and [`ScsiStatus`] says why there is no `/dev/srN`.
//!
//! - `identity`: the default INQUIRY identity and the model's form of one;
//! - `owner`: who may open the device nodes;
//! - `backend`: which way devices are made (or why not), and one drive's device.
//!
//! The host's own eject (`eject /dev/sr0`: START STOP UNIT with LoEj) reaches the model on a
//! TCMU server thread; the model's host listener sends the drive number down a channel, and
//! the daemon empties the slot from another thread ([`crate::Drives::host_ejected`]), so no
//! server thread ever waits for the drives lock while the daemon, holding it, waits for a
//! server (removing a device).

mod backend;
mod handler;
mod identity;
mod owner;

pub use backend::Backend;
pub use identity::default_identity;

use crate::creds::User;
use backend::Device;
use spindle_disc::Disc;
use spindle_mmc::EmulatedDrive;
use spindle_mmc::emu::HostEvent;
use spindle_protocol::{DriveIdentity, ScsiStatus};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

/// One drive: its model, what it says it is, and its device when there is one.
struct Unit {
    model: Arc<EmulatedDrive>,
    identity: DriveIdentity,
    device: Option<Device>,
}

/// What a drive's device looks like from outside.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Nodes {
    /// `/dev/srN`.
    pub device: Option<PathBuf>,
    /// `/dev/sgN`.
    pub sg: Option<PathBuf>,
    /// The SCSI address `host:channel:target:lun`.
    pub address: Option<String>,
}

/// The drive models of every slot, with their devices.
pub struct Units {
    units: Vec<Unit>,
    backend: Backend,
    /// The host opened a drive's tray: its number goes here.
    host_tx: Sender<u32>,
    host_rx: Option<Receiver<u32>>,
}

impl Units {
    /// `count` empty drives without devices (until [`Units::attach`]).
    pub fn new(count: usize) -> Units {
        let (host_tx, host_rx) = channel();
        let mut u = Units {
            units: Vec::new(),
            backend: Backend::not_set_up(),
            host_tx,
            host_rx: Some(host_rx),
        };
        u.resize(count);
        u
    }

    /// The drive numbers whose tray the host opened, in order (taken once, by the thread
    /// that empties those slots).
    pub fn host_events(&mut self) -> Option<Receiver<u32>> {
        self.host_rx.take()
    }

    /// Makes every drive a device of the system through `backend` (devices a killed daemon
    /// left are taken over). A drive whose device cannot be made stays without one (logged).
    pub fn attach(&mut self, backend: Backend) {
        self.backend = backend;
        let st = self.backend.status();
        if let Some(reason) = st.reason {
            eprintln!(
                "spindle-daemon: no /dev/srN drives: {reason}{}",
                st.hint.map(|h| format!("; {h}")).unwrap_or_default()
            );
        }
        for name in self.backend.leftovers(self.units.len()) {
            eprintln!("spindle-daemon: removing {name}, left past the drive count");
            self.backend.remove_named(&name);
        }
        for n in 0..self.units.len() {
            self.attach_one(n);
        }
    }

    fn attach_one(&mut self, n: usize) {
        let u = &mut self.units[n];
        if u.device.is_some() {
            return;
        }
        match self.backend.device(n as u32, &u.model) {
            Ok(Some(d)) => {
                eprintln!(
                    "spindle-daemon: drive {n}: {}",
                    d.nodes()
                        .device
                        .map_or("SCSI device without a /dev/sr node yet".into(), |p| p
                            .display()
                            .to_string())
                );
                u.device = Some(d);
            }
            Ok(None) => {}
            Err(e) => eprintln!("spindle-daemon: drive {n}: no /dev/srN: {e}"),
        }
    }

    /// Follows the drive count: new drives get a model (and a device), dropped ones lose
    /// theirs (the caller checked they are empty).
    pub fn resize(&mut self, count: usize) {
        while self.units.len() > count {
            if let Some(u) = self.units.pop()
                && let Some(d) = u.device
            {
                d.remove();
            }
        }
        while self.units.len() < count {
            let n = self.units.len();
            let identity = default_identity();
            let model = Arc::new(EmulatedDrive::with_identity(
                None,
                identity::model_identity(&identity, n as u32),
            ));
            let tx = self.host_tx.clone();
            let drive = n as u32;
            model.set_host_listener(Box::new(move |e| {
                if e == HostEvent::TrayOpened {
                    let _ = tx.send(drive);
                }
            }));
            self.units.push(Unit {
                model,
                identity,
                device: None,
            });
            self.attach_one(n);
        }
    }

    /// Removes every device (the daemon is stopping); the models stay until dropped.
    pub fn shutdown(&mut self) {
        let gone: Vec<Device> = self
            .units
            .iter_mut()
            .filter_map(|u| u.device.take())
            .collect();
        backend::remove_all(gone);
    }

    /// Whether there are devices, and why not.
    pub fn status(&self) -> ScsiStatus {
        self.backend.status()
    }

    /// The model of drive `n` (what the kernel's commands reach).
    pub fn model(&self, n: u32) -> &Arc<EmulatedDrive> {
        &self.units[n as usize].model
    }

    /// Drive `n`'s device nodes.
    pub fn nodes(&self, n: u32) -> Nodes {
        self.units[n as usize]
            .device
            .as_ref()
            .map(Device::nodes)
            .unwrap_or_default()
    }

    /// Drive `n`'s INQUIRY identity.
    pub fn identity(&self, n: u32) -> &DriveIdentity {
        &self.units[n as usize].identity
    }

    /// True while the host prevents medium removal from drive `n`.
    pub fn locked(&self, n: u32) -> bool {
        self.units[n as usize].model.removal_prevented()
    }

    /// The eject button of drive `n`: false (and an eject request to the host) when the
    /// host holds it locked.
    pub fn press_eject(&self, n: u32) -> bool {
        self.units[n as usize].model.press_eject()
    }

    /// Puts `disc` into drive `n` for `owner` (a media change the host sees) and gives the
    /// device nodes to the owner.
    pub fn insert(&self, n: u32, disc: Arc<Disc>, owner: &User) {
        self.units[n as usize].model.insert(disc);
        self.own(n, Some(owner));
    }

    /// Takes the disc out of drive `n` (the tray is left open) and gives the nodes back to
    /// root.
    pub fn remove(&self, n: u32) {
        self.units[n as usize].model.remove();
        self.own(n, None);
    }

    /// True when the host opened drive `n`'s tray and `disc` is still the disc in it (not
    /// one loaded since).
    pub fn host_took(&self, n: u32, disc: &Arc<Disc>) -> bool {
        let m = &self.units.get(n as usize).map(|u| &u.model);
        m.is_some_and(|m| m.tray_open() && m.disc().is_some_and(|d| Arc::ptr_eq(&d, disc)))
    }

    /// Sets what drive `n` answers to INQUIRY; a drive with a device is probed again by the
    /// kernel, so that the system's view (`/sys/.../vendor`, udev's `ID_MODEL`) follows.
    pub fn set_identity(&mut self, n: u32, id: DriveIdentity) -> std::io::Result<()> {
        let u = &mut self.units[n as usize];
        u.model.set_identity(identity::model_identity(&id, n));
        u.identity = id;
        match &mut u.device {
            Some(d) => d.reprobe(),
            None => Ok(()),
        }
    }

    /// Gives drive `n`'s device nodes to `owner` (`None`: back to root), 0600 (root daemons
    /// only: see [`owner`]).
    pub fn own(&self, n: u32, owner: Option<&User>) {
        if !crate::paths::is_root() {
            return;
        }
        let nodes = self.nodes(n);
        let paths: Vec<&Path> = [&nodes.device, &nodes.sg]
            .into_iter()
            .filter_map(|p| p.as_deref())
            .collect();
        if paths.is_empty() {
            return;
        }
        if let Err(e) = owner::set_owner(&paths, owner.map(|u| (u.uid, u.gid))) {
            eprintln!("spindle-daemon: drive {n}: device nodes: {e}");
        }
    }
}
