//! ISO 9660 (levels 1-3, High Sierra), Joliet, Rock Ridge (with zisofs) and El Torito.
//!
//! # Why our own reader
//! The crates measured in `shared/notes/crates.md` §3 fall short: `iso9660` 0.1.1 has no
//! Joliet, no Rock Ridge, no files over 4 GiB, and loops forever on a corrupt directory;
//! `cdfs` 0.2.3 panics on valid genisoimage images, overflows its stack on relocated
//! directories, and drags in libfuse; `hadris-iso` truncates long genisoimage symlinks and,
//! like every other crate, does not decode zisofs. None follows long `SL` chains through `CE`
//! correctly for both mastering tools. This reader is built for the FUSE layer's needs:
//! record-position node IDs, cached directories, bounded work on hostile input.
//!
//! # Layout
//! - [`volume`]: volume descriptor scan ([`detect`]).
//! - [`record`]: directory records ([`record::parse_directory_record`], pure, fuzzable).
//! - [`susp`]: SUSP entries ([`susp::parse_susp`], pure, fuzzable) and `CE` following.
//! - [`rockridge`]: RRIP entries interpreted ([`rockridge::RockRidge::from_entries`], pure).
//! - [`joliet`]: UCS-2 names.
//! - [`zisofs`]: `ZF` compressed files.
//! - [`eltorito`]: the boot catalog ([`eltorito::parse_catalog`], pure).
//! - [`fs`]: the [`FileSystem`](crate::FileSystem) over all of it ([`open_iso`]).

pub mod eltorito;
pub mod fs;
pub mod joliet;
pub mod record;
pub mod rockridge;
pub mod susp;
pub mod volume;
pub mod zisofs;

pub use eltorito::{BootEntry, Emulation, boot_entries, read_boot_image};
pub use fs::{IsoFs, IsoVolumes, detect, open_iso};
