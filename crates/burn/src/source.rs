//! What gets written: the user data of an image's first data track (any format the registry
//! reads, compressed or not), or, for files the registry does not recognise, the file's own
//! bytes (decompressed on the fly for `.gz`, `.xz` and `.zst`).

use crate::backing::Reads;
use crate::error::{BurnError, Result};
use spindle_disc::{ByteSource, Disc, FileSource, SectorView};
use spindle_image::ImageError;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Positioned reads of the bytes to write, shareable between threads.
pub trait Bytes: Send + Sync {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The plain file read, when the bytes are a file's own.
    fn plain_file(&self) -> Option<&std::fs::File> {
        None
    }
}

/// A plain file, read with `pread` straight into the writer's buffers.
fn plain_bytes(f: FileSource) -> Arc<dyn Bytes> {
    Arc::new(RawBytes(Box::new(f)))
}

struct ViewBytes(SectorView);

impl Bytes for ViewBytes {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let n = self.0.read_at(offset, buf).map_err(io::Error::other)?;
        if n < buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "past the end of the data track",
            ));
        }
        Ok(())
    }
    fn len(&self) -> u64 {
        self.0.len()
    }
}

struct RawBytes(Box<dyn ByteSource>);

impl Bytes for RawBytes {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.0.read_exact_at(buf, offset)
    }
    fn len(&self) -> u64 {
        self.0.len()
    }
    fn plain_file(&self) -> Option<&std::fs::File> {
        self.0.plain_file()
    }
}

/// The bytes to write and where they come from.
pub struct Source {
    pub path: PathBuf,
    pub bytes: Arc<dyn Bytes>,
    /// For people: `ISO 2048, data track 1` or `raw file, zstd-compressed`.
    pub description: String,
    /// The disc, when the registry read the image (the bootability check looks inside).
    pub disc: Option<Arc<Disc>>,
    /// Every file read (the image and its companions): the disks they are on are refused.
    pub files: Vec<PathBuf>,
    /// The same files by device and inode, taken when they were opened: a target that is,
    /// or is stacked on, or is backed by one of them is refused ([`crate::backing`]).
    pub reads: Reads,
}

impl Source {
    pub fn len(&self) -> u64 {
        self.bytes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Opens `path` through the registry; a file it does not recognise is written as is.
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
            bytes: Arc::new(z),
            description: "zstd, decoded while it is written".into(),
            disc: None,
            files,
        }
        .nonempty()
        .map(Some)
    }

    /// The user data of the disc's first data track.
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
        let plain = disc.source.format == "iso"
            && files.len() == 1
            && same(&files[0], path)
            && !compressed(path);
        // A plain 2048-byte ISO is its own user data: read the file straight.
        let bytes: Arc<dyn Bytes> = match plain.then(|| FileSource::open(path)) {
            Some(Ok(f)) if f.len() == view.len() => plain_bytes(f),
            _ => Arc::new(ViewBytes(view)),
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
        };
        s.nonempty()
    }

    /// The file's bytes, decompressed when its name and magic say gzip, xz or zstd.
    pub fn raw(path: &Path) -> Result<Source> {
        let io = |e| BurnError::io(path, "reading the image", e);
        let mut head = [0u8; 8];
        let n = {
            use std::io::Read;
            let (mut f, _) = spindle_disc::open::open_image_file(path).map_err(io)?;
            f.read(&mut head).map_err(io)?
        };
        let (bytes, description): (Arc<dyn Bytes>, String) =
            match spindle_container::kind_of(path, &head[..n]) {
                Some(kind) => (
                    Arc::new(RawBytes(Box::new(
                        spindle_container::open(path, kind).map_err(io)?,
                    ))),
                    format!("raw file, {}-compressed", kind.name()),
                ),
                None => (
                    Arc::new(RawBytes(Box::new(FileSource::open(path).map_err(io)?))),
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
        }
        .nonempty()
    }

    /// Bytes held in memory (tests).
    pub fn from_bytes(path: &Path, data: Vec<u8>) -> Source {
        Source {
            path: path.to_path_buf(),
            bytes: Arc::new(RawBytes(Box::new(spindle_disc::MemSource::new(data, path)))),
            description: "bytes in memory".into(),
            disc: None,
            files: vec![],
            reads: Reads::default(),
        }
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

fn compressed(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    matches!(ext.as_str(), "gz" | "gzip" | "xz" | "zst" | "zstd")
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
