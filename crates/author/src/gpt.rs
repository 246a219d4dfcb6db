//! GPT for hybrid images with an EFI boot image (UEFI 2.x, chapter 5): a protective MBR
//! entry, the primary header and entry array in the system area (512-byte LBAs 1 to 33),
//! the backup array and header in the image's last 33 LBAs (the padding after the files),
//! and one partition, the EFI System Partition, over the EFI image's extent inside the ISO.
//! The disk and partition GUIDs are derived from the image's metadata, never random.

/// 512-byte blocks of the partition entry array: 128 entries of 128 bytes.
const ENTRY_BLOCKS: u64 = 32;
/// Entries in the array.
const ENTRIES: u32 = 128;
/// 2048-byte sectors kept free at the end of the image for the backup GPT (33 blocks).
pub const TAIL_SECTORS: u64 = 9;

/// The EFI System Partition type, as stored (mixed-endian): C12A7328-F81F-11D2-BA4B-
/// 00A0C93EC93B.
const ESP_TYPE: [u8; 16] = [
    0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B,
];

/// A GPT for a disk of `blocks` 512-byte blocks with one EFI System Partition.
pub struct Gpt {
    /// Blocks of the disk.
    pub blocks: u64,
    /// The ESP's first and last block (inclusive).
    pub esp: (u64, u64),
    /// The disk GUID.
    pub disk: [u8; 16],
    /// The partition's GUID.
    pub part: [u8; 16],
}

/// A version-4-shaped GUID from `data` and a salt (two FNV-1a 64-bit hashes): the same data
/// give the same GUID.
pub fn guid(data: &[u8], salt: u8) -> [u8; 16] {
    let hash = |seed: u64| {
        data.iter().fold(seed ^ u64::from(salt), |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
        })
    };
    let mut g = [0u8; 16];
    g[..8].copy_from_slice(&hash(0xCBF2_9CE4_8422_2325).to_le_bytes());
    g[8..].copy_from_slice(&hash(0x8422_2325_CBF2_9CE4).to_le_bytes());
    g[7] = (g[7] & 0x0F) | 0x40; // version 4 (the high nibble of the third field)
    g[8] = (g[8] & 0x3F) | 0x80; // RFC 4122 variant
    g
}

impl Gpt {
    /// The partition entry array (32 blocks).
    fn entries(&self) -> Vec<u8> {
        let mut a = vec![0u8; (ENTRY_BLOCKS * 512) as usize];
        a[..16].copy_from_slice(&ESP_TYPE);
        a[16..32].copy_from_slice(&self.part);
        a[32..40].copy_from_slice(&self.esp.0.to_le_bytes());
        a[40..48].copy_from_slice(&self.esp.1.to_le_bytes());
        for (i, u) in "EFI boot image".encode_utf16().enumerate() {
            a[56 + 2 * i..58 + 2 * i].copy_from_slice(&u.to_le_bytes());
        }
        a
    }

    /// A header at block `at` whose other copy is at `other` and whose entries start at
    /// `entries`.
    fn header(&self, at: u64, other: u64, entries: u64, crc: u32) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..8].copy_from_slice(b"EFI PART");
        h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
        h[12..16].copy_from_slice(&92u32.to_le_bytes());
        h[24..32].copy_from_slice(&at.to_le_bytes());
        h[32..40].copy_from_slice(&other.to_le_bytes());
        h[40..48].copy_from_slice(&(2 + ENTRY_BLOCKS).to_le_bytes());
        h[48..56].copy_from_slice(&(self.blocks - 2 - ENTRY_BLOCKS).to_le_bytes());
        h[56..72].copy_from_slice(&self.disk);
        h[72..80].copy_from_slice(&entries.to_le_bytes());
        h[80..84].copy_from_slice(&ENTRIES.to_le_bytes());
        h[84..88].copy_from_slice(&128u32.to_le_bytes());
        h[88..92].copy_from_slice(&crc.to_le_bytes());
        let sum = crc32fast::hash(&h[..92]);
        h[16..20].copy_from_slice(&sum.to_le_bytes());
        h
    }

    /// The primary header and entries: bytes 512 to 17,408 of the image.
    pub fn primary(&self) -> Vec<u8> {
        let e = self.entries();
        let mut out = self
            .header(1, self.blocks - 1, 2, crc32fast::hash(&e))
            .to_vec();
        out.extend_from_slice(&e);
        out
    }

    /// The backup entries and header: the image's last 33 blocks, and where they start.
    pub fn backup(&self) -> (u64, Vec<u8>) {
        let e = self.entries();
        let last = self.blocks - 1;
        let start = last - ENTRY_BLOCKS;
        let h = self.header(last, 1, start, crc32fast::hash(&e));
        let mut out = e;
        out.extend_from_slice(&h);
        (start * 512, out)
    }
}

/// Makes the MBR's partition table protective: entry 1 of type 0xEE from block 1 over the
/// disk, not active (as the UEFI specification asks; `sgdisk -v` warns of an active one,
/// and SeaBIOS runs the MBR code regardless), the other entries empty.
pub fn protect(mbr: &mut [u8; 512], blocks: u64) {
    mbr[446..510].fill(0);
    let p = &mut mbr[446..462];
    p[0] = 0;
    p[1..4].copy_from_slice(&[0x00, 0x02, 0x00]); // CHS of block 1
    p[4] = 0xEE;
    p[5..8].copy_from_slice(&[0xFE, 0xFF, 0xFF]); // CHS beyond 8 GiB
    p[8..12].copy_from_slice(&1u32.to_le_bytes());
    p[12..16].copy_from_slice(&((blocks - 1).min(u64::from(u32::MAX)) as u32).to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
}
