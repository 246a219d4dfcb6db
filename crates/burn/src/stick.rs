//! The file-copy stick for Windows installation ISOs (issue 18): a raw copy of such an ISO
//! does not boot (it has no partition table), so the stick is built instead: an MBR with one
//! active FAT32 partition at 1 MiB filling the stick, and every file of the ISO copied with
//! its name and case as the ISO's UDF (else Joliet/ISO 9660) tree has them. UEFI firmware
//! boots `EFI/BOOT/BOOTX64.EFI` from it, Microsoft's signed loader, unchanged; legacy BIOS
//! boots spindle's own MBR and FAT32 boot code ([`spindle_fat::boot`]), which load
//! `/bootmgr` as Windows' own boot sector does.
//!
//! The stick is a [`spindle_fat::Disk`]: the FAT metadata made in memory and each file read
//! from the ISO as it is written. It is burned like any image ([`crate::burn`]: every safety
//! check, several sticks from one read, O_DIRECT writes, progress on bytes on the stick,
//! read-back verification against the hashes of what was written, so every file is compared),
//! with its first chunk (the MBR and the boot sector) written last.

use crate::error::{BurnError, Result};
use crate::source::Source;
use crate::wimcheck::SplitWim;
use spindle_bytes::ByteSource;
use spindle_fat::{Disk, DiskOptions, FatType, Options, Tree};
use spindle_fs::{FileKind, FileSystem, FsError, NodeId, Subdirs, walk_tree};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One file of the ISO, read through the filesystem reader.
struct IsoFile {
    fs: Arc<dyn FileSystem>,
    node: NodeId,
    len: u64,
    path: PathBuf,
}

impl ByteSource for IsoFile {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let want = (buf.len() as u64).min(self.len.saturating_sub(offset)) as usize;
        let mut done = 0;
        while done < want {
            let n = self
                .fs
                .read(self.node, offset + done as u64, &mut buf[done..want])
                .map_err(|e| io::Error::other(format!("{}: {e}", self.path.display())))?;
            if n == 0 {
                break;
            }
            done += n;
        }
        Ok(done)
    }
    fn path(&self) -> &Path {
        &self.path
    }
}

/// What the stick will hold.
pub struct Stick {
    /// The layout: MBR, partition, FAT32 volume.
    pub disk: Disk,
    /// Files copied.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Whether the ISO has `efi/boot/bootx64.efi` (what UEFI boots from a stick).
    pub uefi: bool,
    /// Whether the ISO has `bootmgr` in its root (what the stick's BIOS boot code loads).
    pub bios: bool,
    /// The WIM files split into `.swm` parts: (path in the ISO, number of parts).
    pub split: Vec<(String, usize)>,
    /// The split WIMs with where their parts are on the device (checked after the read-back).
    pub wims: Vec<crate::wimcheck::SplitWim>,
}

/// When WIM files are split.
#[derive(Clone, Debug)]
pub struct StickOptions {
    /// `.wim` and `.esd` files of this size or more are split into `.swm` parts (default
    /// 4 GiB: FAT32 holds at most 4 GiB - 1 per file).
    pub split_over: u64,
    /// The most resource bytes in one part ([`crate::wim::PART_LIMIT`]).
    pub part_limit: u64,
}

impl Default for StickOptions {
    fn default() -> StickOptions {
        StickOptions {
            split_over: 4 << 30,
            part_limit: crate::wim::PART_LIMIT,
        }
    }
}

/// Lays out the stick for the Windows ISO `src` on a device of `device_bytes`, WIM files of
/// 4 GiB or more split ([`layout_with`]).
pub fn layout(src: &Source, device_bytes: u64) -> Result<Stick> {
    layout_with(src, device_bytes, &StickOptions::default())
}

/// Lays out the stick for the Windows ISO `src` on a device of `device_bytes`: `.wim` and
/// `.esd` files of `opts.split_over` bytes or more become `.swm` parts in the same folder
/// (`install.wim` → `install.swm`, `install2.swm`, ...: what Windows Setup reads). Fails
/// with [`BurnError::Stick`] when a file cannot go on FAT32 (another file of 4 GiB or more,
/// a WIM that cannot be split), a name cannot, or the files do not fit.
pub fn layout_with(src: &Source, device_bytes: u64, opts: &StickOptions) -> Result<Stick> {
    let fail = |what: String| BurnError::Stick {
        path: src.path.clone(),
        what,
    };
    let disc = src
        .disc
        .as_ref()
        .ok_or_else(|| fail("its files cannot be read (a streamed image)".into()))?;
    let fs = spindle_image::filesystem(disc, None).map_err(|e| fail(e.to_string()))?;
    let root_time = fs.metadata(fs.root()).map(|m| m.mtime.secs).unwrap_or(0);
    let mut tree = Tree::new(root_time);
    let (mut files, mut bytes, mut uefi, mut bios) = (0usize, 0u64, false, false);
    let mut problem: Option<String> = None;
    let mut split: Vec<(String, usize)> = Vec::new();
    // Each split WIM: its path, its bytes, its parts (path on the stick, bytes).
    #[allow(clippy::type_complexity)]
    let mut wims: Vec<(
        String,
        Arc<dyn ByteSource>,
        Vec<(String, Arc<dyn ByteSource>)>,
    )> = Vec::new();
    let fsr = fs.as_ref();
    let mut visit = |path: &str, _depth: usize, dir: NodeId, subdirs: &mut Subdirs| {
        let mut entries = Vec::new();
        fsr.walk_dir(dir, &mut |e| {
            entries.push((
                e.name.to_string(),
                e.node,
                e.meta.kind,
                e.meta.size,
                e.meta.mtime.secs,
            ));
            Ok(())
        })?;
        for (name, node, kind, size, mtime) in entries {
            let p = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}/{name}")
            };
            let added = match kind {
                FileKind::Dir => {
                    subdirs.push((name, node));
                    tree.add_dir(&p, mtime)
                }
                FileKind::File => {
                    files += 1;
                    bytes += size;
                    uefi |= p.eq_ignore_ascii_case("efi/boot/bootx64.efi");
                    bios |= p.eq_ignore_ascii_case("bootmgr");
                    let f: Arc<dyn ByteSource> = Arc::new(IsoFile {
                        fs: fs.clone(),
                        node,
                        len: size,
                        path: PathBuf::from(format!("{}:/{p}", src.path.display())),
                    });
                    let lower = name.to_ascii_lowercase();
                    if size >= opts.split_over
                        && (lower.ends_with(".wim") || lower.ends_with(".esd"))
                    {
                        match crate::wim::split(f.clone(), &name, opts.part_limit) {
                            Ok(parts) => {
                                let dir = p.rsplit_once('/').map_or("", |(d, _)| d);
                                split.push((p.clone(), parts.len()));
                                let mut placed = Vec::new();
                                let r = parts.into_iter().try_for_each(|part| {
                                    let at = if dir.is_empty() {
                                        part.name
                                    } else {
                                        format!("{dir}/{}", part.name)
                                    };
                                    placed.push((at.clone(), part.bytes.clone()));
                                    tree.add_file(&at, part.bytes, mtime)
                                });
                                wims.push((p.clone(), f, placed));
                                r
                            }
                            Err(why) => {
                                problem.get_or_insert(format!(
                                    "{p} ({}) must be split for FAT32 but cannot be: {why}",
                                    crate::human_size(size)
                                ));
                                Ok(())
                            }
                        }
                    } else {
                        tree.add_file(&p, f, mtime)
                    }
                }
                _ => Err(spindle_fat::FatError::InvalidName {
                    path: p,
                    reason: "not a file or directory (FAT holds only those)",
                }),
            };
            if let Err(e) = added {
                problem.get_or_insert(explain(e));
            }
        }
        Ok::<(), FsError>(())
    };
    walk_tree(fsr, fs.root(), "", &mut visit).map_err(|e| fail(e.to_string()))?;
    if let Some(p) = problem {
        return Err(fail(p));
    }
    let label = fs.label();
    let opts = Options {
        fat_type: Some(FatType::Fat32),
        serial: reproducible_id(src),
        label: fat_label(&label),
        ..Options::default()
    };
    let dopts = DiskOptions {
        signature: reproducible_id(src).rotate_left(16),
        ..DiskOptions::default()
    };
    // spindle's own BIOS boot code: the MBR chains the partition, whose boot sector loads
    // /bootmgr like Windows' own.
    let (opts, dopts) = spindle_fat::boot::bootmgr(&opts, &dopts);
    let disk = Disk::build(&tree, &opts, &dopts, device_bytes).map_err(|e| fail(e.to_string()))?;
    let wims = place(&disk, wims).map_err(fail)?;
    Ok(Stick {
        disk,
        files,
        bytes,
        uefi,
        bios,
        split,
        wims,
    })
}

/// Where each split WIM's parts are on the device: found among the volume's pieces (each
/// file is one run of clusters), the volume starting at 1 MiB.
#[allow(clippy::type_complexity)]
fn place(
    disk: &Disk,
    wims: Vec<(
        String,
        Arc<dyn ByteSource>,
        Vec<(String, Arc<dyn ByteSource>)>,
    )>,
) -> std::result::Result<Vec<SplitWim>, String> {
    let base = spindle_fat::PARTITION_START * 512;
    let at = |part: &Arc<dyn ByteSource>| {
        disk.volume
            .content()
            .pieces()
            .find_map(|(start, piece)| match piece {
                spindle_bytes::Piece::Source(s)
                    if std::ptr::addr_eq(Arc::as_ptr(s), Arc::as_ptr(part)) =>
                {
                    Some(base + start)
                }
                _ => None,
            })
    };
    wims.into_iter()
        .map(|(path, source, parts)| {
            let parts = parts
                .into_iter()
                .map(|(name, bytes)| {
                    at(&bytes)
                        .map(|off| (name.clone(), off, bytes.len()))
                        .ok_or_else(|| format!("{name} is not in the laid-out volume"))
                })
                .collect::<std::result::Result<_, String>>()?;
            Ok(SplitWim {
                path,
                source,
                parts,
            })
        })
        .collect()
}

/// The source that writes `stick`: its bytes, guarded like `iso` (the same files are read),
/// its MBR and boot sector written last.
pub fn source(iso: &Source, stick: Stick) -> Source {
    let g = &stick.disk.volume.geometry;
    let split: String = stick
        .split
        .iter()
        .map(|(p, n)| format!(", {p} split into {n} .swm parts"))
        .collect();
    let description = format!(
        "Windows USB stick: MBR, one active {} partition at 1 MiB of {}, {} files ({}), clusters of {}{split}",
        g.fat_type.name(),
        crate::human_size(stick.disk.partition_sectors * 512),
        stick.files,
        crate::human_size(stick.bytes),
        crate::human_size(g.cluster_bytes()),
    );
    let boot_area = (spindle_fat::PARTITION_START + g.reserved) * 512;
    Source {
        path: iso.path.clone(),
        bytes: Arc::new(stick.disk),
        description,
        disc: iso.disc.clone(),
        files: iso.files.clone(),
        reads: iso.reads.clone(),
        head_last: boot_area,
        wims: stick.wims,
    }
}

/// A FAT error as the user needs it: a file of 4 GiB or more is the WIM split's job.
fn explain(e: spindle_fat::FatError) -> String {
    match e {
        spindle_fat::FatError::FileTooLarge { path, size } => format!(
            "{path} is {} ({size} bytes), over FAT32's 4 GiB - 1 per file, and only .wim and \
             .esd files are split. --raw writes the ISO as it is, but that stick will not boot",
            crate::human_size(size)
        ),
        e => e.to_string(),
    }
}

/// The ISO's volume label as a FAT label: upper case, characters FAT cannot hold dropped,
/// 11 at most.
fn fat_label(label: &str) -> Option<String> {
    let l: String = label
        .chars()
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| c.is_ascii_alphanumeric() || "!#$%&'()-@^_`{}~ ".contains(*c))
        .take(11)
        .collect();
    let l = l.trim_end().to_string();
    (!l.is_empty()).then_some(l)
}

/// A number the same for the same ISO: the volume serial and the MBR's disk signature
/// (xxh3 of the volume descriptors at 32 KiB).
fn reproducible_id(src: &Source) -> u32 {
    let mut vd = vec![0u8; 32 * 1024];
    let n = src.len().saturating_sub(32 * 1024).min(vd.len() as u64) as usize;
    let _ = src.bytes.read_exact_at(&mut vd[..n], 32 * 1024);
    xxhash_rust::xxh3::xxh3_64(&vd[..n]) as u32
}
