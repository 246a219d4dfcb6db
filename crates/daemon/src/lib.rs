//! # spindle-daemon: the drive daemon
//!
//! One process owns N virtual drive slots ([`Drives`]; 4 by default, up to [`MAX_DRIVES`]),
//! each holding at most one disc image with its FUSE tree mounts, plus one mount with the
//! raw views of every drive. Clients (the `spindle` CLI) talk to it over a Unix socket with
//! versioned JSON lines ([`protocol`], the `spindle-protocol` crate; docs/protocol.md).
//! [`service::run`] is the whole daemon as systemd and launchd start it: foreground, stderr
//! logging, socket activation, SIGTERM handling, idle exit, saved and restored drives
//! (docs/daemon.md).
//!
//! Images are opened with the requesting user's rights ([`creds`]); mounts belong to them.

pub mod client;
pub mod creds;
pub mod limits;
pub mod mountpoint;
pub mod nbd;
pub mod paths;
mod scsi;
mod server;
pub mod service;
mod sharing;
mod slots;
pub mod state;

/// The control protocol's types and lines (the `spindle-protocol` crate).
pub use spindle_protocol as protocol;

pub use slots::{
    DEFAULT_DRIVES, Drives, Ejected, LoadRequest, MAX_DRIVES, Opened, folder_name, open_image,
};
pub use spindle_protocol::{DriveReport, EjectTarget};

use std::path::PathBuf;

/// What can go wrong in the daemon; each message names what the user asked for.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Opening or reading an image (code `password_needed` when it is
    /// [`spindle_image::ImageError::PasswordNeeded`] turned into [`DaemonError::PasswordNeeded`]).
    #[error(transparent)]
    Image(#[from] spindle_image::ImageError),
    /// Mounting, swapping or unmounting a FUSE tree.
    #[error(transparent)]
    Fuse(#[from] spindle_fuse::FuseError),
    /// A system call, with what the daemon was doing.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (naming the file).
        context: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A drive number past the last drive.
    #[error("no drive {drive} (there are {count}; `spindle drives --count N` adds more)")]
    NoDrive {
        /// The drive asked for.
        drive: u32,
        /// How many drives there are.
        count: u32,
    },
    /// Ejecting an empty drive.
    #[error("drive {0} is empty")]
    Empty(u32),
    /// No free drive for a `mount`.
    #[error("every drive is loaded ({0}); eject one or add drives with `spindle drives --count N`")]
    Full(u32),
    /// `mount` into a drive that holds a disc.
    #[error("drive {drive} holds {}; eject it first, or swap its disc with `spindle load`", image.display())]
    Busy {
        /// The drive.
        drive: u32,
        /// The image in it.
        image: PathBuf,
    },
    /// `eject PATH` of a path that is neither a mount point nor a loaded image.
    #[error("{}: not an image in a drive nor a mount point", .0.display())]
    NotFound(PathBuf),
    /// The user may not do this (code `denied`).
    #[error("{0}")]
    Denied(String),
    /// A request that cannot be done as asked (code `bad_request`).
    #[error("{0}")]
    Invalid(String),
    /// A mount point refused (code `bad_mount_point`).
    #[error("{}: cannot mount there: {reason}", path.display())]
    MountPoint {
        /// The mount point asked for.
        path: PathBuf,
        /// Why it is refused.
        reason: String,
    },
    /// An encrypted image and no password (code `password_needed`).
    #[error("{}: password needed (encrypted image)", .0.display())]
    PasswordNeeded(PathBuf),
    /// A limit of the daemon (too many connections or opens in flight): answered `busy`.
    #[error("{0}")]
    Limit(String),
    /// An open that did not return in time: answered `timeout`.
    #[error("{0}")]
    TimedOut(String),
    /// A `share` without TLS of a disc other local users cannot read.
    #[error("{0}")]
    PrivateDisc(String),
    /// An eject (or swap) of a drive the system holds locked (PREVENT MEDIUM REMOVAL: a
    /// filesystem on its `/dev/srN` is mounted, or a program holds it); the drive was asked
    /// to eject (code `drive_locked`).
    #[error("drive {drive}{} is locked by the system (mounted or in use): asked it to eject; unmount it first", device.as_ref().map(|d| format!(" ({})", d.display())).unwrap_or_default())]
    DriveLocked {
        /// The drive.
        drive: u32,
        /// Its `/dev/srN`, when it has one.
        device: Option<PathBuf>,
    },
    /// A daemon answers on the socket already.
    #[error("another spindle daemon is running on {}", .0.display())]
    AlreadyRunning(PathBuf),
}

impl DaemonError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> DaemonError {
        DaemonError::Io {
            context: context.into(),
            source,
        }
    }

    /// The code an error reply carries for this error.
    pub fn code(&self) -> spindle_protocol::ErrorCode {
        use spindle_protocol::ErrorCode;
        match self {
            DaemonError::PasswordNeeded(_) => ErrorCode::PasswordNeeded,
            DaemonError::Denied(_) => ErrorCode::Denied,
            DaemonError::Invalid(_) => ErrorCode::BadRequest,
            DaemonError::Limit(_) => ErrorCode::Busy,
            DaemonError::TimedOut(_) => ErrorCode::Timeout,
            DaemonError::PrivateDisc(_) => ErrorCode::PrivateDisc,
            DaemonError::MountPoint { .. } => ErrorCode::BadMountPoint,
            DaemonError::DriveLocked { .. } => ErrorCode::DriveLocked,
            _ => ErrorCode::Failed,
        }
    }

    /// The message with every cause, as one line (what an error reply carries).
    pub fn full_message(&self) -> String {
        let mut out = self.to_string();
        let mut src = std::error::Error::source(self);
        while let Some(s) = src {
            let t = s.to_string();
            if !out.contains(&t) {
                out.push_str(": ");
                out.push_str(&t);
            }
            src = s.source();
        }
        out
    }
}

/// The daemon's results.
pub type Result<T, E = DaemonError> = std::result::Result<T, E>;
