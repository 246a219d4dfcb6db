//! `spindle attach DRIVE [/dev/nbdN]`: puts a drive's disc on a kernel nbd device. The command
//! connects to the daemon's NBD socket, does the NBD handshake for the export `drive<N>`
//! (`drive<N>.raw` with `--raw`) and hands the connected socket to the kernel's nbd driver:
//! through its generic-netlink family when the kernel has it (the kernel then owns the socket
//! and nothing stays running), else through the NBD ioctls with a background process in
//! NBD_DO_IT. The device is read-only. `spindle detach` ends it.

use super::daemon::connect;
use anyhow::{Context, Result, bail};
use spindle_daemon::paths;
use spindle_sys::nbd::{self, NbdError};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    /// Netlink when the kernel has it, else the ioctls.
    Auto,
    /// The nbd generic-netlink family only.
    Netlink,
    /// The NBD ioctls only (a background process stays in NBD_DO_IT).
    Ioctl,
}

#[derive(clap::Args)]
pub struct Args {
    /// The drive whose disc to attach.
    drive: u32,
    /// The nbd device (default: the first free one).
    #[arg(value_name = "/dev/nbdN")]
    device: Option<PathBuf>,
    /// Attach `drive<N>.raw` (2352-byte raw sectors) instead of the user data (2048-byte blocks).
    #[arg(long)]
    raw: bool,
    /// Connections to the daemon (the kernel spreads requests over them).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    connections: u32,
    /// How to hand the connection to the kernel.
    #[arg(long, value_enum, default_value_t = Via::Auto)]
    via: Via,
}

/// The index N of `/dev/nbdN` (also accepts `nbdN`).
fn device_index(dev: &Path) -> Result<u32> {
    match nbd::parse_device(dev) {
        Some(n) => Ok(n),
        None => bail!(
            "{}: not an nbd device (expected /dev/nbdN)",
            dev.to_string_lossy()
        ),
    }
}

/// The error of the kernel side, in the command's words.
fn explain(e: NbdError) -> anyhow::Error {
    match e {
        NbdError::Busy { dev } => {
            anyhow::anyhow!("{dev} is busy: it is already attached (spindle detach {dev})")
        }
        NbdError::OneSocketOnly => anyhow::anyhow!(
            "--connections needs the netlink interface (the ioctls take one socket)"
        ),
        NbdError::InUse { .. } => anyhow::anyhow!("{e}; unmount it first (or detach --force)"),
        e => e.into(),
    }
}

/// The identifier shown in /sys/block/nbdN/backend: which socket and export the device reads.
fn backend_id(socket: &Path, export: &str) -> String {
    format!("spindle:{}:{export}", socket.display())
}

pub fn run(a: Args) -> Result<ExitCode> {
    let export = if a.raw {
        format!("drive{}.raw", a.drive)
    } else {
        format!("drive{}", a.drive)
    };
    // The drive must exist and hold a disc.
    let drives = connect()?
        .drives()
        .context("the daemon's drive list")?
        .drives;
    match drives.iter().find(|d| d.drive == a.drive) {
        None => bail!(
            "there is no drive {} (the daemon has {} drives: spindle drives --count N)",
            a.drive,
            drives.len()
        ),
        Some(d) if d.image.is_none() => bail!(
            "drive {} is empty: load a disc first (spindle load {} IMAGE)",
            a.drive,
            a.drive
        ),
        Some(_) => {}
    }
    let index = a.device.as_deref().map(device_index).transpose()?;
    let socket_path = paths::nbd_socket_path();
    let mut sockets = Vec::new();
    let mut info = None;
    for _ in 0..a.connections {
        let (s, e) = match spindle_nbd::client::connect_unix(&socket_path, &export) {
            Ok(x) => x,
            // The drive holds a disc (checked above), so an unknown export is a missing track.
            Err(spindle_nbd::client::ClientError::Refused { reply, .. })
                if reply == spindle_nbd::proto::REP_ERR_UNKNOWN =>
            {
                bail!(if a.raw {
                    format!(
                        "drive {}: its disc is not a CD, so it has no raw export {export}",
                        a.drive
                    )
                } else {
                    format!(
                        "drive {}: its disc has no data track, so there is no export {export} (an audio CD? attach its raw sectors with --raw)",
                        a.drive
                    )
                })
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("NBD export {export} on {}", socket_path.display()));
            }
        };
        if info.is_none() {
            info = Some(e);
        }
        sockets.push(s);
    }
    let info = info.expect("at least one connection");
    if a.connections > 1 && !info.can_multi_conn() {
        bail!(
            "export {export} does not allow several connections (no multi-conn flag): use --connections 1"
        );
    }
    if info.size == 0 {
        bail!(
            "drive {} holds no data track to attach (export {export} is empty)",
            a.drive
        );
    }
    let bs = nbd::block_size(info.preferred_block, info.min_block);
    let fds: Vec<_> = sockets.iter().map(|s| s.as_fd()).collect();
    let backend = backend_id(&socket_path, &export);
    let request = nbd::Attach {
        index,
        size: info.size,
        block_size: bs,
        flags: u64::from(info.flags),
        sockets: &fds,
        backend: &backend,
        read_only: true,
        via: match a.via {
            Via::Auto => nbd::Via::Auto,
            Via::Netlink => nbd::Via::Netlink,
            Via::Ioctl => nbd::Via::Ioctl,
        },
    };
    let attached = nbd::attach(&request, |e| {
        eprintln!("spindle: the kernel refused NBD_CMD_CONNECT ({e}); trying the NBD ioctls")
    })
    .map_err(explain)?;
    drop(fds);
    drop(sockets);
    let how = match attached.via {
        nbd::Via::Netlink => "netlink",
        _ => "ioctl",
    };
    let dev = nbd::device_path(attached.index);
    println!("{}", dev.display());
    eprintln!(
        "drive {} (export {export}, {} bytes, {bs}-byte blocks) attached to {} read-only ({how})",
        a.drive,
        info.size,
        dev.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub mod detach {
    use super::{device_index, explain};
    use anyhow::{Context, Result, bail};
    use spindle_daemon::paths;
    use spindle_sys::nbd;
    use std::process::ExitCode;

    #[derive(clap::Args)]
    pub struct Args {
        /// The nbd device (`/dev/nbdN`), or a drive number: every device attached to that drive.
        #[arg(value_name = "/dev/nbdN|DRIVE")]
        target: String,
        /// Detach even when the device (or a partition of it) is mounted or held.
        #[arg(long)]
        force: bool,
    }

    /// The devices attached to drive `n` (their backend names our socket and its exports).
    fn devices_of_drive(n: u32) -> Vec<u32> {
        let socket = paths::nbd_socket_path();
        let names = [
            super::backend_id(&socket, &format!("drive{n}")),
            super::backend_id(&socket, &format!("drive{n}.raw")),
        ];
        nbd::devices()
            .unwrap_or_default()
            .into_iter()
            .filter(|&i| nbd::backend(i).is_some_and(|b| names.contains(&b)))
            .collect()
    }

    fn detach_one(index: u32, force: bool) -> Result<()> {
        nbd::detach(index, !force).map_err(explain)?;
        eprintln!("{} detached", nbd::device_path(index).display());
        Ok(())
    }

    pub fn run(a: Args) -> Result<ExitCode> {
        if let Ok(drive) = a.target.parse::<u32>() {
            let found = devices_of_drive(drive);
            if found.is_empty() {
                bail!(
                    "drive {drive} is not attached to an nbd device (detach a device attached with the ioctls by its /dev/nbdN)"
                );
            }
            for i in found {
                detach_one(i, a.force).with_context(|| format!("detaching drive {drive}"))?;
            }
        } else {
            detach_one(device_index(std::path::Path::new(&a.target))?, a.force)?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse() {
        assert_eq!(device_index(Path::new("/dev/nbd0")).unwrap(), 0);
        assert_eq!(device_index(Path::new("nbd12")).unwrap(), 12);
        assert!(device_index(Path::new("/dev/sda")).is_err());
        assert!(device_index(Path::new("/dev/nbd1p1")).is_err());
    }
}
