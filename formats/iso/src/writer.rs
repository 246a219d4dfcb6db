//! Writing a disc's first data track as a 2048-byte ISO.

use spindle_disc::{
    BoxError, ByteSource, Disc, ImageWriter, Progress, SectorView, WriteOptions, WriterCaps,
};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes per read/write round.
const CHUNK: usize = 1 << 20;

/// Writes the user data (2048-byte blocks) of the disc's first data track.
pub struct IsoWriter;

impl ImageWriter for IsoWriter {
    fn id(&self) -> &'static str {
        "iso"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["iso"]
    }
    fn caps(&self) -> WriterCaps {
        WriterCaps::default()
    }
    fn write(&self, disc: &Disc, out: &Path, progress: Progress) -> Result<Vec<PathBuf>, BoxError> {
        self.write_with(disc, out, &WriteOptions::default(), progress)
    }
    fn write_with(
        &self,
        disc: &Disc,
        out: &Path,
        options: &WriteOptions,
        progress: Progress,
    ) -> Result<Vec<PathBuf>, BoxError> {
        let view = SectorView::first_data_track(Arc::new(disc.clone()))?;
        write_view(&view, out, options, progress)?;
        Ok(vec![out.to_path_buf()])
    }
}

/// Copies a byte view to a new file in large chunks; stops between chunks when
/// `options.cancel` is set.
pub fn write_view(
    view: &SectorView,
    out: &Path,
    options: &WriteOptions,
    progress: Progress,
) -> Result<(), BoxError> {
    let total = view.len();
    let mut f = File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut buf = vec![0u8; CHUNK];
    let mut done = 0u64;
    while done < total {
        options.check_cancel()?;
        let n = view.read_at(&mut buf, done)?;
        if n == 0 {
            break;
        }
        f.write_all(&buf[..n])
            .map_err(|e| format!("{}: {e}", out.display()))?;
        done += n as u64;
        progress(done, total);
    }
    Ok(())
}
