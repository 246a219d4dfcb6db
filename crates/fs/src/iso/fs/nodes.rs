//! Nodes from directory records: Rock Ridge and zisofs attributes, multi-extent files, the
//! node cache, and the `.` record of a directory.

use super::*;

impl IsoFs {
    pub(super) fn rock_ridge(
        &self,
        system_use: &[u8],
        budget: &mut u64,
    ) -> Result<Option<RockRidge>> {
        let Some(skip) = self.susp_skip else {
            return Ok(None);
        };
        let mut b = RrBuilder::default();
        match visit_entries(&*self.dev, system_use, skip, budget, &mut |sig, _, d| {
            b.push(sig, d)
        }) {
            Ok(()) => Ok(Some(b.rr)),
            Err(e) if self.names == Names::RockRidge => Err(e),
            // The plain view reads SUSP only for zisofs; broken SUSP leaves the file as stored.
            Err(_) => Ok(None),
        }
    }

    /// Builds a node from its records (more than one for a multi-extent file); returns its
    /// display name too. `is_root` skips the CL/name handling.
    /// The name is `None` for an entry the view hides (Rock Ridge `RE`, unusable names).
    /// `budget`: continuation bytes and relocated-directory reads left for this listing.
    pub(super) fn make_node(
        &self,
        recs: &[(u64, RecordRef<'_>)],
        is_root: bool,
        budget: &mut u64,
    ) -> Result<(Option<String>, Node)> {
        let (pos, first) = &recs[0];
        let mut rr = self.rock_ridge(first.system_use, budget)?;
        let use_rr = self.names == Names::RockRidge;
        // A relocated directory is reached through its CL entry only.
        let hidden = use_rr && rr.as_ref().is_some_and(|r| r.relocated);
        // The name is taken out of `rr` (it is not needed afterwards): no copy.
        let rr_name = rr.as_mut().and_then(|r| r.name.take());
        let mut dot_attrs: Option<RockRidge> = None;
        let mut dir_extent: Option<(u32, u32)> =
            first.is_dir().then_some((first.extent, first.size));
        let child_link = rr
            .as_ref()
            .and_then(|r| r.child_link)
            .filter(|_| use_rr && !is_root);
        if let Some(target) = child_link {
            // A relocated directory (RRIP §4.1.5.1): its attributes are those of the '.'
            // record at the CL block.
            *budget = budget.checked_sub(SECTOR).ok_or_else(|| {
                corrupt("relocated directories of one directory exceed the read budget".into())
            })?;
            let dot = self.dot_record(target)?;
            let dot_rr = self.rock_ridge(&dot.system_use, budget)?;
            dir_extent = Some((target, dot.size));
            dot_attrs = dot_rr.filter(|d| d.has_px);
        }
        let rr_attrs: Option<&RockRidge> = match &dot_attrs {
            Some(d) => Some(d),
            None if use_rr => rr.as_ref(),
            None => None,
        };
        let name = if is_root || hidden {
            None
        } else {
            let mut n = match self.names {
                Names::Joliet => joliet_name(first.name),
                Names::Iso => iso_name(first.name),
                Names::RockRidge => match rr_name {
                    Some(n) => String::from_utf8(n)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                    None => iso_name(first.name),
                },
            };
            if n.contains(['/', '\0']) {
                n = n.replace(['/', '\0'], "_");
            }
            (!n.is_empty() && n != "." && n != "..").then_some(n)
        };
        let px = rr_attrs.filter(|r| r.has_px);
        let kind = match px.map(|r| r.mode & S_IFMT) {
            _ if dir_extent.is_some() => FileKind::Dir,
            Some(S_IFLNK) => FileKind::Symlink,
            Some(S_IFCHR) => FileKind::CharDevice,
            Some(S_IFBLK) => FileKind::BlockDevice,
            Some(S_IFIFO) => FileKind::Fifo,
            Some(S_IFSOCK) => FileKind::Socket,
            // PX says directory but the record does not: the record decides (no extent to list).
            Some(S_IFDIR) => FileKind::File,
            _ if use_rr && rr_attrs.is_some_and(|r| r.symlink.is_some()) => FileKind::Symlink,
            _ => FileKind::File,
        };
        let symlink = if kind == FileKind::Symlink {
            rr_attrs
                .and_then(|r| r.symlink.as_ref())
                .map(|t| String::from_utf8_lossy(t).into_owned())
        } else {
            None
        };
        let mut extents = Vec::new();
        let mut stored = 0u64;
        if let Some((lba, size)) = dir_extent {
            extents.push(Extent {
                file_off: 0,
                dev_off: lba as u64 * SECTOR,
                len: size as u64,
                unit: 0,
                gap: 0,
            });
            stored = size as u64;
        } else if kind == FileKind::File {
            for (_, r) in recs {
                extents.push(Extent {
                    file_off: stored,
                    dev_off: (r.extent as u64 + r.ext_attr_len as u64) * SECTOR,
                    len: r.size as u64,
                    unit: r.unit_size as u64 * SECTOR,
                    gap: r.gap_size as u64 * SECTOR,
                });
                stored += r.size as u64;
            }
        }
        let zf = match (kind, self.names) {
            (FileKind::File, Names::Joliet) => extents
                .first()
                .filter(|_| self.primary_base.is_some() && recs.len() == 1)
                .and_then(|e| self.joliet_zisofs().get(&e.dev_off).copied()),
            (FileKind::File, _) => rr.as_ref().and_then(|r| r.zf).map(|z| z.uncompressed_size),
            _ => None,
        };
        let size = match kind {
            FileKind::Symlink => symlink.as_ref().map_or(0, |s| s.len() as u64),
            _ => zf.map_or(stored, |z| z as u64),
        };
        let damage = rr.as_ref().and_then(|r| r.bad_zf).map(|n| {
            format!(
                "the ZF (zisofs) entry of {:?} (record at byte {pos}) is {n} bytes long, too short for its parameters (16 needed)",
                match (&name, is_root) {
                    (Some(n), _) => n.clone(),
                    (None, true) => "/".to_string(),
                    (None, false) => iso_name(first.name),
                }
            )
        });
        let t = |f: fn(&RockRidge) -> Option<Time>| rr_attrs.and_then(f).unwrap_or(first.recorded);
        let ino = match px.and_then(|r| r.ino).filter(|&i| i != 0) {
            Some(i) => (1 << 63) | i as u64,
            None if kind == FileKind::File && stored > 0 => (1 << 62) | recs[0].1.extent as u64,
            None => *pos,
        };
        let meta = Metadata {
            kind,
            size,
            mode: match px {
                Some(r) => r.mode & 0o7777,
                // As xorriso and the Linux isofs driver do: r-x for everyone, files included.
                None => 0o555,
            },
            nlink: px.map_or(if kind == FileKind::Dir { 2 } else { 1 }, |r| {
                r.nlink.max(1)
            }),
            uid: px.map_or(0, |r| r.uid),
            gid: px.map_or(0, |r| r.gid),
            mtime: t(|r| r.mtime),
            atime: t(|r| r.atime),
            ctime: t(|r| r.ctime),
            rdev: rr_attrs.and_then(|r| r.rdev).unwrap_or(0),
            ino,
        };
        Ok((
            name,
            Node {
                kind,
                meta,
                extents,
                stored_size: stored,
                symlink,
                zf,
                zfile: OnceLock::new(),
                damage,
            },
        ))
    }

    /// zisofs files of the primary tree by data offset, for the Joliet view: the primary tree
    /// is walked once (with the same bounds as any walk); a damaged part is left out.
    pub(super) fn joliet_zisofs(&self) -> &HashMap<u64, u32> {
        self.joliet_zf.get_or_init(|| {
            let mut map = HashMap::new();
            let Some(base) = self.primary_base else {
                return map;
            };
            let Ok(plain) = IsoFs::open(self.dev.clone(), FsKind::Iso9660, base) else {
                return map;
            };
            let mut stack = vec![plain.root];
            while let Some(dir) = stack.pop() {
                let Ok(listing) = plain.list(dir) else {
                    continue;
                };
                for e in &listing.entries {
                    let Ok(node) = plain.node(e.node) else {
                        continue;
                    };
                    match (node.kind, node.zf, node.extents.first()) {
                        (FileKind::Dir, _, _) => stack.push(e.node),
                        (FileKind::File, Some(size), Some(x)) => {
                            map.insert(x.dev_off, size);
                        }
                        _ => {}
                    }
                }
            }
            map
        })
    }

    /// The `.` record of the directory at `block`.
    pub(super) fn dot_record(&self, block: u32) -> Result<DirRecord> {
        let start = block as u64 * SECTOR;
        if start + SECTOR > self.dev.len() {
            return Err(corrupt(format!(
                "relocated directory at block {block} lies past the end of the device"
            )));
        }
        let mut buf = vec![0u8; SECTOR as usize];
        self.dev.read_exact_at(&mut buf, start)?;
        parse_directory_record(&buf, self.high_sierra)?
            .filter(|r| r.is_dot())
            .ok_or_else(|| {
                corrupt(format!(
                    "relocated directory at block {block} has no '.' record"
                ))
            })
    }

    /// The node, unless its record is damaged in a way that makes its content unreadable.
    pub(super) fn readable_node(&self, id: NodeId) -> Result<Arc<Node>> {
        let node = self.node(id)?;
        match &node.damage {
            Some(what) => Err(FsError::Corrupt {
                fs: "zisofs",
                what: what.clone(),
            }),
            None => Ok(node),
        }
    }

    pub(super) fn node(&self, id: NodeId) -> Result<Arc<Node>> {
        if let Some(n) = self.nodes.lock().unwrap().get(&id.0) {
            return Ok(n.clone());
        }
        // Not listed yet: re-read the record at that position.
        let node = Arc::new(self.load_node_at(id.0)?);
        self.nodes.lock().unwrap().insert(id.0, node.clone());
        Ok(node)
    }

    /// Reads the node whose first record is at device byte `pos` (with following records of a
    /// multi-extent file).
    pub(super) fn load_node_at(&self, pos: u64) -> Result<Node> {
        let bad = || corrupt(format!("no directory record at byte {pos}"));
        let sector_start = pos - pos % SECTOR;
        let window = (self.dev.len().saturating_sub(sector_start)).min(64 * SECTOR);
        if window <= pos - sector_start {
            return Err(bad());
        }
        let mut buf = vec![0u8; window as usize];
        self.dev.read_exact_at(&mut buf, sector_start)?;
        let mut recs = Vec::new();
        self.walk_records(
            &buf,
            (pos - sector_start) as usize,
            sector_start,
            &mut |p, r| {
                let more = r.flags & FLAG_MULTI_EXTENT != 0;
                recs.push((p, r));
                Ok(more)
            },
        )?;
        if recs.is_empty() || recs[0].1.is_dot() || recs[0].1.is_dotdot() {
            return Err(bad());
        }
        Ok(self
            .make_node(&recs, false, &mut { MAX_LISTING_CE_BYTES })?
            .1)
    }
}
