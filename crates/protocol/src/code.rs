//! The error codes of failed replies.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a request failed: the `code` of a failed reply (docs/protocol.md lists them).
///
/// On the wire each is a short snake_case string (`"password_needed"`...); a client that
/// meets a code it does not know reads it as [`ErrorCode::Failed`] ([`ErrorCode::from_wire`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, not an object, missing `v`/`cmd`, a field of the wrong type, a bad value.
    BadRequest,
    /// The request line was longer than [`crate::MAX_LINE`].
    TooLong,
    /// `cmd` names no command.
    UnknownCommand,
    /// `v` is not [`crate::VERSION`].
    #[serde(rename = "unsupported_version")]
    UnsupportedVersion,
    /// The image is encrypted and no password was given.
    PasswordNeeded,
    /// The user may not do this (read the image, touch another user's drive...).
    Denied,
    /// Anything else (no such drive, drive busy or empty, unreadable image...).
    Failed,
    /// The client closed its side in the middle of a line.
    Incomplete,
    /// No request in time, or an open that did not return in time.
    Timeout,
    /// Too many connections or opens in flight.
    Busy,
    /// An object in the request has the same key twice.
    DuplicateField,
    /// A field the command does not take.
    UnknownField,
    /// `share` without TLS-PSK of a disc other local users cannot read.
    PrivateDisc,
    /// A mount point refused: a link, not an empty directory of the caller's, a system path.
    #[serde(rename = "bad_mount_point")]
    BadMountPoint,
    /// The system holds the drive locked (PREVENT MEDIUM REMOVAL: a filesystem on its
    /// `/dev/srN` is mounted, or a program holds it): the eject (or swap) is refused and
    /// the drive raises an eject request instead.
    DriveLocked,
}

impl ErrorCode {
    /// Every code, in the order docs/protocol.md lists them.
    pub const ALL: [ErrorCode; 15] = [
        ErrorCode::BadRequest,
        ErrorCode::DuplicateField,
        ErrorCode::UnknownField,
        ErrorCode::TooLong,
        ErrorCode::UnknownCommand,
        ErrorCode::UnsupportedVersion,
        ErrorCode::PasswordNeeded,
        ErrorCode::Denied,
        ErrorCode::PrivateDisc,
        ErrorCode::BadMountPoint,
        ErrorCode::DriveLocked,
        ErrorCode::Failed,
        ErrorCode::Incomplete,
        ErrorCode::Timeout,
        ErrorCode::Busy,
    ];

    /// The code as the wire spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::TooLong => "too_long",
            ErrorCode::UnknownCommand => "unknown_command",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::PasswordNeeded => "password_needed",
            ErrorCode::Denied => "denied",
            ErrorCode::Failed => "failed",
            ErrorCode::Incomplete => "incomplete",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Busy => "busy",
            ErrorCode::DuplicateField => "duplicate_field",
            ErrorCode::UnknownField => "unknown_field",
            ErrorCode::PrivateDisc => "private_disc",
            ErrorCode::BadMountPoint => "bad_mount_point",
            ErrorCode::DriveLocked => "drive_locked",
        }
    }

    /// The code a wire string names; `None` for a code this side does not know.
    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The code a wire string names, [`ErrorCode::Failed`] for one this side does not know
    /// (a newer daemon's).
    pub fn from_wire(s: &str) -> ErrorCode {
        ErrorCode::parse(s).unwrap_or(ErrorCode::Failed)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
