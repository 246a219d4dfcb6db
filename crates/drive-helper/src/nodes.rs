//! Handing a drive's device nodes to its owner: `/dev/srN` and `/dev/sgN` become the
//! caller's, mode 0600, after checking that each path is the very device sysfs names and that
//! sysfs puts that device under the caller's own LUN. Before that, the LUN must be a CD/DVD
//! (peripheral type 5): the caller's ring answers INQUIRY, and a disk would draw in `sd`.

use anyhow::{Context, Result, bail};
use spindle_tcmu::Nodes;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The sysfs folder of the SCSI device at `address` (`H:C:T:L`).
fn scsi_dir(address: &str) -> PathBuf {
    Path::new("/sys/bus/scsi/devices").join(address)
}

/// Waits up to `wait` for the SCSI device at `address` to be scanned and requires it to be a
/// CD/DVD device (peripheral type 5).
pub fn require_cdrom(address: &str, wait: Duration) -> Result<()> {
    let p = scsi_dir(address).join("type");
    let start = Instant::now();
    let t = loop {
        if let Ok(t) = std::fs::read_to_string(&p) {
            break t.trim().to_string();
        }
        if start.elapsed() >= wait {
            bail!("SCSI device {address} did not appear within {wait:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if t != "5" {
        bail!(
            "refused: SCSI device {address} says it is of peripheral type {t}, not 5 (CD/DVD); \
             its LUN is removed"
        );
    }
    Ok(())
}

/// Checks that the node `name` of `class` belongs to the SCSI device at `address`: its
/// sysfs `device` link resolves to that device's folder.
fn belongs_to(class: &str, node: &Path, address: &str) -> Result<()> {
    let name = node.file_name().context("a node path without a name")?;
    let link = Path::new("/sys/class")
        .join(class)
        .join(name)
        .join("device");
    let got =
        std::fs::canonicalize(&link).with_context(|| format!("resolving {}", link.display()))?;
    let want = std::fs::canonicalize(scsi_dir(address))
        .with_context(|| format!("resolving the SCSI device {address}"))?;
    if got != want {
        bail!(
            "{} is not the node of SCSI device {address} (it is {}); not handing it over",
            node.display(),
            got.display()
        );
    }
    Ok(())
}

/// The `MAJ:MIN` sysfs gives for a node name under a class folder.
fn sysfs_dev(class: &str, node: &Path) -> Result<(u32, u32)> {
    let name = node.file_name().context("a node path without a name")?;
    let p = Path::new("/sys/class").join(class).join(name).join("dev");
    let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
    let (a, b) = text
        .trim()
        .split_once(':')
        .context("a dev file without MAJ:MIN")?;
    Ok((a.parse()?, b.parse()?))
}

fn give(node: &Path, class: &str, block: bool, address: &str, uid: u32, gid: u32) -> Result<()> {
    belongs_to(class, node, address)?;
    let (maj, min) = sysfs_dev(class, node)?;
    let meta = std::fs::symlink_metadata(node).with_context(|| format!("{}", node.display()))?;
    let kind_ok = if block {
        std::os::unix::fs::FileTypeExt::is_block_device(&meta.file_type())
    } else {
        std::os::unix::fs::FileTypeExt::is_char_device(&meta.file_type())
    };
    let rdev = meta.rdev();
    let (rmaj, rmin) = (libc_major(rdev), libc_minor(rdev));
    if !kind_ok || (rmaj, rmin) != (maj, min) {
        bail!(
            "{} is not the device sysfs names ({maj}:{min}); not handing it over",
            node.display()
        );
    }
    // Narrow first, then change the owner without following links: at no moment may a third
    // user open it, and a symlink put in its place is not followed to another file.
    std::fs::set_permissions(node, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("chmod of {}", node.display()))?;
    std::os::unix::fs::lchown(node, Some(uid), Some(gid))
        .with_context(|| format!("chown of {}", node.display()))?;
    Ok(())
}

fn libc_major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}

fn libc_minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}

/// Lets udev finish where it runs, so that its rules do not undo the hand-over afterwards.
pub fn settle() {
    let _ = Command::new("udevadm")
        .args(["settle", "--timeout=5"])
        .status();
}

/// Makes the drive's nodes the caller's (mode 0600): each must be the node of the SCSI
/// device at `nodes.address`. Call with the configfs lock held, after [`settle`].
pub fn hand_over(nodes: &Nodes, uid: u32, gid: u32) -> Result<()> {
    let sr = nodes
        .sr
        .as_ref()
        .with_context(|| format!("SCSI device {} has no sr block node", nodes.address))?;
    if !sr
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("sr"))
    {
        bail!(
            "refused: SCSI device {} has block node {}, not an sr one",
            nodes.address,
            sr.display()
        );
    }
    give(sr, "block", true, &nodes.address, uid, gid)?;
    if let Some(sg) = &nodes.sg {
        give(sg, "scsi_generic", false, &nodes.address, uid, gid)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_numbers_split_as_glibc_does() {
        // /dev/null is 1:3 everywhere.
        let rdev = std::fs::metadata("/dev/null").unwrap().rdev();
        assert_eq!((libc_major(rdev), libc_minor(rdev)), (1, 3));
    }
}
