//! `spindle mount IMAGE [--drive N] [--at DIR]`: load an image into a drive and mount its
//! file tree (default: a folder named after the volume label under the runtime media dir).

use super::daemon::{absolute, connect};
use anyhow::{Result, anyhow};
use clap::Parser;
use spindle_daemon::protocol::{ErrorCode, MountArgs};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
pub struct Args {
    /// The image (any format spindle reads).
    image: PathBuf,
    /// The drive to use (default: the first empty one).
    #[arg(long, value_name = "N")]
    drive: Option<u32>,
    /// Where to mount the files: an existing empty directory you own, not a symbolic link
    /// (nor under /proc, /sys or /dev).
    #[arg(long, value_name = "DIR")]
    at: Option<PathBuf>,
    /// Let other users into the mount (FUSE allow_other).
    #[arg(long)]
    allow_other: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let image = absolute(&a.image)?;
    let at = a.at.as_deref().map(mount_point).transpose()?;
    let mut c = connect()?;
    let mut password = super::password();
    let reply = loop {
        let req = MountArgs {
            image: image.clone(),
            drive: a.drive,
            at: at.clone(),
            password: password.clone(),
            allow_other: a.allow_other,
        };
        match c.mount(req) {
            Err(e)
                if e.code() == Some(ErrorCode::PasswordNeeded)
                    && password.is_none()
                    && std::io::stdin().is_terminal() =>
            {
                password = Some(rpassword::prompt_password(format!(
                    "password for {}: ",
                    image.display()
                ))?);
            }
            // A refused mount point: the daemon's code with its message.
            Err(e) if e.code() == Some(ErrorCode::BadMountPoint) => {
                return Err(anyhow!("{e} [{}]", ErrorCode::BadMountPoint));
            }
            r => break r?,
        }
    };
    let drive = reply.drive;
    match &reply.mountpoint {
        Some(m) => println!("{}", m.display()),
        None => {
            let raw = reply
                .raw
                .as_ref()
                .map(|r| r.display().to_string())
                .unwrap_or_default();
            // Say what the data looks like when it holds no known filesystem (a FAT floppy
            // or zeros opened as an ISO): only the raw views are mounted.
            let what = spindle_image::open_with(&image, password.clone())
                .ok()
                .and_then(|d| spindle_image::unrecognised_content(&std::sync::Arc::new(d)));
            match what {
                Some(w) => eprintln!(
                    "drive {drive}: loaded; the image holds {w}; only the raw views are mounted: {raw}"
                ),
                None => {
                    eprintln!("drive {drive}: loaded; no file tree on this disc (raw views: {raw})")
                }
            }
        }
    }
    if let Some(label) = &reply.label {
        let medium = if reply.medium.is_empty() {
            "disc"
        } else {
            &reply.medium
        };
        eprintln!("drive {drive}: {label} ({medium})");
    }
    Ok(ExitCode::SUCCESS)
}

/// The mount point as an absolute path whose last component is not resolved: the daemon
/// refuses a symbolic link there rather than following it (the parents are resolved here,
/// with the user's own rights).
fn mount_point(p: &Path) -> Result<PathBuf> {
    match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            Ok(absolute(parent)?.join(name))
        }
        _ => absolute(p),
    }
}
