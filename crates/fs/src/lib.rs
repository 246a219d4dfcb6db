//! # spindle-fs: the files on a disc
//!
//! Read-only readers for the filesystems of CDs, DVDs and Blu-rays, working on a
//! [`Device`], a shared [`spindle_bytes::ByteSource`] (normally
//! [`spindle_disc::SectorView::disc_user_data`], addressed by disc LBA so that later-session
//! volumes resolve), behind one [`FileSystem`] trait.
//!
//! The ISO 9660 family (plain, Joliet, Rock Ridge, zisofs, El Torito) is in [`iso`]:
//! [`detect`] tells which views a volume has, [`open_iso`] opens one.
//!
//! Walks over a tree go through [`walk_tree`]: no recursion, at most [`MAX_DEPTH`] levels,
//! no directory entered twice.

mod api;
pub mod iso;
mod walk;

pub use api::*;
pub use iso::{BootEntry, Emulation, IsoVolumes, boot_entries, detect, open_iso, read_boot_image};
pub use walk::{DirVisitor, MAX_DEPTH, Subdirs, depth_of, short_path, walk_tree};
