//! `spindle attach DRIVE [/dev/nbdN]`: puts a drive's disc on a kernel nbd device. The command
//! connects to the daemon's NBD socket, does the NBD handshake for the export `drive<N>`
//! (`drive<N>.raw` with `--raw`) and hands the connected socket to the kernel's nbd driver:
//! through its generic-netlink family when the kernel has it (the kernel then owns the socket
//! and nothing stays running), else through the NBD ioctls with a background process in
//! NBD_DO_IT. The device is read-only. `spindle detach` ends it.

mod ioctl;
mod netlink;

use super::daemon::connect;
use anyhow::{Context, Result, bail};
use spindle_daemon::paths;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// NBD transmission flags (the NBD protocol document).
const NBD_FLAG_HAS_FLAGS: u64 = 1 << 0;
const NBD_FLAG_READ_ONLY: u64 = 1 << 1;
/// BLKROSET (linux/fs.h): `_IO(0x12, 93)`.
const BLKROSET: u64 = 0x125d;

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
    let name = dev.to_string_lossy();
    let digits = name
        .strip_prefix("/dev/nbd")
        .or_else(|| name.strip_prefix("nbd"));
    match digits.and_then(|d| d.parse::<u32>().ok()) {
        Some(n) => Ok(n),
        None => bail!("{name}: not an nbd device (expected /dev/nbdN)"),
    }
}

fn sys(index: u32) -> PathBuf {
    PathBuf::from(format!("/sys/block/nbd{index}"))
}

/// A device is in use when the kernel shows a serving pid for it (both interfaces make one).
fn is_attached(index: u32) -> bool {
    sys(index).join("pid").exists()
}

/// The indices N of every /dev/nbdN the kernel has, in order.
fn nbd_devices() -> std::io::Result<Vec<u32>> {
    let mut found: Vec<u32> = std::fs::read_dir("/sys/block")?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("nbd"))
                .and_then(|d| d.parse().ok())
        })
        .collect();
    found.sort_unstable();
    Ok(found)
}

/// The first nbd device that exists and is not attached (for the ioctl interface, which cannot
/// ask the kernel to pick one).
fn first_free() -> Result<u32> {
    match nbd_devices()
        .context("/sys/block")?
        .into_iter()
        .find(|&i| !is_attached(i))
    {
        Some(i) => Ok(i),
        None => bail!(
            "every /dev/nbdN is attached (load the nbd module with more devices: modprobe nbd nbds_max=N)"
        ),
    }
}

/// The kernel block size for an export: its preferred size when the kernel can use it
/// (a power of two from 512 to 4096), else 512 (the raw export's 2352 is not one).
fn block_size(preferred: u32, min: u32) -> u64 {
    let ok = |b: u32| b.is_power_of_two() && (512..=4096).contains(&b);
    if ok(preferred) {
        preferred as u64
    } else if ok(min) {
        min as u64
    } else {
        512
    }
}

fn no_driver() -> anyhow::Error {
    anyhow::anyhow!(
        "the kernel has no nbd driver: load it with `modprobe nbd` (the nbd module; not every kernel or container has it)"
    )
}

/// Opens the netlink family, trying `modprobe nbd` once when it is missing.
fn open_netlink() -> Result<Option<netlink::Nbd>> {
    if let Some(n) = netlink::Nbd::open().context("opening a generic-netlink socket")? {
        return Ok(Some(n));
    }
    if !Path::new("/sys/module/nbd").exists() {
        let _ = std::process::Command::new("modprobe")
            .arg("nbd")
            .stderr(std::process::Stdio::null())
            .status();
    }
    netlink::Nbd::open().context("opening a generic-netlink socket")
}

/// Explains a kernel error for device `dev`.
fn kernel_error(e: std::io::Error, dev: &str, what: &str) -> anyhow::Error {
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => {
            anyhow::anyhow!("{dev}: {what} needs root (CAP_SYS_ADMIN): {e}")
        }
        Some(libc::EBUSY) => {
            anyhow::anyhow!("{dev} is busy: it is already attached (spindle detach {dev})")
        }
        Some(libc::ENOENT) | Some(libc::ENXIO) | Some(libc::ENODEV) => {
            anyhow::anyhow!("{dev}: no such nbd device: {e}")
        }
        _ => anyhow::anyhow!("{dev}: {what}: {e}"),
    }
}

fn set_read_only(dev: &Path) -> Result<()> {
    let f = std::fs::File::open(dev).with_context(|| format!("opening {}", dev.display()))?;
    let one: libc::c_int = 1;
    // SAFETY: BLKROSET reads one int through the pointer, which stays valid for the call.
    if unsafe { libc::ioctl(f.as_raw_fd(), BLKROSET as _, &one as *const libc::c_int) } < 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("{}: BLKROSET", dev.display()));
    }
    Ok(())
}

fn wait_for(what: impl Fn() -> bool, limit: Duration) -> bool {
    let start = Instant::now();
    while !what() {
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// The identifier shown in /sys/block/nbdN/backend: which socket and export the device reads.
fn backend_id(socket: &Path, export: &str) -> String {
    format!("spindle:{}:{export}", socket.display())
}

/// Attaches `socket` to `/dev/nbd<index>` (or the first free device) with the ioctls.
fn attach_ioctl(index: Option<u32>, socket: i32, size: u64, bs: u64, flags: u64) -> Result<u32> {
    let i = match index {
        Some(i) => i,
        None => first_free().map_err(|e| {
            if Path::new("/sys/module/nbd").exists() {
                e
            } else {
                no_driver()
            }
        })?,
    };
    let dev = PathBuf::from(format!("/dev/nbd{i}"));
    if !dev.exists() {
        return Err(if Path::new("/sys/module/nbd").exists() {
            anyhow::anyhow!("{}: no such nbd device", dev.display())
        } else {
            no_driver()
        });
    }
    if is_attached(i) {
        bail!(
            "{} is busy: it is already attached (spindle detach {})",
            dev.display(),
            dev.display()
        );
    }
    ioctl::connect(&dev, socket, size, bs, flags)
        .map_err(|e| kernel_error(e, &dev.display().to_string(), "NBD ioctls"))?;
    if !wait_for(|| is_attached(i), Duration::from_secs(10)) {
        bail!(
            "{}: the kernel did not start the device (NBD_DO_IT) within 10 s",
            dev.display()
        );
    }
    Ok(i)
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
    let bs = block_size(info.preferred_block, info.min_block);
    let flags = info.flags as u64 | NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY;
    let fds: Vec<i32> = sockets.iter().map(|s| s.as_raw_fd()).collect();
    let shown = |i: Option<u32>| i.map_or("an nbd device".to_string(), |i| format!("/dev/nbd{i}"));

    let netlink = match a.via {
        Via::Ioctl => None,
        Via::Netlink => Some(open_netlink()?.ok_or_else(no_driver)?),
        Via::Auto => open_netlink()?,
    };
    let mut attached = None;
    if let Some(mut nl) = netlink {
        let backend = backend_id(&socket_path, &export);
        let c = netlink::Connect {
            index,
            size: info.size,
            block_size: bs,
            server_flags: flags,
            sockets: &fds,
            backend: &backend,
        };
        match nl.connect(&c) {
            Ok(got) => attached = Some((got, "netlink")),
            // A kernel whose netlink side refuses what we send may still take the ioctls.
            Err(e)
                if a.via == Via::Auto
                    && a.connections == 1
                    && e.raw_os_error() == Some(libc::EINVAL) =>
            {
                eprintln!(
                    "spindle: the kernel refused NBD_CMD_CONNECT ({e}); trying the NBD ioctls"
                );
            }
            Err(e) => return Err(kernel_error(e, &shown(index), "NBD_CMD_CONNECT")),
        }
    }
    let (index, how) = match attached {
        Some(a) => a,
        None => {
            if a.connections > 1 {
                bail!("--connections needs the netlink interface (the ioctls take one socket)");
            }
            (attach_ioctl(index, fds[0], info.size, bs, flags)?, "ioctl")
        }
    };
    drop(sockets);
    let dev = PathBuf::from(format!("/dev/nbd{index}"));
    wait_for(|| dev.exists(), Duration::from_secs(5));
    set_read_only(&dev)?;
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
    use super::{device_index, ioctl, is_attached, kernel_error, netlink, sys, wait_for};
    use anyhow::{Context, Result, bail};
    use spindle_daemon::paths;
    use std::path::PathBuf;
    use std::process::ExitCode;
    use std::time::Duration;

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
        super::nbd_devices()
            .unwrap_or_default()
            .into_iter()
            .filter(|&i| {
                std::fs::read_to_string(sys(i).join("backend"))
                    .is_ok_and(|b| names.iter().any(|n| n == b.trim_end()))
            })
            .collect()
    }

    /// Where `/dev/nbdN` or one of its partitions is mounted, and what holds it.
    fn users(index: u32) -> Vec<String> {
        let dev = format!("/dev/nbd{index}");
        let mut out: Vec<String> = std::fs::read_to_string("/proc/mounts")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let (src, at) = (f.next()?, f.next()?);
                let rest = src.strip_prefix(&dev)?;
                (rest.is_empty() || rest.starts_with('p'))
                    .then(|| format!("{src} is mounted on {at}"))
            })
            .collect();
        for h in std::fs::read_dir(sys(index).join("holders"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
        {
            out.push(format!(
                "{dev} is held by {}",
                h.file_name().to_string_lossy()
            ));
        }
        out
    }

    fn detach_one(index: u32, force: bool) -> Result<()> {
        let dev = PathBuf::from(format!("/dev/nbd{index}"));
        let name = dev.display().to_string();
        if !sys(index).exists() {
            bail!("{name}: no such nbd device");
        }
        let mut nl = netlink::Nbd::open().ok().flatten();
        let connected = nl
            .as_mut()
            .and_then(|n| n.connected(index).ok().flatten())
            .unwrap_or(false);
        if !is_attached(index) && !connected {
            bail!("{name} is not attached");
        }
        let users = users(index);
        if !users.is_empty() && !force {
            bail!(
                "{name} is busy: {}; unmount it first (or detach --force)",
                users.join(", ")
            );
        }
        let via_netlink = match nl.as_mut() {
            Some(n) => match n.disconnect(index) {
                Ok(()) => true,
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => false,
                Err(e) => return Err(kernel_error(e, &name, "NBD_CMD_DISCONNECT")),
            },
            None => false,
        };
        if !via_netlink {
            ioctl::disconnect(&dev).map_err(|e| kernel_error(e, &name, "NBD_DISCONNECT"))?;
        }
        if !wait_for(|| !is_attached(index), Duration::from_secs(10)) {
            bail!("{name}: the kernel still shows it attached 10 s after the disconnect");
        }
        eprintln!("{name} detached");
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

    #[test]
    fn block_sizes_are_ones_the_kernel_takes() {
        assert_eq!(block_size(2048, 1), 2048);
        assert_eq!(block_size(2352, 1), 512);
        assert_eq!(block_size(65536, 4096), 4096);
    }
}
