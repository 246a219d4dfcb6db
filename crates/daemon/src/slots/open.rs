//! Opening an image for a user, before any lock is taken (it may be slow: MDX key
//! derivation, CHD maps), and the directory name its label gives.

use crate::creds::{self, User};
use crate::{DaemonError, Result};
use spindle_disc::Disc;
use spindle_fs::FileSystem;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An image opened for a user, ready to go into a drive.
#[derive(Clone)]
pub struct Opened {
    pub(super) image: PathBuf,
    pub(super) disc: Arc<Disc>,
    pub(super) fs: Option<Arc<dyn FileSystem>>,
    pub(super) label: Option<String>,
    pub(super) encrypted: bool,
}

/// Opens `image` (absolute) with `user`'s rights, and its file tree if it has one.
pub fn open_image(user: &User, image: &Path, password: Option<String>) -> Result<Opened> {
    if !image.is_absolute() {
        return Err(DaemonError::Invalid(format!(
            "{}: image paths must be absolute",
            image.display()
        )));
    }
    let p = image.to_path_buf();
    let uid = user.uid;
    let encrypted = password.is_some();
    let opened = creds::as_user(user, move || -> Result<Opened> {
        let disc = match spindle_image::open_with(&p, password) {
            Ok(d) => Arc::new(d),
            Err(e) if e.needs_password() => return Err(DaemonError::PasswordNeeded(p)),
            Err(spindle_image::ImageError::Io { path, source })
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                return Err(DaemonError::Denied(format!(
                    "{}: permission denied: user {uid} cannot read this image",
                    path.display()
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let fs = spindle_image::filesystem(&disc, None).ok();
        let label = fs
            .as_ref()
            .map(|f| f.label())
            .filter(|l| !l.trim().is_empty())
            .or_else(|| spindle_image::iso_volume_label(&disc));
        Ok(Opened {
            image: p,
            disc,
            fs,
            label,
            encrypted,
        })
    })
    .map_err(|e| DaemonError::io(format!("{}: opening", image.display()), e))??;
    Ok(opened)
}

/// A directory name from a volume label: no slashes or control characters, never empty.
pub fn folder_name(label: Option<&str>) -> String {
    let s: String = label
        .unwrap_or("")
        .trim()
        .chars()
        .map(|c| if c == '/' || c.is_control() { '_' } else { c })
        .collect();
    match s.as_str() {
        "" | "." | ".." => "disc".into(),
        _ => s,
    }
}
