//! What a burn must never write over, and what a target's writes reach.
//!
//! The source side: every file the source reads (the image, a CUE's BIN, an MDS's MDF, a
//! `.gz` container), by device and inode taken when it was opened ([`Reads`]), plus every
//! block device those files live on, down through partitions, device mapper and RAID
//! (`slaves/`) and loop devices (their backing files, which are guarded too).
//!
//! The target side: a write to a disk lands on the disk itself, on whatever it is stacked on
//! (`slaves/`, recursively) and, for a loop device, in its backing file, or on the block
//! device behind it (nested loops). [`check`] walks a target down that way and refuses it
//! when the walk meets a guarded device or file. A loop's backing file is identified by the
//! kernel's own answer (`LOOP_GET_STATUS64`: device and inode of the open file), because
//! the path in sysfs is the name the file had when it was attached: it may have been renamed
//! or replaced since.

use crate::error::{BurnError, Result};
use crate::mounts::{self, DevNum};
use crate::source::Source;
use crate::write::{Outcome, Target, TargetReport};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// How deep a stack of devices the walk follows (the kernel itself stacks far less deep).
const MAX_DEPTH: usize = 32;

/// A file by identity: device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId {
    /// The device number of the filesystem holding the file (`st_dev`).
    pub dev: DevNum,
    /// The inode number (`st_ino`).
    pub ino: u64,
}

impl FileId {
    fn of(m: &fs::Metadata) -> FileId {
        FileId {
            dev: mounts::split_dev(m.dev()),
            ino: m.ino(),
        }
    }
}

/// One file the source reads.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Its name when it was identified (for messages).
    pub path: PathBuf,
    /// Its device and inode.
    pub id: FileId,
}

/// Every file a source reads, identified when it was opened.
#[derive(Clone, Debug, Default)]
pub struct Reads {
    /// The image the user named (for messages).
    pub image: PathBuf,
    /// The files, each once by identity.
    pub files: Vec<SourceFile>,
}

impl Reads {
    /// The files named by `paths` (as they are now: call this right after opening them) and
    /// the open descriptors `open` (the files actually read, whatever their names are now).
    pub fn new(image: &Path, paths: &[PathBuf], open: &[&File]) -> Reads {
        let named: Vec<PathBuf> = paths
            .iter()
            .cloned()
            .chain(std::iter::once(image.to_path_buf()))
            .collect();
        Reads::of(image, &named, open)
    }

    /// The open descriptors `open` only: bytes whose name is no file's (a catalogue entry,
    /// bytes in memory), named `image` in messages.
    pub fn open_only(image: &Path, open: &[&File]) -> Reads {
        Reads::of(image, &[], open)
    }

    fn of(image: &Path, paths: &[PathBuf], open: &[&File]) -> Reads {
        let mut files: Vec<SourceFile> = Vec::new();
        let mut add = |path: PathBuf, m: Option<fs::Metadata>| {
            if let Some(m) = m {
                let id = FileId::of(&m);
                if !files.iter().any(|f| f.id == id) {
                    files.push(SourceFile { path, id });
                }
            }
        };
        for f in open {
            // The descriptor's current name, for messages (the file may have been renamed).
            let name = fs::read_link(format!("/proc/self/fd/{}", f.as_raw_fd()))
                .unwrap_or_else(|_| image.to_path_buf());
            add(name, f.metadata().ok());
        }
        for p in paths {
            add(p.clone(), fs::metadata(p).ok());
        }
        Reads {
            image: image.to_path_buf(),
            files,
        }
    }

    /// The whole disks the source's files live on, through every stacking layer.
    pub fn disks(&self) -> BTreeSet<String> {
        let g = Guarded::of(self);
        g.devices.keys().map(|n| mounts::whole_disk(n)).collect()
    }
}

/// Why a device or file is guarded: the source file it holds or is.
#[derive(Clone, Debug)]
struct Why {
    /// The source file at the root of it.
    file: PathBuf,
    /// For a guarded file that is not itself a source file: the loop device it backs.
    via: Option<String>,
}

/// The source's files and everything they live on.
struct Guarded {
    image: PathBuf,
    files: BTreeMap<FileId, Why>,
    /// Kernel names (partitions and whole disks alike).
    devices: BTreeMap<String, Why>,
}

impl Guarded {
    fn of(r: &Reads) -> Guarded {
        let mut g = Guarded {
            image: r.image.clone(),
            files: BTreeMap::new(),
            devices: BTreeMap::new(),
        };
        let mounts = mounts::mounts();
        for f in &r.files {
            let why = Why {
                file: f.path.clone(),
                via: None,
            };
            g.files.entry(f.id).or_insert_with(|| why.clone());
            if let Some(name) = device_of_file(f.id, &f.path, &mounts) {
                g.guard_device(&name, &why, &mounts, 0);
            }
        }
        g
    }

    /// Guards `name`, its disk, everything under them, and the backing files of the loop
    /// devices among them.
    fn guard_device(&mut self, name: &str, why: &Why, mounts: &[mounts::MountInfo], depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let disk = mounts::whole_disk(name);
        let fresh = [name, disk.as_str()].map(|n| {
            let new = !self.devices.contains_key(n);
            self.devices
                .entry(n.to_string())
                .or_insert_with(|| why.clone());
            new
        });
        if !fresh.iter().any(|&f| f) {
            return;
        }
        for n in [name, disk.as_str()] {
            for s in slaves(n) {
                self.guard_device(&s, why, mounts, depth + 1);
            }
        }
        if let Some(Ok(b)) = loop_backing(&disk) {
            if let Some(dev) = b.rdev {
                if let Some(n) = mounts::name_of(dev) {
                    self.guard_device(&n, why, mounts, depth + 1);
                }
            } else {
                let via = Why {
                    file: why.file.clone(),
                    via: Some(format!("/dev/{disk}")),
                };
                self.files.entry(b.id).or_insert_with(|| via.clone());
                if let Some(n) = device_of_file(b.id, Path::new(&b.shown), mounts) {
                    self.guard_device(&n, why, mounts, depth + 1);
                }
            }
        }
    }

    /// What a match on `why` means, for the message.
    fn holds(&self, why: &Why) -> String {
        let whose = if same_path(&why.file, &self.image) {
            format!("the image {}", self.image.display())
        } else {
            format!(
                "{}, which the image {} reads",
                why.file.display(),
                self.image.display()
            )
        };
        match &why.via {
            Some(dev) => format!("is the backing file of {dev}, which holds {whose}"),
            None => format!("holds {whose}"),
        }
    }

    fn is(&self, why: &Why) -> String {
        match &why.via {
            Some(_) => self.holds(why),
            None if same_path(&why.file, &self.image) => {
                format!("is the image {}", self.image.display())
            }
            None => format!(
                "is {}, which the image {} reads",
                why.file.display(),
                self.image.display()
            ),
        }
    }
}

fn same_path(a: &Path, b: &Path) -> bool {
    a == b
        || fs::canonicalize(a)
            .ok()
            .is_some_and(|a| fs::canonicalize(b).ok() == Some(a))
}

/// The block device (kernel name) holding a file: its `st_dev`, or for a filesystem with an
/// anonymous device number (btrfs, overlay) the block device mounted where the path is.
fn device_of_file(id: FileId, path: &Path, mounts: &[mounts::MountInfo]) -> Option<String> {
    if id.dev.0 != 0
        && let Some(n) = mounts::name_of(id.dev)
    {
        return Some(n);
    }
    mounts::device_of_path(path, mounts).and_then(mounts::name_of)
}

fn slaves(name: &str) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(mounts::sys_dir(name).join("slaves"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// What backs a loop device.
#[derive(Clone, Debug)]
struct Backing {
    /// Device and inode of the backing file (of the device node, for a block device).
    id: FileId,
    /// The device behind it, when the backing file is a block device (a nested loop).
    rdev: Option<DevNum>,
    /// The name sysfs gives (the file's name when it was attached).
    shown: String,
}

/// The kernel's answer for a bound loop device (`LOOP_GET_STATUS64`): device, inode and rdev
/// of its backing file.
fn loop_status(disk: &str) -> std::io::Result<(FileId, u64)> {
    use std::os::unix::fs::OpenOptionsExt;
    let node = format!("/dev/{disk}");
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&node)?;
    // The node must be the device sysfs names (a stale or planted /dev entry is not).
    let m = file.metadata()?;
    let want = mounts::dev_of_name(disk);
    if !m.file_type().is_block_device() || Some(mounts::split_dev(m.rdev())) != want {
        return Err(std::io::Error::other(format!(
            "{node} is not the device {disk}"
        )));
    }
    let st = spindle_sys::block::loop_status(file.as_fd())?;
    Ok((
        FileId {
            dev: st.backing_dev,
            ino: st.backing_inode,
        },
        st.backing_rdev,
    ))
}

/// What backs `disk` when it is a bound loop device: `None` when it is not one, an error
/// when it is but neither the kernel nor sysfs say which file.
fn loop_backing(disk: &str) -> Option<std::result::Result<Backing, String>> {
    let sys = mounts::sys_dir(disk).join("loop");
    if !sys.is_dir() {
        return None;
    }
    let shown = fs::read_to_string(sys.join("backing_file"))
        .map(|s| s.trim_end_matches('\n').to_string())
        .unwrap_or_default();
    let by_ioctl = loop_status(disk);
    if let Ok((id, rdev)) = by_ioctl {
        return Some(Ok(Backing {
            id,
            rdev: (rdev != 0).then(|| mounts::split_dev(rdev)),
            shown,
        }));
    }
    // No ioctl (a user who may not open the device): the name in sysfs, as it is now.
    let path = shown.strip_suffix(" (deleted)").unwrap_or(&shown);
    match fs::metadata(path) {
        Ok(m) if !shown.ends_with(" (deleted)") => Some(Ok(Backing {
            id: FileId::of(&m),
            rdev: m
                .file_type()
                .is_block_device()
                .then(|| mounts::split_dev(m.rdev())),
            shown,
        })),
        _ => Some(Err(format!(
            "cannot tell which file backs /dev/{disk} (the kernel: {}; sysfs names {shown:?})",
            by_ioctl.err().map(|e| e.to_string()).unwrap_or_default()
        ))),
    }
}

/// Refuses `target` (a whole disk, by kernel name) when writing it would write over a file
/// `reads` names or a device one of them lives on: the disk itself, anything it is stacked
/// on, or, for loop devices at any level, their backing files. No policy overrides this.
pub fn check(target: &Path, name: &str, reads: &Reads) -> Result<()> {
    let g = Guarded::of(reads);
    let mut chain = vec![format!("/dev/{name}")];
    let mut seen = BTreeSet::new();
    walk(target, name, &g, &mut chain, &mut seen)
}

fn walk(
    target: &Path,
    name: &str,
    g: &Guarded,
    chain: &mut Vec<String>,
    seen: &mut BTreeSet<String>,
) -> Result<()> {
    let refuse = |chain: &[String], what: String| {
        if chain.len() == 1 {
            BurnError::HoldsImage {
                path: target.to_path_buf(),
                image: g.image.clone(),
            }
        } else {
            BurnError::OverSource {
                path: target.to_path_buf(),
                chain: chain.join(" → "),
                what,
            }
        }
    };
    if chain.len() > MAX_DEPTH {
        return Err(BurnError::Unverifiable {
            path: target.to_path_buf(),
            chain: chain.join(" → "),
            what: format!("stacked more than {MAX_DEPTH} devices deep"),
        });
    }
    let disk = mounts::whole_disk(name);
    for n in [name, disk.as_str()] {
        if let Some(why) = g.devices.get(n) {
            let what = if n == name {
                g.holds(why)
            } else {
                format!("is on disk {disk}, which {}", g.holds(why))
            };
            return Err(refuse(chain, what));
        }
    }
    if !seen.insert(name.to_string()) {
        return Ok(());
    }
    let mut below: Vec<String> = slaves(name);
    if disk != name {
        below.extend(slaves(&disk));
    }
    for s in below {
        chain.push(format!("/dev/{s}"));
        walk(target, &s, g, chain, seen)?;
        chain.pop();
    }
    match loop_backing(&disk) {
        None => Ok(()),
        Some(Err(what)) => Err(BurnError::Unverifiable {
            path: target.to_path_buf(),
            chain: chain.join(" → "),
            what,
        }),
        Some(Ok(b)) => {
            if let Some(dev) = b.rdev {
                let Some(n) = mounts::name_of(dev) else {
                    return Err(BurnError::Unverifiable {
                        path: target.to_path_buf(),
                        chain: chain.join(" → "),
                        what: format!(
                            "/dev/{disk} is backed by device {}:{}, which sysfs does not know",
                            dev.0, dev.1
                        ),
                    });
                };
                chain.push(format!("/dev/{n}"));
                let r = walk(target, &n, g, chain, seen);
                chain.pop();
                return r;
            }
            if let Some(why) = g.files.get(&b.id) {
                chain.push(format!("backing file {}", b.shown));
                let e = refuse(chain, g.is(why));
                chain.pop();
                return Err(e);
            }
            Ok(())
        }
    }
}

/// The last check, right before the first write (a confirmation prompt may have waited for
/// any time since the checks): when writing any target would write over a file the source
/// reads ([`crate::backing::check`]), no target is written, and each says why.
pub(crate) fn refuse_over_source(src: &Source, targets: &[Target]) -> Option<Vec<TargetReport>> {
    let errors: Vec<Option<String>> = targets
        .iter()
        .map(|t| {
            check(&t.device.path, &t.device.name, &src.reads)
                .err()
                .map(|e| e.to_string())
        })
        .collect();
    if errors.iter().all(Option::is_none) {
        return None;
    }
    Some(
        targets
            .iter()
            .zip(errors)
            .map(|(t, e)| TargetReport {
                path: t.device.path.clone(),
                outcome: Outcome::Refused {
                    error: e.unwrap_or_else(|| "another target of this burn was refused".into()),
                },
                direct: t.direct(),
                write_secs: 0.0,
                verify_secs: 0.0,
            })
            .collect(),
    )
}
