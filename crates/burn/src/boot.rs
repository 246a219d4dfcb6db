//! Will the written stick boot? A firmware boots a USB disk from its partition table (an MBR
//! with a boot partition for BIOS, a GPT or MBR with an EFI system partition for UEFI). An ISO
//! made for optical discs boots through El Torito, which firmware only honours on optical
//! media: unless the ISO is "hybrid" (an MBR or GPT in its 32 KiB system area, as xorriso's
//! isohybrid options and most Linux installers make), a raw copy will not boot.

use crate::source::Source;
use serde::Serialize;
use spindle_fs::FileKind;

/// What the image's first bytes say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Boot {
    /// An ISO 9660/UDF image with a partition table in its system area.
    HybridIso {
        /// An MBR with at least one used, non-protective entry.
        mbr: bool,
        /// A GPT header (`EFI PART`) at LBA 1.
        gpt: bool,
    },
    /// An ISO 9660/UDF image without one: boots from optical media only.
    PlainIso,
    /// A Windows installation ISO (install.wim, bootmgr): a raw copy does not boot; it needs
    /// a tool that builds a FAT32/NTFS stick from its files.
    WindowsIso,
    /// A disk image with an MBR or GPT (Raspberry Pi, OS disk images).
    DiskImage {
        /// An MBR with at least one used, non-protective entry.
        mbr: bool,
        /// A GPT header (`EFI PART`) at LBA 1.
        gpt: bool,
    },
    /// Nothing recognisable.
    Unknown,
}

impl Boot {
    /// Whether the stick can be expected to boot.
    pub fn bootable(&self) -> bool {
        matches!(self, Boot::HybridIso { .. } | Boot::DiskImage { .. })
    }

    /// One sentence for people.
    pub fn message(&self) -> String {
        let table = |mbr: bool, gpt: bool| match (mbr, gpt) {
            (true, true) => "an MBR and a GPT",
            (false, true) => "a GPT",
            _ => "an MBR partition table",
        };
        match self {
            Boot::HybridIso { mbr, gpt } => format!("hybrid ISO: {} in its system area, it will boot from USB", table(*mbr, *gpt)),
            Boot::PlainIso => "not a hybrid ISO: no MBR or GPT in its system area, so the stick will NOT boot (the image boots from CD/DVD only)".into(),
            Boot::WindowsIso => "this is a Windows installation ISO: a raw copy to a USB stick will NOT boot; use a tool that builds a FAT32/NTFS stick from its files (WoeUSB, Rufus, the Media Creation Tool)".into(),
            Boot::DiskImage { mbr, gpt } => format!("disk image with {}", table(*mbr, *gpt)),
            Boot::Unknown => "no ISO 9660/UDF volume and no partition table: the stick will probably not boot".into(),
        }
    }
}

/// Looks at the system area, the volume descriptors and, for discs the registry read, the
/// root directory.
pub fn check(src: &Source) -> Boot {
    let len = src.len().min(64 * 1024) as usize;
    let mut head = vec![0u8; len];
    if src.bytes.read_exact_at(&mut head, 0).is_err() {
        return Boot::Unknown;
    }
    let (mbr, gpt) = partition_tables(&head);
    let iso = is_volume(&head);
    if iso && windows(src) {
        return Boot::WindowsIso;
    }
    match (iso, mbr || gpt) {
        (true, true) => Boot::HybridIso { mbr, gpt },
        (true, false) => Boot::PlainIso,
        (false, true) => Boot::DiskImage { mbr, gpt },
        (false, false) => Boot::Unknown,
    }
}

/// Which partition tables the first bytes of an image hold, as `(mbr, gpt)`: an MBR is the
/// 0x55AA signature at byte 510 with at least one used entry whose status is 0x00 or 0x80; a
/// GPT is its header signature `EFI PART` at LBA 1 for 512- or 4096-byte sectors. A protective
/// MBR (type 0xEE) alone counts as the GPT's, not as an MBR. Bytes `head` does not reach
/// count as absent.
pub(crate) fn partition_tables(head: &[u8]) -> (bool, bool) {
    let gpt = [512usize, 4096]
        .iter()
        .any(|&o| head.len() >= o + 8 && &head[o..o + 8] == b"EFI PART");
    let mut mbr = false;
    if head.len() >= 512 && head[510] == 0x55 && head[511] == 0xAA {
        for i in 0..4 {
            let e = &head[446 + i * 16..446 + (i + 1) * 16];
            let kind = e[4];
            let sectors = u32::from_le_bytes([e[12], e[13], e[14], e[15]]);
            let status_ok = e[0] == 0 || e[0] == 0x80;
            if kind != 0 && sectors != 0 && status_ok && kind != 0xEE {
                mbr = true;
            }
        }
    }
    (mbr, gpt)
}

/// ISO 9660 (`CD001`) or UDF (`BEA01`/`NSR0x`) volume recognition at 32 KiB.
fn is_volume(head: &[u8]) -> bool {
    (0..8).any(|i| {
        let o = 32768 + i * 2048 + 1;
        head.len() >= o + 5 && matches!(&head[o..o + 5], b"CD001" | b"BEA01" | b"NSR02" | b"NSR03")
    })
}

/// `sources/install.wim` (or `.esd`), `bootmgr` or `efi/microsoft` in the root.
fn windows(src: &Source) -> bool {
    let Some(disc) = &src.disc else { return false };
    let Ok(fs) = spindle_image::filesystem(disc, None) else {
        return false;
    };
    let Ok(root) = fs.read_dir(fs.root()) else {
        return false;
    };
    let find = |entries: &[spindle_fs::DirEntry], name: &str, kind: FileKind| {
        entries
            .iter()
            .find(|e| e.kind == kind && e.name.eq_ignore_ascii_case(name))
            .map(|e| e.node)
    };
    if find(&root, "bootmgr", FileKind::File).is_some() {
        return true;
    }
    if let Some(s) = find(&root, "sources", FileKind::Dir)
        && let Ok(list) = fs.read_dir(s)
        && ["install.wim", "install.esd", "install.swm"]
            .iter()
            .any(|n| find(&list, n, FileKind::File).is_some())
    {
        return true;
    }
    if let Some(e) = find(&root, "efi", FileKind::Dir)
        && let Ok(list) = fs.read_dir(e)
        && find(&list, "microsoft", FileKind::Dir).is_some()
    {
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbr_and_gpt() {
        let mut h = vec![0u8; 8192];
        assert_eq!(partition_tables(&h), (false, false));
        h[510] = 0x55;
        h[511] = 0xAA;
        assert_eq!(
            partition_tables(&h),
            (false, false),
            "signature without entries"
        );
        h[446 + 4] = 0x17;
        h[446 + 12] = 100;
        assert_eq!(partition_tables(&h), (true, false));
        h[512..520].copy_from_slice(b"EFI PART");
        assert_eq!(partition_tables(&h), (true, true));
    }
}
