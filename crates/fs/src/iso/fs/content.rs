//! File content: stored runs on the device (contiguous or interleaved) and zisofs blocks
//! inflated through a one-block cache.

use super::*;

impl IsoFs {
    /// Where the stored bytes of `node` at `offset` lie on the device: (device offset, bytes
    /// in one contiguous run), or `None` at the end of the data.
    pub(super) fn stored_run(node: &Node, off: u64) -> Option<(u64, u64)> {
        if off >= node.stored_size {
            return None;
        }
        let i = node.extents.partition_point(|e| e.file_off + e.len <= off);
        let e = node.extents.get(i)?;
        let rel = off - e.file_off;
        Some(match rel.checked_div(e.unit) {
            None => (e.dev_off + rel, e.len - rel),
            Some(chunk) => {
                let within = rel % e.unit;
                (
                    e.dev_off + chunk * (e.unit + e.gap) + within,
                    (e.unit - within).min(e.len - rel),
                )
            }
        })
    }

    /// Reads stored (not decompressed) bytes of a file at `offset`.
    pub(super) fn read_stored(&self, node: &Node, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let mut done = 0usize;
        while done < buf.len() {
            let off = offset + done as u64;
            let Some((dev_off, run)) = Self::stored_run(node, off) else {
                break;
            };
            let want = ((buf.len() - done) as u64).min(run) as usize;
            // A run ending inside a sector is read up to the sector's end when the buffer has
            // room (the device reads whole sectors in one go, a partial one through a copy);
            // only `want` bytes count.
            let whole = (want as u64).next_multiple_of(SECTOR) as usize;
            let read = if dev_off % SECTOR == 0
                && whole <= buf.len() - done
                && dev_off + whole as u64 <= self.dev.len()
            {
                whole
            } else {
                want
            };
            let n = self
                .dev
                .read_at(&mut buf[done..done + read], dev_off)?
                .min(want);
            if n == 0 {
                return Err(corrupt(format!(
                    "file data at byte {dev_off} lies past the end of the device ({} bytes)",
                    self.dev.len()
                )));
            }
            done += n;
        }
        Ok(done)
    }

    pub(super) fn read_stored_exact(&self, node: &Node, offset: u64, buf: &mut [u8]) -> Result<()> {
        let n = self.read_stored(node, offset, buf)?;
        if n < buf.len() {
            return Err(FsError::Corrupt {
                fs: "zisofs",
                what: format!(
                    "compressed data ends at {} of {} stored bytes",
                    offset + n as u64,
                    node.stored_size
                ),
            });
        }
        Ok(())
    }

    pub(super) fn zisofs(&self, node: &Node) -> Result<Arc<ZisofsFile>> {
        if let Some(z) = node.zfile.get() {
            return Ok(z.clone());
        }
        let z = Arc::new(ZisofsFile::open(
            node.stored_size,
            node.zf.unwrap_or(0) as u64,
            &mut |o, b| self.read_stored_exact(node, o, b),
        )?);
        Ok(node.zfile.get_or_init(|| z).clone())
    }

    pub(super) fn read_zisofs(
        &self,
        id: NodeId,
        node: &Node,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize> {
        let z = self.zisofs(node)?;
        let mut done = 0usize;
        while done < buf.len() {
            let off = offset + done as u64;
            if off >= z.uncompressed_size {
                break;
            }
            let bi = (off / z.block_size as u64) as usize;
            let cached = self
                .zcache
                .lock()
                .unwrap()
                .as_ref()
                .filter(|c| c.0 == id.0 && c.1 == bi)
                .map(|c| c.2.clone());
            let block = match cached {
                Some(b) => b,
                None => {
                    let b = Arc::new(z.block(bi, &mut |o, b| self.read_stored_exact(node, o, b))?);
                    *self.zcache.lock().unwrap() = Some((id.0, bi, b.clone()));
                    b
                }
            };
            let within = (off % z.block_size as u64) as usize;
            let n = (block.len() - within).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&block[within..within + n]);
            done += n;
        }
        Ok(done)
    }
}
