//! The self-check: the image read back through spindle's own readers, compared with the
//! source tree. In the Rock Ridge view: names, kinds, modes, owners, link targets, sizes,
//! contents (byte for byte against the source files), modification times (to the second)
//! and hard-link identity. In the Joliet view: names, kinds, sizes, and that each file's
//! content is the Rock Ridge view's. The first difference is an error naming the path.

use crate::error::{Error, Result, read_err};
use crate::names;
use crate::plan::Plan;
use crate::tree::{Kind, Tree};
use rustix::fs::SeekFrom;
use spindle_fs::{FileKind, FileSystem, NodeId};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// What the check looked at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Entries compared (both views).
    pub entries: u64,
    /// Bytes of content compared.
    pub bytes: u64,
}

/// Compares the Rock Ridge view `rr` (and the Joliet view, if given) of `image` with `tree`,
/// written as `plan` says (boot info tables are expected in the image's copies).
pub fn check(
    tree: &Tree,
    plan: &Plan,
    image: &Path,
    rr: &dyn FileSystem,
    joliet: Option<&dyn FileSystem>,
) -> Result<Checked> {
    check_with(tree, plan, image, rr, joliet, &mut |_, _| {})
}

/// [`check`], calling `progress(done, total)` with bytes of content compared after each file.
pub fn check_with(
    tree: &Tree,
    plan: &Plan,
    image: &Path,
    rr: &dyn FileSystem,
    joliet: Option<&dyn FileSystem>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Checked> {
    let mut c = Checked::default();
    let total = tree.files.iter().map(|f| f.size).sum();
    let mut ctx = Ctx {
        progress,
        total,
        tree,
        plan,
        image,
        links: HashMap::new(),
        inos: HashMap::new(),
    };
    ctx.walk(rr, false, &mut c)?;
    if let Some(j) = joliet {
        ctx.walk(j, true, &mut c)?;
    }
    Ok(c)
}

struct Ctx<'a> {
    progress: &'a mut dyn FnMut(u64, u64),
    total: u64,
    tree: &'a Tree,
    plan: &'a Plan,
    image: &'a Path,
    /// File content index -> image inode, and back.
    links: HashMap<u32, u64>,
    inos: HashMap<u64, u32>,
}

impl Ctx<'_> {
    fn mismatch(&self, n: u32, what: String) -> Error {
        Error::Mismatch {
            image: self.image.to_path_buf(),
            path: self.tree.path_of(n),
            what,
        }
    }

    fn fs_err(&self, n: u32) -> impl FnOnce(spindle_fs::FsError) -> Error + '_ {
        move |source| Error::Check {
            image: self.image.to_path_buf(),
            path: self.tree.path_of(n),
            source,
        }
    }

    /// Walks both trees together with an explicit stack.
    fn walk(&mut self, fs: &dyn FileSystem, joliet: bool, c: &mut Checked) -> Result<()> {
        let mut stack = vec![(0u32, fs.root())];
        while let Some((n, id)) = stack.pop() {
            c.entries += 1;
            self.node(fs, joliet, n, id, c)?;
            let Kind::Dir(children) = &self.tree.nodes[n as usize].kind else {
                continue;
            };
            let mut want: Vec<(String, u32)> = children
                .iter()
                .filter(|&&ch| {
                    !joliet || !matches!(self.tree.nodes[ch as usize].kind, Kind::Symlink(_))
                })
                .map(|&ch| {
                    let name = &self.tree.nodes[ch as usize].name;
                    let shown = if joliet {
                        joliet_shown(name)
                    } else {
                        name.clone()
                    };
                    (shown, ch)
                })
                .collect();
            want.sort();
            let mut got: Vec<(String, NodeId)> = fs
                .read_dir(id)
                .map_err(self.fs_err(n))?
                .into_iter()
                .map(|e| (e.name, e.node))
                .collect();
            got.sort();
            let (mut i, mut j) = (0, 0);
            while i < want.len() || j < got.len() {
                match (want.get(i), got.get(j)) {
                    (Some(w), Some(g)) if w.0 == g.0 => {
                        stack.push((w.1, g.1));
                        i += 1;
                        j += 1;
                    }
                    (Some(w), g) if g.is_none_or(|g| w.0 < g.0) => {
                        return Err(self.mismatch(w.1, "missing from the image".into()));
                    }
                    (_, Some(g)) => {
                        return Err(self.mismatch(
                            n,
                            format!("the image has an entry {:?} the source has not", g.0),
                        ));
                    }
                    _ => unreachable!("one side has an entry"),
                }
            }
        }
        Ok(())
    }

    fn node(
        &mut self,
        fs: &dyn FileSystem,
        joliet: bool,
        n: u32,
        id: NodeId,
        c: &mut Checked,
    ) -> Result<()> {
        let node = &self.tree.nodes[n as usize];
        let m = fs.metadata(id).map_err(self.fs_err(n))?;
        let kind = match node.kind {
            Kind::Dir(_) => FileKind::Dir,
            Kind::File(_) => FileKind::File,
            Kind::Symlink(_) => FileKind::Symlink,
        };
        if m.kind != kind {
            return Err(self.mismatch(
                n,
                format!("a {:?} in the image, a {kind:?} in the source", m.kind),
            ));
        }
        if !joliet {
            if (m.mode, m.uid, m.gid) != (node.mode, node.uid, node.gid) {
                return Err(self.mismatch(
                    n,
                    format!(
                        "mode {:o} owner {}:{} in the image, {:o} {}:{} in the source",
                        m.mode, m.uid, m.gid, node.mode, node.uid, node.gid
                    ),
                ));
            }
            if m.mtime.secs != node.mtime.secs {
                return Err(self.mismatch(
                    n,
                    format!(
                        "modified at {} in the image, {} in the source (seconds since 1970)",
                        m.mtime.secs, node.mtime.secs
                    ),
                ));
            }
        }
        match &node.kind {
            Kind::Symlink(t) => {
                let got = fs.read_link(id).map_err(self.fs_err(n))?;
                if got.as_bytes() != t.as_slice() {
                    return Err(self.mismatch(
                        n,
                        format!(
                            "links to {got:?} in the image, {:?} in the source",
                            String::from_utf8_lossy(t)
                        ),
                    ));
                }
            }
            Kind::File(f) => {
                let fd = &self.tree.files[*f as usize];
                if m.size != fd.size {
                    return Err(self.mismatch(
                        n,
                        format!("{} bytes in the image, {} in the source", m.size, fd.size),
                    ));
                }
                if joliet {
                    // The same content as the Rock Ridge view: already compared there.
                    return Ok(());
                }
                match self.links.get(f) {
                    Some(&ino) if ino != m.ino => {
                        return Err(self.mismatch(
                            n,
                            "not the same file as its hard links in the image".into(),
                        ));
                    }
                    Some(_) => return Ok(()),
                    None => {}
                }
                if let Some(&other) = self.inos.get(&m.ino) {
                    return Err(self.mismatch(
                        n,
                        format!(
                            "a hard link of {} in the image, not in the source",
                            self.tree.path_of(self.tree.files[other as usize].first)
                        ),
                    ));
                }
                self.links.insert(*f, m.ino);
                self.inos.insert(m.ino, *f);
                c.bytes += fd.size;
                let patch = crate::eltorito::patch_for(
                    self.tree,
                    &self.plan.boot,
                    &self.plan.file_lba,
                    *f,
                )?;
                self.content(fs, n, id, &fd.source, fd.size, patch.as_ref())?;
                (self.progress)(c.bytes, self.total);
            }
            Kind::Dir(_) => {}
        }
        Ok(())
    }

    /// Compares a file's content in the image with the source file (with `patch`, the
    /// boot info table, at its offset). Holes of the source
    /// that are holes of the image too (found through the reader's
    /// [`content_run`](FileSystem::content_run)) read as zeros on both sides and are skipped.
    #[allow(clippy::too_many_arguments)]
    fn content(
        &self,
        fs: &dyn FileSystem,
        n: u32,
        id: NodeId,
        source: &Path,
        size: u64,
        patch: Option<&(u64, Vec<u8>)>,
    ) -> Result<()> {
        let src = File::open(source).map_err(read_err(source))?;
        // Buffers as big as the file, up to 1 MiB (a 1 MiB memset per small file would cost
        // more than reading it).
        let cap = size.clamp(1, 1 << 20) as usize;
        let mut bufs = (vec![0u8; cap], vec![0u8; cap]);
        let mut off = 0u64;
        while off < size {
            let data = match rustix::fs::seek(&src, SeekFrom::Data(off)) {
                Ok(d) => d.min(size),
                Err(rustix::io::Errno::NXIO) => size,
                Err(_) => off,
            };
            if data > off {
                // A hole of the source: the image's holes there are skipped, the rest read.
                while off < data {
                    let end = match self.image_hole(fs, n, id, off, data - off)? {
                        Some(hole_end) => hole_end,
                        None => {
                            let upto = (off + (1 << 20)).min(data);
                            self.compare(fs, n, id, None, off, upto, &mut bufs, patch)?;
                            upto
                        }
                    };
                    off = end;
                }
                continue;
            }
            let hole = rustix::fs::seek(&src, SeekFrom::Hole(off)).map_or(size, |h| h.min(size));
            self.compare(
                fs,
                n,
                id,
                Some(&src),
                off,
                hole.max(off + 1).min(size),
                &mut bufs,
                patch,
            )
            .map_err(|e| match e {
                Error::Read { source: s, .. } => Error::Read {
                    path: source.to_path_buf(),
                    source: s,
                },
                e => e,
            })?;
            off = hole.max(off + 1).min(size);
        }
        // Nothing past the end.
        let mut one = [0u8; 1];
        if fs.read(id, size, &mut one).map_err(self.fs_err(n))? != 0 {
            return Err(self.mismatch(n, format!("the image has more than {size} bytes")));
        }
        Ok(())
    }

    /// If the image stores `[off, off + len)` of the file as a hole in a plain file
    /// from `off` on, where that hole ends (at most `off + len`).
    fn image_hole(
        &self,
        fs: &dyn FileSystem,
        n: u32,
        id: NodeId,
        off: u64,
        len: u64,
    ) -> Result<Option<u64>> {
        let Some(run) = fs.content_run(id, off).map_err(self.fs_err(n))? else {
            return Ok(None);
        };
        let len = len.min(run.len);
        let data = match rustix::fs::seek(run.file, SeekFrom::Data(run.offset)) {
            Ok(d) => d,
            Err(rustix::io::Errno::NXIO) => u64::MAX,
            Err(_) => return Ok(None),
        };
        Ok((data > run.offset).then(|| off + (data - run.offset).min(len)))
    }

    /// Compares `[from, to)` of the image with the source (`None`: with zeros).
    #[allow(clippy::too_many_arguments)]
    fn compare(
        &self,
        fs: &dyn FileSystem,
        n: u32,
        id: NodeId,
        src: Option<&File>,
        from: u64,
        to: u64,
        (a, b): &mut (Vec<u8>, Vec<u8>),
        patch: Option<&(u64, Vec<u8>)>,
    ) -> Result<()> {
        let mut off = from;
        while off < to {
            let want = (to - off).min(a.len() as u64) as usize;
            let mut got = 0;
            while got < want {
                let k = fs
                    .read(id, off + got as u64, &mut a[got..want])
                    .map_err(self.fs_err(n))?;
                if k == 0 {
                    break;
                }
                got += k;
            }
            let mut have = 0;
            match src {
                Some(src) => {
                    while have < want {
                        let k =
                            src.read_at(&mut b[have..want], off + have as u64)
                                .map_err(|e| Error::Read {
                                    path: Default::default(),
                                    source: e,
                                })?;
                        if k == 0 {
                            break;
                        }
                        have += k;
                    }
                }
                None => {
                    b[..want].fill(0);
                    have = want;
                }
            }
            if let Some((p_off, bytes)) = patch {
                // The image holds the patched bytes (a boot info table) there.
                for (k, &byte) in bytes.iter().enumerate() {
                    let at = p_off + k as u64;
                    if (off..off + want as u64).contains(&at) {
                        b[(at - off) as usize] = byte;
                    }
                }
            }
            if got != want || have != want {
                return Err(self.mismatch(
                    n,
                    format!(
                        "the content ends early (at byte {})",
                        off + got.min(have) as u64
                    ),
                ));
            }
            if a[..want] != b[..want] {
                let at = a[..want]
                    .iter()
                    .zip(&b[..want])
                    .position(|(x, y)| x != y)
                    .unwrap_or(0);
                return Err(
                    self.mismatch(n, format!("content differs at byte {}", off + at as u64))
                );
            }
            off += want as u64;
        }
        Ok(())
    }
}

/// The name a Joliet reader shows for `name` (what the writer records, decoded).
fn joliet_shown(name: &str) -> String {
    spindle_fs::iso::joliet::joliet_name(&names::joliet_name(name))
}
