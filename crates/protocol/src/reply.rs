//! Replies: one struct per command, and [`Reply`], the successful reply to any request.

use crate::Request;
use crate::code::ErrorCode;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `ping`: who answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingReply {
    /// The daemon's package version.
    pub version: String,
    /// The protocol version it speaks ([`crate::VERSION`]).
    pub protocol: u64,
    /// Its process id.
    pub pid: u32,
}

/// `mount`: where the disc went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountReply {
    /// The drive it went into.
    pub drive: u32,
    /// Where its tree is mounted (`None`: the disc has no file tree, e.g. an audio CD).
    pub mountpoint: Option<PathBuf>,
    /// The volume label.
    pub label: Option<String>,
    /// The image format's id (`iso`, `mds`...).
    pub format: String,
    /// The medium (`CD-ROM`, `DVD-ROM`...).
    pub medium: String,
    /// The drive's directory in the raw views mount (`None`: that mount failed).
    pub raw: Option<PathBuf>,
}

/// `load`: the drive with its new disc.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadReply {
    /// The drive.
    pub drive: u32,
    /// Its mount points (unchanged: they show the new disc).
    pub mountpoints: Vec<PathBuf>,
    /// The new disc's volume label.
    pub label: Option<String>,
    /// The drive's directory in the raw views mount (`None`: that mount failed).
    pub raw: Option<PathBuf>,
}

/// `eject`: the drives ejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EjectReply {
    /// Their numbers.
    pub ejected: Vec<u32>,
    /// Drives of an `eject --all` the system holds locked (a filesystem on their `/dev/srN`
    /// is mounted, or a program holds it): each was asked to eject (an eject request event)
    /// and keeps its disc. Absent when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locked: Vec<u32>,
}

/// `drives`: every drive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrivesReply {
    /// How many drives there are.
    pub count: u32,
    /// Where the raw views are mounted (`None`: that mount failed).
    pub raw: Option<PathBuf>,
    /// The daemon's NBD socket (`None`: it could not be bound).
    pub nbd: Option<PathBuf>,
    /// One entry per drive.
    pub drives: Vec<DriveReport>,
    /// Whether the drives are SCSI drives of the system (`/dev/srN`), and if not, why.
    #[serde(default)]
    pub scsi: ScsiStatus,
}

/// Whether the daemon's drives are real SCSI drives (`/dev/srN`, through the kernel's
/// TCMU), and if not, why not and what to do about it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScsiStatus {
    /// Every drive is a `/dev/srN` (false: the drives are FUSE and NBD only).
    pub available: bool,
    /// Why there is no `/dev/srN` (`None` when available).
    pub reason: Option<String>,
    /// What to install or enable to get them (`None` when available or nothing helps).
    pub hint: Option<String>,
}

/// What a drive says it is in its INQUIRY data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveIdentity {
    /// Vendor identification (up to 8 ASCII characters).
    pub vendor: String,
    /// Product identification (up to 16 ASCII characters).
    pub product: String,
    /// Product revision level (up to 4 ASCII characters).
    pub revision: String,
}

/// One drive as `drives` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveReport {
    /// The drive number.
    pub drive: u32,
    /// The image in it (`None`: empty).
    pub image: Option<PathBuf>,
    /// The image format's id.
    pub format: Option<String>,
    /// The medium.
    pub medium: Option<String>,
    /// The volume label.
    pub label: Option<String>,
    /// Where its tree is mounted.
    pub mountpoints: Vec<PathBuf>,
    /// Opened with a password (which is never stored).
    pub encrypted: bool,
    /// Who loaded it.
    pub uid: Option<u32>,
    /// NBD URIs of the drive's exports (the daemon's socket, then any `share`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nbd: Vec<String>,
    /// The drive's SCSI CD/DVD/BD device (`/dev/srN`; `None`: no SCSI drive, see
    /// [`DrivesReply::scsi`]).
    #[serde(default)]
    pub device: Option<PathBuf>,
    /// Its SCSI generic node (`/dev/sgN`; `None` when there is none).
    #[serde(default)]
    pub sg: Option<PathBuf>,
    /// The system prevents medium removal (a filesystem on the device is mounted, or a
    /// program holds it): `eject` is refused and raises an eject request instead.
    #[serde(default)]
    pub locked: bool,
    /// What the drive answers to INQUIRY (`None` from a daemon older than this field).
    #[serde(default)]
    pub identity: Option<DriveIdentity>,
    /// The disc set the drive holds (a playlist loaded), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<SetReport>,
}

/// A drive's disc set: which disc of how many.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetReport {
    /// The playlist (canonical).
    pub playlist: PathBuf,
    /// The disc in the drive (from 1).
    pub disc: u32,
    /// How many discs the set has.
    pub count: u32,
    /// The disc's label (the playlist's, or its file name).
    pub label: String,
    /// The disc going in while the tray is open (from 1): the drive is empty meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changing: Option<u32>,
}

/// To [`crate::Request::Disc`]: the disc now in the drive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscReply {
    /// The drive.
    pub drive: u32,
    /// The set, with the new disc.
    pub set: SetReport,
    /// Where its tree is mounted.
    pub mountpoints: Vec<PathBuf>,
}

impl DriveReport {
    /// An empty drive.
    pub fn empty(drive: u32) -> DriveReport {
        DriveReport {
            drive,
            image: None,
            format: None,
            medium: None,
            label: None,
            mountpoints: Vec::new(),
            encrypted: false,
            uid: None,
            nbd: Vec::new(),
            device: None,
            sg: None,
            locked: false,
            identity: None,
            set: None,
        }
    }
}

/// `count`: the drive count now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountReply {
    /// How many drives there are.
    pub count: u32,
}

/// `share`: where the drive is served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareReply {
    /// The drive.
    pub drive: u32,
    /// The address bound (`HOST:PORT`; a port 0 request gets the port picked).
    pub address: String,
    /// Whether clients must speak TLS.
    pub tls: bool,
    /// `nbd://` or `nbds://` URIs of `drive<N>` and `drive<N>.raw`.
    pub uris: Vec<String>,
}

/// `unshare`: the drive no longer shared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnshareReply {
    /// The drive.
    pub drive: u32,
}

/// `identity`: the drive's INQUIRY identity now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityReply {
    /// The drive.
    pub drive: u32,
    /// What it answers to INQUIRY from now on.
    pub identity: DriveIdentity,
}

/// `shutdown`: no fields (`{}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownReply {}

/// A failed reply's fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// Why.
    pub code: ErrorCode,
    /// What went wrong, naming the file or drive and the cause.
    pub error: String,
}

/// The successful reply to a request: one variant per command. On the wire it carries no
/// tag (the reply answers a known request); [`Reply::decode`] reads it for its request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Reply {
    /// To [`Request::Ping`].
    Ping(PingReply),
    /// To [`Request::Mount`].
    Mount(MountReply),
    /// To [`Request::Load`].
    Load(LoadReply),
    /// To [`Request::Eject`].
    Eject(EjectReply),
    /// To [`Request::Drives`].
    Drives(DrivesReply),
    /// To [`Request::Count`].
    Count(CountReply),
    /// To [`Request::Share`].
    Share(ShareReply),
    /// To [`Request::Unshare`].
    Unshare(UnshareReply),
    /// To [`Request::Shutdown`].
    Shutdown(ShutdownReply),
    /// To [`Request::Identity`].
    Identity(IdentityReply),
    /// To [`Request::Disc`].
    Disc(DiscReply),
}

impl Reply {
    /// Reads the fields of a successful reply (without `v`, `id`, `ok`) as the reply to
    /// `request`. Fields this side does not know are ignored (a newer daemon may add some).
    pub fn decode(request: &Request, fields: serde_json::Value) -> serde_json::Result<Reply> {
        use serde_json::from_value as f;
        Ok(match request {
            Request::Ping => Reply::Ping(f(fields)?),
            Request::Mount(_) => Reply::Mount(f(fields)?),
            Request::Load(_) => Reply::Load(f(fields)?),
            Request::Eject(_) => Reply::Eject(f(fields)?),
            Request::Drives => Reply::Drives(f(fields)?),
            Request::Count { .. } => Reply::Count(f(fields)?),
            Request::Share(_) => Reply::Share(f(fields)?),
            Request::Unshare { .. } => Reply::Unshare(f(fields)?),
            Request::Identity(_) => Reply::Identity(f(fields)?),
            Request::Disc(_) => Reply::Disc(f(fields)?),
            // `{}` from this daemon; a newer one's extra fields are ignored too.
            Request::Shutdown => Reply::Shutdown(ShutdownReply {}),
        })
    }
}
