//! # spindle-udf: a read-only UDF reader
//!
//! Reads Universal Disk Format volumes (OSTA UDF 1.02 to 2.60, over ECMA-167 3rd edition)
//! from a [`spindle_fs::Device`] and offers them as a [`spindle_fs::FileSystem`]
//! ([`spindle_fs::FsKind::Udf`]).
//!
//! - [`open_udf`] (or [`Udf::open`]) finds the anchor (sector 256, else N-256, else N-1;
//!   blocks of 2048, 512, 1024 or 4096 bytes), reads the main volume descriptor sequence
//!   (falling back to the reserve one), builds the partitions (physical, sparable with its
//!   sparing tables, virtual with its VAT in the 1.50 or 2.00+ layout, metadata with the
//!   mirror as fallback) and finds the file set's root.
//! - [`detect`] is a cheap check for a UDF volume.
//! - Nodes: [`spindle_fs::NodeId`] is `partition reference << 32 | logical block` of the ICB,
//!   so it is stable, and hard links (FIDs naming one ICB) share it and
//!   [`spindle_fs::Metadata::ino`].
//! - Names: CS0 in 8- and 16-bit forms; '/' and NUL become '_', "." and ".." become "_."
//!   and "_..". Hidden files are listed; deleted FIDs are not, nor UDF 1.50's hidden
//!   "Non-Allocatable Space" file in the root.
//! - Label: the logical volume identifier (on VAT volumes, the VAT's when it has one).
//! - The pure parsers ([`parse_tag`], [`parse_file_entry`], [`parse_fid`], [`parse_fids`],
//!   [`parse_logical_volume`], ...) take arbitrary bytes and are what a fuzz target calls.
//!
//! Hostile images give [`spindle_fs::FsError::Corrupt`]: every length and offset is checked,
//! allocation extent chains, indirect entry chains and directory cycles are detected, and
//! sizes, extent counts, chain lengths and caches are capped (see `limits.rs`).
//!
//! Not supported: named streams (stream directories), extended attributes other than the
//! device specification, multi-volume sets, and writing.

mod cs0;
mod descriptors;
mod fid;
mod icb;
mod inode;
mod limits;
mod partition;
mod tag;
mod udf;
mod volume;

pub use cs0::{decode_cs0, decode_dstring};
pub use descriptors::{
    Anchor, ExtentAd, FileSet, LbAddr, LogicalVolume, LongAd, PartitionDesc, PartitionMap, Regid,
    parse_anchor, parse_file_set, parse_logical_volume, parse_partition_desc, parse_timestamp,
};
pub use fid::{Fid, characteristics, parse_fid, parse_fids};
pub use icb::{
    AdForm, Extent, ExtentKind, FileEntry, file_type, parse_alloc_extent,
    parse_allocation_descriptors, parse_file_entry, parse_symlink,
};
pub use partition::{parse_sparing_table, parse_vat, vat_label};
pub use tag::{Tag, crc16, descriptor_name, ident, parse_tag, verify_tag};
pub use udf::{Udf, open_udf};
pub use volume::detect;

#[cfg(test)]
mod fuzz_tests {
    //! The pure parsers on seeded random input, with and without valid tags: no panics.
    use super::*;

    fn with_tag(mut b: Vec<u8>, ident: u16) -> Vec<u8> {
        if b.len() < 16 {
            return b;
        }
        b[0..2].copy_from_slice(&ident.to_le_bytes());
        let crc_len = (b.len() - 16).min(u16::MAX as usize);
        let crc = crc16(&b[16..16 + crc_len]);
        b[8..10].copy_from_slice(&crc.to_le_bytes());
        b[10..12].copy_from_slice(&(crc_len as u16).to_le_bytes());
        b[4] = 0;
        b[4] = b[..16].iter().fold(0u8, |s, x| s.wrapping_add(*x));
        b
    }

    #[test]
    fn parsers_never_panic() {
        let mut seed = 0x9E3779B97F4A7C15u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let len = (rand() % 2200) as usize;
            let mut b: Vec<u8> = (0..len).map(|_| rand() as u8).collect();
            // Small values in the length fields make deeper parsing likely.
            if rand() % 2 == 0 {
                for x in b.iter_mut().skip(16).step_by(3) {
                    *x &= 0x0F;
                }
            }
            let ident = [0u16, 2, 5, 6, 256, 257, 258, 261, 266][(rand() % 9) as usize];
            let b = with_tag(b, ident);
            let _ = parse_tag(&b);
            let _ = parse_anchor(&b);
            let _ = parse_partition_desc(&b);
            let _ = parse_logical_volume(&b);
            let _ = parse_file_set(&b);
            if let Ok(fe) = parse_file_entry(&b) {
                let _ = fe.extents(0);
                let _ = fe.mode();
            }
            let _ = parse_fid(&b);
            let _ = parse_fids(&b);
            let _ = parse_alloc_extent(&b);
            let _ = parse_sparing_table(&b);
            let _ = parse_vat(&b, true);
            let _ = parse_vat(&b, false);
            let _ = parse_symlink(&b);
            for form in [
                AdForm::Short,
                AdForm::Long,
                AdForm::Extended,
                AdForm::Embedded,
            ] {
                let _ = parse_allocation_descriptors(&b, form, 1);
            }
            let _ = decode_cs0(&b);
            let _ = decode_dstring(&b);
            let _ = parse_timestamp(&b, 0);
        }
    }
}
