//! # spindle-container: compressed images with random access
//!
//! A disc image inside a `.gz`, `.xz` or `.zst` file reads like the plain file: [`open`]
//! returns a [`Compressed`] [`ByteSource`] whose positioned reads decode only what they need.
//! How each container gets random access (`docs/containers.md` has the costs):
//!
//! | container | random access through | cost at open |
//! |---|---|---|
//! | zstd, seekable format (seek table in a skippable frame) | the seek table's frames | reading the table |
//! | zstd, several frames (e.g. `zstd -B`, pzstd) | frame headers and block headers | walking the headers, decoding frames without a content size |
//! | xz, several blocks (`xz -T`, `--block-size`) | the stream index | reading the index |
//! | gzip | checkpoints of the inflate state every 8 MiB, made by one pass | one full decompression; ~45 KB of memory per checkpoint |
//! | zstd or xz in one frame/block | a decompressed copy in a temporary file | one full decompression, disk space of the plain image |
//!
//! Decoded frames are kept in a small cache, so sequential reads decode each frame once.
//! Temporary copies are bounded by a [`DecodeBudget`] (8 GiB by default, or
//! `SPINDLE_DECODE_BUDGET`), counted per uid across the process.

mod budget;
mod cache;
mod companions;
mod frames;
mod gzip;
mod xz;
mod zst;

pub use budget::{
    BudgetExceeded, DEFAULT_LIMIT, DecodeBudget, ENV as BUDGET_ENV, FREE_SPACE_MARGIN, LimitSource,
    human, parse_size,
};
pub use companions::{ContainerCompanions, kind_by_name};
pub use zst::write_seekable;

use frames::Indexed;
use spindle_disc::ByteSource;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A compression container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// gzip (`.gz`, `.gzip`).
    Gzip,
    /// xz (`.xz`).
    Xz,
    /// Zstandard (`.zst`, `.zstd`), seekable format included.
    Zstd,
}

impl Kind {
    /// The container's name for messages ("gzip", "xz", "zstd").
    pub fn name(self) -> &'static str {
        match self {
            Kind::Gzip => "gzip",
            Kind::Xz => "xz",
            Kind::Zstd => "zstd",
        }
    }
    fn magic_ok(self, head: &[u8]) -> bool {
        match self {
            Kind::Gzip => head.starts_with(&[0x1F, 0x8B, 0x08]),
            Kind::Xz => head.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]),
            // A zstd frame, or a skippable frame (a seekable file may start with one).
            Kind::Zstd => {
                head.starts_with(&[0x28, 0xB5, 0x2F, 0xFD])
                    || (head.len() >= 4
                        && head[1..4] == [0x2A, 0x4D, 0x18]
                        && head[0] & 0xF0 == 0x50)
            }
        }
    }
}

/// The container a file name's extension says, if its first bytes agree.
pub fn kind_of(path: &Path, head: &[u8]) -> Option<Kind> {
    let ext = path.extension()?.to_string_lossy().to_lowercase();
    let kind = match ext.as_str() {
        "gz" | "gzip" => Kind::Gzip,
        "xz" => Kind::Xz,
        "zst" | "zstd" => Kind::Zstd,
        _ => return None,
    };
    kind.magic_ok(head).then_some(kind)
}

/// The name of the file inside: `game.iso.zst` → `game.iso`.
pub fn inner_path(path: &Path) -> PathBuf {
    path.with_extension("")
}

/// How reads find their bytes.
enum Access {
    /// Independently decodable frames (zstd frames, xz blocks).
    Frames(frames::Frames),
    /// gzip: inflate checkpoints.
    Gzip(gzip::Index),
    /// The whole stream decoded once into a temporary file.
    Cached(cache::Cache),
}

/// A compressed file read as its decompressed bytes.
pub struct Compressed {
    path: PathBuf,
    kind: Kind,
    len: u64,
    access: Access,
    decoded: AtomicU64,
}

impl Compressed {
    /// The file's container.
    pub fn kind(&self) -> Kind {
        self.kind
    }
    /// Bytes decoded so far, index building included (what tests assert on).
    pub fn bytes_decoded(&self) -> u64 {
        self.decoded.load(Ordering::Relaxed)
    }
    /// How random access works for this file, for `spindle info` and docs.
    pub fn access(&self) -> String {
        match &self.access {
            Access::Frames(f) => format!("{} independent frames", f.count()),
            Access::Gzip(g) => format!("{} inflate checkpoints", g.count()),
            Access::Cached(_) => "one frame: decoded once into a temporary file".into(),
        }
    }
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {what}", path.display()),
    )
}

/// Opens a compressed file of a known kind and builds its random-access index, with the
/// default [`DecodeBudget`].
pub fn open(path: &Path, kind: Kind) -> io::Result<Compressed> {
    open_with(path, kind, &DecodeBudget::default())
}

/// Opens a compressed file of a known kind within `budget` (a regular file or block device
/// only: see `spindle_disc::open`).
pub fn open_with(path: &Path, kind: Kind, budget: &DecodeBudget) -> io::Result<Compressed> {
    let (file, flen) =
        spindle_disc::open_image_file(path).map_err(|e| spindle_disc::open::name_error(path, e))?;
    open_file(file, flen, path, kind, budget)
}

/// Builds the random-access index of `file` (already open: the compressed `path`, `flen`
/// bytes long). A file with no random access is decoded into a temporary copy within
/// `budget`; one that would not fit is a [`BudgetExceeded`] error.
pub fn open_file(
    file: File,
    flen: u64,
    path: &Path,
    kind: Kind,
    budget: &DecodeBudget,
) -> io::Result<Compressed> {
    let decoded = AtomicU64::new(0);
    let indexed = match kind {
        Kind::Zstd => zst::index(&file, flen, path, &decoded)?,
        Kind::Xz => xz::index(&file, flen, path)?,
        Kind::Gzip => {
            let g = gzip::Index::build(file.try_clone()?, flen, path, &decoded)?;
            return Ok(Compressed {
                path: path.to_path_buf(),
                kind,
                len: g.len(),
                access: Access::Gzip(g),
                decoded,
            });
        }
    };
    let (access, len) = match indexed {
        Indexed::Frames(f) => {
            let len = f.len();
            (Access::Frames(f.with_file(file, kind)), len)
        }
        Indexed::Whole { declared } => {
            let c = cache::Cache::fill(&file, path, kind, declared, budget, &decoded)?;
            let len = c.len();
            (Access::Cached(c), len)
        }
    };
    Ok(Compressed {
        path: path.to_path_buf(),
        kind,
        len,
        access,
        decoded,
    })
}

/// Sequential reads of a shared file through positioned reads, from `pos`.
pub(crate) struct At<'a> {
    file: &'a File,
    pos: u64,
}

impl<'a> At<'a> {
    pub fn new(file: &'a File, pos: u64) -> At<'a> {
        At { file, pos }
    }
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl ByteSource for Compressed {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let n = buf
            .len()
            .min(self.len.saturating_sub(offset).min(usize::MAX as u64) as usize);
        let buf = &mut buf[..n];
        if n == 0 {
            return Ok(0);
        }
        match &self.access {
            Access::Frames(f) => f.read_at(buf, offset, &self.path, &self.decoded)?,
            Access::Gzip(g) => g.read_at(buf, offset, &self.path, &self.decoded)?,
            Access::Cached(c) => c.file().read_exact_at(buf, offset)?,
        }
        Ok(n)
    }
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|e| e > self.len)
        {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: {} bytes at {offset} are past the end ({} bytes decompressed)",
                    self.path.display(),
                    buf.len(),
                    self.len
                ),
            ));
        }
        self.read_at(buf, offset).map(|_| ())
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn path(&self) -> &Path {
        &self.path
    }
}
