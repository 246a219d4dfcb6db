//! Where everything goes: the FAT type, the cluster size, the reserved area, the FATs, the
//! root directory (FAT12/16) and the data area, in 512-byte sectors.

use crate::error::{FatError, Result};

/// Sector size: 512 bytes, what every firmware reads FAT with.
pub const SECTOR: u64 = 512;

/// The three FAT variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FatType {
    /// 12-bit entries, fewer than 4085 clusters (floppies, tiny EFI images).
    Fat12,
    /// 16-bit entries, 4085 to 65524 clusters.
    Fat16,
    /// 28-bit entries, 65525 clusters or more (USB sticks).
    Fat32,
}

impl FatType {
    /// The cluster counts this type must have (FAT's rule: the count decides the type).
    fn clusters(self) -> (u64, u64) {
        match self {
            FatType::Fat12 => (1, 4084),
            FatType::Fat16 => (4085, 65524),
            FatType::Fat32 => (65525, 0x0FFF_FFF4),
        }
    }

    /// Bits per FAT entry.
    fn bits(self) -> u64 {
        match self {
            FatType::Fat12 => 12,
            FatType::Fat16 => 16,
            FatType::Fat32 => 32,
        }
    }

    /// `FAT12`, `FAT16` or `FAT32`.
    pub fn name(self) -> &'static str {
        match self {
            FatType::Fat12 => "FAT12",
            FatType::Fat16 => "FAT16",
            FatType::Fat32 => "FAT32",
        }
    }

    /// The name in the boot sector's file-system-type field.
    pub fn label(self) -> &'static [u8; 8] {
        match self {
            FatType::Fat12 => b"FAT12   ",
            FatType::Fat16 => b"FAT16   ",
            FatType::Fat32 => b"FAT32   ",
        }
    }
}

/// The volume's geometry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// The FAT type.
    pub fat_type: FatType,
    /// Sectors per cluster (a power of two, 1 to 128).
    pub cluster_sectors: u64,
    /// Reserved sectors before the first FAT (boot sector, FSInfo and its backups).
    pub reserved: u64,
    /// Sectors per FAT (there are two).
    pub fat_sectors: u64,
    /// Root directory entries (FAT12/16; 0 on FAT32, whose root is a cluster chain).
    pub root_entries: u64,
    /// Sectors of the volume.
    pub total_sectors: u64,
    /// Data clusters (numbered from 2).
    pub clusters: u64,
}

impl Geometry {
    /// The first sector of the root directory region (FAT12/16).
    pub fn root_start(&self) -> u64 {
        self.reserved + 2 * self.fat_sectors
    }

    /// Sectors of the FAT12/16 root directory region.
    pub fn root_sectors(&self) -> u64 {
        (self.root_entries * 32).div_ceil(SECTOR)
    }

    /// The first sector of the data area (cluster 2).
    pub fn data_start(&self) -> u64 {
        self.root_start() + self.root_sectors()
    }

    /// Bytes per cluster.
    pub fn cluster_bytes(&self) -> u64 {
        self.cluster_sectors * SECTOR
    }

    /// Byte offset of `cluster` in the volume.
    pub fn cluster_offset(&self, cluster: u64) -> u64 {
        (self.data_start() + (cluster - 2) * self.cluster_sectors) * SECTOR
    }
}

/// The default cluster size for a volume of `bytes` of type `t`, in sectors.
fn default_cluster(t: FatType, bytes: u64) -> u64 {
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    match t {
        // Microsoft's defaults for FAT32, widened to 32 KiB for anything over 32 GiB.
        FatType::Fat32 => match bytes {
            b if b <= 260 * MIB => 1,
            b if b <= 8 * GIB => 8,
            b if b <= 16 * GIB => 16,
            b if b <= 32 * GIB => 32,
            _ => 64,
        },
        // The smallest cluster that keeps the count within the type.
        FatType::Fat16 | FatType::Fat12 => {
            let max = t.clusters().1;
            let mut spc = 1;
            while spc < 128 && bytes / (spc * SECTOR) > max {
                spc *= 2;
            }
            spc
        }
    }
}

/// The type for a volume of `bytes` when the caller does not choose: FAT32 from 512 MiB,
/// else FAT16 when it gets enough clusters of 2 KiB or less, else FAT12.
fn default_type(bytes: u64) -> FatType {
    if bytes >= 512 << 20 {
        FatType::Fat32
    } else if bytes / 2048 >= 4085 + 64 {
        FatType::Fat16
    } else {
        FatType::Fat12
    }
}

/// Lays out a volume of `total_sectors`. `root_entries` is what the FAT12/16 root needs
/// (rounded up to at least 512); the data area starts on a multiple of the cluster size and
/// of 4 KiB from the volume's start.
pub fn plan(
    total_sectors: u64,
    want: Option<FatType>,
    cluster_bytes: Option<u32>,
    root_entries: usize,
) -> Result<Geometry> {
    let size = total_sectors * SECTOR;
    let fail = |reason: String| FatError::Geometry { size, reason };
    let t = want.unwrap_or_else(|| default_type(size));
    let spc = match cluster_bytes {
        Some(b) if b.is_power_of_two() && (512..=65536).contains(&b) => u64::from(b) / SECTOR,
        Some(b) => {
            return Err(fail(format!(
                "cluster size {b} is not a power of two from 512 to 65536"
            )));
        }
        None => default_cluster(t, size),
    };
    let (root_entries, reserved_min) = match t {
        FatType::Fat32 => (0, 32),
        _ => ((root_entries.max(512) as u64).div_ceil(16) * 16, 1),
    };
    let root_sectors = (root_entries * 32).div_ceil(SECTOR);
    let align = spc.max(8);
    let mut fat_sectors = 1;
    loop {
        let meta = reserved_min + 2 * fat_sectors + root_sectors;
        let data_start = meta.div_ceil(align) * align;
        if data_start >= total_sectors {
            return Err(fail("too small to hold the FATs and any data".into()));
        }
        let clusters = (total_sectors - data_start) / spc;
        let need = ((clusters + 2) * t.bits()).div_ceil(8 * SECTOR);
        if need <= fat_sectors {
            let g = Geometry {
                fat_type: t,
                cluster_sectors: spc,
                reserved: data_start - 2 * fat_sectors - root_sectors,
                fat_sectors,
                root_entries,
                total_sectors,
                clusters,
            };
            let (lo, hi) = t.clusters();
            if !(lo..=hi).contains(&clusters) {
                return Err(fail(format!(
                    "{} with clusters of {} bytes gives {clusters} clusters; {0} needs {lo} to {hi}",
                    t.name(),
                    spc * SECTOR
                )));
            }
            return Ok(g);
        }
        fat_sectors = need;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fat32_stick() {
        let g = plan(16 << 21, Some(FatType::Fat32), None, 0).unwrap(); // 16 GiB
        assert_eq!(g.cluster_sectors, 16);
        assert!(g.reserved >= 32);
        assert_eq!(g.data_start() % 16, 0);
        assert!(g.clusters >= 65525);
        assert!(g.fat_sectors * 128 >= g.clusters + 2);
    }

    #[test]
    fn small_images() {
        let g = plan(2880, None, None, 10).unwrap(); // 1.44 MB
        assert_eq!(g.fat_type, FatType::Fat12);
        assert_eq!(g.root_entries, 512);
        let g = plan(64 << 11, None, None, 10).unwrap(); // 64 MiB
        assert_eq!(g.fat_type, FatType::Fat16);
        assert!(plan(16 << 11, Some(FatType::Fat32), None, 0).is_err()); // 16 MiB
    }
}
