//! Requests: one variant per command, with its typed arguments.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A request, without its envelope (`v`, `id`): `cmd` names the variant, and the variant's
/// fields sit beside it in the same object (`{"cmd":"load","drive":0,"image":"/a.iso",...}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Is a daemon there, and which version (`version` is an alias).
    #[serde(alias = "version")]
    Ping,
    /// Load an image into a drive and mount its file tree.
    Mount(MountArgs),
    /// Swap the disc of a drive.
    Load(LoadArgs),
    /// Eject one drive, the drive of a path, or every drive of the user.
    Eject(EjectTarget),
    /// Every drive.
    Drives,
    /// Set the number of drives.
    Count {
        /// The new count (1 to 256).
        n: u32,
    },
    /// Serve one drive's NBD exports over TCP.
    Share(ShareArgs),
    /// Stop serving a drive over TCP.
    Unshare {
        /// The shared drive.
        drive: u32,
    },
    /// Stop the daemon.
    Shutdown,
    /// Set what a drive answers to INQUIRY (vendor, product, revision).
    Identity(IdentityArgs),
    /// Change the disc of a drive holding a set: tray open, empty a while, the disc in.
    Disc(DiscArgs),
}

impl Request {
    /// The command's name on the wire (`cmd`).
    pub fn name(&self) -> &'static str {
        match self {
            Request::Ping => "ping",
            Request::Mount(_) => "mount",
            Request::Load(_) => "load",
            Request::Eject(_) => "eject",
            Request::Drives => "drives",
            Request::Count { .. } => "count",
            Request::Share(_) => "share",
            Request::Unshare { .. } => "unshare",
            Request::Shutdown => "shutdown",
            Request::Identity(_) => "identity",
            Request::Disc(_) => "disc",
        }
    }
}

/// `mount`: an image into a drive, its tree mounted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountArgs {
    /// The image (absolute).
    pub image: PathBuf,
    /// The drive to use (`None`: the first free one).
    #[serde(default)]
    pub drive: Option<u32>,
    /// Where to mount the tree (`None`: `<runtime>/media/<LABEL>`).
    #[serde(default)]
    pub at: Option<PathBuf>,
    /// The password of an encrypted image.
    #[serde(default)]
    pub password: Option<String>,
    /// Let other users into the mount (FUSE `allow_other`).
    #[serde(default)]
    pub allow_other: bool,
}

/// `disc`: which disc of its set a drive should hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscArgs {
    /// The drive.
    pub drive: u32,
    /// `next`, `prev`, a disc number from 1, or a disc's label.
    pub which: String,
    /// How long the drive stays empty, in milliseconds (`None`: 2000; at most 60000).
    #[serde(default)]
    pub empty_for_ms: Option<u64>,
}

/// `load`: swap the disc of a drive (its mount points show the new one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadArgs {
    /// The drive.
    pub drive: u32,
    /// The image (absolute).
    pub image: PathBuf,
    /// The password of an encrypted image.
    #[serde(default)]
    pub password: Option<String>,
}

/// What `eject` names: on the wire exactly one of `drive`, `path`, `all` (true).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EjectFields", into = "EjectFields")]
pub enum EjectTarget {
    /// Every drive of the user (root and the daemon's user: every drive).
    All,
    /// One drive.
    Drive(u32),
    /// A mount point or an image path.
    Path(PathBuf),
}

/// The wire form of [`EjectTarget`].
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EjectFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    drive: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "is_false")]
    all: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl TryFrom<EjectFields> for EjectTarget {
    type Error = &'static str;
    fn try_from(f: EjectFields) -> Result<EjectTarget, &'static str> {
        match (f.drive, f.path, f.all) {
            (Some(d), None, false) => Ok(EjectTarget::Drive(d)),
            (None, Some(p), false) => Ok(EjectTarget::Path(p)),
            (None, None, true) => Ok(EjectTarget::All),
            _ => Err("give exactly one of \"drive\", \"path\", \"all\""),
        }
    }
}

impl From<EjectTarget> for EjectFields {
    fn from(t: EjectTarget) -> EjectFields {
        match t {
            EjectTarget::All => EjectFields {
                all: true,
                ..EjectFields::default()
            },
            EjectTarget::Drive(d) => EjectFields {
                drive: Some(d),
                ..EjectFields::default()
            },
            EjectTarget::Path(p) => EjectFields {
                path: Some(p),
                ..EjectFields::default()
            },
        }
    }
}

/// `share`: serve one drive's exports over TCP.
///
/// No `deny_unknown_fields`: the daemon's saved state flattens it beside other fields; the
/// request decoder ([`crate::decode_request`]) checks the fields itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareArgs {
    /// The drive.
    pub drive: u32,
    /// `HOST:PORT` to listen on.
    pub listen: String,
    /// X.509: the certificate chain (a PEM file the user can read).
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// X.509: the certificate's private key (a PEM file the user can read).
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// A pre-shared key file (`identity:hexkey` lines, as `psktool` writes them).
    #[serde(default)]
    pub tls_psk: Option<PathBuf>,
    /// Serve without TLS even a disc other local users cannot read (loopback only).
    #[serde(default)]
    pub public: bool,
}

impl ShareArgs {
    /// Refuses contradictory TLS options: a certificate without its key (or the other way
    /// round), or a certificate and a PSK file together.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("give both \"tls_cert\" and \"tls_key\"");
        }
        if self.tls_cert.is_some() && self.tls_psk.is_some() {
            return Err("give a certificate or a PSK file, not both");
        }
        Ok(())
    }
}

/// `identity`: what a drive answers to INQUIRY (saved with the drives).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityArgs {
    /// The drive.
    pub drive: u32,
    /// Vendor identification: 1 to 8 printable ASCII characters.
    pub vendor: String,
    /// Product identification: 1 to 16 printable ASCII characters.
    pub product: String,
    /// Product revision level: 1 to 4 printable ASCII characters.
    pub revision: String,
}

impl IdentityArgs {
    /// Refuses fields INQUIRY data cannot carry: empty, too long, or not printable ASCII
    /// (the standard's fields are ASCII padded with spaces).
    pub fn check(&self) -> Result<(), String> {
        for (name, value, max) in [
            ("vendor", &self.vendor, 8),
            ("product", &self.product, 16),
            ("revision", &self.revision, 4),
        ] {
            if value.is_empty() || value.len() > max {
                return Err(format!(
                    "\"{name}\" must be 1 to {max} characters, not {}",
                    value.chars().count()
                ));
            }
            if let Some(c) = value.chars().find(|c| !(' '..='~').contains(c)) {
                return Err(format!(
                    "\"{name}\" must be printable ASCII (INQUIRY data), not {c:?}"
                ));
            }
        }
        Ok(())
    }
}
