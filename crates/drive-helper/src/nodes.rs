//! Handing a drive's device nodes to its owner: `/dev/srN` and `/dev/sgN` become the
//! caller's, mode 0600, after checking that each path is the very device sysfs names.

use anyhow::{Context, Result, bail};
use spindle_tcmu::Nodes;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

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

fn give(node: &Path, class: &str, block: bool, uid: u32, gid: u32) -> Result<()> {
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
    std::os::unix::fs::chown(node, Some(uid), Some(gid))
        .with_context(|| format!("chown of {}", node.display()))?;
    std::fs::set_permissions(node, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("chmod of {}", node.display()))?;
    Ok(())
}

fn libc_major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}

fn libc_minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}

/// Makes the drive's nodes the caller's (mode 0600). udev is let finish first where it
/// runs, so that its rules do not undo this afterwards.
pub fn hand_over(nodes: &Nodes, uid: u32, gid: u32) -> Result<()> {
    let _ = Command::new("udevadm")
        .args(["settle", "--timeout=5"])
        .status();
    if let Some(sr) = &nodes.sr {
        give(sr, "block", true, uid, gid)?;
    }
    if let Some(sg) = &nodes.sg {
        give(sg, "scsi_generic", false, uid, gid)?;
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
