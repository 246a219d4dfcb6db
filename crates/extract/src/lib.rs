//! Copies files out of a disc image's filesystem into a folder (`spindle extract`).
//!
//! The image is hostile input. Each name in it is one directory entry name (`..`, `.`,
//! names with `/` or NUL are refused, [`name`]), and every output entry is made relative to
//! a directory descriptor this crate opened itself ([`out::Dir`]): directories with `mkdirat`
//! then `openat(O_DIRECTORY | O_NOFOLLOW)`, files with `openat(O_CREAT | O_EXCL | O_NOFOLLOW)`
//! under a temporary name and renamed into place when complete (`RENAME_NOREPLACE` unless
//! overwriting), symbolic links with `symlinkat` (their targets are never followed), hard
//! links only to files this run wrote, modes and times through the new descriptor. So no
//! entry of the image, whatever repeats or links it holds, reaches outside the output folder,
//! and a file appears under its name only when its content is complete.

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
#[cfg(any(test, feature = "fuzzing"))]
pub mod memfs;
pub mod name;
pub mod out;

mod copy;
#[cfg(test)]
mod tests;
mod walk;

use spindle_fs::{FileSystem, FsError, NodeId};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

pub use out::{Dir, OutError};

/// How to extract.
#[derive(Clone, Debug)]
pub struct Options {
    /// Replace existing files and links in the output (by renaming over their names; never
    /// writing into them or through them). Existing directories are always merged into.
    pub overwrite: bool,
    /// Keep setuid, setgid and sticky bits (dropped by default).
    pub keep_special_bits: bool,
    /// Permission bits cleared from every mode the image gives (a process umask: `spindle
    /// extract` passes the caller's unless it runs as root, as tar does), so that a hostile
    /// image cannot hand out world-writable folders in the user's output. 0 clears none.
    pub umask: u32,
    /// Threads copying file contents (at least 1).
    pub workers: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            overwrite: false,
            keep_special_bits: false,
            umask: 0,
            workers: std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(2, 8),
        }
    }
}

/// What was made, and what was left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Regular files written.
    pub files: u64,
    /// Bytes of file content written.
    pub bytes: u64,
    /// Directories made (or merged into).
    pub dirs: u64,
    /// Symbolic links made.
    pub symlinks: u64,
    /// Hard links made (to files this run wrote).
    pub hardlinks: u64,
    /// Entries not made: unusable names, repeated names, too deep, unusable link targets.
    pub skipped: u64,
    /// Device nodes, FIFOs and sockets in the image (never created).
    pub special: u64,
    /// Entries whose setuid, setgid or sticky bits were dropped.
    pub bits_dropped: u64,
}

/// Why an extraction stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An output entry could not be made.
    #[error(transparent)]
    Out(#[from] OutError),
    /// A file's content could not be read from the image.
    #[error("{}: reading it from the image: {source}", name::Shown(.path))]
    Read {
        /// The entry's path in the output.
        path: PathBuf,
        /// The filesystem's error.
        #[source]
        source: FsError,
    },
    /// A file's content could not be written to the output.
    #[error("writing {}: {source}", name::Shown(.path))]
    Write {
        /// The entry's path in the output.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// The caller cancelled the extraction.
    #[error("interrupted")]
    Interrupted,
    /// A copying thread panicked (a bug).
    #[error("an extraction worker panicked")]
    WorkerPanicked,
}

/// The outcome of [`extract`]: what was done, even when it stopped early.
#[derive(Debug)]
pub struct Report {
    /// What was made before the extraction ended.
    pub stats: Stats,
    /// Unfinished files that were removed (under the names they would have had).
    pub removed: Vec<PathBuf>,
    /// `Ok` when everything was extracted (skipped entries aside), else why it stopped.
    pub result: Result<(), Error>,
}

/// Deepest directory level extracted (each level holds a descriptor while its contents are
/// made); deeper directories are skipped with a warning.
pub const MAX_DEPTH: usize = 256;

/// Extracts `node` of `fs` into the folder `output` (made if missing): a directory's
/// contents, or a single entry under `name` (the last part of the path it was asked for).
/// Stops early, removing unfinished files, on the first error or once `cancel` is set.
/// `warn` gets each warning (an entry left out, and why) as it happens.
pub fn extract(
    fs: &dyn FileSystem,
    node: NodeId,
    name: &str,
    output: &Path,
    opts: &Options,
    cancel: &AtomicBool,
    warn: &(dyn Fn(&str) + Sync),
) -> Report {
    let root = match Dir::open_root(output) {
        Ok(d) => d,
        Err(e) => {
            return Report {
                stats: Stats::default(),
                removed: Vec::new(),
                result: Err(e.into()),
            };
        }
    };
    walk::run(fs, node, name, root, opts, cancel, warn)
}
