//! Directories: records walked in place, listings cached with their nodes, one-shot scans,
//! and each directory block owned by one listing (loops are corruption).

use super::*;

impl IsoFs {
    /// Calls `f` with each record of `buf` from `from` on (device position, record) until it
    /// returns false or the buffer ends; zero bytes skip to the next sector.
    pub(super) fn walk_records<'b>(
        &self,
        buf: &'b [u8],
        from: usize,
        base: u64,
        f: &mut dyn FnMut(u64, RecordRef<'b>) -> Result<bool>,
    ) -> Result<()> {
        let mut pos = from;
        while pos < buf.len() {
            let sector_end = ((pos / SECTOR as usize) + 1) * SECTOR as usize;
            let end = sector_end.min(buf.len());
            match parse_record_ref(&buf[pos..end], self.high_sierra) {
                Ok(Some(r)) => {
                    let len = r.len as usize;
                    if !f(base + pos as u64, r)? {
                        return Ok(());
                    }
                    pos += len;
                }
                Ok(None) => pos = sector_end,
                Err(FsError::Corrupt { what, .. }) => {
                    return Err(corrupt(format!("{what} (at byte {})", base + pos as u64)));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub(super) fn list(&self, dir: NodeId) -> Result<Arc<Dir>> {
        if let Some(d) = self.dirs.lock().unwrap().get(&dir.0) {
            return Ok(d.clone());
        }
        let mut entries = Vec::new();
        let mut by_name = HashMap::new();
        let mut new_nodes = Vec::new();
        self.scan_dir(dir, &mut |name, id, node| {
            let name = name.to_string();
            by_name.entry(name.clone()).or_insert(id);
            entries.push(DirEntry {
                name,
                node: id,
                kind: node.kind,
            });
            new_nodes.push((id.0, Arc::new(node)));
            Ok(())
        })?;
        {
            let mut nodes = self.nodes.lock().unwrap();
            for (id, n) in new_nodes {
                nodes.entry(id).or_insert(n);
            }
        }
        let d = Arc::new(Dir { entries, by_name });
        self.dirs.lock().unwrap().insert(dir.0, d.clone());
        Ok(d)
    }

    /// Reads the directory `dir` and calls `f` with each visible entry (name, node id, node),
    /// caching nothing but the ownership of its blocks (for loop detection).
    pub(super) fn scan_dir(
        &self,
        dir: NodeId,
        f: &mut dyn FnMut(&str, NodeId, Node) -> Result<()>,
    ) -> Result<()> {
        let node = self.readable_node(dir)?;
        if node.kind != FileKind::Dir {
            return Err(FsError::NotDir(format!("node {}", dir.0)));
        }
        let ext = *node
            .extents
            .first()
            .ok_or_else(|| corrupt(format!("directory at record byte {} has no extent", dir.0)))?;
        if ext.len > MAX_DIR_BYTES {
            return Err(corrupt(format!(
                "directory of {} bytes (limit {MAX_DIR_BYTES})",
                ext.len
            )));
        }
        if ext.dev_off + ext.len > self.dev.len() {
            return Err(corrupt(format!(
                "directory extent at block {} ({} bytes) runs past the end of the device ({} bytes)",
                ext.dev_off / SECTOR,
                ext.len,
                self.dev.len()
            )));
        }
        {
            // Each directory block belongs to one directory: a second directory whose extent
            // overlaps one already listed (an ancestor's: a loop) is refused, so every record,
            // and so every node, is reachable from one parent only and walks terminate.
            let first = ext.dev_off / SECTOR;
            let blocks = first..first + ext.len.div_ceil(SECTOR);
            let mut owners = self.owners.lock().unwrap();
            if let Some((b, owner)) = blocks
                .clone()
                .find_map(|b| owners.get(&b).filter(|&&o| o != dir.0).map(|&o| (b, o)))
            {
                return Err(corrupt(format!(
                    "directory loop: the directory at record byte {} uses block {b} of the directory at record byte {owner}",
                    dir.0
                )));
            }
            for b in blocks {
                owners.insert(b, dir.0);
            }
        }
        let mut buf = vec![0u8; ext.len as usize];
        self.dev.read_exact_at(&mut buf, ext.dev_off)?;
        // Records of the visible entries, and where each entry's group (several records for
        // a multi-extent file) ends in `recs`.
        let mut recs: Vec<(u64, RecordRef<'_>)> = Vec::new();
        let mut ends: Vec<usize> = Vec::new();
        let mut pending = false;
        let mut records = 0usize;
        self.walk_records(&buf, 0, ext.dev_off, &mut |p, r| {
            records += 1;
            if r.is_dot() || r.is_dotdot() || r.flags & FLAG_ASSOCIATED != 0 {
                return Ok(true);
            }
            let more = r.flags & FLAG_MULTI_EXTENT != 0 && !r.is_dir();
            recs.push((p, r));
            pending = more;
            if !more {
                ends.push(recs.len());
            }
            Ok(true)
        })?;
        if pending {
            ends.push(recs.len());
        }
        if records == 0 {
            // Every directory holds at least its '.' and '..' records (ECMA-119 6.8.2.2): one
            // that holds none (a zero length, or an extent of zeros) is not an empty directory
            // but a broken record, as in libarchive's test_read_format_iso_rockridge_zf_overflow.
            return Err(corrupt(format!(
                "the directory at block {} ({} bytes, record at byte {}) holds no records, not even '.' and '..'",
                ext.dev_off / SECTOR,
                ext.len,
                dir.0
            )));
        }
        let mut budget = MAX_LISTING_CE_BYTES;
        let mut start = 0usize;
        for &end in &ends {
            let g = &recs[start..end];
            start = end;
            let (name, node) = self.make_node(g, false, &mut budget)?;
            let Some(name) = name else { continue };
            f(&name, NodeId(g[0].0), node)?;
        }
        Ok(())
    }
}
