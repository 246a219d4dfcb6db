//! The saved drives: which image is in which drive, for whom, mounted where. Written after
//! every change (a temporary file in the same directory, fsync, rename: a crash leaves the
//! old file or the new one, never half of one) and read at start. Passwords are never
//! stored: an encrypted image's drive is restored empty.

use crate::creds::User;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Everything saved: the drive count, the loaded drives, the shares.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedState {
    /// The format's version (1).
    pub version: u32,
    /// How many drives there are.
    pub count: u32,
    /// The loaded drives.
    pub drives: Vec<SavedDrive>,
    /// `spindle share`s, started again at restore.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<SavedShare>,
    /// Drives that answer INQUIRY with an identity of their own (`spindle drives
    /// --identity`); the others have the default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<SavedIdentity>,
    /// The disc last used of each set, per user (`spindle mount set.m3u` starts there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_discs: Vec<LastDisc>,
}

/// A drive's INQUIRY identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedIdentity {
    /// The drive number.
    pub drive: u32,
    /// Vendor, product, revision (its fields sit flat in the saved object).
    #[serde(flatten)]
    pub identity: crate::protocol::DriveIdentity,
}

/// A share: which drive, on which address (the one bound, so a port 0 share keeps its
/// port), with which TLS files, for whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedShare {
    /// What the `share` request asked (its fields sit flat in the saved object).
    #[serde(flatten)]
    pub share: crate::protocol::ShareArgs,
    /// Who shared it (its TLS files are read with their rights).
    pub owner: User,
}

/// A loaded drive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedDrive {
    /// The drive number.
    pub drive: u32,
    /// The image in it.
    pub image: PathBuf,
    /// Opened with a password (not stored): restored empty.
    #[serde(default)]
    pub encrypted: bool,
    /// Who loaded it (it is opened again with their rights).
    pub owner: User,
    /// Where its tree was mounted.
    #[serde(default)]
    pub mounts: Vec<SavedMount>,
    /// The set it holds (a playlist loaded), with the disc in the drive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<SavedSet>,
}

/// A drive's set: the playlist and which of its discs is in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSet {
    /// The playlist (canonical).
    pub playlist: PathBuf,
    /// The disc (from 0).
    pub disc: usize,
}

/// The disc last used of a set, for one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastDisc {
    /// The playlist (canonical).
    pub playlist: PathBuf,
    /// Whose.
    pub uid: u32,
    /// The disc (from 0).
    pub disc: usize,
}

/// A tree mount of a loaded drive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedMount {
    /// The mount point.
    pub path: PathBuf,
    /// Made by the daemon (made again at restore when missing).
    #[serde(default)]
    pub created: bool,
    /// Other users were let in (FUSE `allow_other`).
    #[serde(default)]
    pub allow_other: bool,
}

impl SavedState {
    /// Reads a saved state; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> std::io::Result<Option<SavedState>> {
        match std::fs::read(path) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes atomically: temporary file, fsync, rename.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".drives.json.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        let r = write();
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sub/drives.json");
        assert_eq!(SavedState::load(&f).unwrap(), None);
        let s = SavedState {
            version: 1,
            count: 8,
            shares: Vec::new(),
            last_discs: vec![LastDisc {
                playlist: "/g/set.m3u".into(),
                uid: 1,
                disc: 2,
            }],
            identities: vec![SavedIdentity {
                drive: 2,
                identity: crate::protocol::DriveIdentity {
                    vendor: "PLEXTOR".into(),
                    product: "DVDR   PX-716A".into(),
                    revision: "1.11".into(),
                },
            }],
            drives: vec![SavedDrive {
                drive: 3,
                image: "/a/b.iso".into(),
                encrypted: false,
                owner: User {
                    uid: 1,
                    gid: 2,
                    groups: vec![2, 3],
                },
                mounts: vec![SavedMount {
                    path: "/m/B".into(),
                    created: true,
                    allow_other: false,
                }],
                set: Some(SavedSet {
                    playlist: "/g/set.m3u".into(),
                    disc: 2,
                }),
            }],
        };
        s.save(&f).unwrap();
        assert_eq!(SavedState::load(&f).unwrap(), Some(s));
        assert_eq!(
            std::fs::read_dir(f.parent().unwrap()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
