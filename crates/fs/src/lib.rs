//! # spindle-fs: the files on a disc
//!
//! Read-only readers for the filesystems of CDs, DVDs and Blu-rays, working on a
//! [`BlockDevice`] (normally [`spindle_disc::SectorView::disc_user_data`], addressed by disc
//! LBA so that later-session volumes resolve), behind one [`FileSystem`] trait.

mod api;

pub use api::*;
