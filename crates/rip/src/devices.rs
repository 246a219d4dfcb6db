//! Optical drives of this machine, from sysfs: every block device `sr*` (SCSI type 5), with
//! its SCSI generic node and the INQUIRY strings the kernel keeps.

use std::path::{Path, PathBuf};

/// One optical drive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpticalDrive {
    /// `/dev/srN`.
    pub device: PathBuf,
    /// `/dev/sgM`, when the sg driver is loaded.
    pub generic: Option<PathBuf>,
    pub vendor: String,
    pub model: String,
    pub revision: String,
}

fn attr(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The optical drives under `sysfs` (normally `/sys`), sorted by device number.
pub fn optical_drives(sysfs: &Path) -> Vec<OpticalDrive> {
    let Ok(dir) = std::fs::read_dir(sysfs.join("class/block")) else {
        return Vec::new();
    };
    let mut out: Vec<(u32, OpticalDrive)> = Vec::new();
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(n) = name.strip_prefix("sr").and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let dev = e.path().join("device");
        if attr(&dev, "type") != "5" {
            continue;
        }
        let generic = std::fs::read_dir(dev.join("scsi_generic"))
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| PathBuf::from("/dev").join(e.file_name()));
        out.push((
            n,
            OpticalDrive {
                device: PathBuf::from("/dev").join(&name),
                generic,
                vendor: attr(&dev, "vendor"),
                model: attr(&dev, "model"),
                revision: attr(&dev, "rev"),
            },
        ));
    }
    out.sort_by_key(|(n, _)| *n);
    out.into_iter().map(|(_, d)| d).collect()
}
