//! What a disc's data looks like when it holds no filesystem spindle knows.
//!
//! Any file whose size is a multiple of 2048 opens as an ISO (a raw image of unknown content
//! is legitimate), so `info` and `mount` say when there is no ISO 9660 or UDF volume and no
//! El Torito boot record, and what the data looks like instead: zeros, a FAT filesystem (a
//! floppy or disk image), an MBR or GPT partitioned disk.

use spindle_disc::{ByteSource, Disc, SectorView};
use std::sync::Arc;

/// How much of an unrecognised image is scanned for non-zero bytes.
pub const ZERO_SCAN_BYTES: u64 = 64 << 20;

/// `None` when the disc has no data track (an audio CD) or its data holds an ISO 9660 or
/// UDF volume (or an El Torito record); else a description of what the data looks like.
pub fn unrecognised_content(disc: &Arc<Disc>) -> Option<String> {
    disc.first_data_track()?;
    let (dev, base) = crate::disc_device(disc).ok()?;
    let mut bases: Vec<u32> = disc
        .tracks()
        .filter(|t| t.mode.is_data())
        .map(|t| t.index1().0.max(0) as u32)
        .collect();
    bases.push(base);
    bases.dedup();
    // Any ISO 9660 volume descriptor (a damaged volume is still one; El Torito's boot record
    // is one too), or a UDF volume.
    let descriptor = |b: u32| {
        let mut d = [0u8; 2048];
        dev.read_at(&mut d, (b as u64 + 16) * 2048)
            .is_ok_and(|n| n == 2048)
            && (&d[1..6] == b"CD001" || &d[9..14] == b"CDROM")
    };
    if bases.iter().any(|&b| descriptor(b)) || spindle_udf::detect(dev.clone()) {
        return None;
    }
    let view = SectorView::first_data_track(disc.clone()).ok()?;
    let mut head = vec![0u8; 64 * 1024];
    let n = view.read_at(&mut head, 0).ok()?;
    head.truncate(n);
    Some(format!(
        "no known filesystem (no ISO 9660 or UDF volume): {}",
        looks_like(&head, &view)
    ))
}

/// A guess from the first bytes (and, for zeros, the rest up to [`ZERO_SCAN_BYTES`]).
fn looks_like(head: &[u8], view: &SectorView) -> String {
    if head.iter().all(|&b| b == 0) {
        let len = view.len();
        let scan = len.min(ZERO_SCAN_BYTES);
        let mut buf = vec![0u8; 1 << 20];
        let mut at = 0;
        while at < scan {
            let want = ((scan - at) as usize).min(buf.len());
            match view.read_at(&mut buf[..want], at) {
                Ok(0) | Err(_) => break,
                Ok(k) if buf[..k].iter().any(|&b| b != 0) => {
                    return "unrecognised data (zeros at the start)".into();
                }
                Ok(k) => at += k as u64,
            }
        }
        return if scan == len {
            "all zeros".into()
        } else {
            format!("zeros (the first {} MiB checked)", scan >> 20)
        };
    }
    let boot_sig = head.get(510..512) == Some(&[0x55, 0xAA][..]);
    if head.get(512..520) == Some(&b"EFI PART"[..]) {
        return "a GPT-partitioned disk image, not a CD or DVD image".into();
    }
    if boot_sig && let Some(fat) = fat_type(head) {
        return format!("a {fat} filesystem (a floppy or disk image, not a CD or DVD image)");
    }
    if boot_sig && mbr_partitions(head) > 0 {
        return "an MBR-partitioned disk image, not a CD or DVD image".into();
    }
    "unrecognised data".into()
}

/// The FAT type a boot sector's BIOS parameter block names, if it is one.
fn fat_type(b: &[u8]) -> Option<&'static str> {
    let bytes_per_sector = u16::from_le_bytes([*b.get(11)?, *b.get(12)?]);
    let sane_bpb = matches!(bytes_per_sector, 512 | 1024 | 2048 | 4096)
        && b[13].is_power_of_two()
        && b[16] > 0;
    if !sane_bpb {
        return None;
    }
    if b.get(82..87) == Some(&b"FAT32"[..]) {
        Some("FAT32")
    } else if b.get(54..59) == Some(&b"FAT16"[..]) {
        Some("FAT16")
    } else if b.get(54..59) == Some(&b"FAT12"[..]) {
        Some("FAT12")
    } else if b.get(54..57) == Some(&b"FAT"[..]) {
        Some("FAT")
    } else {
        None
    }
}

/// How many MBR partition entries are in use (type byte set, status 0x00 or 0x80).
fn mbr_partitions(b: &[u8]) -> usize {
    (0..4)
        .filter(|i| {
            let e = &b[446 + i * 16..462 + i * 16];
            e[4] != 0 && (e[0] == 0 || e[0] == 0x80)
        })
        .count()
}
