//! MDS v1 (Alcohol 120%): the descriptor is the whole `.mds` file, in clear.

use crate::MAX_DESCRIPTOR_BYTES;
use crate::build::{BuildContext, build};
use crate::descriptor::{self, Version};
use crate::error::{MdsError, Result};
use crate::le::Bytes;
use spindle_disc::{ByteSource, Disc, OpenContext};
use std::path::Path;

/// Reads an MDS v1 descriptor into memory (bounded).
pub fn read_descriptor(path: &Path, src: &dyn ByteSource) -> Result<Vec<u8>> {
    let len = src.len();
    if len > MAX_DESCRIPTOR_BYTES {
        return Err(MdsError::Corrupt {
            path: path.to_path_buf(),
            message: format!(
                "{len} bytes is too large for an MDS descriptor (at most {MAX_DESCRIPTOR_BYTES})"
            ),
        });
    }
    let mut data = vec![0u8; len as usize];
    src.read_exact_at(&mut data, 0)
        .map_err(|source| MdsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(data)
}

/// Parses an MDS v1 descriptor held in memory (what the fuzz target drives).
pub fn parse(data: &[u8], path: &Path) -> Result<descriptor::Descriptor> {
    let minor = data.get(17).copied().unwrap_or(0);
    descriptor::parse(Bytes::new(data, path), Version::V1 { minor })
}

/// Opens an MDS v1 image whose descriptor is `src`, with its data files through `ctx`.
pub fn open(path: &Path, ctx: &OpenContext, src: &dyn ByteSource) -> Result<Disc> {
    let data = read_descriptor(path, src)?;
    let d = parse(&data, path)?;
    let minor = data[17];
    build(
        &d,
        &BuildContext {
            path,
            companions: ctx.companions,
            mdx: None,
            cipher: None,
            lenient_lengths: false,
            variant: format!("MDS v1.{minor} (Alcohol 120%)"),
        },
    )
}
