//! # spindle-protocol: the daemon's control protocol
//!
//! The `spindle` CLI and the drive daemon exchange one JSON object per line each way over a
//! Unix stream socket (docs/protocol.md is the reference). This crate holds both sides'
//! types, serde-derived both ways:
//!
//! - [`Request`]: one variant per command with its typed arguments (`cmd` is the tag);
//! - one reply struct per command ([`MountReply`], [`DrivesReply`]...) and [`Reply`], the
//!   successful reply to any request;
//! - [`ErrorCode`]: why a request failed, spelt on the wire as today's short strings;
//! - [`decode_request`]: the daemon's strict reading of a request line (a key given twice,
//!   an unknown field, a wrong type: refused with their codes);
//! - [`request_value`], [`ok_value`], [`error_value`], [`decode_reply`]: the lines.
//!
//! It depends on no other spindle crate: the wire format is plain data.

mod code;
mod decode;
mod reply;
mod request;
mod strict_json;
mod wire;

pub use code::ErrorCode;
pub use decode::{COMMON, Rejected, decode_request, fields_of};
pub use reply::{
    CountReply, DiscReply, DriveIdentity, DriveReport, DrivesReply, EjectReply, ErrorReply,
    IdentityReply, LoadReply, MountReply, PingReply, Reply, ScsiStatus, SetReport, ShareReply,
    ShutdownReply, UnshareReply,
};
pub use request::{DiscArgs, EjectTarget, IdentityArgs, LoadArgs, MountArgs, Request, ShareArgs};
pub use wire::{ReplyLine, decode_reply, error_value, ok_value, request_value};

/// The protocol version this side speaks (`v` of every line).
pub const VERSION: u64 = 1;
/// The longest request line a daemon accepts (without its newline).
pub const MAX_LINE: usize = 1 << 20;
