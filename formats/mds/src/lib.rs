//! # spindle-format-mds: MDS/MDF and MDX images
//!
//! One crate for the "MEDIA DESCRIPTOR" family (`../shared/notes/formats.md` §1–2):
//! - **MDS v1 + MDF** (Alcohol 120%): a plain descriptor beside one or more data files
//!   (`.mdf`, split as `.md0`, `.md1`...), read by [`v1`];
//! - **MDS v2 + MDF** and **MDX** (DAEMON Tools 4.3+): the descriptor is zlib-compressed and
//!   AES-encrypted under a key derived from a salt; track data may be compressed in groups
//!   and encrypted with AES-LRW under a user password (or a salt-derived one), read by [`v2`].
//!
//! Both parse into [`descriptor::Descriptor`], which [`build`] turns into a [`Disc`]. The
//! writers ([`write_mds`], [`write_mdx`]) write MDS v1 + MDF and MDX from any disc.

pub mod build;
pub mod crypto;
pub mod descriptor;
pub mod error;
pub mod fragment;
pub mod groups;
pub mod layout;
mod le;
pub mod plan;
pub mod v1;
pub mod v2;
pub mod write_mds;
pub mod write_mdx;

pub use error::MdsError;
pub use write_mds::MdsWriter;
pub use write_mdx::MdxWriter;

use spindle_disc::{ByteSource, Disc, ImageFormat, OpenContext, OpenError};
use std::path::Path;
use std::sync::Arc;

/// The signature every file of the family starts with.
pub const SIGNATURE: &[u8; 16] = b"MEDIA DESCRIPTOR";

/// Largest descriptor read into memory (real ones are a few KiB; DVD structures and DPM
/// data make them grow to some hundreds).
pub const MAX_DESCRIPTOR_BYTES: u64 = 64 << 20;

/// The MDS/MDX format (registry id `mds`).
pub struct MdsFormat;

impl ImageFormat for MdsFormat {
    fn id(&self) -> &'static str {
        "mds"
    }
    fn description(&self) -> &'static str {
        "MDS/MDF (Alcohol 120%), MDS v2 and MDX (DAEMON Tools)"
    }
    fn probe(&self, path: &Path, head: &[u8], len: u64) -> bool {
        probe(path, head, len)
    }
    fn open(&self, path: &Path, ctx: &OpenContext) -> Result<Disc, OpenError> {
        open(path, ctx).map_err(|e| match e {
            MdsError::PasswordNeeded { .. } => OpenError::password_needed(e),
            e => e.into(),
        })
    }
}

/// True for the signature followed by major version 1 or 2. The name and length play no
/// part.
pub fn probe(_path: &Path, head: &[u8], _len: u64) -> bool {
    head.len() >= 17 && &head[..16] == SIGNATURE && matches!(head[16], 1 | 2)
}

/// Opens an MDS (v1 or v2) or MDX image.
pub fn open(path: &Path, ctx: &OpenContext) -> Result<Disc, MdsError> {
    let src = ctx.open_image(path).map_err(|source| MdsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    open_source(src, path, ctx)
}

/// Opens the MDS or MDX image whose bytes are `src` (`path` names it in messages and
/// locates an MDS's data files, which `ctx.companions` opens; `ctx.password` unlocks an
/// encrypted image).
pub fn open_source(
    src: Arc<dyn ByteSource>,
    path: &Path,
    ctx: &OpenContext,
) -> Result<Disc, MdsError> {
    let mut head = [0u8; 17];
    src.read_exact_at(&mut head, 0)
        .map_err(|_| MdsError::Corrupt {
            path: path.to_path_buf(),
            message: "too short for an MDS header".into(),
        })?;
    match head[16] {
        1 => v1::open(path, ctx, &*src),
        2 => v2::open(path, ctx, src),
        v => Err(MdsError::Unsupported {
            path: path.to_path_buf(),
            message: format!("MEDIA DESCRIPTOR version {v} is not known"),
        }),
    }
}
