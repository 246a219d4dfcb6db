//! Block devices as sysfs describes them: identity (vendor, model, serial), size, how they
//! are attached, whether they are removable or read-only, their partitions, what is mounted
//! on them and what is built on top of them.

use crate::error::{BurnError, Result};
use crate::mounts::{self, DevNum, MountInfo};
use serde::Serialize;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// How a disk is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// A USB mass-storage device (its sysfs path runs through a USB controller).
    Usb,
    /// An SD or MMC card (`mmcblk*`).
    Mmc,
    /// A SATA or PATA disk (its sysfs path runs through an ATA port).
    Sata,
    /// An NVMe namespace.
    Nvme,
    /// A virtio block device (`vd*`) of a virtual machine.
    Virtio,
    /// Any other SCSI disk (`sd*` behind a SCSI host).
    Scsi,
    /// A loop device (`loop*`), backed by a file or another block device.
    Loop,
    /// A network block device (`nbd*`).
    Nbd,
    /// Device mapper, RAID, zram and other virtual devices.
    Virtual,
    /// None of the above could be told from sysfs.
    Unknown,
}

impl Transport {
    /// The lower-case name used in listings, messages and JSON (`usb`, `nvme`, `loop`).
    pub fn name(self) -> &'static str {
        match self {
            Transport::Usb => "usb",
            Transport::Mmc => "mmc",
            Transport::Sata => "sata",
            Transport::Nvme => "nvme",
            Transport::Virtio => "virtio",
            Transport::Scsi => "scsi",
            Transport::Loop => "loop",
            Transport::Nbd => "nbd",
            Transport::Virtual => "virtual",
            Transport::Unknown => "unknown",
        }
    }
}

/// A partition of a disk.
#[derive(Clone, Debug, Serialize)]
pub struct Partition {
    /// Kernel name (`sdb1`, `mmcblk0p1`).
    pub name: String,
    /// The device node, `/dev/` and the kernel name.
    pub path: PathBuf,
    /// The partition number sysfs gives (0 when it gives none).
    pub number: u32,
    /// Offset from the start of the disk, in bytes.
    pub start: u64,
    /// Length in bytes.
    pub size: u64,
    /// Where filesystems on it are mounted.
    pub mountpoints: Vec<String>,
    /// Kernel names of what is built on it (sysfs `holders/`: dm, md, loop).
    pub holders: Vec<String>,
}

/// A whole disk.
#[derive(Clone, Debug, Serialize)]
pub struct Device {
    /// Kernel name (`sdb`, `mmcblk0`, `loop3`).
    pub name: String,
    /// The device node, `/dev/` and the kernel name.
    pub path: PathBuf,
    /// Major and minor device number.
    #[serde(skip)]
    pub dev: DevNum,
    /// The vendor sysfs gives, when it is a name (not a PCI id).
    pub vendor: Option<String>,
    /// The model sysfs gives.
    pub model: Option<String>,
    /// The serial number of the disk or, for USB disks, of the USB device.
    pub serial: Option<String>,
    /// Size in bytes (0 without media).
    pub size: u64,
    /// The logical block size in bytes (512 when sysfs does not say).
    pub logical_block_size: u32,
    /// How the disk is attached.
    pub transport: Transport,
    /// Whether the kernel flags the media as removable (sysfs `removable`).
    pub removable: bool,
    /// Whether the kernel flags the disk as read-only (sysfs `ro`).
    pub read_only: bool,
    /// An optical drive (listed only by a later `--optical`).
    pub optical: bool,
    /// For a loop device, the file behind it.
    pub backing_file: Option<PathBuf>,
    /// Where filesystems on the whole disk are mounted (not its partitions').
    pub mountpoints: Vec<String>,
    /// Kernel names of what is built on the whole disk (sysfs `holders/`).
    pub holders: Vec<String>,
    /// Its partitions, by number.
    pub partitions: Vec<Partition>,
    /// Why this disk holds the running system, when it does.
    pub system: Option<String>,
    /// The kernel's sequence number of the disk (`diskseq`, 5.15+): a new number for every
    /// new device and every media change, even under a reused name and device number.
    #[serde(skip)]
    pub diskseq: Option<u64>,
}

impl Device {
    /// Removable media or a USB/MMC-attached disk: what `spindle devices` lists and what
    /// `burn` writes without `--allow-fixed`. Loop devices are fixed.
    pub fn is_removable_kind(&self) -> bool {
        self.removable || matches!(self.transport, Transport::Usb | Transport::Mmc)
    }

    /// Every mount point on the disk and its partitions, as `partition on mountpoint`.
    pub fn all_mounts(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .mountpoints
            .iter()
            .map(|m| format!("{} on {m}", self.name))
            .collect();
        for p in &self.partitions {
            out.extend(p.mountpoints.iter().map(|m| format!("{} on {m}", p.name)));
        }
        out
    }

    /// Everything built on the disk or its partitions (dm, md, loop).
    pub fn all_holders(&self) -> Vec<String> {
        let mut out = self.holders.clone();
        for p in &self.partitions {
            out.extend(p.holders.iter().cloned());
        }
        out
    }

    /// One line for people: `/dev/sdb  SanDisk Cruzer  14.9 GiB  usb removable`.
    pub fn describe(&self) -> String {
        let ident = [self.vendor.as_deref(), self.model.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let ident = if ident.is_empty() {
            "(no model)".to_string()
        } else {
            ident
        };
        let mut flags = vec![self.transport.name().to_string()];
        flags.push(if self.removable { "removable" } else { "fixed" }.into());
        if self.read_only {
            flags.push("read-only".into());
        }
        format!(
            "{}  {}  {}  {}",
            self.path.display(),
            ident,
            crate::human_size(self.size),
            flags.join(" ")
        )
    }
}

fn read_trim(p: &Path) -> Option<String> {
    let s = fs::read_to_string(p).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn read_u64(p: &Path) -> Option<u64> {
    read_trim(p)?.parse().ok()
}

fn list_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn transport_of(name: &str, real: &str) -> Transport {
    let has = |s: &str| real.contains(s);
    if name.starts_with("loop") {
        Transport::Loop
    } else if name.starts_with("nbd") {
        Transport::Nbd
    } else if name.starts_with("dm-")
        || name.starts_with("md")
        || name.starts_with("zram")
        || name.starts_with("ram")
    {
        Transport::Virtual
    } else if has("/usb") {
        Transport::Usb
    } else if name.starts_with("mmcblk") || has("/mmc") {
        Transport::Mmc
    } else if name.starts_with("nvme") || has("/nvme") {
        Transport::Nvme
    } else if has("/ata") {
        Transport::Sata
    } else if name.starts_with("vd") || has("/virtio") && !has("/host") {
        Transport::Virtio
    } else if has("/host") || name.starts_with("sd") {
        Transport::Scsi
    } else {
        Transport::Unknown
    }
}

/// Reads one disk by kernel name from sysfs, with its partitions and their mounts (from
/// `mounts`) and why it holds the running system (from `system`, as
/// [`crate::mounts::system_disks`] returns it). `None` for a partition or a name sysfs does
/// not know.
pub(crate) fn read_device(
    name: &str,
    mounts: &[MountInfo],
    system: &std::collections::HashMap<String, String>,
) -> Option<Device> {
    let sys = mounts::sys_dir(name);
    if sys.join("partition").exists() {
        return None;
    }
    let dev = mounts::dev_of_name(name)?;
    let real = fs::canonicalize(&sys)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let devdir = sys.join("device");
    let optical = read_trim(&devdir.join("type")).as_deref() == Some("5");
    let serial = read_trim(&devdir.join("serial"))
        .or_else(|| read_trim(&sys.join("serial")))
        .or_else(|| usb_serial(&devdir));
    let logical_block_size = read_u64(&sys.join("queue/logical_block_size")).unwrap_or(512) as u32;
    let mut partitions = Vec::new();
    for p in list_names(&sys) {
        let pdir = sys.join(&p);
        if !pdir.join("partition").exists() {
            continue;
        }
        let pdev = mounts::dev_of_name(&p);
        partitions.push(Partition {
            path: PathBuf::from("/dev").join(&p),
            number: read_u64(&pdir.join("partition")).unwrap_or(0) as u32,
            start: read_u64(&pdir.join("start")).unwrap_or(0) * 512,
            size: read_u64(&pdir.join("size")).unwrap_or(0) * 512,
            mountpoints: pdev
                .map(|d| mounts::mounts_of(d, mounts))
                .unwrap_or_default(),
            holders: list_names(&pdir.join("holders")),
            name: p,
        });
    }
    partitions.sort_by_key(|p| p.number);
    Some(Device {
        path: PathBuf::from("/dev").join(name),
        dev,
        // virtio's `vendor` is a PCI id, not a name.
        vendor: read_trim(&devdir.join("vendor")).filter(|v| !v.starts_with("0x")),
        model: read_trim(&devdir.join("model")),
        serial,
        size: read_u64(&sys.join("size")).unwrap_or(0) * 512,
        logical_block_size,
        transport: transport_of(name, &real),
        removable: read_trim(&sys.join("removable")).as_deref() == Some("1"),
        read_only: read_trim(&sys.join("ro")).as_deref() == Some("1"),
        optical,
        backing_file: read_trim(&sys.join("loop/backing_file")).map(PathBuf::from),
        mountpoints: mounts::mounts_of(dev, mounts),
        holders: list_names(&sys.join("holders")),
        partitions,
        system: system.get(name).cloned(),
        diskseq: read_u64(&sys.join("diskseq")),
        name: name.to_string(),
    })
}

/// The serial of a USB disk lives on the USB device, a few levels above the SCSI device.
fn usb_serial(devdir: &Path) -> Option<String> {
    let mut p = fs::canonicalize(devdir).ok()?;
    for _ in 0..8 {
        if p.join("idVendor").exists() {
            return read_trim(&p.join("serial"));
        }
        if !p.pop() {
            break;
        }
    }
    None
}

/// What tells one disk from another behind the same name: `None` when `now` is the disk
/// `then` was read as, else what differs (for the message).
pub(crate) fn changed(then: &Device, now: &Device) -> Option<String> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
    let diffs: [(&str, String, String); 7] = [
        (
            "device number",
            format!("{:?}", then.dev),
            format!("{:?}", now.dev),
        ),
        (
            "diskseq",
            format!("{:?}", then.diskseq),
            format!("{:?}", now.diskseq),
        ),
        (
            "size",
            crate::human_size(then.size),
            crate::human_size(now.size),
        ),
        ("vendor", opt(&then.vendor), opt(&now.vendor)),
        ("model", opt(&then.model), opt(&now.model)),
        ("serial", opt(&then.serial), opt(&now.serial)),
        (
            "backing file",
            format!("{:?}", then.backing_file),
            format!("{:?}", now.backing_file),
        ),
    ];
    diffs
        .into_iter()
        .find(|(_, a, b)| a != b)
        .map(|(what, a, b)| format!("{what} was {a}, is now {b}"))
}

/// Every disk with media (non-zero size), sorted by name.
pub fn list() -> Vec<Device> {
    let mounts = mounts::mounts();
    let system = mounts::system_disks(&mounts);
    let mut out: Vec<Device> = list_names(Path::new("/sys/block"))
        .iter()
        .filter_map(|n| read_device(n, &mounts, &system))
        .filter(|d| d.size > 0)
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The disk a path names (`/dev/sdb`, `sdb`, `/dev/disk/by-id/usb-...`). A partition is an
/// error that names its disk.
pub fn open_device(arg: &Path) -> Result<Device> {
    let path = if arg.components().count() == 1 && !arg.exists() {
        PathBuf::from("/dev").join(arg)
    } else {
        arg.to_path_buf()
    };
    let meta = fs::metadata(&path).map_err(|e| BurnError::io(&path, "opening the device", e))?;
    if !meta.file_type().is_block_device() {
        return Err(BurnError::NotBlockDevice { path });
    }
    let dev = mounts::split_dev(meta.rdev());
    let name =
        mounts::name_of(dev).ok_or_else(|| BurnError::NotBlockDevice { path: path.clone() })?;
    let disk = mounts::whole_disk(&name);
    if disk != name {
        return Err(BurnError::IsPartition {
            path,
            partition: name,
            disk,
        });
    }
    let mounts = mounts::mounts();
    let system = mounts::system_disks(&mounts);
    let d = read_device(&name, &mounts, &system)
        .ok_or_else(|| BurnError::NotBlockDevice { path: path.clone() })?;
    if d.optical {
        return Err(BurnError::Optical { path });
    }
    Ok(d)
}
