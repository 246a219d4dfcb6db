//! # spindle-format-cdi: DiscJuggler CDI images
//!
//! A CDI file is the track data from byte 0, one track after another, then a descriptor
//! near the end of the file, then an 8-byte footer naming the version (DiscJuggler 2.0, 3.0,
//! 3.5) and where the descriptor is (`../shared/notes/formats.md` §3.4, `docs/cdi.md`).
//! [`descriptor`] parses the footer and descriptor, [`build`] turns them into a [`Disc`]:
//! audio and data tracks (Mode 1, Mode 2), several sessions, pregaps stored with their
//! tracks, sector sizes 2048, 2336, 2352, 2352 + 16-byte Q and 2352 + 96-byte P-W.
//!
//! Reading only. The format is undocumented; the layout follows libmirage, Aaru, cdirip (via
//! Conkwer/cditools) and was checked against the cditools sample.

pub mod build;
mod cursor;
pub mod descriptor;
pub mod error;

pub use descriptor::Version;
pub use error::CdiError;

use spindle_disc::{ByteSource, Disc, ImageFormat, OpenContext, OpenError};
use std::path::Path;
use std::sync::Arc;

/// Largest descriptor read into memory. Real ones are a few KiB: some hundred bytes per
/// track, plus CD-TEXT.
pub const MAX_DESCRIPTOR_BYTES: u64 = 16 << 20;

/// The CDI format (registry id `cdi`).
pub struct CdiFormat;

impl ImageFormat for CdiFormat {
    fn id(&self) -> &'static str {
        "cdi"
    }
    fn description(&self) -> &'static str {
        "DiscJuggler CDI (2.0, 3.0, 3.5)"
    }
    fn probe(&self, path: &Path, head: &[u8], len: u64) -> bool {
        probe(path, head, len)
    }
    fn open(&self, path: &Path, ctx: &OpenContext) -> Result<Disc, OpenError> {
        Ok(open(path, ctx)?)
    }
}

/// The descriptor is at the end of the file, out of the probe's reach: a `.cdi` name claims
/// the file (as libmirage decides), unless the whole file is in `head` and its footer names
/// no DiscJuggler version.
pub fn probe(path: &Path, head: &[u8], len: u64) -> bool {
    let named = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("cdi"));
    if !named || len < 10 {
        return false;
    }
    if head.len() as u64 == len {
        let t = &head[head.len() - 8..];
        return Version::from_raw(u32::from_le_bytes([t[0], t[1], t[2], t[3]])).is_some();
    }
    true
}

/// Opens a CDI image.
/// The file is opened through the companions, so that a compressed `game.cdi.xz` opened as
/// `game.cdi` reads decompressed.
pub fn open(path: &Path, ctx: &OpenContext) -> Result<Disc, CdiError> {
    let file = ctx.open_image(path).map_err(|source| CdiError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    open_source(file, path)
}

/// Opens a CDI image held in any byte source (the fuzz target gives one in memory).
pub fn open_source(file: Arc<dyn ByteSource>, path: &Path) -> Result<Disc, CdiError> {
    let io = |source| CdiError::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = file.len();
    let mut tail = [0u8; 8];
    if len >= 8 {
        file.read_exact_at(&mut tail, len - 8).map_err(io)?;
    }
    let (version, start) = descriptor::locate(len, tail, path)?;
    let size = len - 8 - start;
    if size > MAX_DESCRIPTOR_BYTES {
        return Err(CdiError::Corrupt {
            path: path.to_path_buf(),
            message: format!(
                "descriptor at {start:#x} would be {size} bytes; real ones are far smaller than {MAX_DESCRIPTOR_BYTES}"
            ),
        });
    }
    let mut data = vec![0u8; size as usize];
    file.read_exact_at(&mut data, start).map_err(io)?;
    let d = descriptor::parse(&data, start, version, path)?;
    build::build(&d, file, start, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_disc::DirCompanions;

    #[test]
    fn registry_face() {
        let f = CdiFormat;
        assert_eq!(f.id(), "cdi");
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/samples/cditools/test.cdi"
        ));
        let len = std::fs::metadata(path).unwrap().len();
        assert!(f.probe(path, &[0u8; 16], len));
        let disc = f
            .open(
                path,
                &OpenContext {
                    companions: &DirCompanions::beside(path),
                    password: None,
                },
            )
            .unwrap();
        assert_eq!(disc.track_count(), 2);
    }
}
