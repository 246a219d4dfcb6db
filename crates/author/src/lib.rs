//! # spindle-author: disc images from folders
//!
//! Writes ISO 9660 level 3 images (files of any size as several sections) with Rock Ridge
//! (modes, owners, times, symbolic links, hard links, long names) and Joliet (Unicode names
//! of up to 103 UTF-16 units), deterministically: the bytes depend only on the tree (names,
//! contents, modes, owners, modification times, link structure), never on the clock,
//! directory read order or inode numbers.
//!
//! - [`Tree::scan`] reads the source folders once, with an explicit stack.
//! - [`plan()`] places every structure ([`Plan`]); too-big trees, names that collide after
//!   mapping and too many directories are refused here, naming the path.
//! - [`write()`] writes a temporary file next to the output and renames it into place.
//! - [`check()`] compares the image, read back through spindle's readers, with the tree.

mod check;
mod dates;
pub mod efi;
mod eltorito;
mod error;
mod exclude;
mod gpt;
mod layout;
mod meta;
mod names;
mod plan;
mod rrip;
mod tree;
mod write;

pub use check::{Checked, check, check_with};
pub use eltorito::{Boot, Platform};
pub use error::{Error, Result};
pub use exclude::Exclude;
pub use plan::{Options, Plan, plan};
pub use tree::{FileData, Kind, MAX_DEPTH, Node, Stamp, Tree};
pub use write::write;
