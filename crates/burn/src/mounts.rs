//! What is mounted where (`/proc/self/mountinfo`), what is swap (`/proc/swaps`), and which
//! whole disks a file or device finally lives on, through partitions, device mapper, RAID
//! (`/sys/block/*/slaves`) and loop devices (`loop/backing_file`).

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

pub use spindle_sys::block::{DevNum, split_dev};
pub use spindle_sys::mountinfo::MountInfo;

/// Reads mountinfo text (the one parser, [`spindle_sys::mountinfo`]) for the burner: the
/// device number of a filesystem with an anonymous one (btrfs, overlay on a block device) is
/// replaced by that of the block device its source names, so that `dev` is the block device
/// a mount lives on wherever the kernel says so.
pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    let mut mounts = spindle_sys::mountinfo::parse_mountinfo(text);
    for m in &mut mounts {
        if m.dev.0 == 0
            && m.source.starts_with("/dev/")
            && let Ok(meta) = fs::metadata(&m.source)
            && meta.file_type().is_block_device()
        {
            m.dev = split_dev(meta.rdev());
        }
    }
    mounts
}

/// The mounts of this process's namespace, as [`parse_mountinfo`] reads them.
pub fn mounts() -> Vec<MountInfo> {
    fs::read_to_string("/proc/self/mountinfo")
        .map(|t| parse_mountinfo(&t))
        .unwrap_or_default()
}

/// Device numbers in use as swap (swap partitions, and the devices holding swap files).
pub fn swap_devices() -> Vec<DevNum> {
    let text = fs::read_to_string("/proc/swaps").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|p| fs::metadata(spindle_sys::mountinfo::unescape_octal(p)).ok())
        .map(|m| {
            if m.file_type().is_block_device() {
                split_dev(m.rdev())
            } else {
                split_dev(m.dev())
            }
        })
        .collect()
}

/// The kernel name (`sda1`, `dm-0`) of a block device number.
pub fn name_of(dev: DevNum) -> Option<String> {
    let link = fs::canonicalize(format!("/sys/dev/block/{}:{}", dev.0, dev.1)).ok()?;
    Some(link.file_name()?.to_string_lossy().into_owned())
}

/// The sysfs directory of a block device by kernel name (disks and partitions alike).
pub fn sys_dir(name: &str) -> PathBuf {
    PathBuf::from("/sys/class/block").join(name)
}

/// The whole disk a kernel name belongs to: itself for a disk, the parent for a partition.
pub fn whole_disk(name: &str) -> String {
    let dir = sys_dir(name);
    if dir.join("partition").exists()
        && let Ok(real) = fs::canonicalize(&dir)
        && let Some(parent) = real.parent().and_then(|p| p.file_name())
    {
        return parent.to_string_lossy().into_owned();
    }
    name.to_string()
}

fn read_dev_file(name: &str) -> Option<DevNum> {
    let s = fs::read_to_string(sys_dir(name).join("dev")).ok()?;
    let (a, b) = s.trim().split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Every whole disk under a device number: the disk itself, and for device-mapper, RAID and
/// loop devices everything they are built on, down to the physical disks.
pub fn disks_under(dev: DevNum) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(name) = name_of(dev) {
        walk(&name, &mut out, 0);
    }
    out
}

fn walk(name: &str, out: &mut BTreeSet<String>, depth: u32) {
    if depth > 16 {
        return;
    }
    let disk = whole_disk(name);
    if !out.insert(disk.clone()) {
        return;
    }
    for n in [name, disk.as_str()] {
        if let Ok(rd) = fs::read_dir(sys_dir(n).join("slaves")) {
            for e in rd.flatten() {
                walk(&e.file_name().to_string_lossy(), out, depth + 1);
            }
        }
    }
    if let Ok(backing) = fs::read_to_string(sys_dir(&disk).join("loop/backing_file")) {
        let backing = backing.trim_end_matches('\n');
        let path = backing.strip_suffix(" (deleted)").unwrap_or(backing);
        if let Ok(m) = fs::metadata(path) {
            let d = if m.file_type().is_block_device() {
                m.rdev()
            } else {
                m.dev()
            };
            if let Some(n) = name_of(split_dev(d)) {
                walk(&n, out, depth + 1);
            }
        }
    }
}

/// The device number of the filesystem holding `path` (or of `path` itself when it is a block
/// device). Filesystems with anonymous device numbers are looked up in mountinfo.
pub fn device_of_path(path: &Path, mounts: &[MountInfo]) -> Option<DevNum> {
    let m = fs::metadata(path).ok()?;
    if m.file_type().is_block_device() {
        return Some(split_dev(m.rdev()));
    }
    let dev = split_dev(m.dev());
    if dev.0 != 0 {
        return Some(dev);
    }
    // Anonymous (btrfs subvolumes, some FUSE and overlay mounts): the longest mount point
    // that is a prefix of the path, when its source is a block device.
    let canon = fs::canonicalize(path).ok()?;
    mounts
        .iter()
        .filter(|e| e.dev.0 != 0 && canon.starts_with(&e.mount_point))
        .max_by_key(|e| e.mount_point.as_os_str().len())
        .map(|e| e.dev)
}

/// Whole disks holding the running system: the root filesystem's and active swap's.
pub fn system_disks(mounts: &[MountInfo]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for p in ["/", "/boot", "/usr"] {
        if let Some(dev) = device_of_path(Path::new(p), mounts) {
            for d in disks_under(dev) {
                out.entry(d)
                    .or_insert_with(|| format!("the filesystem mounted at {p}"));
            }
        }
    }
    for dev in swap_devices() {
        for d in disks_under(dev) {
            out.entry(d).or_insert_with(|| "active swap".to_string());
        }
    }
    out
}

/// Mounts of one block device number.
pub fn mounts_of(dev: DevNum, mounts: &[MountInfo]) -> Vec<String> {
    mounts
        .iter()
        .filter(|e| e.dev == dev)
        .map(|e| e.mount_point.to_string_lossy().into_owned())
        .collect()
}

pub(crate) fn dev_of_name(name: &str) -> Option<DevNum> {
    read_dev_file(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines() {
        let t = "36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n\
                 22 1 0:21 / /proc rw - proc proc rw\n";
        let m = parse_mountinfo(t);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].dev, (98, 0));
        assert_eq!(m[0].mount_point, Path::new("/mnt/with space"));
        assert_eq!(m[0].fstype, "ext3");
        assert_eq!(m[1].dev, (0, 21));
    }
}
