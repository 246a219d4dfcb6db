//! LIO configfs: the TCMU backstore (`core/user_0/<name>`), the `tcm_loop` target that gives
//! the host a SCSI device for it, and the sysfs lookups that name `/dev/srN` and `/dev/sgN`.
//!
//! Order (docs/tcmu.md): [`Device::create`] makes the backstore and enables it (the kernel
//! makes `/dev/uioN`); the caller starts serving the ring; [`Device::attach`] makes the
//! loopback target, its nexus and LUN 0, whose link makes the kernel probe the device.
//! [`Device::remove`] undoes it in reverse.

use crate::error::{Error, Result};
use crate::names::DeviceSpec;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where LIO's configfs tree is.
pub const TARGET: &str = "/sys/kernel/config/target";
/// The TCMU HBA our backstores live in.
pub const HBA: &str = "user_0";
/// The handler subtype written in `dev_config` (and shown in the UIO name).
pub const SUBTYPE: &str = "spindle";

/// The host's nodes for an attached device.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Nodes {
    /// The block device (`/dev/srN`), once `sr_mod` has bound it.
    pub sr: Option<PathBuf>,
    /// The SCSI generic node (`/dev/sgN`), when the `sg` driver is loaded.
    pub sg: Option<PathBuf>,
    /// The SCSI address `host:channel:target:lun`.
    pub address: String,
}

/// One TCMU device in configfs (a backstore, and once attached a loopback target).
#[derive(Clone, Debug)]
pub struct Device {
    name: String,
    root: PathBuf,
}

fn write_attr(path: &Path, value: &str) -> Result<()> {
    fs::write(path, value).map_err(|e| Error::path("writing", path, e))
}

fn mkdir(path: &Path) -> Result<()> {
    match fs::create_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::path("creating", path, e)),
    }
}

fn rmdir(path: &Path) -> Result<()> {
    match fs::remove_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::path("removing", path, e)),
    }
}

/// FNV-1a, for stable WWNs derived from a device's name.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Device {
    /// The device `name` under the configfs tree at `root` (normally [`TARGET`]), whether
    /// or not it exists.
    pub fn at(root: impl Into<PathBuf>, name: &str) -> Result<Device> {
        DeviceSpec::check_name(name)?;
        Ok(Device {
            name: name.to_string(),
            root: root.into(),
        })
    }

    /// The device `name` in the system's configfs.
    pub fn named(name: &str) -> Result<Device> {
        Device::at(TARGET, name)
    }

    /// Creates the backstore for `spec` and enables it: the kernel creates `/dev/uioN`.
    /// Fails if a device of that name exists (reopen it with [`Device::named`] instead).
    pub fn create(spec: &DeviceSpec) -> Result<Device> {
        crate::support::require()?;
        let dev = Device::named(&spec.name)?;
        dev.create_in(spec)?;
        Ok(dev)
    }

    fn create_in(&self, spec: &DeviceSpec) -> Result<()> {
        let dir = self.backstore();
        if dir.exists() {
            return Err(Error::Kernel(format!(
                "TCMU device {} exists already ({})",
                self.name,
                dir.display()
            )));
        }
        mkdir(&self.root.join("core").join(HBA))?;
        fs::create_dir(&dir).map_err(|e| Error::path("creating", &dir, e))?;
        let setup = || -> Result<()> {
            write_attr(
                &dir.join("control"),
                &format!(
                    "dev_config={},dev_size={},hw_block_size=2048,nl_reply_supported=-1",
                    self.dev_config(),
                    spec.size
                ),
            )?;
            write_attr(&dir.join("enable"), "1")
        };
        if let Err(e) = setup() {
            let _ = rmdir(&dir);
            return Err(e);
        }
        Ok(())
    }

    /// The device's name (`spindle_u<uid>_d<index>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The backstore's configfs folder.
    pub fn backstore(&self) -> PathBuf {
        self.root.join("core").join(HBA).join(&self.name)
    }

    fn dev_config(&self) -> String {
        format!("{SUBTYPE}/{}", self.name)
    }

    /// True when the backstore exists.
    pub fn exists(&self) -> bool {
        self.backstore().is_dir()
    }

    /// The loopback target's WWN (stable for a name, so a restarted process finds it).
    pub fn target_wwn(&self) -> String {
        format!("naa.5{:015x}", fnv(&self.name) & 0x0fff_ffff_ffff_ffff)
    }

    fn initiator_wwn(&self) -> String {
        format!(
            "naa.5{:015x}",
            fnv(&format!("{}/initiator", self.name)) & 0x0fff_ffff_ffff_ffff
        )
    }

    fn tpg(&self) -> PathBuf {
        self.root
            .join("loopback")
            .join(self.target_wwn())
            .join("tpgt_1")
    }

    fn lun(&self) -> PathBuf {
        self.tpg().join("lun").join("lun_0")
    }

    /// True when LUN 0 of the device's loopback target links the backstore.
    pub fn is_attached(&self) -> bool {
        self.lun().join(&self.name).exists()
    }

    /// The UIO device the kernel made for the backstore (`/dev/uioN`), found by its name in
    /// `/sys/class/uio` (`tcm-user/<hba>/<name>/<dev_config>`).
    pub fn uio_path(&self) -> Result<PathBuf> {
        let hba = HBA.trim_start_matches("user_");
        let want = format!("tcm-user/{hba}/{}/{}", self.name, self.dev_config());
        let class = Path::new("/sys/class/uio");
        let entries = fs::read_dir(class).map_err(|e| Error::path("listing", class, e))?;
        for e in entries.flatten() {
            let name = fs::read_to_string(e.path().join("name")).unwrap_or_default();
            if name.trim_end() == want {
                return Ok(Path::new("/dev").join(e.file_name()));
            }
        }
        Err(Error::Kernel(format!(
            "no /dev/uio device named {want} (is the backstore enabled?)"
        )))
    }

    /// Opens the device's `/dev/uioN` read-write (for [`crate::Server::serve`]).
    pub fn open_uio(&self) -> Result<fs::File> {
        let p = self.uio_path()?;
        fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .map_err(|e| Error::path("opening", &p, e))
    }

    /// Makes the loopback target, its nexus and LUN 0 linked to the backstore: the kernel
    /// then adds the SCSI device and probes it (so the ring must be served already).
    /// Attaching an attached device does nothing.
    pub fn attach(&self) -> Result<()> {
        if !self.exists() {
            return Err(Error::NoDevice(self.name.clone()));
        }
        if self.is_attached() {
            return Ok(());
        }
        let tpg = self.tpg();
        // `loopback` itself appears when tcm_loop registers (a mkdir of it loads the fabric).
        fs::create_dir_all(&tpg).map_err(|e| Error::path("creating", &tpg, e))?;
        let nexus = tpg.join("nexus");
        let current = fs::read_to_string(&nexus).unwrap_or_default();
        if current.trim().is_empty() {
            write_attr(&nexus, &self.initiator_wwn())?;
        }
        mkdir(&self.lun())?;
        let link = self.lun().join(&self.name);
        std::os::unix::fs::symlink(self.backstore(), &link)
            .map_err(|e| Error::path("linking", &link, e))
    }

    /// The SCSI address of the attached LUN (`H:0:T:0`, from the target's `address`).
    pub fn address(&self) -> Result<String> {
        let p = self.tpg().join("address");
        let a = fs::read_to_string(&p).map_err(|e| Error::path("reading", &p, e))?;
        Ok(format!("{}:0", a.trim()))
    }

    /// The nodes of the attached device as sysfs shows them now.
    pub fn nodes_now(&self) -> Result<Nodes> {
        let address = self.address()?;
        let dev = Path::new("/sys/bus/scsi/devices").join(&address);
        let first = |sub: &str| -> Option<PathBuf> {
            let mut names: Vec<_> = fs::read_dir(dev.join(sub))
                .ok()?
                .flatten()
                .map(|e| e.file_name())
                .collect();
            names.sort();
            names.first().map(|n| Path::new("/dev").join(n))
        };
        Ok(Nodes {
            sr: first("block"),
            sg: first("scsi_generic"),
            address,
        })
    }

    /// Waits up to `timeout` for the block node (`/dev/srN`) to appear and returns the
    /// nodes (the sg node is given when the `sg` driver has bound the device by then).
    pub fn nodes(&self, timeout: Duration) -> Result<Nodes> {
        let start = Instant::now();
        loop {
            let n = self.nodes_now();
            if let Ok(n) = &n
                && n.sr.as_ref().is_some_and(|p| p.exists())
                && (n.sg.is_some() || !Path::new("/sys/module/sg").exists())
            {
                return Ok(n.clone());
            }
            if start.elapsed() >= timeout {
                return match n {
                    Ok(n) if n.sr.is_some() => Ok(n),
                    Ok(n) => Err(Error::Timeout(format!(
                        "SCSI device {} of {} has no /dev/srN after {timeout:?} (is sr_mod loaded?)",
                        n.address, self.name
                    ))),
                    Err(e) => Err(e),
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Removes the LUN, nexus, target and backstore, in reverse order of creation; parts
    /// already gone are skipped. The ring's server then gets EIO and ends.
    pub fn remove(&self) -> Result<()> {
        let link = self.lun().join(&self.name);
        if fs::symlink_metadata(&link).is_ok() {
            fs::remove_file(&link).map_err(|e| Error::path("unlinking", &link, e))?;
        }
        rmdir(&self.lun())?;
        let tpg = self.tpg();
        if tpg.exists() {
            let nexus = tpg.join("nexus");
            if !fs::read_to_string(&nexus)
                .unwrap_or_default()
                .trim()
                .is_empty()
            {
                write_attr(&nexus, "NULL")?;
            }
        }
        rmdir(&tpg)?;
        rmdir(tpg.parent().expect("tpg has a parent"))?;
        rmdir(&self.backstore())?;
        // The HBA goes when it holds nothing else (another program's devices keep it).
        let _ = fs::remove_dir(self.root.join("core").join(HBA));
        Ok(())
    }

    /// The devices in configfs whose names start with `prefix` (e.g. `spindle_u1000_`), for
    /// recovery after a crash or cleanup.
    pub fn list(prefix: &str) -> Result<Vec<Device>> {
        Device::list_in(Path::new(TARGET), prefix)
    }

    /// [`Device::list`] under another configfs root.
    pub fn list_in(root: &Path, prefix: &str) -> Result<Vec<Device>> {
        let hba = root.join("core").join(HBA);
        let entries = match fs::read_dir(&hba) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::path("listing", &hba, e)),
        };
        let mut out: Vec<Device> = entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with(prefix) && DeviceSpec::check_name(n).is_ok())
            .map(|n| Device {
                name: n,
                root: root.to_path_buf(),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}
