//! What gets written: the user data of an image's first data track (any format the registry
//! reads, compressed or not), or, for files the registry does not recognise, the file's own
//! bytes (decompressed on the fly for `.gz`, `.xz` and `.zst`).

use crate::backing::Reads;
use crate::error::{BurnError, Result};
use spindle_disc::{ByteSource, Disc, FileSource, MemSource, SectorView};
use spindle_image::ImageError;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The bytes to write and where they come from.
pub struct Source {
    /// The image the user named (or the byte source's path, for [`Source::from_bytes`]).
    pub path: PathBuf,
    /// The bytes, read as the writer reads them with [`Source::read_chunk`].
    pub bytes: Arc<dyn ByteSource>,
    /// For people: `ISO 2048, data track 1` or `raw file, zstd-compressed`.
    pub description: String,
    /// The disc, when the registry read the image (the bootability check looks inside).
    pub disc: Option<Arc<Disc>>,
    /// Every file read (the image and its companions): the disks they are on are refused.
    pub files: Vec<PathBuf>,
    /// The same files by device and inode, taken when they were opened: a target that is,
    /// or is stacked on, or is backed by one of them is refused ([`crate::backing`]).
    pub reads: Reads,
    /// The first bytes that are written last (the chunks holding them go after all the
    /// others): a built stick's MBR and boot sector, so that a stick whose write stopped
    /// part way has no partition table and no filesystem and is not taken for a finished
    /// one. 0 for images written as they are.
    pub head_last: u64,
    /// The WIM files split into parts on a built stick: after the read-back, the parts are
    /// checked against the source WIM ([`crate::wimcheck`]). Empty for other images.
    pub wims: Vec<crate::wimcheck::SplitWim>,
}

impl Source {
    /// The number of bytes to write.
    pub fn len(&self) -> u64 {
        self.bytes.len()
    }
    /// True when there is nothing to write (the constructors other than
    /// [`Source::from_bytes`] refuse an empty source).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Opens `path`: a zstd stream decoded while it is written ([`Source::streamed`]), else
    /// through the registry ([`Source::from_disc`]); a file the registry does not recognise
    /// is written as is ([`Source::raw`]). `password` opens encrypted images. Fails with
    /// [`BurnError::Source`] when a format claims the file but cannot open it, or when there
    /// is nothing to write, and [`BurnError::Io`] when the file cannot be read.
    pub fn open(path: &Path, password: Option<String>) -> Result<Source> {
        if let Some(s) = Source::streamed(path)? {
            return Ok(s);
        }
        match spindle_image::open_with(path, password) {
            Ok(d) => Source::from_disc(path, Arc::new(d)),
            Err(ImageError::Unrecognised { .. }) => Source::raw(path),
            Err(e) => Err(BurnError::Source {
                path: path.to_path_buf(),
                what: error_chain(&e),
            }),
        }
    }

    /// A zstd-compressed ISO or raw image decoded while it is written, when its frames declare
    /// their sizes (what the `zstd` tool writes). `None` for anything else: descriptor
    /// formats (`.cue.zst`...), raw CD sectors (the registry extracts their user data),
    /// other containers, and zstd files without sizes.
    pub fn streamed(path: &Path) -> Result<Option<Source>> {
        let io = |e| BurnError::io(path, "reading the image", e);
        let mut head = [0u8; 8];
        let n = {
            use std::io::Read;
            let (mut f, _) = spindle_disc::open::open_image_file(path).map_err(io)?;
            f.read(&mut head).map_err(io)?
        };
        if spindle_container::kind_of(path, &head[..n]) != Some(spindle_container::Kind::Zstd) {
            return Ok(None);
        }
        let inner = spindle_container::inner_path(path);
        let ext = inner
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if matches!(
            ext.as_str(),
            "cue" | "mds" | "mdx" | "ccd" | "nrg" | "cdi" | "chd" | "toc"
        ) {
            return Ok(None);
        }
        let Some(z) = crate::stream::ZstdStream::open(path).map_err(io)? else {
            return Ok(None);
        };
        let mut first = [0u8; 12];
        if z.len() >= 12 {
            z.read_exact_at(&mut first, 0).map_err(io)?;
            const SYNC: [u8; 12] = [
                0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0,
            ];
            if first == SYNC {
                return Ok(None);
            }
        }
        let files = vec![path.to_path_buf()];
        Source {
            path: path.to_path_buf(),
            reads: Reads::new(path, &files, &[z.file()]),
            head_last: 0,
            wims: Vec::new(),
            bytes: Arc::new(z),
            description: "zstd, decoded while it is written".into(),
            disc: None,
            files,
        }
        .nonempty()
        .map(Some)
    }

    /// The user data of the disc's first data track (2048 bytes per sector for Mode 1 and
    /// Mode 2 Form 1 sectors), read straight from the file for a plain ISO. Fails with
    /// [`BurnError::Source`] when the disc has no data track or it is empty.
    pub fn from_disc(path: &Path, disc: Arc<Disc>) -> Result<Source> {
        let view = SectorView::first_data_track(disc.clone()).map_err(|e| BurnError::Source {
            path: path.to_path_buf(),
            what: e.to_string(),
        })?;
        let track = disc.first_data_track().map(|t| t.number).unwrap_or(1);
        let description = format!("{}, user data of data track {track}", disc.source.variant);
        let files = disc.source.files.clone();
        let same = |a: &Path, b: &Path| {
            a == b
                || std::fs::canonicalize(a)
                    .ok()
                    .is_some_and(|a| std::fs::canonicalize(b).ok() == Some(a))
        };
        // A plain 2048-byte ISO is its own user data: read straight from the very file the
        // registry opened and probed (the byte layer's one zero-copy check says so), never
        // the name opened a second time.
        let bytes: Arc<dyn ByteSource> = match view.plain_file().map(|f| f.try_clone()) {
            Some(Ok(f)) => Arc::new(FileSource::from_file(f, view.len(), path)),
            _ => Arc::new(view),
        };
        let mut files = files;
        if !files.iter().any(|f| same(f, path)) {
            files.push(path.to_path_buf());
        }
        let mut open = disc.open_plain_files();
        let own = bytes.plain_file();
        open.extend(own);
        let reads = Reads::new(path, &files, &open);
        let s = Source {
            path: path.to_path_buf(),
            bytes,
            description,
            disc: Some(disc),
            files,
            reads,
            head_last: 0,
            wims: Vec::new(),
        };
        s.nonempty()
    }

    /// The file's bytes, decompressed when its name and magic say gzip, xz or zstd. Fails
    /// with [`BurnError::Io`] when it cannot be read and [`BurnError::Source`] when it is
    /// empty.
    pub fn raw(path: &Path) -> Result<Source> {
        let io = |e| BurnError::io(path, "reading the image", e);
        let mut head = [0u8; 8];
        let n = {
            use std::io::Read;
            let (mut f, _) = spindle_disc::open::open_image_file(path).map_err(io)?;
            f.read(&mut head).map_err(io)?
        };
        let (bytes, description): (Arc<dyn ByteSource>, String) =
            match spindle_container::kind_of(path, &head[..n]) {
                Some(kind) => (
                    Arc::new(spindle_container::open(path, kind).map_err(io)?),
                    format!("raw file, {}-compressed", kind.name()),
                ),
                None => (
                    Arc::new(FileSource::open(path).map_err(io)?),
                    "raw file".to_string(),
                ),
            };
        let files = vec![path.to_path_buf()];
        let open: Vec<&std::fs::File> = bytes.plain_file().into_iter().collect();
        let reads = Reads::new(path, &files, &open);
        Source {
            path: path.to_path_buf(),
            bytes,
            description,
            disc: None,
            files,
            reads,
            head_last: 0,
            wims: Vec::new(),
        }
        .nonempty()
    }

    /// Any bytes of the byte layer (a catalogue entry, a sector view, bytes in memory),
    /// written as they read; `description` is for people. The source is named by the
    /// bytes' path, which need not name a file. Every file the bytes may be read from is
    /// guarded (a target that is, or is backed by, one of them is refused): the plain file
    /// behind the whole of them, if any, and, with `disc` (the disc the bytes are a view or
    /// catalogue entry of), every file of that disc, named and open.
    pub fn from_bytes(
        bytes: Arc<dyn ByteSource>,
        description: impl Into<String>,
        disc: Option<Arc<Disc>>,
    ) -> Source {
        let path = bytes.path().to_path_buf();
        let (files, mut open) = match &disc {
            Some(d) => (d.source.files.clone(), d.open_plain_files()),
            None => (vec![], vec![]),
        };
        open.extend(bytes.plain_file());
        let reads = if files.is_empty() {
            Reads::open_only(&path, &open)
        } else {
            Reads::new(&path, &files, &open)
        };
        drop(open);
        Source {
            path,
            bytes,
            description: description.into(),
            disc,
            files,
            reads,
            head_last: 0,
            wims: Vec::new(),
        }
    }

    /// Bytes held in memory, named `path` (tests).
    pub fn from_memory(path: &Path, data: Vec<u8>) -> Source {
        Source::from_bytes(
            Arc::new(MemSource::new(data, path)),
            "bytes in memory",
            None,
        )
    }

    /// Fills `buf` from byte `offset`, as the writer and the verifier read every chunk; the
    /// error names the source and the offset.
    pub fn read_chunk(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.bytes.read_exact_at(buf, offset).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("reading {} at byte {offset}: {e}", self.path.display()),
            )
        })
    }

    /// Reads the whole source front to back in chunks of `chunk` bytes (the last one
    /// shorter) with [`read_chunk`](Self::read_chunk), handing each to `f` with its offset:
    /// the bytes a burn writes.
    pub fn read_all(
        &self,
        chunk: usize,
        mut f: impl FnMut(u64, &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let total = self.len();
        let mut buf = vec![0u8; chunk.clamp(1, 64 << 20).min(total as usize)];
        let mut off = 0u64;
        while off < total {
            let len = (total - off).min(buf.len() as u64) as usize;
            self.read_chunk(&mut buf[..len], off)?;
            f(off, &buf[..len])?;
            off += len as u64;
        }
        Ok(())
    }

    fn nonempty(self) -> Result<Source> {
        if self.is_empty() {
            return Err(BurnError::Source {
                path: self.path,
                what: "is empty: nothing to write".into(),
            });
        }
        Ok(self)
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
