//! The traits a format crate implements so that the registry can probe, open and write it
//! without knowing anything else about it.

use crate::ByteSource;
use crate::model::Disc;
use std::error::Error;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The boxed error writers return.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// What kind of failure a format's [`ImageFormat::open`] reports: the kinds a caller acts
/// on (asking for a password and trying again) are told apart here, so that nobody has to
/// look into a format's own error type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenErrorKind {
    /// The image is encrypted with a password and none was given
    /// ([`OpenContext::password`]).
    PasswordNeeded,
    /// Anything else: the message says what.
    Other,
}

/// Why a format could not open an image: its kind and the format's own error (the message).
///
/// Any error converts into one of kind [`OpenErrorKind::Other`] (so `?` works in `open`); a
/// format says [`OpenError::password_needed`] itself. Not an [`Error`] itself (that would
/// clash with the conversion from every error): [`OpenError::into_source`] gives the error.
#[derive(Debug)]
pub struct OpenError {
    kind: OpenErrorKind,
    source: BoxError,
}

impl OpenError {
    /// An error of `kind`, with the format's message.
    pub fn new(kind: OpenErrorKind, source: impl Into<BoxError>) -> OpenError {
        OpenError {
            kind,
            source: source.into(),
        }
    }

    /// The image is encrypted and no password was given; `source` says so for people.
    pub fn password_needed(source: impl Into<BoxError>) -> OpenError {
        OpenError::new(OpenErrorKind::PasswordNeeded, source)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> OpenErrorKind {
        self.kind
    }

    /// The format's error.
    pub fn source(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.source
    }

    /// The format's error, for the caller's own error chain.
    pub fn into_source(self) -> BoxError {
        self.source
    }
}

impl<E: Error + Send + Sync + 'static> From<E> for OpenError {
    fn from(e: E) -> OpenError {
        OpenError::new(OpenErrorKind::Other, e)
    }
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.source.fmt(f)
    }
}

/// Opens the files an image refers to (BIN, MDF, IMG, SUB...) by the name the descriptor
/// gives. Format crates never walk the filesystem themselves.
pub trait Companions: Send + Sync {
    /// Opens `name` (as written in the descriptor: relative to it, any case).
    fn open(&self, name: &str) -> io::Result<Arc<dyn ByteSource>>;
    /// The path `name` resolves to, for messages and source lists.
    fn resolve(&self, name: &str) -> io::Result<PathBuf>;
}

/// What `open` gets besides the path.
pub struct OpenContext<'a> {
    /// Opens the companion files the image names.
    pub companions: &'a dyn Companions,
    /// A password for encrypted images.
    pub password: Option<String>,
}

impl OpenContext<'_> {
    /// The image file itself, opened through the companions like any data file, so that a
    /// compressed `game.iso.zst` opened as `game.iso` reads decompressed.
    pub fn open_image(&self, path: &Path) -> io::Result<Arc<dyn ByteSource>> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.companions.open(&name)
    }
}

/// First bytes of a file offered to probes.
pub const PROBE_BYTES: usize = 64 * 1024;

/// An image format that can be read.
pub trait ImageFormat: Send + Sync {
    /// Short id (`iso`, `cue`, `mds`...), as `spindle info` shows it.
    fn id(&self) -> &'static str;
    /// A one-line human description of the format (`spindle formats`).
    fn description(&self) -> &'static str;
    /// A cheap, pure check: the file name, its first bytes (up to [`PROBE_BYTES`]) and its
    /// length. True when this format claims the file.
    fn probe(&self, path: &Path, head: &[u8], len: u64) -> bool;
    /// Parses the image into a disc. An encrypted image opened without the password it
    /// needs is [`OpenErrorKind::PasswordNeeded`].
    fn open(&self, path: &Path, ctx: &OpenContext) -> Result<Disc, OpenError>;
}

/// What an output format can keep. Conversion refuses a target that would lose something
/// the source has, unless told otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterCaps {
    /// Audio tracks.
    pub audio: bool,
    /// More than one session.
    pub multisession: bool,
    /// Raw 2352-byte sectors (sync, headers, EDC/ECC as stored rather than regenerated).
    pub raw_sectors: bool,
    /// Subchannel data (P-W).
    pub subchannel: bool,
    /// CD-TEXT.
    pub cdtext: bool,
    /// The disc's MCN and the tracks' ISRCs.
    pub codes: bool,
    /// Index 2 and later of a track.
    pub indexes: bool,
    /// DVD/BD structures (PFI, DMI, copyright, BCA) and DPM blocks.
    pub structures: bool,
}

/// Choices a writer may take into account (each ignores what does not apply to it).
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Encrypt the output with this password (MDX).
    pub password: Option<String>,
    /// Store track data uncompressed where the format compresses by default (MDX).
    pub uncompressed: bool,
    /// Set (from a signal handler, say) to stop a writer between batches; it then returns
    /// [`Cancelled`] and leaves cleaning up to its caller.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl WriteOptions {
    /// [`Cancelled`] once `cancel` is set.
    pub fn check_cancel(&self) -> Result<(), Cancelled> {
        match &self.cancel {
            Some(c) if c.load(Ordering::Relaxed) => Err(Cancelled),
            _ => Ok(()),
        }
    }
}

/// A writer stopped because [`WriteOptions::cancel`] was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("stopped on request")]
pub struct Cancelled;

impl WriterCaps {
    /// A format that keeps everything a disc model holds.
    pub const ALL: WriterCaps = WriterCaps {
        audio: true,
        multisession: true,
        raw_sectors: true,
        subchannel: true,
        cdtext: true,
        codes: true,
        indexes: true,
        structures: true,
    };
}

/// Progress callback: (bytes done, bytes total).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// An image format that can be written.
pub trait ImageWriter: Send + Sync {
    /// Short id of the output format (`iso`, `cue`, `mdx`...).
    fn id(&self) -> &'static str;
    /// Output extensions this writer is picked for (lower case, no dot).
    fn extensions(&self) -> &'static [&'static str];
    /// What the output format can keep (see [`WriterCaps`]).
    fn caps(&self) -> WriterCaps;
    /// Every file `write` would create for `out` (checked against the inputs before writing).
    fn outputs(&self, out: &Path) -> Vec<PathBuf> {
        vec![out.to_path_buf()]
    }
    /// Writes `disc` to `out` (and companions beside it); returns every file written.
    fn write(&self, disc: &Disc, out: &Path, progress: Progress) -> Result<Vec<PathBuf>, BoxError>;
    /// Writes with options; writers that take none use [`ImageWriter::write`].
    fn write_with(
        &self,
        disc: &Disc,
        out: &Path,
        _options: &WriteOptions,
        progress: Progress,
    ) -> Result<Vec<PathBuf>, BoxError> {
        self.write(disc, out, progress)
    }
    /// True when the writer can encrypt ([`WriteOptions::password`]).
    fn encrypts(&self) -> bool {
        false
    }
    /// True when the writer compresses by default and can be told not to
    /// ([`WriteOptions::uncompressed`]).
    fn compresses(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("game.mdx: encrypted")]
    struct Encrypted;

    fn open(password: Option<&str>) -> Result<(), OpenError> {
        match password {
            None => Err(OpenError::password_needed(Encrypted)),
            // `?` on any error: kind Other.
            Some(_) => Err(io::Error::other("game.mdx: short read"))?,
        }
    }

    #[test]
    fn the_kind_is_told_without_looking_into_the_error() {
        let e = open(None).unwrap_err();
        assert_eq!(e.kind(), OpenErrorKind::PasswordNeeded);
        assert_eq!(e.to_string(), "game.mdx: encrypted");
        assert!(e.source().is::<Encrypted>());
        let e = open(Some("pw")).unwrap_err();
        assert_eq!(e.kind(), OpenErrorKind::Other);
        assert_eq!(e.into_source().to_string(), "game.mdx: short read");
        let boxed: BoxError = "plain message".into();
        assert_eq!(
            OpenError::new(OpenErrorKind::Other, boxed).to_string(),
            "plain message"
        );
    }
}
