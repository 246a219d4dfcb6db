//! A disk with an MBR and one active FAT partition at 1 MiB.

use crate::error::{FatError, Result};
use crate::layout::{FatType, SECTOR};
use crate::tree::Tree;
use crate::volume::{Options, Volume};
use spindle_bytes::{ByteSource, Concat, Piece};

/// Where the partition starts: 1 MiB, in sectors (what every partitioning tool aligns to).
pub const PARTITION_START: u64 = 2048;

/// What the disk's MBR holds besides the partition entry.
#[derive(Clone, Debug, Default)]
pub struct DiskOptions {
    /// Boot code for the MBR's first 440 bytes. By default `int 0x18` and a halt loop.
    pub boot_code: Option<Vec<u8>>,
    /// The disk signature at byte 440 (reproducible: the caller picks it).
    pub signature: u32,
}

/// An MBR disk with one active partition holding a FAT volume.
pub struct Disk {
    /// The volume in the partition.
    pub volume: Volume,
    /// The partition type byte: 0x0C FAT32 (LBA), 0x0E FAT16 (LBA), 0x01 FAT12.
    pub partition_type: u8,
    /// The partition's size in sectors.
    pub partition_sectors: u64,
    /// The MBR, then the gap to 1 MiB, then the volume's content.
    content: Concat,
}

impl Disk {
    /// Lays out `tree` on a disk of `disk_bytes`: the MBR, then one active partition from
    /// 1 MiB to the end of the disk (at most 2 TiB, what an MBR can address).
    pub fn build(tree: &Tree, opts: &Options, disk: &DiskOptions, disk_bytes: u64) -> Result<Disk> {
        let fail = |reason: String| FatError::Disk {
            size: disk_bytes,
            reason,
        };
        let sectors = disk_bytes / SECTOR;
        if sectors <= PARTITION_START {
            return Err(fail("too small for a partition at 1 MiB".into()));
        }
        if let Some(code) = &disk.boot_code {
            if code.len() > 440 {
                return Err(fail(format!(
                    "MBR boot code of {} bytes; 440 fit",
                    code.len()
                )));
            }
        }
        let partition_sectors = (sectors - PARTITION_START).min(u64::from(u32::MAX));
        let opts = Options {
            hidden_sectors: PARTITION_START as u32,
            ..opts.clone()
        };
        let volume = Volume::build(tree, &opts, partition_sectors * SECTOR)?;
        let partition_type = match volume.geometry.fat_type {
            FatType::Fat32 => 0x0C,
            FatType::Fat16 => 0x0E,
            FatType::Fat12 => 0x01,
        };
        let mut mbr = [0u8; 512];
        let default = [0xCD, 0x18, 0xEB, 0xFE];
        let code = disk.boot_code.as_deref().unwrap_or(&default);
        mbr[..code.len()].copy_from_slice(code);
        mbr[440..444].copy_from_slice(&disk.signature.to_le_bytes());
        let e = &mut mbr[446..462];
        e[0] = 0x80; // active
        e[1..4].copy_from_slice(&chs(PARTITION_START));
        e[4] = partition_type;
        e[5..8].copy_from_slice(&chs(PARTITION_START + partition_sectors - 1));
        e[8..12].copy_from_slice(&(PARTITION_START as u32).to_le_bytes());
        e[12..16].copy_from_slice(&(partition_sectors as u32).to_le_bytes());
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        let content = Concat::new(
            [
                Piece::Data(mbr.to_vec().into()),
                Piece::Zeros(PARTITION_START * SECTOR - SECTOR),
                Piece::Source(std::sync::Arc::new(volume.content().clone())),
            ],
            "FAT disk",
        );
        Ok(Disk {
            volume,
            partition_type,
            partition_sectors,
            content,
        })
    }

    /// The bytes to write from the disk's first byte: the MBR, the gap, the volume up to its
    /// last used cluster.
    pub fn content(&self) -> &Concat {
        &self.content
    }

    /// The disk's size as laid out: the end of the partition, in bytes.
    pub fn size(&self) -> u64 {
        (PARTITION_START + self.partition_sectors) * SECTOR
    }
}

impl ByteSource for Disk {
    fn len(&self) -> u64 {
        self.content.len()
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        self.content.read_at(buf, offset)
    }
    fn runs(&self, offset: u64, len: u64) -> Vec<spindle_bytes::Run> {
        self.content.runs(offset, len)
    }
}

/// The CHS address of `lba` with 255 heads and 63 sectors a track, or the "use LBA" value
/// (1023/254/63) past what CHS reaches.
fn chs(lba: u64) -> [u8; 3] {
    let (c, h, s) = if lba >= 1024 * 255 * 63 {
        (1023, 254, 63)
    } else {
        (lba / (255 * 63), lba / 63 % 255, lba % 63 + 1)
    };
    [h as u8, (s as u8) | (((c >> 8) as u8) << 6), c as u8]
}
