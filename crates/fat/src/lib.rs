//! # spindle-fat: a FAT12/16/32 writer
//!
//! spindle's one FAT writer: USB sticks (`spindle burn` of Windows installers: MBR, one
//! FAT32 partition) and small EFI boot images. A [`Tree`] of files (each a
//! [`spindle_bytes::ByteSource`]) and directories, names as they are to appear, is laid out
//! by [`Volume::build`] (a bare volume) or [`Disk::build`] (an MBR and one active partition at
//! 1 MiB). Nothing is copied: the result is a [`spindle_bytes::Concat`] of the metadata made
//! in memory and the files' own sources, read as it is written, so one pass streams the
//! whole filesystem onto a device ([`write_to`], or any writer of byte sources).
//!
//! Layout: every file and directory is one run of clusters (directories first, then files,
//! in the order they were added); the data area starts on a cluster and 4 KiB boundary;
//! names get VFAT long-name entries (UTF-16, case kept) and deterministic 8.3 aliases
//! ([`names`]); times are stored as UTC. The volume serial and the MBR signature come from
//! the caller, so the same input gives the same bytes. [`boot`] holds spindle's own BIOS
//! boot code (an MBR that chains the active partition, a FAT32 boot sector that loads
//! `/BOOTMGR`), with its assembly source in `crates/fat/boot`.

pub mod boot;
mod error;
pub mod layout;
mod mbr;
pub mod names;
mod sectors;
mod time;
mod tree;
mod volume;
mod write;

pub use error::{FatError, Result};
pub use layout::{FatType, Geometry, SECTOR};
pub use mbr::{Disk, DiskOptions, PARTITION_START};
pub use time::{FatTime, fat_time};
pub use tree::{MAX_FILE, Tree};
pub use volume::{Options, Volume};
pub use write::write_to;
