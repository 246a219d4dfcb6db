//! Who does the privileged part: [`Local`] when this process is root, [`Helper`] when
//! `spindle-drive-helper` does the configfs work and passes the `/dev/uioN` descriptor back.
//! The daemon holds a `Box<dyn Provisioner>` and does not care which.
//!
//! Sequence for a drive: [`Provisioner::create`] (or [`Provisioner::reopen`] after a crash),
//! [`crate::Server::serve`] on the returned descriptor, then [`Provisioner::attach`]; at the
//! end [`Provisioner::remove`].

use crate::configfs::{Device, Nodes};
use crate::error::Result;
use crate::names::DeviceSpec;
use std::fs::File;
use std::time::Duration;

/// The privileged operations on TCMU devices.
pub trait Provisioner: Send + Sync {
    /// Creates and enables the backstore of `spec` and opens its `/dev/uioN`.
    fn create(&self, spec: &DeviceSpec) -> Result<File>;
    /// Opens the `/dev/uioN` of an existing device `name` (recovery after a crash).
    fn reopen(&self, name: &str) -> Result<File>;
    /// Attaches device `name` (loopback target, nexus, LUN) and waits up to `timeout` for
    /// its nodes. Its ring must be served already.
    fn attach(&self, name: &str, timeout: Duration) -> Result<Nodes>;
    /// Removes device `name` (LUN, target, backstore).
    fn remove(&self, name: &str) -> Result<()>;
    /// The names of this user's existing devices.
    fn list(&self) -> Result<Vec<String>>;
}

/// Does the work in this process (it must be root).
#[derive(Clone, Debug, Default)]
pub struct Local;

impl Provisioner for Local {
    fn create(&self, spec: &DeviceSpec) -> Result<File> {
        let dev = Device::create(spec)?;
        match dev.open_uio() {
            Ok(f) => Ok(f),
            Err(e) => {
                let _ = dev.remove();
                Err(e)
            }
        }
    }

    fn reopen(&self, name: &str) -> Result<File> {
        let dev = Device::named(name)?;
        if !dev.exists() {
            return Err(crate::Error::NoDevice(name.into()));
        }
        dev.open_uio()
    }

    fn attach(&self, name: &str, timeout: Duration) -> Result<Nodes> {
        let dev = Device::named(name)?;
        dev.attach()?;
        dev.nodes(timeout)
    }

    fn remove(&self, name: &str) -> Result<()> {
        Device::named(name)?.remove()
    }

    fn list(&self) -> Result<Vec<String>> {
        let uid = rustix::process::geteuid().as_raw();
        let prefix = DeviceSpec::user_prefix(uid);
        Ok(Device::list(&prefix)?
            .into_iter()
            .map(|d| d.name().to_string())
            .collect())
    }
}
