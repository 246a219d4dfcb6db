//! # spindle-udf: a read-only UDF reader
//!
//! Reads Universal Disk Format volumes (OSTA UDF 1.02 to 2.60, over ECMA-167 3rd edition)
//! from a [`spindle_fs::Device`] and offers them as a [`spindle_fs::FileSystem`].
//!
//! - [`open_udf`] finds the anchor (sector 256, else N-256, else N-1), reads the main volume
//!   descriptor sequence (falling back to the reserve one), builds the partitions (physical,
//!   sparable, virtual with a VAT, metadata with mirror fallback) and the file set.
//! - [`detect`] is a cheap check for a UDF volume.
//! - The pure parsers ([`parse_tag`], [`parse_file_entry`], [`parse_fid`], ...) take arbitrary
//!   bytes and are what a fuzz target calls.
//!
//! Hostile images give [`spindle_fs::FsError::Corrupt`]: every length and offset is checked,
//! allocation extent chains and directory cycles are detected, and sizes are capped.

mod cs0;
mod descriptors;
mod fid;
mod icb;
mod partition;
mod tag;
mod udf;

pub use cs0::{decode_cs0, decode_dstring};
pub use descriptors::{
    Anchor, ExtentAd, FileSet, LbAddr, LogicalVolume, LongAd, PartitionDesc, PartitionMap, Regid, parse_anchor, parse_file_set,
    parse_logical_volume, parse_partition_desc, parse_timestamp,
};
pub use fid::{Fid, characteristics, parse_fid, parse_fids};
pub use icb::{
    AdForm, Extent, ExtentKind, FileEntry, file_type, parse_alloc_extent, parse_allocation_descriptors, parse_file_entry, parse_symlink,
};
pub use tag::{Tag, crc16, ident, parse_tag, verify_tag};
pub use udf::{Udf, detect, open_udf};
